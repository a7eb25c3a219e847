# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The dashboard's summary tables: kept when sales are recorded, reopened
or deleted, equal to a rebuild from the sales"""
from decimal import Decimal

from trytond.modules.retail_sync.tests.tools import (
    committed, run_queue, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction


def rows(model, keys, values):
    "The rows of the summary model as {key tuple: values tuple}"
    Model = Pool().get(model)
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(*[getattr(table, c) for c in keys + values],
            order_by=[getattr(table, c).asc for c in keys]))
    result = {}
    for row in cursor:
        figures = tuple(Decimal(str(v or 0)).quantize(Decimal('0.01'))
            for v in row[len(keys):])
        if any(figures):
            result[tuple(str(v) for v in row[:len(keys)])] = figures
    return result


HOURS = ('retail.report.sales_summary', ['point', 'date', 'hour'],
    ['sales', 'sales_total', 'returns', 'returns_total', 'discounts'])
PRODUCTS = ('retail.report.product_summary', ['point', 'date', 'product'],
    ['quantity', 'amount'])


class SummaryTestCase(TestCase):
    "Test the dashboard's summary tables"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_report'])
        cls.shop = committed(setup_shop)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def push_sales(self, defer_records=False):
        """24.00, 30.00 (a discount of 2.00 on each of 3), a return of
        -12.00; the sales are recorded (by the posting task with
        defer_records, as with a queue worker)"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        shop = self.shop
        product = shop.products[0]
        with Transaction().set_context(company=shop.company,
                retail_sync_defer_records=defer_records):
            results = Push.push(Terminal(shop.terminal), [
                    sale_op(shop, 1),
                    sale_op(shop, 2, lines=[{'product': product,
                                'quantity': '3', 'unit_price': '12.00',
                                'price': '10.00',
                                'discount': {'percent': '16.67'}}]),
                    sale_op(shop, 3, type_='return',
                        original_receipt=f'{shop.prefix}-000002', lines=[
                            {'product': product, 'quantity': '-1',
                                'unit_price': '12.00', 'price': '12.00'}]),
                    ])
            run_queue()
        self.assertEqual({r['status'] for r in results}, {'accepted'})

    def totals(self):
        "The summary's sums: sales, total, returns, total, discounts"
        sums = [Decimal(0)] * 5
        for values in rows(*HOURS).values():
            sums = [a + b for a, b in zip(sums, values)]
        return sums

    def assert_rebuild_equal(self):
        "A rebuild from the sales gives the rows kept so far"
        Summary = Pool().get('retail.report.sales_summary')
        hours, products = rows(*HOURS), rows(*PRODUCTS)
        Summary.rebuild()
        self.assertEqual(rows(*HOURS), hours)
        self.assertEqual(rows(*PRODUCTS), products)

    @with_transaction()
    def test_recorded_sales_are_summarised(self):
        "The pushed sales are in the summaries once recorded"
        pool = Pool()
        Summary = pool.get('retail.report.sales_summary')
        self.push_sales()
        Summary.flush()
        self.assertEqual(self.totals(), [Decimal(2), Decimal('54.00'),
                Decimal(1), Decimal('-12.00'), Decimal('6.00')])
        products = rows(*PRODUCTS)
        self.assertEqual(list(products.values()),
            [(Decimal('4.00'), Decimal('42.00'))])
        self.assert_rebuild_equal()

    @with_transaction()
    def test_sales_recorded_by_the_posting_task_are_summarised(self):
        """The sales the posting task records in bulk are in the
        summaries (retail_sales_inserted)"""
        pool = Pool()
        Summary = pool.get('retail.report.sales_summary')
        Sale = pool.get('sale.point.sale')
        self.push_sales(defer_records=True)
        self.assertEqual(Sale.search([], count=True), 3)
        Summary.flush()
        self.assertEqual(self.totals(), [Decimal(2), Decimal('54.00'),
                Decimal(1), Decimal('-12.00'), Decimal('6.00')])
        self.assert_rebuild_equal()

    @with_transaction()
    def test_back_office_sale(self):
        """A sale of the back office counts once done, leaves the
        summaries when reopened, and a sale done then reopened before the
        commit never counts"""
        pool = Pool()
        Summary = pool.get('retail.report.sales_summary')
        Sale = pool.get('sale.point.sale')
        shop = self.shop
        with Transaction().set_context(company=shop.company):
            sale, = Sale.create([{
                        'point': shop.terminal,
                        'lines': [('create', [{
                                        'product': shop.products[1],
                                        'quantity': 2,
                                        'unit_list_price': Decimal('10'),
                                        'unit_gross_price': Decimal('10'),
                                        'base_price': Decimal('11'),
                                        }])],
                        'payments': [('create', [{
                                        'method': shop.cash,
                                        'amount': Decimal('20.00'),
                                        }])],
                        }])
            Sale.process([sale])
            self.assertEqual(sale.state, 'done')
            self.assertEqual(self.totals(), [0] * 5)
            # Counted from the commit (or a flush)
            Summary.flush()
            self.assertEqual(self.totals(), [Decimal(1), Decimal('20.00'),
                    Decimal(0), Decimal(0), Decimal('2.00')])
            self.assertEqual(list(rows(*PRODUCTS).values()),
                [(Decimal('2.00'), Decimal('20.00'))])
            self.assert_rebuild_equal()
            Sale.open([sale])
            self.assertEqual(self.totals(), [0] * 5)
            self.assertEqual(rows(*PRODUCTS), {})
            self.assert_rebuild_equal()
            Sale.process([sale])
            Sale.open([sale])
            Summary.flush()
            self.assertEqual(self.totals(), [0] * 5)
            Sale.process([sale])
            Summary.flush()
            self.assertEqual(self.totals()[:2], [Decimal(1),
                    Decimal('20.00')])
            self.assert_rebuild_equal()
