# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""In-store variable-measure barcode layouts, chain-wide: an EAN-13 whose
prefix (GS1 restricted circulation, 02 and 20-29) is followed by an item code,
an optional price check digit and a weight or a price; and the parsing of the
codes a till scans, with biip (GS1's element strings, GTINs and restricted
circulation numbers), as the till parses them."""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from biip import ParseError
from biip.checksums import gs1_price_weight_check_digit
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.rcn import Rcn, RcnUsage
from stdnum import ean

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
        if self.value_check and self.value_digits not in (4, 5):
            raise BarcodeLayoutValidationError(gettext(
                    'retail.msg_barcode_layout_value_check',
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

    @classmethod
    def parse_scan(cls, code, today=None):
        "parse_scan of code with the chain's layouts"
        return parse_scan(code, [l.to_wire() for l in cls.search([])],
            today=today)


# The application identifiers holding a date (YYMMDD)
DATE_AIS = {'11', '12', '13', '15', '16', '17'}
SYMBOLOGIES = (']C1', ']d2', ']Q3', ']e0', ']J1')
GS = '\x1d'


def in_store_key(layout, item):
    "The code an in-store layout files an item under: its value zeroed"
    body = f"{layout['prefix']}{item}".ljust(EAN13_BODY, '0')
    return body + ean.calc_check_digit(body)


def _variable(code, layouts):
    "The in-store layout of a restricted circulation EAN-13, and its value"
    for layout in sorted(layouts, key=lambda l: -len(l['prefix'])):
        if not code.startswith(layout['prefix']):
            continue
        start = len(layout['prefix'])
        item = code[start:start + layout['item_digits']]
        value_start = start + layout['item_digits'] + (
            1 if layout['value_check'] else 0)
        value = code[value_start:value_start + layout['value_digits']]
        if len(value) != layout['value_digits']:
            continue
        result = {'type': 'variable', 'kind': layout['kind'], 'gtin': code,
            'key': in_store_key(layout, item)}
        if layout['value_check']:
            check = code[start + layout['item_digits']]
            if gs1_price_weight_check_digit(value) != int(check):
                return {'type': 'invalid', 'reason': 'price-check-digit'}
        decimals = layout['value_decimals']
        if layout['kind'] == 'weight':
            # milli-units of the product's unit
            result['quantity'] = int(value) * 10 ** (3 - decimals)
        else:
            result['amount'] = {'value': int(value), 'decimals': decimals}
        return result
    return None


def parse_scan(code, layouts=(), today=None):
    """What a scanned code holds, as the till's barcode parser reads it
    (pos_offline_client/src/services/barcode.js parseBarcode), parsed with
    biip:
    {'type': 'gtin', 'gtin'} a GTIN-8, -12, -13 or -14 with a valid check
    digit; {'type': 'variable', 'kind', 'gtin', 'key', 'quantity' (milli)
    or 'amount' ({value, decimals})} an in-store code of one of layouts
    (the layouts' to_wire dicts), its price check digit verified when the
    layout has one; {'type': 'gs1', 'gtin', 'lot', 'serial', 'expiry' (ISO
    date), 'quantity' (milli, from 310n)} a GS1 element string (with a
    symbology identifier, in parentheses or with FNC1 separators);
    {'type': 'invalid', 'reason'} a wrong check digit, an impossible date,
    an unparsable element string; {'type': 'text'} anything else"""
    text = str(code).strip()
    gs1 = text.startswith(SYMBOLOGIES)
    if gs1:
        text = text[3:]
    if not text:
        return {'type': 'invalid', 'reason': 'empty'}
    if gs1 or text.startswith('(') or GS in text:
        return _parse_gs1(text, today)
    if text.isdigit() and len(text) in (8, 12, 13, 14):
        try:
            gtin = Gtin.parse(text)
        except ParseError:
            return {'type': 'invalid', 'reason': 'check-digit'}
        # A restricted circulation number of a region (02, 20-29): an
        # in-store code when a layout describes it
        if (isinstance(gtin, Rcn) and gtin.usage == RcnUsage.GEOGRAPHICAL
                and len(text) == 13):
            variable = _variable(text, layouts)
            if variable:
                return variable
        return {'type': 'gtin', 'gtin': text}
    return {'type': 'text'}


def _parse_gs1(text, today):
    try:
        if text.startswith('('):
            message = GS1Message.parse_hri(text)
        else:
            message = GS1Message.parse(text.lstrip(GS))
    except ParseError as exception:
        return {'type': 'invalid', 'reason': (
                'date' if 'date' in str(exception) else 'gs1')}
    result = {'type': 'gs1', 'gtin': None}
    for element in message.element_strings:
        ai = element.ai.ai
        if ai in {'01', '02'}:
            if element.gtin_error or not element.gtin:
                return {'type': 'invalid', 'reason': 'check-digit'}
            result['gtin'] = element.value
        elif ai == '10':
            result['lot'] = element.value
        elif ai == '21':
            result['serial'] = element.value
        elif ai in DATE_AIS:
            if element.date is None:
                return {'type': 'invalid', 'reason': 'date'}
            if ai in {'15', '17'} and (ai == '17' or 'expiry' not in result):
                result['expiry'] = _window(element.value, today).isoformat()
        elif ai.startswith('310'):
            result['quantity'] = int((element.decimal * 1000).quantize(
                    Decimal(1), rounding=ROUND_HALF_UP))
    return result


def _window(yymmdd, today=None):
    """The date of YYMMDD with GS1's century window around today (a day
    00 is the month's last day)"""
    today = today or dt.date.today()
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    year = today.year // 100 * 100 + yy
    if year - today.year >= 51:
        year -= 100
    elif year - today.year <= -50:
        year += 100
    if dd == 0:
        following = dt.date(year + mm // 12, mm % 12 + 1, 1)
        return following - dt.timedelta(days=1)
    return dt.date(year, mm, dd)
