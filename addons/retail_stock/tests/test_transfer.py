# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Transfers between branches: ship through the transit location, receive lot
by lot with the differences posted, each branch on its side, and the
receiving device's pulled kind and push operation"""
import datetime as dt
import unittest
import uuid

from trytond.exceptions import UserError
from trytond.modules.retail.tests.test_module import create_branch
from trytond.modules.retail_sync.pull import Scope
from trytond.modules.retail_sync.tests.tools import (
    committed, operation, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from .tools import ship_transfer


class TransferTestCase(unittest.TestCase):
    "Transfers between branches"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module(['retail_stock'])
        cls._shop = committed(
            lambda: setup_shop(code='TR', prefix='TRA', products=1))

    def setUp(self):
        super().setUp()
        self.code = 'T' + uuid.uuid4().hex[:6].upper()

    def setup_transfer(self):
        """A lot product in a sending branch (two lots) and a transfer of 8
        to the shop's branch, shipped: 5 of the earliest lot, 3 of the
        other"""
        result = ship_transfer(self._shop.company, self._shop.branch,
            self.code)
        self.assertEqual(result[-1].state, 'shipped')
        return result

    def quantities(self, product, location):
        "{lot id: quantity} of product at location, from its done moves"
        Move = Pool().get('stock.move')
        result = {}
        for move in Move.search([('product', '=', product.id),
                    ('state', '=', 'done'),
                    ['OR', ('from_location', '=', location.id),
                        ('to_location', '=', location.id)]]):
            sign = 1 if move.to_location == location else -1
            lot = move.lot.id if move.lot else None
            result[lot] = result.get(lot, 0) + sign * move.quantity
        return {k: v for k, v in result.items() if v}

    @with_transaction()
    def test_receive_lot_by_lot_records_differences(self):
        """Received lot by lot: short, damaged and over quantities are
        recorded with their reason, posted to lost and found or back to the
        sender, and the transit is left empty"""
        pool = Pool()
        Difference = pool.get('retail.stock.transfer.difference')
        ModelData = pool.get('ir.model.data')
        Location = pool.get('stock.location')
        sender, receiver, product, early, late, shipment = (
            self.setup_transfer())
        self.assertEqual(shipment.from_branch, sender)
        self.assertEqual(shipment.to_branch, receiver)
        moves = {m.lot: m for m in shipment.incoming_moves}
        self.assertEqual({lot.id: m.quantity for lot, m in moves.items()},
            {early.id: 5, late.id: 3})
        transit = shipment.transit_location
        lost = Location(ModelData.get_id('stock', 'location_lost_found'))
        lost_before = self.quantities(product, lost)

        Shipment = pool.get('stock.shipment.internal')
        Shipment.receive(shipment, [
                {'move': moves[early].id, 'received': 3, 'damaged': 1,
                    'reason': "Crushed box", 'short_to': 'back'},
                {'move': moves[late].id, 'received': 4},
                ])
        self.assertEqual(shipment.state, 'done')
        self.assertEqual(
            self.quantities(product, receiver.warehouse.storage_location),
            {early.id: 3, late.id: 4})
        # One short unit of the early lot went back to the sender
        self.assertEqual(
            self.quantities(product, sender.warehouse.storage_location),
            {early.id: 1, late.id: 6})
        self.assertEqual(self.quantities(product, transit), {})
        lost_after = self.quantities(product, lost)
        self.assertEqual(
            lost_after.get(early.id, 0) - lost_before.get(early.id, 0), 1)
        self.assertEqual(
            lost_after.get(late.id, 0) - lost_before.get(late.id, 0), -1)
        differences = Difference.search([('shipment', '=', shipment.id)],
            order=[('id', 'ASC')])
        self.assertEqual(
            [(d.lot, d.kind, d.quantity, d.disposition, d.reason)
                for d in differences], [
                (early, 'damaged', 1, 'loss', "Crushed box"),
                (early, 'short', 1, 'back', "Crushed box"),
                (late, 'over', 1, 'gain', None),
                ])
        self.assertTrue(all(d.move.state == 'done' for d in differences))

    @with_transaction()
    def test_receive_refuses_bad_lines_and_changes_nothing(self):
        "A negative quantity or a move of another transfer is refused"
        pool = Pool()
        Shipment = pool.get('stock.shipment.internal')
        sender, receiver, product, early, late, shipment = (
            self.setup_transfer())
        move = shipment.incoming_moves[0]
        for line in [{'move': move.id, 'received': -1},
                {'move': shipment.outgoing_moves[0].id, 'received': 1},
                ]:
            with self.assertRaises(UserError):
                Shipment.receive(shipment, [line])
        self.assertEqual(shipment.state, 'shipped')
        self.assertFalse(shipment.differences)

    def manager(self, branch, login):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        user, = User.create([{
                    'login': login, 'name': login,
                    # As the demo's managers: the stock group's buttons
                    'groups': [('add', [
                                ModelData.get_id(
                                    'retail', 'group_store_manager'),
                                ModelData.get_id('stock', 'group_stock')])],
                    'companies': [('add', [branch.company.id])],
                    'company': branch.company.id,
                    'managed_branches': [('add', [branch.id])],
                    }])
        return user

    @with_transaction()
    def test_each_branch_on_its_side(self):
        """The sending branch's manager sees the transfer as outgoing and
        cannot receive it; the receiving branch's manager sees it as incoming
        and receives it"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.internal')
        sender, receiver, product, early, late, shipment = (
            self.setup_transfer())
        sending = self.manager(sender, f'send{self.code}')
        receiving = self.manager(receiver, f'recv{self.code}')
        lines = [{'move': m.id, 'received': m.quantity}
            for m in shipment.incoming_moves]
        with Transaction().set_user(sending.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(
                Shipment.search([('outgoing', '=', True)]), [shipment])
            self.assertEqual(Shipment.search([('incoming', '=', True)]), [])
            with self.assertRaises(UserError):
                Shipment.receive(Shipment(shipment.id), lines)
            with self.assertRaises(UserError):
                Shipment.do([Shipment(shipment.id)])
        self.assertEqual(shipment.state, 'shipped')
        with Transaction().set_user(receiving.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(
                Shipment.search([('incoming', '=', True)]), [shipment])
            self.assertEqual(Shipment.search([('outgoing', '=', True)]), [])
            Shipment.receive(Shipment(shipment.id), lines)
        self.assertEqual(Shipment(shipment.id).state, 'done')

    @with_transaction()
    def test_sending_manager_ships_lots(self):
        """The sending branch's manager ships a transfer of lots: the empty
        incoming move of the receiving branch is dropped for them (their
        rules do not let them delete the receiving branch's moves)"""
        result = ship_transfer(self._shop.company, self._shop.branch,
            self.code, shipper=lambda sender: self.manager(
                sender, f'send{self.code}').id)
        shipment = result[-1]
        self.assertEqual(shipment.state, 'shipped')
        self.assertEqual(sorted(m.quantity for m in shipment.incoming_moves),
            [3, 5])

    @with_transaction()
    def test_request_from_another_branch(self):
        """A branch's manager requests a transfer from another branch whose
        locations are hidden from them (Request Transfer); the sender then
        prepares and ships it; a user of neither branch, a transfer to the
        same branch and an empty request are refused"""
        pool = Pool()
        Shipment = pool.get('stock.shipment.internal')
        Branch = pool.get('retail.branch')
        Wizard = pool.get('retail.stock.transfer.request', type='wizard')
        sender, receiver, product, early, late, _ = self.setup_transfer()
        third = create_branch(sender.company, code='X' + self.code[1:],
            name=f"Third {self.code}")
        receiving = self.manager(receiver, f'req{self.code}')
        sending = self.manager(sender, f'snd{self.code}')
        outsider = self.manager(third, f'out{self.code}')
        with Transaction().set_user(receiving.id), \
                Transaction().set_context(_check_access=True,
                    company=sender.company.id):
            session_id, _, _ = Wizard.create()
            wizard = Wizard(session_id)
            wizard.start.from_branch = Branch(sender.id)
            wizard.start.to_branch = Branch(receiver.id)
            wizard.start.planned_date = dt.date.today()
            line = pool.get('retail.stock.transfer.request.line')(
                product=product.id, quantity=3)
            wizard.start.lines = [line]
            action, _ = wizard.do_request(
                {'views': [(None, 'tree'), (None, 'form')]})
            shipment, = Shipment.browse(action['res_id'])
            self.assertEqual(shipment.state, 'request')
            self.assertEqual(Shipment.search(
                    [('incoming', '=', True), ('id', '=', shipment.id)]),
                [shipment])
            self.assertEqual(shipment.from_location.rec_name,
                sender.warehouse.storage_location.rec_name)
            # The request becomes a draft; the receiving branch does not
            # prepare it
            Shipment.draft([shipment])
            with self.assertRaises(UserError):
                Shipment.wait([shipment])
            for from_, to, lines in [
                    (receiver, receiver, [(product, 1)]),
                    (sender, receiver, []),
                    (sender, receiver, [(product, 0)])]:
                with self.assertRaises(UserError):
                    Shipment.request_transfer(Branch(from_.id),
                        Branch(to.id), lines)
        self.assertEqual([(m.product, m.quantity, m.from_location,
                    m.to_location) for m in shipment.moves],
            [(product, 3, sender.warehouse.storage_location,
                    receiver.warehouse.storage_location)])
        with Transaction().set_user(outsider.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(UserError):
                Shipment.request_transfer(Branch(sender.id),
                    Branch(receiver.id), [(product, 1)])
        with Transaction().set_user(sending.id), \
                Transaction().set_context(_check_access=True):
            shipment = Shipment(shipment.id)
            Shipment.wait([shipment])
            Shipment.assign_try([shipment])
            Shipment.pack([shipment])
            Shipment.ship([shipment])
            self.assertEqual(Shipment(shipment.id).state, 'shipped')

    @with_transaction()
    def test_sender_alone_ships(self):
        "The receiving branch's manager cannot ship a transfer to it"
        pool = Pool()
        Shipment = pool.get('stock.shipment.internal')
        sender, receiver, product, early, late, shipment = (
            self.setup_transfer())
        Shipment.draft([shipment])
        receiving = self.manager(receiver, f'recv{self.code}')
        with Transaction().set_user(receiving.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(UserError):
                Shipment.wait([Shipment(shipment.id)])

    @with_transaction()
    def test_pulled_transfers_of_the_receiving_branch(self):
        """The receiving branch's devices pull the transfer in transit with
        its lines per lot; the sender's do not; received, it is dropped"""
        pool = Pool()
        Pull = pool.get('retail.sync.pull')
        Terminal = pool.get('sale.point')
        Shipment = pool.get('stock.shipment.internal')
        from trytond.modules.retail.tests.test_module import create_terminal
        sender, receiver, product, early, late, shipment = (
            self.setup_transfer())
        scope = Scope(Terminal(self._shop.terminal))
        kind = Pull._kinds()['transfer']
        table, column, where, _ = kind.bootstrap_query(scope, 0)
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(column, where=where))
        self.assertEqual([i for i, in cursor], [shipment.id])
        data = Pull.serialise('transfer', [shipment.id], scope)[shipment.id]
        self.assertEqual(data['number'], shipment.number)
        self.assertEqual(data['from_branch'], sender.id)
        self.assertEqual(
            sorted((line['lot'], line['lot_number'], line['quantity'])
                for line in data['lines']),
            sorted([(early.id, early.number, '5'),
                    (late.id, late.number, '3')]))
        other = Scope(create_terminal(sender, self.code[-4:] + 'X'))
        self.assertEqual(
            Pull.serialise('transfer', [shipment.id], other),
            {shipment.id: None})
        Shipment.receive(shipment, [])
        self.assertEqual(
            Pull.serialise('transfer', [shipment.id], scope),
            {shipment.id: None})

    @with_transaction()
    def test_push_transfer_receive(self):
        """A device of the receiving branch receives the transfer by a
        transfer_receive operation; one of another branch is refused, a bad
        line is refused with nothing written"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        from trytond.modules.retail.tests.test_module import create_terminal
        sender, receiver, product, early, late, shipment = (
            self.setup_transfer())
        shop = self._shop
        moves = {m.lot: m for m in shipment.incoming_moves}
        terminal = Terminal(shop.terminal)

        other = create_terminal(sender, self.code[-4:] + 'X')
        op = operation(shop, 'transfer_receive', {
                'transfer': shipment.id, 'lines': []})
        op['terminal'] = other.id
        result, = Push.push(other, [op])
        self.assertEqual((result['status'], result['reason']['code']),
            ('rejected', 'unknown_transfer'), result)

        bad = operation(shop, 'transfer_receive', {
                'transfer': shipment.id, 'lines': [
                    {'move': moves[early].id, 'received': '-1'}]},
            sequence=2)
        result, = Push.push(terminal, [bad])
        self.assertEqual((result['status'], result['reason']['code']),
            ('rejected', 'invalid_payload'), result)
        self.assertEqual(shipment.state, 'shipped')

        op = operation(shop, 'transfer_receive', {
                'transfer': shipment.id, 'lines': [
                    {'move': moves[early].id, 'received': '4',
                        'reason': "Missing"}]}, sequence=3)
        result, = Push.push(terminal, [op])
        self.assertEqual(result['status'], 'accepted', result)
        self.assertEqual(result['result']['state'], 'done')
        self.assertEqual(result['result']['differences'], [{
                    'product': product.id, 'lot': early.id, 'kind': 'short',
                    'quantity': '1', 'disposition': 'loss'}])
        self.assertEqual(
            self.quantities(product, receiver.warehouse.storage_location),
            {early.id: 4, late.id: 3})

    @with_transaction()
    def test_openapi_describes_the_transfers(self):
        """docs/sync-openapi.yaml lists the transfer kind and the
        transfer_receive operation with the handler's payload schema"""
        from trytond.modules.retail_sync.openapi import differences
        from trytond.modules.retail_sync.tests.test_registry import (
            load_openapi)
        Push = Pool().get('retail.sync.push')
        document = load_openapi(self)
        self.assertEqual(differences(document), [])
        described = dict(
            document['components']['schemas']['TransferReceivePayload'])
        described.pop('description')
        self.assertEqual(described,
            Push._operation_handlers()['transfer_receive'].payload_schema)

    @with_transaction()
    def test_branch_functions_for_other_devices(self):
        """A device with a branch and no terminal (a phone) lists the
        transfers in transit to its branch and receives one"""
        from trytond.modules.retail_stock.sync import (
            receive_transfer, transfers_of_branch)
        from trytond.modules.retail_sync.wire import Rejected
        sender, receiver, product, early, late, shipment = (
            self.setup_transfer())
        self.assertEqual(
            [t['id'] for t in transfers_of_branch(receiver)], [shipment.id])
        self.assertEqual(transfers_of_branch(sender), [])
        payload = {'transfer': shipment.id, 'lines': []}
        with self.assertRaises(Rejected) as cm:
            receive_transfer(sender, payload)
        self.assertEqual(cm.exception.code, 'unknown_transfer')
        with self.assertRaises(Rejected) as cm:
            receive_transfer(receiver, {'transfer': shipment.id})
        self.assertEqual(cm.exception.code, 'invalid_payload')
        result = receive_transfer(receiver, payload)
        self.assertEqual((result['state'], result['differences']),
            ('done', []))
        self.assertEqual(transfers_of_branch(receiver), [])
