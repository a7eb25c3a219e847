"""Fixtures of the acceptance tests: the demo chain exactly as the README's
set-up code makes it (setup/retail_setup cli.prepare_database through
tests/support/servers.py), on PostgreSQL, and the POS bundle it serves."""
import pytest

from tests.e2e.conftest import pos_dist  # noqa: F401  (the fixture)


@pytest.fixture(scope='module')
def shop(pos_dist):  # noqa: F811
    "A trytond with the demo as shipped, on a free port, its own database"
    servers = pytest.importorskip('tests.support.servers')
    with servers.PostgresServer() as pg, \
            servers.TrytondServer(pg.uri, 'first_day', demo=True) as server:
        yield server
