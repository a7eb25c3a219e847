# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.modules.retail.stock import fefo_key, sell_by
from trytond.modules.retail.tests.test_module import create_branch
from trytond.modules.retail_stock.exceptions import (
    MarkdownValidationError, ScanError)
from trytond.modules.retail_stock.tests.tools import (
    lot_product, make_lots, receive, stock_locations)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

# A lot set: per lot its sell-by offset from today (None: no date; past
# offsets are expired lots), its receipt offset (days ago) and its quantity
# in each of the two bins (0 for a short or absent lot)
LOTS = st.lists(st.tuples(
        st.one_of(st.none(), st.integers(-3, 6)),
        st.integers(1, 4),
        st.integers(0, 4), st.integers(0, 4)),
    min_size=1, max_size=6)


def expected_fefo(lots, requested, today):
    """The quantity per lot that first expiring first out takes: the lots
    in fefo_key order, skipping expired ones, each taken whole until the
    requested quantity is met"""
    remaining = requested
    taken = {}
    for lot, available in sorted(lots, key=lambda e: fefo_key(e[0])):
        date = sell_by(lot)
        if (date and date < today) or available <= 0 or remaining <= 0:
            continue
        take = min(available, remaining)
        taken[lot.id] = take
        remaining -= take
    return taken


class RetailStockTestCase(CompanyTestMixin, ModuleTestCase):
    "Test the retail_stock module"
    module = 'retail_stock'

    def assign(self, company, product, storage, customer, quantity, today):
        Move = Pool().get('stock.move')
        move, = Move.create([{
                    'product': product.id, 'unit': product.default_uom.id,
                    'quantity': quantity, 'from_location': storage.id,
                    'to_location': customer.id, 'company': company.id,
                    'unit_price': Decimal('2'),
                    'currency': company.currency.id,
                    'planned_date': today,
                    }])
        # A move without a shipment or an origin: no origin warning
        with Transaction().set_context(_skip_warnings=True):
            success = Move.assign_try([move])
        moves = Move.search([('product', '=', product.id),
                ('to_location', '=', customer.id)])
        return success, moves

    @with_transaction()
    def test_fefo_earliest_sell_by_first_split_over_lots(self):
        "An outgoing move takes the earliest sell-by lot, split when short"
        pool = Pool()
        Date = pool.get('ir.date')
        company = create_company()
        with set_company(company):
            today = Date.today()
            storage, bins, supplier, customer = stock_locations()
            product = lot_product()
            late, early, expired = make_lots(product, [9, 2, -1], today)
            ago = today - dt.timedelta(days=3)
            receive(company, product, [
                    (late, storage, 10, ago), (early, bins[1], 3, ago),
                    (expired, bins[0], 10, ago)], supplier)
            success, moves = self.assign(
                company, product, storage, customer, 5, today)
            self.assertTrue(success)
            self.assertEqual(
                sorted((m.lot.id, m.quantity, m.state) for m in moves),
                sorted([(early.id, 3, 'assigned'),
                        (late.id, 2, 'assigned')]))

    @with_transaction()
    def test_fefo_same_day_earliest_receipt_then_oldest(self):
        "Lots expiring the same day go by receipt date, then by id"
        pool = Pool()
        Date = pool.get('ir.date')
        Lot = pool.get('stock.lot')
        company = create_company()
        with set_company(company):
            today = Date.today()
            storage, bins, supplier, customer = stock_locations()
            product = lot_product()
            first, second, third = make_lots(product, [4, 4, 4], today)
            receive(company, product, [
                    (first, storage, 2, today - dt.timedelta(days=1)),
                    (second, storage, 2, today - dt.timedelta(days=5)),
                    (third, storage, 2, today - dt.timedelta(days=5))],
                supplier)
            self.assertEqual(Lot(second.id).receipt_date,
                today - dt.timedelta(days=5))
            success, moves = self.assign(
                company, product, storage, customer, 3, today)
            self.assertEqual(
                sorted((m.lot.id, m.quantity) for m in moves),
                [(second.id, 2), (third.id, 1)])

    @with_transaction()
    def test_fefo_never_assigns_expired_lots(self):
        "Only expired stock: the move stays unassigned"
        pool = Pool()
        Date = pool.get('ir.date')
        company = create_company()
        with set_company(company):
            today = Date.today()
            storage, bins, supplier, customer = stock_locations()
            product = lot_product()
            expired, = make_lots(product, [-1], today)
            receive(company, product, [
                    (expired, storage, 5, today - dt.timedelta(days=9))],
                supplier)
            success, moves = self.assign(
                company, product, storage, customer, 2, today)
            self.assertFalse(success)
            move, = moves
            self.assertEqual((move.state, move.lot), ('draft', None))

    @with_transaction()
    def test_fefo_internal_shipment(self):
        "A transfer between warehouses is assigned first expiring first out"
        pool = Pool()
        Date = pool.get('ir.date')
        Location = pool.get('stock.location')
        Shipment = pool.get('stock.shipment.internal')
        company = create_company()
        with set_company(company):
            today = Date.today()
            storage, bins, supplier, customer = stock_locations()
            other, = Location.copy([storage], {'parent': None,
                    'name': "Other Storage", 'code': None})
            product = lot_product()
            late, early = make_lots(product, [20, 5], today)
            receive(company, product, [
                    (late, storage, 4, today), (early, bins[0], 1, today)],
                supplier)
            shipment = Shipment(
                company=company, from_location=storage, to_location=other,
                planned_date=today, planned_start_date=today, moves=[{
                        'product': product.id,
                        'unit': product.default_uom.id, 'quantity': 3,
                        'from_location': storage.id, 'to_location': other.id,
                        'company': company.id}])
            shipment.save()
            Shipment.wait([shipment])
            Shipment.assign_try([shipment])
            self.assertEqual(shipment.state, 'assigned')
            self.assertEqual(
                sorted((m.lot.id, m.quantity) for m in shipment.moves),
                sorted([(early.id, 1), (late.id, 2)]))

    @with_transaction()
    def test_fefo_property(self):
        """Over random lot sets (same-day expiries, short and expired lots,
        two bins) assignment takes exactly what first expiring first out
        takes: 0 violations"""
        pool = Pool()
        Date = pool.get('ir.date')
        Lot = pool.get('stock.lot')
        company = create_company()
        with set_company(company):
            today = Date.today()
            storage, bins, supplier, customer = stock_locations()
            violations = []
            cases = []

            # Violations are collected, not raised: no shrinking
            @settings(max_examples=40, deadline=None, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))
            @given(lots=LOTS, requested=st.integers(1, 20))
            def check(lots, requested):
                product = lot_product()
                records = make_lots(product, [s for s, *_ in lots], today)
                receipts = []
                for lot, (_, ago, q1, q2) in zip(records, lots):
                    date = today - dt.timedelta(days=ago)
                    receipts += [(lot, bins[0], q1, date),
                        (lot, bins[1], q2, date)]
                receive(company, product, receipts, supplier)
                records = Lot.browse(records)
                available = [(lot, q1 + q2)
                    for lot, (_, _, q1, q2) in zip(records, lots)]
                expected = expected_fefo(available, requested, today)
                success, moves = self.assign(
                    company, product, storage, customer, requested, today)
                got = defaultdict(float)
                for move in moves:
                    if move.state == 'assigned':
                        got[move.lot.id] += move.quantity
                cases.append(1)
                if dict(got) != {k: float(v) for k, v in expected.items()}:
                    violations.append((lots, requested, dict(got), expected))
                if success != (sum(expected.values()) == requested):
                    violations.append((lots, requested, 'success', success))
                if sum(m.quantity for m in moves) != requested:
                    violations.append((lots, requested, 'total'))
            check()
            self.assertGreaterEqual(len(cases), 40)
            self.assertEqual(violations, [])


    def branch_with_stock(self, company, code, lots, today):
        """A branch whose storage received lots [(lot, quantity)]"""
        supplier = stock_locations()[2]
        branch = create_branch(company, code=code, name=f"Shop {code}")
        receive(company, lots[0][0].product if lots else None, [
                (lot, branch.warehouse.storage_location, quantity, today)
                for lot, quantity in lots], supplier)
        return branch

    def manager(self, branch, login):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Group = pool.get('res.group')
        group = Group(ModelData.get_id('retail', 'group_store_manager'))
        user, = User.create([{
                    'login': login, 'name': login,
                    'groups': [('add', [group.id])],
                    'companies': [('add', [branch.company.id])],
                    'company': branch.company.id,
                    'managed_branches': [('add', [branch.id])],
                    }])
        return user

    @with_transaction()
    def test_lots_near_expiry_per_branch_and_notified(self):
        """The lots near or past expiry of a branch, with its quantity, seen
        by its managers only, and notified to them"""
        pool = Pool()
        Date = pool.get('ir.date')
        Expiry = pool.get('retail.stock.lot.expiry')
        Notification = pool.get('res.notification')
        Template = pool.get('product.template')
        company = create_company()
        with set_company(company):
            today = Date.today()
            product = lot_product()
            Template.write([product.template], {'near_expiry_days': 3})
            near, expired, later = make_lots(product, [2, -1, 10], today)
            self.assertEqual(near.near_expiry_date,
                today - dt.timedelta(days=1))
            shop1 = self.branch_with_stock(
                company, 'S1', [(near, 4), (expired, 1), (later, 5)], today)
            shop2 = self.branch_with_stock(company, 'S2', [(near, 7)], today)
            rows = Expiry.search([])
            self.assertEqual(sorted(
                    (r.branch.code, r.lot.id, r.state, r.quantity)
                    for r in rows), sorted([
                        ('S1', near.id, 'near', 4),
                        ('S1', expired.id, 'expired', 1),
                        ('S2', near.id, 'near', 7)]))
            user1 = self.manager(shop1, 'manager1')
            self.manager(shop2, 'manager2')
            with Transaction().set_user(user1.id), \
                    Transaction().set_context(_check_access=True):
                self.assertEqual({r.branch.code for r in Expiry.search([])},
                    {'S1'})
            Expiry.notify_managers()
            notification, = Notification.search([('user', '=', user1.id)])
            self.assertIn("Shop S1", notification.label)
            self.assertEqual(len(notification.records.split(',')), 2)

    @with_transaction()
    def test_markdown_price_per_branch_and_validity(self):
        "A markdown is the lot's price in its branch while it is valid"
        pool = Pool()
        Date = pool.get('ir.date')
        Markdown = pool.get('retail.stock.lot.markdown')
        company = create_company()
        with set_company(company):
            today = Date.today()
            product = lot_product()
            lot, = make_lots(product, [2], today)
            shop1 = create_branch(company, code='S1')
            shop2 = create_branch(company, code='S2')
            Markdown.create([{'lot': lot.id, 'branch': shop1.id,
                        'unit_price': Decimal('0.99'), 'start_date': today,
                        'end_date': today + dt.timedelta(days=2)}])
            self.assertEqual(Markdown.price(lot, shop1, today),
                Decimal('0.99'))
            self.assertIsNone(Markdown.price(lot, shop2, today))
            self.assertIsNone(Markdown.price(
                    lot, shop1, today + dt.timedelta(days=3)))
            with self.assertRaises(MarkdownValidationError):
                Markdown.create([{'lot': lot.id, 'branch': shop1.id,
                            'unit_price': Decimal('-1'),
                            'start_date': today}])

    @with_transaction()
    def test_recall_lists_receipts_and_sales_as_csv(self):
        "A recall lists the receipts and sales of a lot, as CSV"
        pool = Pool()
        Date = pool.get('ir.date')
        Move = pool.get('stock.move')
        Recall = pool.get('retail.stock.lot.recall', type='wizard')
        company = create_company()
        with set_company(company):
            today = Date.today()
            storage, bins, supplier, customer = stock_locations()
            product = lot_product()
            lot, = make_lots(product, [5], today)
            receive(company, product, [(lot, storage, 6, today)], supplier)
            success, moves = self.assign(
                company, product, storage, customer, 2, today)
            with Transaction().set_context(_skip_warnings=True):
                Move.do(moves)
            session_id, _, _ = Recall.create()
            recall = Recall(session_id)
            with Transaction().set_context(
                    active_model='stock.lot', active_id=lot.id):
                recall.start.lot = recall.default_start(None)['lot']
            result = recall.default_result(None)
            self.assertEqual([(l['kind'], l['quantity'])
                    for l in result['lines']], [('receipt', 6), ('sale', 2)])
            text = result['file'].decode()
            self.assertEqual(text.splitlines()[0].split(',')[:5],
                ['lot', 'product', 'sell_by', 'date', 'kind'])
            self.assertEqual(len(text.splitlines()), 3)
            self.assertEqual(result['filename'], 'recall-L0.csv')

    @with_transaction()
    def test_low_stock_under_minimum_per_branch(self):
        "A branch holding less than its order point's minimum is listed"
        pool = Pool()
        Date = pool.get('ir.date')
        OrderPoint = pool.get('stock.order_point')
        Low = pool.get('retail.stock.low')
        Template = pool.get('product.template')
        company = create_company()
        with set_company(company):
            today = Date.today()
            product = lot_product()
            Template.write([product.template], {'purchasable': True,
                    'purchase_uom': product.default_uom.id})
            lot, = make_lots(product, [30], today)
            shop1 = self.branch_with_stock(company, 'S1', [(lot, 2)], today)
            shop2 = self.branch_with_stock(company, 'S2', [(lot, 9)], today)
            OrderPoint.create([{
                        'product': product.id, 'type': 'purchase',
                        'location': shop.warehouse.id, 'company': company.id,
                        'min_quantity': 5, 'target_quantity': 10,
                        } for shop in (shop1, shop2)])
            row, = Low.search([])
            self.assertEqual((row.branch, row.quantity, row.min_quantity,
                    row.target_quantity), (shop1, 2, 5, 10))
            point, = OrderPoint.search([('branch', '=', shop1.id)])
            self.assertEqual(point.branch, shop1)

    @with_transaction()
    def test_supply_transfers_from_another_branch_first_expiring(self):
        """An internal order point under its minimum becomes a transfer
        from the provisioning branch, assigned first expiring first out"""
        pool = Pool()
        Date = pool.get('ir.date')
        OrderPoint = pool.get('stock.order_point')
        Shipment = pool.get('stock.shipment.internal')
        company = create_company()
        with set_company(company):
            today = Date.today()
            product = lot_product()
            late, early, other = make_lots(product, [9, 3, 20], today)
            shop1 = self.branch_with_stock(company, 'S1', [(other, 2)], today)
            shop2 = self.branch_with_stock(
                company, 'S2', [(late, 4), (early, 6)], today)
            OrderPoint.create([{
                        'product': product.id, 'type': 'internal',
                        'location': shop1.warehouse.storage_location.id,
                        'provisioning_location':
                        shop2.warehouse.storage_location.id,
                        'company': company.id,
                        'min_quantity': 5, 'target_quantity': 10}])
            Shipment.generate_internal_shipment()
            shipment, = Shipment.search([])
            self.assertEqual(
                (shipment.from_location, shipment.to_location),
                (shop2.warehouse.storage_location,
                    shop1.warehouse.storage_location))
            self.assertEqual(
                sum(m.quantity for m in shipment.outgoing_moves), 8)
            Shipment.wait([shipment])
            Shipment.assign_try([shipment])
            self.assertEqual(sorted(
                    (m.lot.id, m.quantity) for m in shipment.outgoing_moves),
                sorted([(early.id, 6), (late.id, 2)]))

    @with_transaction()
    def test_manager_reads_order_point_provisioned_by_another_branch(self):
        """A store manager opens the order points of their branch that are
        provisioned by another branch: the provisioning location's name
        shows, the other branch's other locations stay hidden"""
        pool = Pool()
        OrderPoint = pool.get('stock.order_point')
        Location = pool.get('stock.location')
        company = create_company()
        with set_company(company):
            product = lot_product()
            shop1 = create_branch(company, code='S1')
            shop2 = create_branch(company, code='S2')
            shop3 = create_branch(company, code='S3')
            storage1 = shop1.warehouse.storage_location
            storage2 = shop2.warehouse.storage_location
            point, = OrderPoint.create([{
                        'product': product.id, 'type': 'internal',
                        'location': storage1.id,
                        'provisioning_location': storage2.id,
                        'company': company.id,
                        'min_quantity': 5, 'target_quantity': 10}])
            user1 = self.manager(shop1, 'manager1')
            user2 = self.manager(shop2, 'manager2')
            # what the form reads (sao asks for the names of its links)
            fields = ['location.rec_name', 'provisioning_location.rec_name',
                'product.rec_name']
            with Transaction().set_user(user1.id), \
                    Transaction().set_context(_check_access=True):
                self.assertEqual(
                    [p.id for p in OrderPoint.search([])], [point.id])
                row, = OrderPoint.read([point.id], fields)
                self.assertEqual(
                    row['provisioning_location.']['rec_name'],
                    storage2.rec_name)
                # the other branch's locations stay hidden
                found = Location.search([])
                self.assertIn(storage1, found)
                self.assertFalse({storage2, shop2.warehouse, shop3.warehouse}
                    & set(found))
                with self.assertRaises(AccessError):
                    Location.read([storage2.id], ['rec_name'])
                # and the manager still changes their order point
                OrderPoint.write([OrderPoint(point.id)], {'min_quantity': 3})
                self.assertEqual(OrderPoint(point.id).min_quantity, 3)
            # the provisioning branch's manager does not see the point
            with Transaction().set_user(user2.id), \
                    Transaction().set_context(_check_access=True):
                self.assertEqual(OrderPoint.search([]), [])

    @with_transaction()
    def test_receipt_scan_creates_lot_with_expiry(self):
        "A GS1-128 label scanned on a receipt sets a new lot with its expiry"
        pool = Pool()
        Move = pool.get('stock.move')
        Identifier = pool.get('product.identifier')
        company = create_company()
        with set_company(company):
            storage, bins, supplier, customer = stock_locations()
            product = lot_product()
            Identifier.create([{'product': product.id, 'type': 'ean',
                        'code': '4006381333931'}])
            move, = Move.create([{
                        'product': product.id,
                        'unit': product.default_uom.id, 'quantity': 5,
                        'from_location': supplier.id,
                        'to_location': storage.id, 'company': company.id,
                        'unit_price': Decimal('1'),
                        'currency': company.currency.id}])
            Move.write([move], {
                    'gs1_scan': '(01)04006381333931(17)271231(10)AB12'})
            self.assertEqual(move.lot.number, 'AB12')
            self.assertEqual(move.lot.shelf_life_expiration_date,
                dt.date(2027, 12, 31))
            with self.assertRaises(ScanError):
                Move.write([move], {
                        'gs1_scan': '(01)09506000134352(10)X'})
            with self.assertRaises(ScanError):
                Move.write([move], {'gs1_scan': '(01)04006381333932'})


del ModuleTestCase
