# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Lot(metaclass=PoolMeta):
    __name__ = 'stock.lot'

    retail_moves = fields.One2Many(
        'stock.move', 'lot', "Moves", readonly=True,
        help="The stock moves of the lot (the branch record rules use them).")
