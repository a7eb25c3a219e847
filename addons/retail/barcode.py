# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""In-store variable-measure barcode layouts, chain-wide: an EAN-13 whose
prefix (GS1 restricted circulation, 02 and 20-29) is followed by an item code,
an optional price check digit and a weight or a price."""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields, sequence_ordered

from .exceptions import BarcodeLayoutValidationError

# The body of an EAN-13: its 13th digit is the check digit
EAN13_BODY = 12


class BarcodeLayout(sequence_ordered(), ModelSQL, ModelView):
    "Barcode Layout"
    __name__ = 'retail.barcode.layout'

    prefix = fields.Char(
        "Prefix", required=True, size=4,
        help="The first digits of the barcode (02 or 20 to 29: the "
        "numbers GS1 reserves for use inside a company).")
    kind = fields.Selection([
            ('weight', "Weight"),
            ('price', "Price"),
            ], "Kind", required=True,
        help="What the value digits hold: a weight in the product's unit "
        "(kilogram) or the price of the item.")
    item_digits = fields.Integer(
        "Item Code Digits", required=True,
        help="How many digits after the prefix identify the item (PLU).")
    value_check = fields.Boolean(
        "Value Check Digit",
        help="A check digit of the value sits between the item code and "
        "the value.")
    value_digits = fields.Integer(
        "Value Digits", required=True,
        help="How many digits hold the weight or the price.")
    value_decimals = fields.Integer(
        "Value Decimals", required=True,
        help="How many of the value digits are decimals: 3 for a weight in "
        "grams of a kilogram, 2 for a price in cents.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('prefix_unique', Unique(t, t.prefix),
                'retail.msg_barcode_layout_prefix_unique'),
            ]

    @classmethod
    def default_kind(cls):
        return 'weight'

    @classmethod
    def default_item_digits(cls):
        return 5

    @classmethod
    def default_value_digits(cls):
        return 5

    @classmethod
    def default_value_decimals(cls):
        return 3

    @classmethod
    def default_value_check(cls):
        return False

    def get_rec_name(self, name):
        return f'{self.prefix} ({self.kind})'

    @classmethod
    def validate_fields(cls, layouts, field_names):
        super().validate_fields(layouts, field_names)
        for layout in layouts:
            layout.check_layout()

    def check_layout(self):
        prefix = self.prefix or ''
        if not (prefix.isdigit() and prefix.isascii()
                and prefix.startswith(('2', '02'))):
            raise BarcodeLayoutValidationError(gettext(
                    'retail.msg_barcode_layout_prefix',
                    prefix=prefix))
        for name in ['item_digits', 'value_digits']:
            if (getattr(self, name) or 0) < 1:
                raise BarcodeLayoutValidationError(gettext(
                        'retail.msg_barcode_layout_digits',
                        layout=self.rec_name))
        if not (0 <= (self.value_decimals or 0) <= self.value_digits):
            raise BarcodeLayoutValidationError(gettext(
                    'retail.msg_barcode_layout_decimals',
                    layout=self.rec_name))
        length = (len(prefix) + self.item_digits
            + (1 if self.value_check else 0) + self.value_digits)
        if length != EAN13_BODY:
            raise BarcodeLayoutValidationError(gettext(
                    'retail.msg_barcode_layout_length',
                    layout=self.rec_name, length=length))

    def to_wire(self):
        "The layout as the tills receive it"
        return {
            'prefix': self.prefix, 'kind': self.kind,
            'item_digits': self.item_digits,
            'value_check': bool(self.value_check),
            'value_digits': self.value_digits,
            'value_decimals': self.value_decimals,
            }
