# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, inactive_records


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def products_by_location(cls, location_ids, *args, **kwargs):
        """Quantities only in the locations the user may read: a store
        manager asking for another branch's warehouse gets nothing"""
        pool = Pool()
        Location = pool.get('stock.location')
        transaction = Transaction()
        if transaction.user and transaction.check_access and location_ids:
            readable = set()
            with inactive_records():
                for sub in grouped_slice(list(location_ids)):
                    readable.update(map(int, Location.search(
                                [('id', 'in', list(sub))], order=[])))
            location_ids = [i for i in location_ids if i in readable]
            if not location_ids:
                return {}
        return super().products_by_location(location_ids, *args, **kwargs)
