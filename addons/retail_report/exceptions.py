# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError


class ZNumberError(AccessError):
    pass


class ExportPeriodError(UserError):
    pass
