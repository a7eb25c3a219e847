# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, check_access, inactive_records, without_check_access)


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def products_by_location(cls, location_ids, *args, **kwargs):
        """Quantities only in the locations the user may read: a store
        manager asking for another branch's warehouse (through the context
        of a list, a lot or a report) gets nothing

        Quantities are computed by getters that run without access checks,
        so the record rules of the locations are applied here for the
        transaction's user whatever the access-check state."""
        pool = Pool()
        Location = pool.get('stock.location')
        Rule = pool.get('ir.rule')
        if Transaction().user and location_ids:
            with check_access():
                domain = Rule.domain_get('stock.location', mode='read')
            if domain:
                readable = set()
                with without_check_access(), inactive_records():
                    for sub in grouped_slice(list(location_ids)):
                        readable.update(map(int, Location.search(
                                    [('id', 'in', list(sub)), domain],
                                    order=[])))
                location_ids = [i for i in location_ids if i in readable]
                if not location_ids:
                    return {}
        return super().products_by_location(location_ids, *args, **kwargs)


def sell_by(lot):
    """The last date a lot may be sold: its shelf life expiration date
    (the date stock_lot_sled's posting checks), else its expiration date"""
    return (getattr(lot, 'shelf_life_expiration_date', None)
        or getattr(lot, 'expiration_date', None))


_UNKNOWN = object()


def fefo_key(lot, receipt_date=_UNKNOWN):
    """First expiring first out, the one order of lots of the suite (the
    back office's assignment and the POS posting): the earliest sell-by
    date, then the earliest receipt (receipt_date, else the lot's
    receipt_date where retail_stock gives one), then the oldest lot; a
    missing date comes last"""
    if receipt_date is _UNKNOWN:
        receipt_date = getattr(lot, 'receipt_date', None)
    return (sell_by(lot) or dt.date.max, receipt_date or dt.date.max, lot.id)
