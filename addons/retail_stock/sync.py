# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The tills' side of the lots' markdowns, through retail_sync's hooks: the
lots a till pulls carry their branch's markdowns, and a sale of a lot at
its markdown price is not a price drift."""
from sql import Literal, Null, Union

from trytond.modules.retail_sync import schema
from trytond.modules.retail_sync.changelog import ChangeLogMixin, in_
from trytond.modules.retail_sync.pull import PulledKind
from trytond.modules.retail_sync.push import OperationHandler
from trytond.modules.retail_sync.serialise import id_slices
from trytond.modules.retail_sync.wire import Rejected, dec, to_decimal
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .exceptions import TransferError
from .stock import lot_receipt_dates


class LotMarkdown(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'retail.stock.lot.markdown'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        # The lot changes for the tills of the markdown's branch
        return [('lot', [r.lot.id for r in records],
                {r.lot.id: [r.branch.id] for r in records})]


class OrderPoint(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'stock.order_point'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        # The product's stock record carries the branch's thresholds
        branches = {}
        for point in records:
            if point.branch:
                branches.setdefault(point.product.id, []).append(
                    point.branch.id)
        if not branches:
            return []
        return [('stock', list(branches), branches)]


def stock_thresholds(product_ids, locations):
    """{product id: (min, target)} of the order points of the products in
    the locations (a branch's): the highest of each when there are several
    (a purchase and an internal one).  Read by ranges of product ids (a
    stock page of a bootstrap asks for 20,000 products)"""
    OrderPoint = Pool().get('stock.order_point')
    point = OrderPoint.__table__()
    cursor = Transaction().connection.cursor()
    result = {}
    if not product_ids or not locations:
        return result
    wanted = set(product_ids)
    for where in id_slices(point.product, product_ids):
        cursor.execute(*point.select(point.product, point.min_quantity,
                point.target_quantity,
                where=where & in_(point.location, list(locations)),
                order_by=[point.id.asc]))
        for product, min_quantity, target_quantity in cursor.fetchall():
            if product not in wanted:
                continue
            low, target = result.get(product, (None, None))
            if min_quantity is not None:
                low = max(low, min_quantity) if low is not None else (
                    min_quantity)
            if target_quantity is not None:
                target = (max(target, target_quantity)
                    if target is not None else target_quantity)
            result[product] = (low, target)
    return result


class Pull(metaclass=PoolMeta):
    __name__ = 'retail.sync.pull'

    @classmethod
    def _kinds(cls):
        kinds = super()._kinds()
        kinds['transfer'] = PulledKind('transfer', serialise_transfers,
            bootstrap=bootstrap_transfers)
        if 'stock' in kinds:
            # A product with an order point at the branch but no stock
            # moves there yet gets its stock record too: the till shows it
            # out of stock and below its minimum from its first download
            moved = kinds['stock'].bootstrap
            kinds['stock'].bootstrap = (
                lambda scope, after: bootstrap_stock(moved, scope, after))
        return kinds

    @classmethod
    def serialise(cls, kind, ids, scope):
        """A stock record gets "min_quantity" and "target_quantity": the
        thresholds of the branch's order points, or null.

        A lot gets "markdowns": its markdowns in the terminal's branch
        that have not ended, as [{unit_price, start_date, end_date}], and
        "receipt_date": the date it was first received (stock.py)"""
        result = super().serialise(kind, ids, scope)
        if kind == 'stock':
            # The branch's low-stock thresholds (stock_supply's order
            # points), in the product's default unit as the quantity
            thresholds = stock_thresholds(
                [i for i, data in result.items() if data], scope.locations)
            for i, data in result.items():
                if data:
                    low, target = thresholds.get(i, (None, None))
                    data['min_quantity'] = dec(low)
                    data['target_quantity'] = dec(target)
        if kind == 'lot':
            pool = Pool()
            Markdown = pool.get('retail.stock.lot.markdown')
            Date = pool.get('ir.date')
            with Transaction().set_context(company=scope.company.id):
                today = Date.today()
            lots = [i for i, data in result.items() if data]
            markdowns = {i: [] for i in lots}
            for markdown in Markdown.search([
                        ('lot', 'in', lots),
                        ('branch', '=', scope.branch.id),
                        ['OR',
                            ('end_date', '=', None),
                            ('end_date', '>=', today),
                            ],
                        ], order=[('start_date', 'ASC'), ('id', 'ASC')]):
                markdowns[markdown.lot.id].append({
                        'unit_price': dec(markdown.unit_price),
                        'start_date': markdown.start_date.isoformat(),
                        'end_date': (markdown.end_date.isoformat()
                            if markdown.end_date else None),
                        })
            receipts = lot_receipt_dates(lots)
            for i in lots:
                result[i]['markdowns'] = markdowns[i]
                # The till's first expiring first out breaks a tie of
                # sell-by dates by the receipt, as the server does
                receipt = receipts.get(i)
                result[i]['receipt_date'] = (
                    receipt.isoformat() if receipt else None)
        return result


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def _operation_handlers(cls):
        handlers = super()._operation_handlers()
        handlers['transfer_receive'] = TransferReceiveHandler
        return handlers

    @classmethod
    def post_sales(cls, batch, ids):
        "Correct the counts validated before these sales were posted"
        super().post_sales(batch, ids)
        Inventory = Pool().get('stock.inventory')
        Inventory.correct_late_sales(ids)

    @classmethod
    def lot_unit_price(cls, batch, product, quantity, date, lots):
        """The markdown price of the line's lots in the terminal's branch on
        the sale's date, when every lot of the line has the same one"""
        price = super().lot_unit_price(batch, product, quantity, date, lots)
        if price is not None or not lots:
            return price
        Markdown = Pool().get('retail.stock.lot.markdown')
        prices = {Markdown.price(lot, batch.branch, date) for lot, _ in lots}
        if len(prices) == 1 and None not in prices:
            return prices.pop()
        return None


def bootstrap_stock(moved, scope, after):
    """The products a bootstrap sends stock records of: those moved in the
    branch (moved: retail_sync's query) and those with an order point in
    the branch's locations"""
    OrderPoint = Pool().get('stock.order_point')
    point = OrderPoint.__table__()
    table, column, where, group_by = moved(scope, after)
    locations = scope.locations
    products = Union(
        table.select(column.as_('product'), where=where, group_by=group_by),
        point.select(point.product.as_('product'),
            where=(point.product > after) & (
                point.location.in_(locations) if locations
                else Literal(False))))
    return products, products.product, None, None


def serialise_transfers(ids, scope):
    """{id: transfer, or None when the device must drop it}: the transfers
    shipped to the device's branch and not received yet, with their lines
    per product and lot"""
    pool = Pool()
    Shipment = pool.get('stock.shipment.internal')
    Identifier = pool.get('product.identifier')
    result = dict.fromkeys(ids)
    shipments = [s for s in Shipment.browse(Shipment.search([
                    ('id', 'in', ids),
                    ('state', '=', 'shipped'),
                    ]))
        if s.transit_location and s.to_branch == scope.branch]
    products = {m.product.id for s in shipments for m in s.incoming_moves}
    codes = {p: [] for p in products}
    for identifier in Identifier.search([
                ('product', 'in', list(products)),
                ], order=[('id', 'ASC')]):
        codes[identifier.product.id].append(identifier.code)
    for shipment in shipments:
        lines = []
        for move in shipment.incoming_moves:
            if move.state in {'done', 'cancelled'}:
                continue
            lot = move.lot
            lines.append({
                    'move': move.id,
                    'product': move.product.id,
                    'product_name': move.product.rec_name,
                    'codes': ([move.product.code] if move.product.code
                        else []) + codes[move.product.id],
                    'lot': lot.id if lot else None,
                    'lot_number': lot.number if lot else None,
                    'sell_by': (lot.sell_by.isoformat()
                        if lot and lot.sell_by else None),
                    'unit': move.unit.symbol,
                    'quantity': dec(move.quantity),
                    })
        from_branch = shipment.from_branch
        result[shipment.id] = {
            'id': shipment.id,
            'number': shipment.number,
            'reference': shipment.reference,
            'from_branch': from_branch.id if from_branch else None,
            'from_branch_name': (from_branch.rec_name if from_branch
                else shipment.from_location.rec_name),
            'shipped_date': (shipment.effective_start_date.isoformat()
                if shipment.effective_start_date else None),
            'planned_date': (shipment.planned_date.isoformat()
                if shipment.planned_date else None),
            'lines': lines,
            }
    return result


def bootstrap_transfers(scope, after):
    "The transfers in transit to the device's branch"
    pool = Pool()
    Shipment = pool.get('stock.shipment.internal')
    table = Shipment.__table__()
    locations = scope.locations
    where = ((table.id > after) & (table.state == 'shipped')
        & (table.internal_transit_location != Null))
    where &= table.to_location.in_(locations) if locations else Literal(False)
    return table, table.id, where, None


class TransferReceiveHandler(OperationHandler):
    """A transfer received at the device's branch, lot by lot: the quantities
    received and damaged per line, the differences recorded"""
    string = 'retail_stock.msg_operation_type_transfer_receive'
    payload_schema = {
        'type': 'object',
        'required': ['transfer', 'lines'],
        'additionalProperties': False,
        'properties': {
            'transfer': schema.integer(),
            'lines': {
                'type': 'array',
                'maxItems': 2000,
                'items': {
                    'type': 'object',
                    'required': ['move', 'received'],
                    'additionalProperties': False,
                    'properties': {
                        'move': schema.integer(),
                        'received': schema.decimal(9, 4, signed=False),
                        'damaged': dict(
                            schema.decimal(9, 4, signed=False),
                            nullable=True),
                        'short_to': {'type': 'string',
                            'enum': ['loss', 'back']},
                        'reason': schema.string(
                            200, pattern=schema.LINE_PATTERN,
                            nullable=True),
                        },
                    },
                },
            },
        }

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        return receive_transfer(
            batch.branch, payload, employee=data.get('employee'))


def transfers_of_branch(branch):
    """The transfers in transit to branch as the devices pull them: a list
    of `transfer` records, by id (for a device that is not a till, such as
    a receiving clerk's phone, which has a branch but no terminal)"""
    Shipment = Pool().get('stock.shipment.internal')
    scope = BranchScope(branch)
    ids = [s.id for s in Shipment.search([
                ('to_branch', '=', branch.id),
                ('state', '=', 'shipped'),
                ], order=[('id', 'ASC')])]
    return [d for d in serialise_transfers(ids, scope).values() if d]


class BranchScope:
    "What serialise_transfers reads of a pull's scope: the branch"

    def __init__(self, branch):
        self.branch = branch


def receive_transfer(branch, payload, employee=None):
    """Apply a transfer_receive payload at branch (the device's): checked
    against TransferReceiveHandler.payload_schema first; raise Rejected
    (unknown_transfer, transfer_not_in_transit, invalid_payload) with
    nothing written; answer the operation's result"""
    pool = Pool()
    Shipment = pool.get('stock.shipment.internal')
    try:
        schema.validate(payload, TransferReceiveHandler.payload_schema,
            'payload')
    except schema.Invalid as e:
        raise Rejected('invalid_payload', e.message)
    shipments = Shipment.search([('id', '=', payload['transfer'])])
    if not shipments or shipments[0].to_branch != branch:
        raise Rejected('unknown_transfer',
            f"transfer: no transfer {payload['transfer']} to this branch.")
    shipment, = shipments
    if shipment.state != 'shipped':
        raise Rejected('transfer_not_in_transit',
            f"transfer: {shipment.number} is {shipment.state}, "
            "not in transit.")
    lines = [{
            'move': line['move'],
            'received': to_decimal(line['received'], 'received'),
            'damaged': to_decimal(line.get('damaged') or '0', 'damaged'),
            'short_to': line.get('short_to') or 'loss',
            'reason': line.get('reason'),
            } for line in payload['lines']]
    try:
        differences = Shipment.receive(shipment, lines, employee=employee)
    except TransferError as e:
        raise Rejected('invalid_payload', e.message)
    return {
        'transfer': shipment.id,
        'state': shipment.state,
        'differences': [{
                'product': d.product.id,
                'lot': d.lot.id if d.lot else None,
                'kind': d.kind,
                'quantity': dec(d.quantity),
                'disposition': d.disposition,
                } for d in differences],
        }
