# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from .push import OperationHandler
from .serialise import stock_quantities
from .wire import Rejected, dec, to_decimal, to_int, utc


class Lot(metaclass=PoolMeta):
    __name__ = 'stock.lot'

    retail_moves = fields.One2Many(
        'stock.move', 'lot', "Moves", readonly=True,
        help="The stock moves of the lot (the branch record rules use them).")


class StockCountHandler(OperationHandler):
    """Products counted at the branch: the difference with the ledger at the
    time of the count is booked from or to the adjustment location"""
    string = 'retail_sync.msg_operation_type_stock_count'
    payload_schema = 'StockCountPayload'

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        pool = Pool()
        Count = pool.get('retail.sync.stock.count')
        SaleLine = pool.get('sale.point.sale.line')
        lines = payload.get('lines')
        if not isinstance(lines, list) or not lines:
            raise Rejected('invalid_payload', "A count needs lines.")
        counted_at = utc(client_time)
        date = cls.business_date(batch, client_time)
        adjustments = []
        for line in lines:
            product = cls.get_product(line.get('product'))
            counted = to_decimal(line.get('quantity'), 'quantity')
            lot = to_int(line.get('lot'), 'lot', required=False)
            ledger = stock_quantities(
                [product.id], batch.locations).get(product.id, Decimal(0))
            # Sales recorded with a time after the count are not in what
            # was counted: put them back to get the ledger at count time
            later = SaleLine.search([
                    ('product', '=', product.id),
                    ('sale.point.branch', '=', batch.branch.id),
                    ('sale.client_time', '>', counted_at),
                    ('sale.state', '=', 'posted'),
                    ])
            expected = ledger + sum(
                (Decimal(str(line_.quantity)) for line_ in later), Decimal(0))
            count, = Count.create([{
                        'branch': batch.branch.id,
                        'product': product.id,
                        'lot': lot,
                        'counted_at': counted_at,
                        'quantity': float(counted),
                        'expected': float(expected),
                        }])
            difference = counted - expected
            cls.adjust(batch, product, difference, date, count, lot=lot)
            adjustments.append({'product': product.id,
                    'quantity': dec(difference), 'count': count.id})
        return {'adjustments': adjustments}

    @classmethod
    def adjustment_location(cls):
        pool = Pool()
        Configuration = pool.get('retail.sync.configuration')
        Location = pool.get('stock.location')
        config = Configuration(1)
        if config.adjustment_location:
            return config.adjustment_location
        locations = Location.search([('type', '=', 'lost_found')], limit=1)
        if not locations:
            raise Rejected('not_configured',
                "No lost and found location for count adjustments.")
        return locations[0]

    @classmethod
    def adjust(cls, batch, product, quantity, date, origin, lot=None):
        "Book quantity (signed, positive = more stock) for the branch"
        Move = Pool().get('stock.move')
        if not quantity:
            return None
        storage = batch.terminal.storage_location
        other = cls.adjustment_location()
        from_, to = (other, storage) if quantity > 0 else (storage, other)
        move, = Move.create([{
                    'product': product.id,
                    'unit': product.default_uom.id,
                    'quantity': float(abs(quantity)),
                    'from_location': from_.id,
                    'to_location': to.id,
                    'effective_date': date,
                    'company': batch.company.id,
                    'origin': str(origin),
                    'lot': lot,
                    }])
        Move.do([move])
        return move


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def _operation_handlers(cls):
        handlers = super()._operation_handlers()
        handlers['stock_count'] = StockCountHandler
        return handlers
