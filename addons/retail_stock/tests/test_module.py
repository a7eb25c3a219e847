# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.modules.retail.stock import fefo_key, sell_by
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


del ModuleTestCase
