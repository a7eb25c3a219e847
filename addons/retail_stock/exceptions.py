# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import ValidationError


class MarkdownValidationError(ValidationError):
    pass


class ScanError(UserError):
    pass


class TransferError(UserError):
    pass


class CountError(UserError):
    pass


class CountTillsWarning(UserWarning):
    pass
