# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Stock counts on counting phones: the device kind, the endpoints, entries
of several phones adding up, and adjustments at the count's time"""
import datetime as dt
import unittest
import uuid
from decimal import Decimal

from trytond.modules.retail_sync.tests.tools import (
    Api, committed, push_and_post, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, drop_db
from trytond.transaction import Transaction

UTC = dt.timezone.utc


def receive(shop, product, quantity, lot=None):
    "Put quantity of product in the branch's storage (a supplier receipt)"
    pool = Pool()
    Move = pool.get('stock.move')
    Location = pool.get('stock.location')
    Terminal = pool.get('sale.point')
    Product = pool.get('product.product')
    terminal = Terminal(shop.terminal)
    supplier, = Location.search([('type', '=', 'supplier')], limit=1)
    move, = Move.create([{'product': product, 'lot': lot,
                'unit': Product(product).default_uom.id,
                'quantity': quantity, 'from_location': supplier.id,
                'to_location': terminal.storage_location.id,
                'effective_date': dt.date.today(), 'company': shop.company,
                'unit_price': Decimal('2'),
                'currency': terminal.company.currency.id}])
    with Transaction().set_context(_skip_warnings=True):
        Move.do([move])
    # Received an hour ago (a count taken since sees it)
    table = Move.__table__()
    earlier = dt.datetime.now() - dt.timedelta(hours=1)
    Transaction().connection.cursor().execute(*table.update(
            [table.create_date, table.write_date], [earlier, earlier],
            where=table.id == move.id))


def new_counter(shop, name="Phone"):
    "A counting phone of the shop's branch and its enrollment code"
    Device = Pool().get('retail.sync.device')
    device, = Device.create([{'kind': 'counter', 'device_branch': shop.branch,
                'device_name': name}])
    return device.id, Device.new_device_code(device)


def new_count(shop, count_time, blind=True):
    pool = Pool()
    Inventory = pool.get('stock.inventory')
    Terminal = pool.get('sale.point')
    terminal = Terminal(shop.terminal)
    inventory, = Inventory.create([{
                'location': terminal.storage_location.id,
                'company': shop.company,
                'retail_branch': shop.branch,
                'count_time': count_time.astimezone(UTC).replace(tzinfo=None),
                'blind': blind,
                }])
    return inventory.id


def entry(count, product, quantity, lot=None, lot_number=None, when=None):
    data = {'uuid': str(uuid.uuid4()), 'count': count, 'product': product,
        'quantity': quantity, 'scanned': True,
        'client_time': (when or dt.datetime.now(UTC)).isoformat()}
    if lot is not None:
        data['lot'] = lot
    if lot_number is not None:
        data['lot_number'] = lot_number
    return data


class CountTestCase(unittest.TestCase):
    "Counts on counting phones"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_stock'])
        cls.shop = committed(lambda: setup_shop(products=3))

        def lost_found():
            pool = Pool()
            Location = pool.get('stock.location')
            Branch = pool.get('retail.branch')
            warehouse = Branch(cls.shop.branch).warehouse
            if not warehouse.lost_found_used:
                found, = Location.search(
                    [('type', '=', 'lost_found')], limit=1)
                warehouse.lost_found_location = found
                warehouse.save()
        committed(lost_found)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def enroll_counter(self, name="Phone"):
        device, code = committed(lambda: new_counter(self.shop, name))
        status, data = Api().post('enroll', {
                'code': code, 'device_name': name})
        self.assertEqual(status, 200, data)
        self.assertEqual(data['kind'], 'counter')
        self.assertEqual(data['branch']['id'], self.shop.branch)
        self.assertEqual(data['device'], device)
        self.assertTrue(data['device_key'].startswith('rsk_d'))
        return data['device_key']

    def test_counter_device_endpoints(self):
        "A counting phone uses the count endpoints only; a till cannot"
        key = self.enroll_counter()
        api = Api(key)
        for path in ['bootstrap', 'changes']:
            status, data = api.get(path)
            self.assertEqual(status, 403, data)
            self.assertEqual(data['error']['code'], 'forbidden')
        status, data = api.push([])
        self.assertEqual(status, 403, data)
        status, data = api.get('count/bootstrap')
        self.assertEqual(status, 200, data)
        self.assertEqual(data['branch']['id'], self.shop.branch)
        self.assertTrue({p['id'] for p in data['products']}
            >= set(self.shop.products))

        # A till's key is refused on the count endpoints
        def till_key():
            from trytond.modules.retail_sync.tests.tools import enroll
            return enroll(self.shop.terminal)
        status, data = Api(committed(till_key)).get('count/bootstrap')
        self.assertEqual(status, 403, data)
        # No key, or a revoked one
        status, _ = Api().get('count/bootstrap')
        self.assertEqual(status, 401)

        def revoke():
            Device = Pool().get('retail.sync.device')
            devices = Device.search([('kind', '=', 'counter'),
                    ('state', '=', 'active')])
            Device.revoke_device(devices)
        committed(revoke)
        status, _ = api.get('count/bootstrap')
        self.assertEqual(status, 401)

    def test_entries_add_up_and_adjust_at_count_time(self):
        """Two phones count; a sale made after the count, synced later,
        still takes its quantity; the adjustment is the difference at the
        count's time"""
        shop = self.shop
        product = shop.products[1]
        committed(lambda: receive(shop, product, 10))
        now = dt.datetime.now(UTC).replace(microsecond=0)
        count_time = now - dt.timedelta(minutes=3)
        count = committed(lambda: new_count(shop, count_time))
        phone1, phone2 = self.enroll_counter("P1"), self.enroll_counter("P2")

        status, data = Api(phone1).get('count/bootstrap')
        self.assertEqual(status, 200, data)
        self.assertIn(count, [c['id'] for c in data['counts']])
        # Blind: no expected quantity is sent
        self.assertFalse([e for e in data['expected']
                if e['count'] == count])

        # Phone 1 scans 3 and types 4; phone 2 counts 1 more
        first = [entry(count, product, '3'), entry(count, product, '4')]
        status, data = Api(phone1).post('count/push', {'entries': first})
        self.assertEqual(status, 200, data)
        self.assertEqual([r['status'] for r in data['results']],
            ['accepted', 'accepted'])
        status, data = Api(phone2).post('count/push', {
                'entries': [entry(count, product, '1')]})
        self.assertEqual(data['results'][0]['status'], 'accepted')
        # The answer was lost: phone 1 pushes the same entries again
        status, data = Api(phone1).post('count/push', {'entries': first})
        self.assertEqual([r['status'] for r in data['results']],
            ['duplicate', 'duplicate'])

        # Bad entries are rejected each with its reason, nothing written
        status, data = Api(phone2).post('count/push', {'entries': [
                    entry(count, 999999, '1'),
                    entry(count + 1000, product, '1'),
                    entry(count, product, 'x'),
                    entry(count, product, 2),
                    dict(entry(count, product, '1'), colour='red'),
                    dict(entry(count, product, '1'), uuid='nope'),
                    ]})
        self.assertEqual(status, 200, data)
        self.assertEqual([r['error']['code'] for r in data['results']], [
                'unknown_product', 'count_closed', 'invalid_payload',
                'invalid_payload', 'invalid_payload', 'invalid_payload'])
        status, data = Api(phone2).post('count/push', {'entries': 'x'})
        self.assertEqual(status, 400, data)

        # A sale of 2 at the till 10 minutes after the count, synced now
        def sell():
            pool = Pool()
            Terminal = pool.get('sale.point')
            Transaction().set_context(company=shop.company)
            op = sale_op(shop, 1, lines=[{'product': product,
                        'quantity': '2', 'unit_price': '12.00',
                        'price': '12.00', 'discount': None, 'lot': None}],
                client_time=count_time + dt.timedelta(minutes=1))
            result, = push_and_post(Terminal(shop.terminal), [op])
            self.assertEqual(result['status'], 'accepted', result)
        committed(sell)

        def validate():
            pool = Pool()
            Inventory = pool.get('stock.inventory')
            Product = pool.get('product.product')
            Terminal = pool.get('sale.point')
            Transaction().set_context(company=shop.company,
                _skip_warnings=True)
            inventory = Inventory(count)
            Inventory.apply_count_entries([inventory])
            line, = [l for l in Inventory(count).lines
                if l.product.id == product]
            # 3 + 4 + 1 counted; 10 on the shelf at the count's time
            self.assertEqual(line.quantity, 8)
            self.assertEqual(line.expected_quantity, 10)
            self.assertEqual(line.difference, -2)
            self.assertEqual(line.counted_entries, 3)
            Inventory.confirm([inventory])
            storage = Terminal(shop.terminal).storage_location
            with Transaction().set_context(locations=[storage.id],
                    stock_date_end=dt.date.today()):
                # 8 counted, less the 2 sold after the count
                return Product(product).quantity
        self.assertEqual(committed(validate), 6)

        # A sale of 1 made 2 minutes before the count, synced only now: the
        # count found it gone and took it; its posting takes it again, and a
        # correction from lost-and-found gives it back
        def sell_before():
            pool = Pool()
            Terminal = pool.get('sale.point')
            Product = pool.get('product.product')
            Move = pool.get('stock.move')
            Transaction().set_context(company=shop.company)
            op = sale_op(shop, 2, lines=[{'product': product,
                        'quantity': '1', 'unit_price': '12.00',
                        'price': '12.00', 'discount': None, 'lot': None}],
                client_time=count_time - dt.timedelta(minutes=2))
            result, = push_and_post(Terminal(shop.terminal), [op])
            self.assertEqual(result['status'], 'accepted', result)
            storage = Terminal(shop.terminal).storage_location
            corrections = Move.search([
                    ('origin.inventory', '=', count, 'stock.inventory.line'),
                    ('to_location', '=', storage.id),
                    ('state', '=', 'done'),
                    ])
            self.assertEqual([m.quantity for m in corrections], [1])
            with Transaction().set_context(locations=[storage.id],
                    stock_date_end=dt.date.today()):
                return Product(product).quantity
        self.assertEqual(committed(sell_before), 6)

        # The count is closed: its entries are refused
        status, data = Api(phone1).post('count/push', {
                'entries': [entry(count, product, '1')]})
        self.assertEqual(data['results'][0]['error']['code'],
            'count_closed')

    def test_lots_and_expected(self):
        "A non-blind count sends expected quantities; lots by id or number"
        shop = self.shop
        product = shop.products[2]

        def lot_setup():
            pool = Pool()
            Lot = pool.get('stock.lot')
            lot, = Lot.create([{'number': 'L-A', 'product': product}])
            receive(shop, product, 5, lot=lot.id)
            return lot.id
        lot = committed(lot_setup)
        count = committed(lambda: new_count(
                shop, dt.datetime.now(UTC) - dt.timedelta(seconds=5),
                blind=False))

        def complete():
            Inventory = Pool().get('stock.inventory')
            Transaction().set_context(company=shop.company)
            Inventory.complete_lines([Inventory(count)])
        committed(complete)
        phone = self.enroll_counter("P3")
        status, data = Api(phone).get('count/bootstrap')
        self.assertIn({'count': count, 'product': product, 'lot': lot,
                'quantity': '5'}, data['expected'])
        self.assertIn(lot, [l['id'] for l in data['lots']])
        status, data = Api(phone).post('count/push', {'entries': [
                    entry(count, product, '4', lot=lot),
                    entry(count, product, '2', lot_number='L-NEW'),
                    entry(count, shop.products[0], '1', lot=lot),
                    ]})
        self.assertEqual([r['status'] for r in data['results']],
            ['accepted', 'accepted', 'rejected'])
        self.assertEqual(data['results'][2]['error']['code'], 'unknown_lot')

        def lines():
            Inventory = Pool().get('stock.inventory')
            Transaction().set_context(company=shop.company)
            Inventory.apply_count_entries([Inventory(count)])
            return sorted((l.lot.number, l.expected_quantity, l.quantity)
                for l in Inventory(count).lines if l.product.id == product)
        self.assertEqual(committed(lines),
            [('L-A', 5, 4), ('L-NEW', 0, 2)])


    def test_phone_receives_a_transfer(self):
        """A phone of the receiving branch pulls the transfer in transit and
        receives it lot by lot once by its uuid (differences recorded); a
        phone of another branch neither sees nor receives it; a bad receipt
        writes nothing"""
        from .tools import ship_transfer
        shop = self.shop
        code = 'R' + uuid.uuid4().hex[:5].upper()
        sender, shipment = committed(lambda: [r.id for r in ship_transfer(
                        shop.company, shop.branch, code)[::5]])

        def incoming_moves():
            Shipment = Pool().get('stock.shipment.internal')
            return {m.lot.number: m.id
                for m in Shipment(shipment).incoming_moves}
        moves = committed(incoming_moves)
        phone = self.enroll_counter("Receiving phone")
        status, data = Api(phone).get('count/bootstrap')
        self.assertEqual(status, 200, data)
        transfer, = [t for t in data['transfers'] if t['id'] == shipment]
        self.assertEqual(sorted((l['lot_number'], l['quantity'])
                for l in transfer['lines']), [('L0', '5'), ('L1', '3')])

        # A phone of the sending branch: not its transfer
        def other_phone():
            Device = Pool().get('retail.sync.device')
            device, = Device.create([{'kind': 'counter',
                        'device_branch': sender, 'device_name': "Other"}])
            return Device.new_device_code(device)
        status, enrolled = Api().post('enroll', {
                'code': committed(other_phone), 'device_name': "Other"})
        other = Api(enrolled['device_key'])
        status, data = other.get('count/bootstrap')
        self.assertNotIn(shipment, [t['id'] for t in data['transfers']])
        now = dt.datetime.now(UTC).isoformat()
        receipt = {'uuid': str(uuid.uuid4()), 'transfer': shipment,
            'client_time': now, 'lines': [
                {'move': moves['L0'], 'received': '3', 'damaged': '1',
                    'reason': "Crushed"},
                {'move': moves['L1'], 'received': '2', 'short_to': 'back',
                    'reason': "Missing"}]}
        status, data = other.post('count/receive', {'receipts': [receipt]})
        self.assertEqual(status, 200, data)
        result, = data['results']
        self.assertEqual((result['status'], result['error']['code']),
            ('rejected', 'unknown_transfer'))

        # Refused with nothing written: a negative quantity, a bad time
        bad = dict(receipt, uuid=str(uuid.uuid4()), lines=[
                {'move': moves['L0'], 'received': '-1'}])
        late = dict(receipt, uuid=str(uuid.uuid4()),
            client_time='2999-01-01T00:00:00+00:00')
        status, data = Api(phone).post('count/receive',
            {'receipts': [bad, late, {'uuid': 'x'}]})
        self.assertEqual([(r['status'], r['error']['code'])
                for r in data['results']],
            [('rejected', 'invalid_payload')] * 3)

        def state():
            Shipment = Pool().get('stock.shipment.internal')
            record = Shipment(shipment)
            return record.state, sorted((d.lot.number, d.kind, d.quantity,
                    d.disposition, d.reason) for d in record.differences)
        self.assertEqual(committed(state), ('shipped', []))

        status, data = Api(phone).post('count/receive',
            {'receipts': [receipt]})
        self.assertEqual(status, 200, data)
        result, = data['results']
        self.assertEqual(result['status'], 'accepted', result)
        self.assertEqual(result['result']['state'], 'done')
        differences = [('L0', 'damaged', 1.0, 'loss', "Crushed"),
            ('L0', 'short', 1.0, 'loss', "Crushed"),
            ('L1', 'short', 1.0, 'back', "Missing")]
        self.assertEqual(committed(state), ('done', differences))
        # Sent again (the answer was lost): applied once
        status, data = Api(phone).post('count/receive',
            {'receipts': [receipt]})
        result, = data['results']
        self.assertEqual(result['status'], 'duplicate', result)
        self.assertEqual(len(result['result']['differences']), 3)
        self.assertEqual(committed(state), ('done', differences))
        # Another receipt of the received transfer is refused
        status, data = Api(phone).post('count/receive', {'receipts': [
                    dict(receipt, uuid=str(uuid.uuid4()))]})
        self.assertEqual(data['results'][0]['error']['code'],
            'transfer_not_in_transit')
        status, data = Api(phone).get('count/bootstrap')
        self.assertNotIn(shipment, [t['id'] for t in data['transfers']])
        status, data = Api(phone).post('count/receive', {'receipts': 'x'})
        self.assertEqual(status, 400, data)


def load_tests(loader, tests, pattern):
    return loader.loadTestsFromTestCase(CountTestCase)
