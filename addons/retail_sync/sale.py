# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import Index, fields
from trytond.modules.product import price_digits
from trytond.pool import PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    receipt_number = fields.Integer(
        "Receipt Number", readonly=True,
        help="The number the terminal gave the receipt.")
    client_time = fields.Timestamp(
        "Client Time", readonly=True,
        help="When the terminal made the sale.")
    original_receipt = fields.Char(
        "Original Receipt", readonly=True,
        help="The receipt a return refers to.")
    flags = fields.One2Many(
        'retail.sync.sale.flag', 'sale', "Flags", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.point, Index.Equality()),
                (t.client_time, Index.Range())))


class POSSaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    lot = fields.Many2One(
        'stock.lot', "Lot", readonly=True, ondelete='RESTRICT',
        domain=[('product', '=', Eval('product', -1))])
    base_price = fields.Numeric(
        "Unit Price before Discount", digits=price_digits, readonly=True)
    discount = fields.Char("Discount", readonly=True)

    @property
    def taxes(self):
        # Posting a batch asks the taxes of each line: each time a new
        # product instance reads them again through its category.  While
        # Push posts, they are kept per company and product.
        cache = getattr(Transaction(), '_retail_sync_taxes', None)
        if cache is None:
            return super().taxes
        key = (self.company.id, self.product.id)
        if key not in cache:
            cache[key] = super().taxes
        return cache[key]

    @property
    def to_location(self):
        location = super().to_location
        if location is None and self.quantity < 0:
            # A terminal without return location takes returns back in its
            # storage
            return self.sale.point.storage_location
        return location

    def get_stock_move(self):
        move = super().get_stock_move()
        if move and self.lot:
            move.lot = self.lot
        return move


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['retail.sync.stock.count']
