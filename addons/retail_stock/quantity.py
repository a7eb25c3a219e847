# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The on-hand quantities per warehouse, as SQL for the branch lists"
from sql import Union
from sql.aggregate import Sum

from trytond.pool import Pool


def warehouse_quantities():
    """A query of the on-hand quantity (done moves, in the product's default
    unit) per warehouse, product and lot: the columns warehouse, product,
    lot (None for stock without a lot), quantity"""
    pool = Pool()
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')

    def side(column, sign):
        move = Move.__table__()
        location = Location.__table__()
        warehouse = Location.__table__()
        return (move
            .join(location, condition=column(move) == location.id)
            .join(warehouse, condition=(location.left >= warehouse.left)
                & (location.right <= warehouse.right))
            .select(
                warehouse.id.as_('warehouse'),
                move.product.as_('product'),
                move.lot.as_('lot'),
                (move.internal_quantity * sign).as_('quantity'),
                where=(move.state == 'done')
                & (warehouse.type == 'warehouse')
                & (location.type == 'storage')))
    moves = Union(
        side(lambda m: m.to_location, 1),
        side(lambda m: m.from_location, -1),
        all_=True)
    return moves.select(
        moves.warehouse, moves.product, moves.lot,
        Sum(moves.quantity).as_('quantity'),
        group_by=[moves.warehouse, moves.product, moves.lot])
