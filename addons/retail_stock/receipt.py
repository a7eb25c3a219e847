# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.retail.barcode import parse_scan
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .exceptions import ScanError


def gtin_codes(gtin):
    "The codes a GTIN-14 may be filed under: itself, as EAN-13, as UPC-A"
    codes = {gtin}
    if len(gtin) == 14 and gtin.startswith('0'):
        codes.add(gtin[1:])
        if gtin.startswith('00'):
            codes.add(gtin[2:])
    return sorted(codes)


def product_by_gtin(gtin):
    "The product whose identifier or code is the GTIN, else None"
    pool = Pool()
    Product = pool.get('product.product')
    codes = gtin_codes(gtin)
    products = Product.search(['OR',
            ('identifiers.code', 'in', codes),
            ('code', 'in', codes),
            ], limit=1)
    return products[0] if products else None


def read_receipt_scan(code, today=None):
    """The GS1-128 element string scanned at a receipt as {'gtin', 'lot',
    'expiry' (a date or None)}: AI 01 (GTIN), 10 (lot), 17 (use by) or 15
    (best before, when there is no 17); a plain GTIN gives no lot.  Raise
    ScanError for what is neither."""
    result = parse_scan(code, today=today)
    if result['type'] == 'gtin':
        return {'gtin': result['gtin'], 'lot': None, 'expiry': None}
    if result['type'] != 'gs1':
        raise ScanError(gettext('retail_stock.msg_scan_invalid', code=code))
    expiry = result.get('expiry')
    return {
        'gtin': result.get('gtin'),
        'lot': result.get('lot'),
        'expiry': dt.date.fromisoformat(expiry) if expiry else None,
        }


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    gs1_scan = fields.Function(fields.Char(
            "Scan",
            states={
                'readonly': Eval('state').in_(['done', 'cancelled']),
                },
            help="Scan the GS1-128 label of the goods (GTIN, lot, expiry): "
            "the lot is found, or created with its expiry date."),
        'get_gs1_scan', setter='set_gs1_scan')

    def get_gs1_scan(self, name):
        return None

    @fields.depends('gs1_scan', 'product', 'lot')
    def on_change_gs1_scan(self):
        pool = Pool()
        Lot = pool.get('stock.lot')
        if not self.gs1_scan:
            return
        try:
            scan = read_receipt_scan(self.gs1_scan)
        except ScanError:
            return
        if scan['gtin'] and not self.product:
            self.product = product_by_gtin(scan['gtin'])
        if self.product and scan['lot']:
            lots = Lot.search([
                    ('product', '=', self.product.id),
                    ('number', '=', scan['lot']),
                    ], limit=1)
            if lots:
                self.lot = lots[0]

    @classmethod
    def set_gs1_scan(cls, moves, name, value):
        """Set the lot of the moves from a scanned GS1-128 label, creating
        the lot (with its sell-by and expiration date) when it is new"""
        pool = Pool()
        Lot = pool.get('stock.lot')
        if not value:
            return
        scan = read_receipt_scan(value)
        for move in moves:
            product = move.product
            if scan['gtin']:
                scanned = product_by_gtin(scan['gtin'])
                if scanned != product:
                    raise ScanError(gettext(
                            'retail_stock.msg_scan_other_product',
                            code=value, product=product.rec_name))
            if not scan['lot']:
                continue
            lots = Lot.search([
                    ('product', '=', product.id),
                    ('number', '=', scan['lot']),
                    ], limit=1)
            if lots:
                lot, = lots
            else:
                lot = Lot(product=product, number=scan['lot'])
                if scan['expiry']:
                    if hasattr(Lot, 'shelf_life_expiration_date'):
                        lot.shelf_life_expiration_date = scan['expiry']
                    if hasattr(Lot, 'expiration_date'):
                        lot.expiration_date = scan['expiry']
                lot.save()
            cls.write([move], {'lot': lot.id})
