# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Internal EAN-13 codes: GS1 restricted circulation numbers a shop gives the
items that carry no manufacturer's barcode (its own goods, variants it
generates).  An internal code is the configured in-store prefix (20 to 29,
or 02 for shops whose scanners read UPC-A: the EAN-13 form of a UPC-A code
starting with 2), a 10-digit item reference and the EAN check digit; it is
recorded as the product's identifier of type EAN."""
from sql.functions import CharLength
from stdnum import ean

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .exceptions import InternalBarcodeError

EAN13_BODY = 12
PREFIXES = ['02'] + [str(p) for p in range(20, 30)]
DEFAULT_PREFIX = '20'


def check_prefix(prefix, layout_prefixes):
    """Raise InternalBarcodeError unless prefix is an in-store prefix that no
    variable-measure layout (weight or price embedded) uses: a till would
    read an internal code under such a prefix as a weight or a price"""
    if prefix not in PREFIXES:
        raise InternalBarcodeError(gettext(
                'retail_product.msg_internal_barcode_prefix',
                prefix=prefix or ''))
    for other in layout_prefixes:
        if other.startswith(prefix) or prefix.startswith(other):
            raise InternalBarcodeError(gettext(
                    'retail_product.msg_internal_barcode_prefix_layout',
                    prefix=prefix, layout=other))


def make_code(prefix, number):
    "The EAN-13 of item reference number under prefix, check digit computed"
    body = f'{prefix}{number:0{EAN13_BODY - len(prefix)}d}'
    if len(body) != EAN13_BODY:
        raise ValueError(f"item reference {number} too long for {prefix}")
    return body + ean.calc_check_digit(body)


def allocate(count):
    """Return count new internal EAN-13 codes, unused by any product
    identifier, in the configured prefix: the numbers after the highest
    one given so far (the identifier table is locked until the end of the
    transaction, so two transactions never give the same code)"""
    pool = Pool()
    Configuration = pool.get('product.configuration')
    Identifier = pool.get('product.identifier')
    Layout = pool.get('retail.barcode.layout')
    if count <= 0:
        return []
    prefix = Configuration(1).get_internal_barcode_prefix()
    check_prefix(prefix, [l.prefix for l in Layout.search([])])
    Identifier.lock()
    identifier = Identifier.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*identifier.select(identifier.code,
            where=identifier.code.like(prefix + '%')
            & (CharLength(identifier.code) == EAN13_BODY + 1)))
    start = len(prefix)
    highest = 0
    for code, in cursor:
        reference = code[start:EAN13_BODY]
        if reference.isdigit():
            highest = max(highest, int(reference))
    limit = 10 ** (EAN13_BODY - start)
    if highest + count >= limit:
        raise InternalBarcodeError(gettext(
                'retail_product.msg_internal_barcode_exhausted',
                prefix=prefix))
    return [make_code(prefix, highest + i) for i in range(1, count + 1)]


class BarcodeLayout(metaclass=PoolMeta):
    __name__ = 'retail.barcode.layout'

    def check_layout(self):
        pool = Pool()
        Configuration = pool.get('product.configuration')
        super().check_layout()
        prefix = Configuration(1).get_internal_barcode_prefix()
        if prefix and self.prefix and (self.prefix.startswith(prefix)
                or prefix.startswith(self.prefix)):
            raise InternalBarcodeError(gettext(
                    'retail_product.msg_internal_barcode_prefix_layout',
                    prefix=prefix, layout=self.prefix))
