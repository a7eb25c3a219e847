# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.modules.retail.exceptions import PinValidationError
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access


class Employee(metaclass=PoolMeta):
    __name__ = 'company.employee'

    @classmethod
    def check_pos_pin_value(cls, pin, employees):
        "A new PIN has at least the chain's PIN length (sync configuration)"
        super().check_pos_pin_value(pin, employees)
        Configuration = Pool().get('retail.sync.configuration')
        with without_check_access():
            length = Configuration(1).pos_pin_length
        if length and len(pin) < length:
            raise PinValidationError(gettext(
                    'retail_sync.msg_pin_too_short',
                    employee=', '.join(e.rec_name for e in employees),
                    length=length))
