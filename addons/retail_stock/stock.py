# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from contextvars import ContextVar

from sql.aggregate import Min

from trytond.model import fields
from trytond.modules.retail.stock import fefo_key, sell_by
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

# The first-expiring-first-out keys of the lots of the moves being
# assigned ({lot id: (fefo key, sell-by date)}) and the date from which a
# lot is expired for each of them ({move id: date}), set by assign_try for
# sort_quantities
_FEFO = ContextVar('retail_stock_fefo', default=None)

# Where a lot enters the company's stock: its receipt
RECEIPT_FROM = ('supplier', 'production', 'lost_found')


def lot_receipt_dates(lot_ids):
    """The date each lot was first received: {lot id: date} from the done
    moves that brought it into a storage location from a supplier, a
    production or an inventory (lost and found)"""
    pool = Pool()
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    move = Move.__table__()
    from_ = Location.__table__()
    to = Location.__table__()
    cursor = Transaction().connection.cursor()
    dates = {}
    for sub in grouped_slice(lot_ids):
        cursor.execute(*move
            .join(from_, condition=move.from_location == from_.id)
            .join(to, condition=move.to_location == to.id)
            .select(move.lot, Min(move.effective_date),
                where=move.lot.in_(list(sub))
                & (move.state == 'done')
                & from_.type.in_(RECEIPT_FROM)
                & (to.type == 'storage'),
                group_by=[move.lot]))
        for lot_id, date in cursor:
            if isinstance(date, str):
                date = dt.date.fromisoformat(date)
            dates[lot_id] = date
    return dates


class Lot(metaclass=PoolMeta):
    __name__ = 'stock.lot'

    receipt_date = fields.Function(fields.Date(
            "Receipt Date",
            help="When the lot was first received into stock; "
            "first expiring first out takes the earliest received of lots "
            "expiring the same day first."),
        'get_receipt_date')
    sell_by = fields.Function(fields.Date(
            "Sell By",
            help="The last date the lot may be sold or shipped: its shelf "
            "life expiration date, else its expiration date."),
        'get_sell_by')

    @classmethod
    def get_receipt_date(cls, lots, name):
        dates = lot_receipt_dates([lot.id for lot in lots])
        return {lot.id: dates.get(lot.id) for lot in lots}

    def get_sell_by(self, name):
        return sell_by(self)

    def is_expired(self, date):
        "Whether the lot is past its sell-by date on date"
        date_ = sell_by(self)
        return bool(date_ and date_ < date)


def fefo_keys(lot_ids):
    """{lot id: (fefo key, sell-by date)} for the lots, their receipt dates
    read in one query"""
    Lot = Pool().get('stock.lot')
    keys = {}
    for sub in grouped_slice(lot_ids):
        sub = list(sub)
        lots = Lot.browse(sub)
        receipts = lot_receipt_dates(sub)
        for lot in lots:
            keys[lot.id] = (
                fefo_key(lot, receipts.get(lot.id)), sell_by(lot))
    return keys


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @property
    def fefo_applies(self):
        """Whether assignment picks the move's lots first expiring first
        out: an outgoing move without a lot of a lot-tracked product (one
        whose template requires a lot somewhere)"""
        return (not self.lot
            and self.product.type == 'goods'
            and bool(self.product.lot_required)
            and self.from_location.type in {'storage', 'view', 'warehouse'})

    @classmethod
    def assign_try(
            cls, moves, with_childs=True, grouping=('product',), pblc=None):
        """Assign the moves of lot-tracked products without a lot by lot,
        first expiring first out: grouped by lot, each move is split over
        the lots sort_quantities orders (Tryton's own assignment)"""
        if 'lot' in grouping or pblc is not None:
            return super().assign_try(moves, with_childs=with_childs,
                grouping=grouping, pblc=pblc)
        fefo, other = [], []
        for move in moves:
            if move.state in {'draft', 'staging'} and move.fefo_applies:
                fefo.append(move)
            else:
                other.append(move)
        success = True
        if fefo:
            token = _FEFO.set(cls._fefo_prepare(fefo))
            try:
                success &= super().assign_try(fefo, with_childs=with_childs,
                    grouping=grouping + ('lot',))
            finally:
                _FEFO.reset(token)
        if other:
            success &= super().assign_try(other, with_childs=with_childs,
                grouping=grouping)
        return success

    @classmethod
    def _fefo_prepare(cls, moves):
        """The first-expiring-first-out keys of the lots of the moves'
        products (read once for all the moves) and the date from which a
        lot is expired for each move"""
        pool = Pool()
        Lot = pool.get('stock.lot')
        Date = pool.get('ir.date')
        product_ids = {m.product.id for m in moves}
        lot_ids = []
        for sub in grouped_slice(list(product_ids)):
            lot_ids.extend(map(int, Lot.search(
                        [('product', 'in', list(sub))], order=[])))
        keys = fefo_keys(lot_ids)
        today, dates = {}, {}
        for move in moves:
            if move.company.id not in today:
                with Transaction().set_context(company=move.company.id):
                    today[move.company.id] = Date.today()
            dates[move.id] = max(filter(None, [
                        move.planned_date, today[move.company.id]]))
        return keys, dates

    def sort_quantities(self, quantities, locations, grouping):
        """First expiring first out: the lots not past their sell-by date
        at the move's date, the earliest sell-by date first, then the
        earliest received, then the oldest lot, then by location order;
        quantities without a lot last"""
        fefo = _FEFO.get()
        if fefo is None or self.id not in fefo[1] or 'lot' not in grouping:
            return super().sort_quantities(quantities, locations, grouping)
        keys, dates = fefo
        position = grouping.index('lot') + 1
        date = dates[self.id]
        order = {l.id: i for i, l in enumerate(locations)}
        never = (dt.date.max, dt.date.max, float('inf'))
        result = []
        for key, quantity in quantities:
            if key[0] not in order:
                continue
            lot_id = key[position]
            if lot_id is None:
                rank = never
            else:
                rank, sell_by_ = keys.get(lot_id, (None, None))
                if rank is None:
                    lot = Pool().get('stock.lot')(lot_id)
                    rank, sell_by_ = fefo_key(lot), sell_by(lot)
                if sell_by_ and sell_by_ < date:
                    continue
            result.append(((lot_id is None, rank, order[key[0]]),
                    (key, quantity)))
        result.sort(key=lambda r: r[0])
        return [r[1] for r in result]
