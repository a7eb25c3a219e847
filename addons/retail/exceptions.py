# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import ValidationError


class PinValidationError(ValidationError):
    pass


class PinAccessError(UserError):
    pass


class PosPermissionError(ValidationError):
    pass


class ReceiptPrefixError(ValidationError):
    pass


class BranchValidationError(ValidationError):
    pass


class BarcodeLayoutValidationError(ValidationError):
    pass


class PriceListOfflineWarning(UserWarning):
    pass


class PaymentMethodTypeError(ValidationError):
    pass
