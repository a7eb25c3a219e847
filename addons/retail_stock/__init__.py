# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.

# Tryton 8.0 registers models in tryton.cfg; the counting phones' endpoints
# are added to trytond.wsgi.app when the module is imported
from . import count_routes

__all__ = ['count_routes']
