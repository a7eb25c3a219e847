# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.

# Tryton 8.0 registers models in tryton.cfg; the tenant middleware wraps
# trytond.wsgi.app when the module is imported, as every trytond process does
# at start (see tenant.py)
from . import tenant

tenant.install()

__all__ = ['tenant']
