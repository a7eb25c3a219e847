# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Transfers between branches: Tryton's internal shipments through the
transit location, received lot by lot with the differences recorded, each
branch acting on its side only"""
from decimal import Decimal

from sql import Null, Union

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.retail_sync.changelog import ChangeLogMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import (
    Button, StateAction, StateTransition, StateView, Wizard)

from .exceptions import TransferError

DISPOSITIONS = [
    ('loss', "Loss"),
    ('back', "Back to Sender"),
    ]


def location_branches(location_ids):
    """{location id: branch id} of the branch whose warehouse holds each
    location (None outside every branch)"""
    pool = Pool()
    Branch = pool.get('retail.branch')
    Location = pool.get('stock.location')
    with without_check_access():
        branches = {b.warehouse.id: b.id for b in Branch.search([
                    ('warehouse', '!=', None)])}
        result = {}
        for location in Location.browse(list(set(location_ids))):
            warehouse = location.warehouse
            result[location.id] = (
                branches.get(warehouse.id) if warehouse else None)
    return result


def loss_location():
    "Where a transfer's losses go and its gains come from: lost and found"
    return Pool().get('ir.model.data').get_id('stock', 'location_lost_found')


class Location(metaclass=PoolMeta):
    __name__ = 'stock.location'
    # Reverse links for the record rule that lets each branch read the
    # locations of the other side of its transfers (retail's rule hides the
    # locations of other branches' warehouses)
    retail_transfers_out = fields.One2Many(
        'stock.shipment.internal', 'from_location', "Transfers Out",
        readonly=True)
    retail_transfers_in = fields.One2Many(
        'stock.shipment.internal', 'to_location', "Transfers In",
        readonly=True)


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'
    # Reverse link for the record rule that lets each branch read the moves
    # that posted the differences of its transfers (they go from the
    # transit to lost and found, outside both branches)
    retail_transfer_differences = fields.One2Many(
        'retail.stock.transfer.difference', 'move', "Transfer Differences",
        readonly=True)


class Employee(metaclass=PoolMeta):
    __name__ = 'company.employee'
    # For the record rule that lets each branch read the names of the other
    # side's employees on its transfers (retail's rule hides the employees
    # of other branches)
    retail_transfer_colleague = fields.Function(fields.Boolean(
            "Transfer Colleague",
            help="Assigned, packed, shipped, received or recorded a "
            "difference of a transfer of the user's branches."),
        'get_transfer_colleague', searcher='search_transfer_colleague')

    @classmethod
    def get_transfer_colleague(cls, employees, name):
        found = set(cls.search([
                    ('id', 'in', [e.id for e in employees]),
                    ('retail_transfer_colleague', '=', True),
                    ]))
        return {e.id: e in found for e in employees}

    @classmethod
    def search_transfer_colleague(cls, name, clause):
        pool = Pool()
        Shipment = pool.get('stock.shipment.internal')
        Difference = pool.get('retail.stock.transfer.difference')
        User = pool.get('res.user')
        _, operator, value = clause
        warehouses = User.get_branch_warehouses()
        with without_check_access():
            shipments = Shipment.search(['OR',
                    ('from_location', 'child_of', warehouses, 'parent'),
                    ('to_location', 'child_of', warehouses, 'parent'),
                    ], query=True)
        shipment = Shipment.__table__()
        difference = Difference.__table__()
        columns = [shipment.assigned_by, shipment.packed_by,
            shipment.shipped_by, shipment.done_by]
        query = Union(*(shipment.select(column,
                    where=shipment.id.in_(shipments) & (column != Null))
                for column in columns),
            difference.select(difference.employee,
                where=difference.shipment.in_(shipments)
                & (difference.employee != Null)))
        if (operator == '=') == bool(value):
            return [('id', 'in', query)]
        return [('id', 'not in', query)]


class ShipmentInternal(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'stock.shipment.internal'

    from_branch = fields.Function(
        fields.Many2One('retail.branch', "From Branch",
            help="The branch that sends the transfer."),
        'get_branches', searcher='search_branch')
    to_branch = fields.Function(
        fields.Many2One('retail.branch', "To Branch",
            help="The branch that receives the transfer."),
        'get_branches', searcher='search_branch')
    outgoing = fields.Function(fields.Boolean("Outgoing",
            help="Sent by one of the user's branches."),
        'get_side', searcher='search_side')
    incoming = fields.Function(fields.Boolean("Incoming",
            help="Sent to one of the user's branches."),
        'get_side', searcher='search_side')
    retail_receipt_uuid = fields.Char("Phone Receipt UUID", readonly=True,
        help="The receipt of a counting phone that received the transfer: "
        "a receipt sent again is applied once.")
    retail_receipt_device = fields.Many2One(
        'retail.sync.device', "Received on Phone", readonly=True,
        ondelete='RESTRICT',
        help="The counting phone that received the transfer.")
    differences = fields.One2Many(
        'retail.stock.transfer.difference', 'shipment', "Differences",
        readonly=True,
        help="What the receiving branch found short, over or damaged, per "
        "lot, and where it was posted.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'receive_lots': {
                    'invisible': Eval('state') != 'shipped',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def copy(cls, shipments, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('retail_receipt_uuid')
        default.setdefault('retail_receipt_device')
        return super().copy(shipments, default=default)

    @classmethod
    def get_branches(cls, shipments, names):
        branches = location_branches(
            [s.from_location.id for s in shipments]
            + [s.to_location.id for s in shipments])
        result = {n: {} for n in names}
        for shipment in shipments:
            if 'from_branch' in names:
                result['from_branch'][shipment.id] = branches.get(
                    shipment.from_location.id)
            if 'to_branch' in names:
                result['to_branch'][shipment.id] = branches.get(
                    shipment.to_location.id)
        return result

    @classmethod
    def search_branch(cls, name, clause):
        _, operator, *value = clause
        nested = clause[0][len(name) + 1:] or 'id'
        Branch = Pool().get('retail.branch')
        with without_check_access():
            branches = Branch.search([(nested, operator, *value)])
        field = 'from_location' if name == 'from_branch' else 'to_location'
        return [(field, 'child_of',
                [b.warehouse.id for b in branches if b.warehouse], 'parent')]

    @classmethod
    def get_side(cls, shipments, names):
        User = Pool().get('res.user')
        warehouses = set(User.get_branch_warehouses())
        result = {n: {} for n in names}
        for shipment in shipments:
            for name, location in [
                    ('outgoing', shipment.from_location),
                    ('incoming', shipment.to_location)]:
                if name in names:
                    result[name][shipment.id] = bool(location.warehouse
                        and location.warehouse.id in warehouses)
        return result

    @classmethod
    def search_side(cls, name, clause):
        User = Pool().get('res.user')
        _, operator, value = clause
        field = 'from_location' if name == 'outgoing' else 'to_location'
        domain = (field, 'child_of', User.get_branch_warehouses(), 'parent')
        if (operator == '=') == bool(value):
            return [domain]
        return [(field, 'not child_of', User.get_branch_warehouses(),
                'parent')]

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        # A transfer goes to the devices of its receiving branch
        records = [r for r in records if r.id is not None and r.id >= 0]
        if mode == 'delete':
            branches = location_branches([r.to_location.id for r in records])
            to = {r.id: branches.get(r.to_location.id) for r in records}
        else:
            to = {r.id: r.to_branch.id if r.to_branch else None
                for r in records}
        to = {i: [b] for i, b in to.items() if b}
        if not to:
            return []
        return [('transfer', list(to), to)]

    @classmethod
    def _check_side(cls, shipments, side):
        """Only a user of the sending branch ships (side 'from') and only one
        of the receiving branch receives (side 'to'); internal calls, the
        administrators and the super admins are not checked"""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        if not transaction.check_access or transaction.user == 0:
            return
        groups = User.get_groups()
        if ModelData.get_id('retail', 'group_super_admin') in groups:
            return
        warehouses = set(User.get_branch_warehouses())
        for shipment in shipments:
            location = (shipment.from_location if side == 'from'
                else shipment.to_location)
            if (location.warehouse
                    and location.warehouse.id not in warehouses):
                raise TransferError(gettext(
                        'retail_stock.msg_transfer_other_side'
                        if side == 'from'
                        else 'retail_stock.msg_transfer_receive_side',
                        shipment=shipment.rec_name))

    @classmethod
    def request_transfer(cls, from_branch, to_branch, lines,
            planned_date=None):
        """Create the request of a transfer from_branch -> to_branch, from
        one storage location to the other, with lines of (product, quantity
        in the product's unit); the user must be of one of the two branches
        (the other branch's locations are hidden from them)"""
        pool = Pool()
        Date = pool.get('ir.date')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        if from_branch == to_branch:
            raise TransferError(gettext(
                    'retail_stock.msg_transfer_same_branch',
                    branch=from_branch.rec_name))
        if (transaction.check_access and transaction.user
                and ModelData.get_id('retail', 'group_super_admin')
                not in User.get_groups()
                and not ({from_branch.id, to_branch.id}
                    & set(User.get_branches()))):
            raise TransferError(gettext(
                    'retail_stock.msg_transfer_request_side',
                    from_branch=from_branch.rec_name,
                    to_branch=to_branch.rec_name))
        for branch in [from_branch, to_branch]:
            if not branch.warehouse:
                raise TransferError(gettext(
                        'retail_stock.msg_transfer_no_warehouse',
                        branch=branch.rec_name))
        if not lines or any(q <= 0 for _, q in lines):
            raise TransferError(gettext(
                    'retail_stock.msg_transfer_request_lines'))
        with without_check_access():
            from_location = from_branch.warehouse.storage_location
            to_location = to_branch.warehouse.storage_location
            date = planned_date or Date.today()
            shipment = cls(company=from_branch.company,
                from_location=from_location, to_location=to_location,
                planned_date=date, planned_start_date=date, state='request',
                moves=[{
                        'product': product.id,
                        'unit': product.default_uom.id,
                        'quantity': quantity,
                        'from_location': from_location.id,
                        'to_location': to_location.id,
                        'company': from_branch.company.id,
                        } for product, quantity in lines])
            shipment.save()
        return shipment

    @classmethod
    def wait(cls, shipments, moves=None):
        cls._check_side(shipments, 'from')
        super().wait(shipments, moves=moves)

    @classmethod
    def assign(cls, shipments):
        cls._check_side(shipments, 'from')
        super().assign(shipments)

    @classmethod
    def pack(cls, shipments):
        cls._check_side(shipments, 'from')
        super().pack(shipments)

    @classmethod
    def ship(cls, shipments):
        pool = Pool()
        Move = pool.get('stock.move')
        cls._check_side(shipments, 'from')
        super().ship(shipments)
        # The incoming moves are made per lot when the lots are known: the
        # one made before, without a lot, is left empty; a transfer between
        # branches drops it (its receipt is lot by lot), another internal
        # shipment keeps Tryton's behaviour. The sending branch's user does
        # not manage the receiving branch's moves: the empty move goes as
        # part of shipping, not by the user's rights
        empty = [m for s in cls.browse(shipments)
            if s.from_branch and s.to_branch
            for m in s.incoming_moves
            if not m.quantity and m.state in {'staging', 'draft'}]
        with without_check_access():
            Move.delete(Move.browse(empty))

    @classmethod
    def do(cls, shipments):
        cls._check_side(
            [s for s in shipments if s.transit_location], 'to')
        super().do(shipments)

    def check_quantity(self):
        # The differences received lot by lot balance the transit: the
        # quantities received may differ from the quantities shipped
        if self.differences:
            return
        super().check_quantity()

    @classmethod
    @ModelView.button_action('retail_stock.wizard_transfer_receive')
    def receive_lots(cls, shipments):
        pass

    @classmethod
    def receive(cls, shipment, lines, employee=None):
        """Receive a shipped transfer lot by lot and mark it done.

        lines: [{move, received, damaged, reason, short_to}] per incoming
        move (one per product and lot); a move without a line is received
        as shipped.  received are the good units put into stock, damaged
        the units that arrived unsellable; what is short of the shipped
        quantity goes to the loss location or back to the sending branch
        (short_to 'loss' or 'back'), the damaged units to the loss
        location, units over it come from the loss location: each recorded
        as a difference with its reason.  Return the differences."""
        pool = Pool()
        Move = pool.get('stock.move')
        Difference = pool.get('retail.stock.transfer.difference')
        Date = pool.get('ir.date')
        if shipment.state != 'shipped' or not shipment.transit_location:
            raise TransferError(gettext(
                    'retail_stock.msg_transfer_not_shipped',
                    shipment=shipment.rec_name))
        cls._check_side([shipment], 'to')
        moves = {m.id: m for m in shipment.incoming_moves
            if m.state not in {'done', 'cancelled'}}
        by_move = {}
        for line in lines:
            move = moves.get(line['move'])
            if move is None:
                raise TransferError(gettext(
                        'retail_stock.msg_transfer_unknown_move',
                        shipment=shipment.rec_name, move=line['move']))
            if line['move'] in by_move:
                raise TransferError(gettext(
                        'retail_stock.msg_transfer_move_twice',
                        shipment=shipment.rec_name,
                        move=move.rec_name))
            received = Decimal(str(line['received']))
            damaged = Decimal(str(line.get('damaged') or 0))
            if received < 0 or damaged < 0:
                raise TransferError(gettext(
                        'retail_stock.msg_transfer_negative',
                        move=move.rec_name))
            by_move[line['move']] = line
        with Transaction().set_context(company=shipment.company.id):
            today = Date.today()
        loss = loss_location()
        transit = shipment.transit_location
        differences, new_moves, zero = [], [], []
        for move_id, line in by_move.items():
            move = moves[move_id]
            unit = move.unit
            expected = Decimal(str(move.quantity))
            received = Decimal(str(line['received']))
            damaged = Decimal(str(line.get('damaged') or 0))
            reason = line.get('reason') or None
            short_to = line.get('short_to') or 'loss'
            arrived = received + damaged
            kinds = []
            if damaged:
                kinds.append(('damaged', damaged, transit, loss, 'loss'))
            if arrived < expected:
                kinds.append(('short', expected - arrived, transit,
                        loss if short_to == 'loss'
                        else shipment.from_location.id, short_to))
            elif arrived > expected:
                kinds.append(('over', arrived - expected, loss, transit,
                        'gain'))
            for kind, quantity, from_, to, disposition in kinds:
                from_ = getattr(from_, 'id', from_)
                to = getattr(to, 'id', to)
                diff_move = Move(product=move.product, lot=move.lot,
                    unit=unit, quantity=unit.round(float(quantity)),
                    from_location=from_, to_location=to,
                    company=shipment.company, planned_date=today,
                    effective_date=today)
                new_moves.append(diff_move)
                differences.append(Difference(shipment=shipment,
                        product=move.product, lot=move.lot, unit=unit,
                        kind=kind, quantity=float(quantity),
                        expected_quantity=float(expected),
                        received_quantity=float(received),
                        disposition=disposition, reason=reason,
                        move=diff_move, employee=employee))
            if received != expected:
                move.quantity = unit.round(float(received))
                if not received:
                    zero.append(move)
        Move.save([m for m in moves.values() if m not in zero])
        if zero:
            Move.cancel(zero)
        if new_moves:
            Move.save(new_moves)
            Move.do(new_moves)
        Difference.save(differences)
        cls.do([shipment])
        return differences


class TransferDifference(ModelSQL, ModelView):
    "Transfer Difference"
    __name__ = 'retail.stock.transfer.difference'

    shipment = fields.Many2One('stock.shipment.internal', "Transfer",
        required=True, readonly=True, ondelete='CASCADE')
    product = fields.Many2One('product.product', "Product", required=True,
        readonly=True)
    lot = fields.Many2One('stock.lot', "Lot", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", required=True,
        readonly=True)
    kind = fields.Selection([
            ('short', "Short"),
            ('over', "Over"),
            ('damaged', "Damaged"),
            ], "Kind", required=True, readonly=True)
    quantity = fields.Float("Quantity", digits='unit', required=True,
        readonly=True, help="The quantity short, over or damaged.")
    expected_quantity = fields.Float("Shipped Quantity", digits='unit',
        readonly=True)
    received_quantity = fields.Float("Received Quantity", digits='unit',
        readonly=True, help="The good units put into stock.")
    disposition = fields.Selection([
            ('loss', "Loss"),
            ('back', "Back to Sender"),
            ('gain', "Gain"),
            ], "Posted To", required=True, readonly=True,
        help="Loss: from the transit to the lost and found location; "
        "back: returned to the sending location; gain: from the lost and "
        "found location into the transit.")
    reason = fields.Char("Reason", readonly=True)
    move = fields.Many2One('stock.move', "Move", readonly=True,
        help="The stock move that posted the difference.")
    employee = fields.Many2One('company.employee', "Employee",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('shipment', 'DESC'))


class ReceiveStart(ModelView):
    "Receive Transfer"
    __name__ = 'retail.stock.transfer.receive.start'

    shipment = fields.Many2One('stock.shipment.internal', "Transfer",
        readonly=True)
    lines = fields.One2Many('retail.stock.transfer.receive.line', None,
        "Lines", help="One line per product and lot shipped.")


class ReceiveLine(ModelView):
    "Receive Transfer Line"
    __name__ = 'retail.stock.transfer.receive.line'

    move = fields.Many2One('stock.move', "Move", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    lot = fields.Many2One('stock.lot', "Lot", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", readonly=True)
    shipped = fields.Float("Shipped", digits='unit', readonly=True)
    received = fields.Float("Received", digits='unit', required=True,
        domain=[('received', '>=', 0)],
        help="The good units put into stock.")
    damaged = fields.Float("Damaged", digits='unit',
        domain=['OR', ('damaged', '=', None), ('damaged', '>=', 0)],
        help="The units that arrived unsellable: posted as a loss.")
    short_to = fields.Selection(DISPOSITIONS, "Short To", required=True,
        help="Where what is missing goes: a loss, or back to the sending "
        "branch.")
    reason = fields.Char("Reason")


class Receive(Wizard):
    "Receive Transfer"
    __name__ = 'retail.stock.transfer.receive'

    start = StateView('retail.stock.transfer.receive.start',
        'retail_stock.transfer_receive_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Receive", 'receive', 'tryton-ok', default=True),
            ])
    receive = StateTransition()

    def default_start(self, fields):
        shipment = self.record
        lines = []
        for move in shipment.incoming_moves:
            if move.state in {'done', 'cancelled'}:
                continue
            lines.append({
                    'move': move.id,
                    'product': move.product.id,
                    'lot': move.lot.id if move.lot else None,
                    'unit': move.unit.id,
                    'shipped': move.quantity,
                    'received': move.quantity,
                    'damaged': 0,
                    'short_to': 'loss',
                    })
        return {'shipment': shipment.id, 'lines': lines}

    def transition_receive(self):
        Shipment = Pool().get('stock.shipment.internal')
        Shipment.receive(self.record, [{
                    'move': line.move.id,
                    'received': line.received,
                    'damaged': line.damaged or 0,
                    'short_to': line.short_to,
                    'reason': line.reason,
                    } for line in self.start.lines])
        return 'end'


class RequestStart(ModelView):
    "Request Transfer"
    __name__ = 'retail.stock.transfer.request.start'

    from_branch = fields.Many2One('retail.branch', "From Branch",
        required=True, domain=[('id', '!=', Eval('to_branch', -1))],
        help="The branch that sends the goods.")
    to_branch = fields.Many2One('retail.branch', "To Branch", required=True,
        domain=[('id', '!=', Eval('from_branch', -1))],
        help="The branch that receives the goods.")
    planned_date = fields.Date("Planned Date", required=True)
    lines = fields.One2Many('retail.stock.transfer.request.line', None,
        "Lines", required=True)

    @classmethod
    def default_planned_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_to_branch(cls):
        branches = Pool().get('res.user').get_branches()
        return branches[0] if len(branches) == 1 else None


class RequestLine(ModelView):
    "Request Transfer Line"
    __name__ = 'retail.stock.transfer.request.line'

    product = fields.Many2One('product.product', "Product", required=True,
        domain=[('type', '=', 'goods')])
    quantity = fields.Float("Quantity", digits='unit', required=True,
        domain=[('quantity', '>', 0)])
    unit = fields.Function(fields.Many2One('product.uom', "Unit"),
        'on_change_with_unit')

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None


class Request(Wizard):
    "Request Transfer"
    __name__ = 'retail.stock.transfer.request'

    start = StateView('retail.stock.transfer.request.start',
        'retail_stock.transfer_request_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Request", 'request', 'tryton-ok', default=True),
            ])
    request = StateAction('retail_stock.act_transfer')

    def do_request(self, action):
        Shipment = Pool().get('stock.shipment.internal')
        shipment = Shipment.request_transfer(
            self.start.from_branch, self.start.to_branch,
            [(line.product, line.quantity) for line in self.start.lines],
            self.start.planned_date)
        action['res_id'] = [shipment.id]
        action['views'].reverse()
        return action, {}
