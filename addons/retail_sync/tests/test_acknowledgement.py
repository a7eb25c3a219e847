# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""How a push acknowledges its operations: sales checked without a
savepoint each, a failure that is not a rejection applied again the safe
way, the operations stored together"""
import datetime as dt
import json
import uuid
from decimal import Decimal
from unittest import mock

from sql import Table

from trytond import backend
from trytond.modules.retail_sync import push as push_module
from trytond.modules.retail_sync import sale_push as sale_push_module
from trytond.modules.retail_sync.push import Batch
from trytond.modules.retail_sync.sale_push import SaleHandler
from trytond.modules.retail_sync.tests.tools import (
    committed, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

NOON = dt.datetime.combine(
    dt.date.today(), dt.time(12), tzinfo=dt.timezone.utc)


class AcknowledgementTestCase(TestCase):
    "Test how a push acknowledges its operations"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync'])
        cls._shop = committed(lambda: setup_shop(products=3))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def terminal(self):
        return Pool().get('sale.point')(self._shop.terminal)

    def sales(self, start, count):
        shop = self._shop
        return [sale_op(shop, n, client_time=NOON, sequence=n, lines=[
                    {'product': shop.products[n % 3], 'quantity': '1',
                        'unit_price': '12.00', 'price': '12.00'}])
            for n in range(start, start + count)]

    def push(self, operations, defer=True):
        Push = Pool().get('retail.sync.push')
        with Transaction().set_context(company=self._shop.company,
                retail_sync_defer_records=defer):
            return Push.push(self.terminal(), operations)

    def count_savepoints(self):
        "A mock counting the savepoints taken by the push module"
        return mock.patch.object(push_module, 'savepoint',
            wraps=push_module.savepoint)

    @with_transaction()
    def test_sales_are_checked_without_a_savepoint_each(self):
        """The sale handler writes nothing while it checks a sale: a push
        of sales takes a savepoint for the push, none per sale"""
        operations = self.sales(1, 30)
        with self.count_savepoints() as savepoint:
            results = self.push(operations)
        self.assertEqual({r['status'] for r in results}, {'accepted'})
        # The push's own: whatever the number of sales
        self.assertLessEqual(savepoint.call_count, 2)

    @with_transaction()
    def test_rejection_without_savepoint_writes_nothing(self):
        """A sale rejected while checked without a savepoint is answered
        and stored as before, the sales around it accepted"""
        Operation = Pool().get('retail.sync.operation')
        operations = self.sales(101, 3)
        operations[1]['payload']['payments'][0]['amount'] = '1.00'
        with self.count_savepoints() as savepoint:
            results = self.push(operations)
        self.assertLessEqual(savepoint.call_count, 2)
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'rejected', 'accepted'])
        self.assertEqual(results[1]['reason']['code'], 'unbalanced_payment')
        stored = {o.uuid: o for o in Operation.search([
                    ('uuid', 'in', [o['uuid'] for o in operations])])}
        rejected = stored[operations[1]['uuid']]
        self.assertEqual((rejected.state, rejected.reason_code,
                rejected.posting, rejected.sale_values, rejected.session),
            ('rejected', 'unbalanced_payment', None, None, None))
        self.assertEqual({stored[o['uuid']].posting
                for o in operations[::2]}, {'pending'})

    @with_transaction()
    def test_failure_in_a_statement_is_applied_again_with_savepoints(self):
        """A sale whose check fails in a statement of the database (which
        leaves a PostgreSQL transaction unusable) makes the push start
        again with a savepoint per operation: that sale is rejected with
        the error, the others accepted, nothing else is lost"""
        Operation = Pool().get('retail.sync.operation')
        operations = self.sales(201, 3)
        failing = operations[1]['payload']['receipt_number']
        handle_sale = SaleHandler.handle_sale.__func__

        def broken(cls, batch, data, payload, client_time, sign=1):
            if payload['receipt_number'] == failing:
                cursor = Transaction().connection.cursor()
                if backend.name == 'postgresql':
                    cursor.execute('SELECT 1 / 0')
                raise ZeroDivisionError("division by zero")
            return handle_sale(cls, batch, data, payload, client_time,
                sign=sign)
        with mock.patch.object(SaleHandler, 'handle_sale',
                classmethod(broken)), self.count_savepoints() as savepoint:
            results = self.push(operations)
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'rejected', 'accepted'])
        self.assertEqual(results[1]['reason']['code'], 'error')
        self.assertIn("division by zero", results[1]['reason']['message'])
        # Started again: a savepoint per operation
        self.assertGreaterEqual(savepoint.call_count, 1 + len(operations))
        stored = Operation.search([
                ('uuid', 'in', [o['uuid'] for o in operations])],
            order=[('sequence', 'ASC')])
        self.assertEqual([(o.state, o.posting) for o in stored],
            [('accepted', 'pending'), ('rejected', None),
                ('accepted', 'pending')])
        # The transaction goes on
        self.assertEqual(len(self.push(self.sales(204, 1))), 1)

    @with_transaction()
    def test_recorded_in_the_push_without_worker(self):
        """Without a worker the push records its sales itself: the
        savepoints are those of their creation, the answer names them"""
        operations = self.sales(301, 5)
        results = self.push(operations, defer=False)
        self.assertEqual({r['status'] for r in results}, {'accepted'})
        self.assertTrue(all(isinstance(r['result']['sale'], int)
                for r in results))

    @with_transaction()
    def test_operations_stored_together_as_create_stores_them(self):
        """The operations of a push are inserted together, the rows equal
        to those Operation.create makes of the same values, and the hooks
        of their creation run once for all"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        operations = self.sales(401, 4)
        operations[2]['payload']['payments'][0]['amount'] = '1.00'
        operations.append(dict(operations[0], uuid=str(uuid.uuid4()),
                type='no_such_type'))
        insert = Operation.insert_pushed
        with mock.patch.object(Operation, 'insert_pushed',
                    wraps=insert) as inserted, \
                mock.patch.object(Operation, 'on_modification',
                    wraps=Operation.on_modification) as hook:
            results = self.push(operations)
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'accepted', 'rejected', 'accepted', 'rejected'])
        (vlist,), _ = inserted.call_args
        created = [c for c in hook.call_args_list
            if c.args[0] == 'create' and c.args[1]
            and c.args[1][0].__name__ == Operation.__name__]
        self.assertEqual(len(created), 1)
        self.assertEqual(sorted(r.uuid for r in created[0].args[1]),
            sorted(o['uuid'] for o in operations))

        # The same values through create, under other uuids
        again = [dict(v, uuid=f'again-{v["uuid"]}') for v in vlist]
        Operation.create(again)
        table = Table(Operation._table)
        cursor = Transaction().connection.cursor()

        def row(uuid_):
            cursor.execute(*table.select(where=table.uuid == uuid_))
            names = [d[0] for d in cursor.description]
            values = dict(zip(names, cursor.fetchone()))
            for name in ['id', 'uuid', 'create_date']:
                del values[name]
            return values
        for values in vlist:
            self.assertEqual(row(values['uuid']),
                row(f'again-{values["uuid"]}'))

    @with_transaction()
    def test_product_info_equals_what_the_records_answer(self):
        """What a push reads of its products in one query (ProductInfo)
        equals what the product records answer: active (product and
        template), type, sale unit and its digits, customer taxes"""
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        shop = self._shop
        first, second, third = Product.browse(shop.products)
        gram, = Uom.search([('symbol', '=', 'g')])
        Template.write([second.template], {
                'type': 'service', 'default_uom': gram.id,
                'sale_uom': gram.id})
        Product.write([third], {'active': False})
        other, = Template.create([{
                    'name': "Archived template",
                    'default_uom': first.default_uom.id,
                    'sale_uom': first.sale_uom.id,
                    'type': 'goods',
                    'salable': True,
                    'account_category': first.account_category.id,
                    'products': [('create', [{}])],
                    }])
        other_product, = other.products
        Template.write([other], {'active': False})
        Lot = pool.get('stock.lot')
        Lot.create([{'number': "L-INFO", 'product': first.id}])
        ids = [first.id, second.id, third.id, other_product.id]
        batch = Batch(self.terminal())
        batch.load_products(ids + [-1])
        self.assertEqual(set(batch.product_info), set(ids))
        # The products with lots: the others need no first expiring first
        self.assertEqual(batch.lot_products, {first.id})
        with Transaction().set_context(
                company=shop.company, active_test=False):
            for product in Product.browse(ids):
                info = batch.product_info[product.id]
                self.assertEqual((info.active, info.type, info.unit.id,
                        info.unit.digits, info.unit.symbol),
                    (product.active and product.template.active,
                        product.type, product.sale_uom.id,
                        product.sale_uom.digits, product.sale_uom.symbol))
                self.assertEqual(
                    list(batch.customer_taxes(info)),
                    list(Product(product.id).customer_taxes_used))
                self.assertEqual(info.record, product)

    @with_transaction()
    def test_shared_figures_follow_the_taxes(self):
        """The figures a push derives from the taxes are kept for the next
        pushes (on PostgreSQL, SharedFigures), and computed again as soon
        as a tax or the taxes of an accounting category change"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Tax = pool.get('account.tax')
        Product = pool.get('product.product')
        Category = pool.get('product.category')
        shared = backend.name == 'postgresql'

        def summary_taxes(n):
            # Always the same product, at the same price
            operations = self.sales(n, 1)
            with mock.patch.object(sale_push_module, 'sale_taxes',
                    wraps=sale_push_module.sale_taxes) as computed:
                results = self.push(operations)
            self.assertEqual(results[0]['status'], 'accepted')
            operation, = Operation.search(
                [('uuid', '=', operations[0]['uuid'])])
            return json.loads(operation.summary)['taxes'], computed.called

        first, _ = summary_taxes(603)
        (tax_id, base, amount), = first
        self.assertEqual(summary_taxes(606), (first, not shared))

        tax = Tax(tax_id)
        Tax.write([tax], {'rate': tax.rate * 2})
        taxes, computed = summary_taxes(609)
        self.assertTrue(computed)
        # The prices include the taxes: a higher rate, a smaller base
        (tax_id2, base2, amount2), = taxes
        self.assertEqual(tax_id2, tax_id)
        self.assertGreater(Decimal(amount2), Decimal(amount))
        self.assertLess(Decimal(base2), Decimal(base))

        category = Product(self._shop.products[0]).account_category
        Category.write([category], {
                'customer_taxes': [('remove', [tax_id])]})
        self.assertEqual(summary_taxes(612), ([], True))

    @with_transaction()
    def test_tax_lookup_reads_a_tax_once(self):
        """Under a batch's TaxLookup, Tax.compute runs on the same
        account.tax records for every price: their children are read once,
        not once per new record"""
        from trytond.modules.retail_sync.tax import TaxLookup
        Tax = Pool().get('account.tax')
        tax, = Tax.search([('company', '=', self._shop.company)], limit=1)
        lookup = TaxLookup()
        reads = []
        read = Tax.read

        def counted(cls, ids, fields_names, *args, **kwargs):
            if 'childs' in (fields_names or []):
                reads.append(ids)
            return read(ids, fields_names, *args, **kwargs)
        today = dt.date.today()
        with lookup.active(), mock.patch.object(
                Tax, 'read', classmethod(counted)):
            amounts = [Tax.compute(Tax.browse([tax.id]), Decimal(price), 1,
                    today)[0]['amount'] for price in ['10', '20', '30']]
        self.assertEqual(len(reads), 1)
        self.assertEqual(amounts, [Tax.compute([tax], Decimal(price), 1,
                    today)[0]['amount'] for price in ['10', '20', '30']])
