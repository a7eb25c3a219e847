# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import os

from trytond.config import config

# On SQLite's memory database every transaction of the test process shares
# one connection.  Once [cache] clean_timeout seconds have passed, the next
# transaction started runs trytond's cache sync, which asks that connection
# in autocommit mode (isolation_level None): Python's sqlite3 then commits
# what is open and the transaction just started runs in autocommit, so a
# test's writes are never rolled back and show up in the tests after it
# (an order- and speed-dependent failure of a long module run).  A test
# process has nothing to sync: the timeout is pushed beyond any run.
if (os.environ.get('DB_NAME', ':memory:') == ':memory:'
        and (os.environ.get('TRYTOND_DATABASE_URI') or 'sqlite:').startswith(
            'sqlite')):
    config.set('cache', 'clean_timeout', str(10 ** 9))
