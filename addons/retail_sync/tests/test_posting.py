# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The bulk posting of pushed sales (posting.py) makes the same records as
sale.point.sale.post: stock moves, account moves, lines and tax lines"""
import datetime as dt
import os
import random
import re
import uuid
from decimal import Decimal

from sql import Column, Table

from trytond.modules.company.tests.test_module import (
    create_company, create_employee)
from trytond.modules.retail_sync.posting import Poster
from trytond.modules.retail_sync.push import Batch
from trytond.modules.retail_sync.sale_push import SaleHandler
from trytond.modules.retail_sync.tax import TaxLookup
from trytond.modules.retail_sync.tests.tools import (
    committed, operation, push_and_post, run_queue, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

# Noon UTC is the same date in the branch's time zone and the company's
NOON = dt.datetime.combine(
    dt.date.today(), dt.time(12), tzinfo=dt.timezone.utc)
# Columns that differ between two equal postings: ids, stamps, numbers
STAMPS = {'id', 'create_uid', 'create_date', 'write_uid', 'write_date'}


def rows(table, column, values):
    "All columns of the rows of table whose column is in values"
    table = Table(table)
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(
            where=Column(table, column).in_(list(values))))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor.fetchall()]


def normal(value):
    "The value as a comparable: numbers as Decimal, dates as dates"
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Decimal):
        return value.normalize() if value else Decimal(0)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


# Generated sales: (name, type, rate or amount) of their taxes, and the
# taxes of each accounting category by index in GENERATED_TAXES
GENERATED_TAXES = [
    ("Gen VAT 21", 'percentage', '0.21'),
    ("Gen VAT 6", 'percentage', '0.06'),
    ("Gen VAT 5.5", 'percentage', '0.055'),
    ("Gen Deposit", 'fixed', '0.10'),
    ]
GENERATED_CATEGORIES = [[0], [1], [2], [1, 2], [0, 3], [3], []]
GENERATED_SALES = int(os.environ.get('POSTING_CASES', '100'))


class PostingTestCase(TestCase):
    "Test the bulk posting of pushed sales"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync'])
        cls._shop = committed(lambda: setup_shop(products=4))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def shop(self):
        Transaction().set_context(company=self._shop.company)
        return self._shop

    def terminal(self):
        return Pool().get('sale.point')(self._shop.terminal)

    def receive(self, product, quantity, lot=None):
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        Product = pool.get('product.product')
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        terminal = self.terminal()
        move, = Move.create([{
                    'product': product,
                    'unit': Product(product).default_uom.id,
                    'quantity': quantity,
                    'from_location': supplier.id,
                    'to_location': terminal.storage_location.id,
                    'effective_date': dt.date.today(),
                    'company': self._shop.company,
                    'unit_price': Decimal('1'),
                    'currency': terminal.company.currency.id,
                    'lot': lot,
                    }])
        Move.do([move])

    def create_sales(self, operations):
        "Record operations as the push does, without posting; return ids"
        Push = Pool().get('retail.sync.push')
        batch = Batch(self.terminal())
        batch.preload(operations)
        with Transaction().set_context(company=self._shop.company):
            for data in operations:
                values, answer = Push.apply(batch, data)
                self.assertEqual(answer['status'], 'accepted', answer)
            Push.flush(batch)
        self.assertFalse(batch.rejected_sales)
        return [s.id for s in batch.sales]

    def operations(self, start, lots, service=None):
        "Sales, a return and rounding cases, numbered from start"
        shop = self._shop
        p = shop.products
        services = [] if service is None else [
            sale_op(shop, start + 3, client_time=NOON, lines=[
                    {'product': service, 'quantity': '1',
                        'unit_price': '5.00', 'price': '5.00'},
                    {'product': p[0], 'quantity': '1', 'unit_price': '12.00',
                        'price': '12.00'}])]
        return services + [
            sale_op(shop, start, client_time=NOON, lines=[
                    {'product': p[0], 'quantity': '2', 'unit_price': '12.00',
                        'price': '10.80',
                        'discount': {'type': 'percent', 'value': '10'}},
                    {'product': p[1], 'quantity': '1', 'unit_price': '12.00',
                        'price': '12.00', 'lot': lots[0]},
                    {'product': p[2], 'quantity': '3', 'unit_price': '0.37',
                        'price': '0.37'}],
                payments=[{'method': shop.cash, 'amount': '5.00'},
                    {'method': shop.card, 'amount': '29.71'}]),
            # Many small lines: the tax of the sale and the sum of the
            # taxes of its lines differ by rounding
            sale_op(shop, start + 1, client_time=NOON, lines=[
                    {'product': p[3], 'quantity': '1', 'unit_price': '0.13',
                        'price': '0.13'} for _ in range(7)]),
            sale_op(shop, start + 2, client_time=NOON, type_='return',
                original_receipt=f'{shop.prefix}-{start:06d}', lines=[
                    {'product': p[0], 'quantity': '-1',
                        'unit_price': '10.80', 'price': '10.80'},
                    {'product': p[2], 'quantity': '-2',
                        'unit_price': '0.37', 'price': '0.37'}],
                payments=[{'method': shop.cash, 'amount': '-11.54'}]),
            ]

    def posting(self, sale_id):
        """The stock and account records of a posted sale, without ids,
        stamps and numbers, origins as the position of their line"""
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        sale = Sale(sale_id)
        origins = {f'sale.point.sale.line,{line.id}': ('line', i)
            for i, line in enumerate(sale.lines)}
        origins.update({f'sale.point.payment,{p.id}': ('payment', i)
                for i, p in enumerate(sale.payments)})
        origins[f'sale.point.sale,{sale.id}'] = ('sale',)

        def clean(row, *drop):
            return {k: (origins.get(v, v) if k == 'origin' else normal(v))
                for k, v in row.items() if k not in STAMPS | set(drop)}

        line_ids = [line.id for line in sale.lines]
        stock = sorted((clean(r) for r in rows('stock_move', 'origin',
                    [f'sale.point.sale.line,{i}' for i in line_ids])),
            key=repr)
        move, = rows('account_move', 'origin',
            [f'sale.point.sale,{sale.id}'])
        self.assertEqual(move['id'], sale.move.id)
        lines = []
        for line in rows('account_move_line', 'move', [move['id']]):
            taxes = sorted((clean(t, 'move_line') for t in rows(
                        'account_tax_line', 'move_line', [line['id']])),
                key=repr)
            lines.append((clean(line, 'move'), taxes))
        lines.sort(key=repr)
        return {
            'state': sale.state,
            'stock': stock,
            'move': clean(move, 'number'),
            'numbered': bool(move['number']),
            'lines': lines,
            }

    @with_transaction()
    def test_bulk_posting_equals_sale_point_post(self):
        "Stock moves, account moves, lines and taxes equal Sale.post's"
        pool = Pool()
        Lot = pool.get('stock.lot')
        Sale = pool.get('sale.point.sale')
        Change = pool.get('retail.sync.change')
        shop = self.shop()
        lot, = Lot.create([{'number': 'P-1', 'product': shop.products[1],
                    'expiration_date': dt.date.today() + dt.timedelta(30)}])
        for product in shop.products:
            self.receive(product, 100, lot=lot.id
                if product == shop.products[1] else None)
        # A product with its own cost price, the others with the default
        Product = pool.get('product.product')
        Product.write([Product(shop.products[0])],
            {'cost_price': Decimal('3.2500')})

        # A service: no stock move
        Template = pool.get('product.template')
        goods = Product(shop.products[0]).template
        template, = Template.create([{'name': "Gift wrap", 'type': 'service',
                    'default_uom': goods.default_uom.id,
                    'sale_uom': goods.default_uom.id, 'salable': True,
                    'account_category': goods.account_category.id,
                    'list_price': Decimal('5'), 'gross_price': Decimal('6'),
                    'products': [('create', [{}])]}])
        service = template.products[0].id

        reference = self.create_sales(
            self.operations(1, [lot.id], service=service))
        Sale.post(Sale.browse(reference))
        changes = Change.search([], count=True)
        bulk = self.create_sales(
            self.operations(101, [lot.id], service=service))
        left = Poster().post(bulk)

        self.assertEqual(left, [])
        self.assertEqual(len(reference), 4)
        service_sale = self.posting(bulk[0])
        self.assertEqual(len(service_sale['stock']), 1)
        self.assertEqual(len([1 for line, _ in service_sale['lines']
                    if line['origin'] and line['origin'][0] == 'line']), 2)
        for ref, new in zip(reference, bulk):
            expected, posted = self.posting(ref), self.posting(new)
            self.assertEqual(posted['state'], 'posted')
            self.assertTrue(posted['numbered'])
            self.assertTrue(posted['stock'])
            self.assertTrue(any(t for _, t in posted['lines']))
            self.assertEqual(posted, expected)
        # The lot, states and cost travel with the moves
        self.assertTrue(any(m['lot'] == lot.id
                for m in self.posting(bulk[1])['stock']))
        self.assertTrue(all(m['state'] == 'done' and m['cost_price']
                is not None for m in self.posting(bulk[1])['stock']))
        self.assertIn(Decimal('3.25'),
            {m['cost_price'] for m in self.posting(bulk[1])['stock']})
        # Branch stock changes are in the sync change log
        self.assertGreater(Change.search([], count=True), changes)
        stock_changes = Change.search([('kind', '=', 'stock')])
        self.assertEqual(
            {c.record for c in stock_changes} & set(shop.products),
            set(shop.products))

    @with_transaction()
    def test_rounding_differences_are_distributed_as_sale_point_does(self):
        "The tax lines of a sale sum to its lines' tax, as Sale.post's"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        shop = self.shop()
        self.receive(shop.products[3], 50)
        bulk = self.create_sales(self.operations(201, [None])[1:2])
        Poster().post(bulk)
        sale = Sale(bulk[0])
        tax_lines = [line for line in sale.move.lines if line.tax_lines
            and line.tax_lines[0].type == 'tax']
        self.assertEqual(sum(line.credit - line.debit for line in tax_lines),
            sale.total_tax)
        self.assertEqual(sale.move.state, 'posted')
        self.assertTrue(all(line.state == 'valid'
                for line in sale.move.lines))

    @with_transaction()
    def test_expired_lot_is_left_to_sale_point_post(self):
        "A sale of a lot past its shelf life is not bulk posted"
        pool = Pool()
        Lot = pool.get('stock.lot')
        Sale = pool.get('sale.point.sale')
        shop = self.shop()
        yesterday = dt.date.today() - dt.timedelta(days=1)
        lot, = Lot.create([{'number': 'OLD', 'product': shop.products[1],
                    'shelf_life_expiration_date': yesterday,
                    'expiration_date': yesterday}])
        ids = self.create_sales([sale_op(shop, 301, client_time=NOON,
                    lines=[
                        {'product': shop.products[1], 'quantity': '1',
                            'unit_price': '12.00', 'price': '12.00',
                            'lot': lot.id}])])
        self.assertEqual(Poster().post(ids), ids)
        self.assertEqual(Sale(ids[0]).state, 'done')
        self.assertIsNone(Sale(ids[0]).move)

    @with_transaction()
    def test_bulk_posted_moves_are_numbered_in_order(self):
        """The moves of a bulk posting take the next numbers of their
        period's sequence, in the order of their sales, without a gap
        after the moves posted before them"""
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Sequence = pool.get('ir.sequence.strict')
        shop = self.shop()
        self.receive(shop.products[0], 20)
        first = self.create_sales([sale_op(shop, 450, client_time=NOON)])
        Sale.post(Sale.browse(first))
        ids = self.create_sales([sale_op(shop, n, client_time=NOON)
                for n in range(451, 456)])
        sequence = Sale(first[0]).move.period.move_sequence_used
        next_number = sequence.number_next
        self.assertEqual(Poster().post(ids), [])
        sales = Sale.browse(ids)
        self.assertEqual([s.move.state for s in sales], ['posted'] * 5)
        self.assertEqual([int(re.search(r'(\d+)\D*$', s.move.number)[1])
                for s in sales], list(range(next_number, next_number + 5)))
        self.assertEqual(
            Sequence(sequence.id).number_next, next_number + 5)
        self.assertTrue(all(s.move.post_date for s in sales))
        self.assertTrue(all(line.state == 'valid' for s in sales
                for line in s.move.lines))

    @with_transaction()
    def test_posted_sale_is_not_posted_again(self):
        "A sale already posted is left alone, not posted twice"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        shop = self.shop()
        self.receive(shop.products[0], 5)
        ids = self.create_sales([sale_op(shop, 401, client_time=NOON)])
        poster = Poster()
        self.assertEqual(poster.post(ids), [])
        move = Sale(ids[0]).move
        self.assertEqual(poster.post(ids), ids)
        self.assertEqual(Sale(ids[0]).move, move)

    @with_transaction()
    def test_push_posts_in_bulk(self):
        "A push posts its sales with their stock and account moves"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        shop = self.shop()
        self.receive(shop.products[0], 10)
        ops = [sale_op(shop, n, client_time=NOON) for n in range(501, 504)]
        ops.append(operation(shop, 'cash_in', {'amount': '5.00',
                    'transfer_type': shop.transfer_type}, sequence=504))
        with Transaction().set_context(company=shop.company):
            results = push_and_post(self.terminal(), ops)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 4)
        for result in results[:3]:
            sale = Sale(result['result']['sale'])
            self.assertEqual(sale.state, 'posted')
            self.assertEqual(sale.move.state, 'posted')
            move, = sale.lines[0].moves
            self.assertEqual(move.state, 'done')
            self.assertEqual(move.from_location,
                self.terminal().storage_location)

    @with_transaction()
    def test_push_leaves_what_it_cannot_post_flagged(self):
        "A sale neither poster can post is flagged; the others are posted"
        pool = Pool()
        Lot = pool.get('stock.lot')
        Sale = pool.get('sale.point.sale')
        Flag = pool.get('retail.sync.sale.flag')
        shop = self.shop()
        yesterday = dt.date.today() - dt.timedelta(days=1)
        lot, = Lot.create([{'number': 'GONE', 'product': shop.products[1],
                    'shelf_life_expiration_date': yesterday,
                    'expiration_date': yesterday}])
        ops = [sale_op(shop, 601, client_time=NOON),
            sale_op(shop, 602, client_time=NOON, lines=[
                    {'product': shop.products[1], 'quantity': '1',
                        'unit_price': '12.00', 'price': '12.00',
                        'lot': lot.id}]),
            sale_op(shop, 603, client_time=NOON)]
        with Transaction().set_context(company=shop.company):
            results = push_and_post(self.terminal(), ops)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 3)
        states = [Sale(r['result']['sale']).state for r in results]
        self.assertEqual(states, ['posted', 'done', 'posted'])
        flag, = Flag.search([('kind', '=', 'posting_error')])
        self.assertEqual(flag.sale.id, results[1]['result']['sale'])
        self.assertIn('GONE', flag.actual)

    @with_transaction()
    def test_push_answers_before_posting(self):
        """A push records its sales and answers; their posting is a task of
        the queue retail_sync_post, run after the commit"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Sale = pool.get('sale.point.sale')
        Operation = pool.get('retail.sync.operation')
        Queue = pool.get('ir.queue')
        Session = pool.get('sale.point.cash.session')
        shop = self.shop()
        self.receive(shop.products[0], 10)
        ops = [sale_op(shop, n, client_time=NOON, sequence=n)
            for n in range(701, 703)]
        with Transaction().set_context(company=shop.company):
            results = Push.push(self.terminal(), ops)
        self.assertEqual([(r['status'], r['posted']) for r in results],
            [('accepted', False)] * 2)
        sales = [Sale(r['result']['sale']) for r in results]
        self.assertEqual([s.state for s in sales], ['done', 'done'])
        self.assertFalse([m for s in sales for l in s.lines for m in l.moves])
        operations = Operation.search([('uuid', 'in',
                    [o['uuid'] for o in ops])])
        self.assertEqual({o.posting for o in operations}, {'pending'})
        self.assertEqual(Operation.pending_counts(self.terminal()),
            {'pending': 2})
        task, = Queue.browse(Transaction().tasks)
        self.assertEqual(task.name, 'retail_sync_post')
        self.assertEqual(task.data['method'], 'post_pending')
        # The X figures read the recorded sales: they do not wait
        session = Session(sales[0].cash_session.id)
        self.assertEqual(session.figures()['sales'],
            len(session.retail_sales_of()))
        self.assertEqual(session.posting_counts()['pending'], 2)

        self.assertEqual(run_queue(), 1)
        self.assertEqual([Sale(s.id).state for s in sales],
            ['posted', 'posted'])
        self.assertEqual({o.posting for o in Operation.browse(operations)},
            {'posted'})
        self.assertEqual(Operation.pending_counts(self.terminal()), {})
        # A replay of the push answers them posted
        with Transaction().set_context(company=shop.company):
            again = Push.push(self.terminal(), ops)
        self.assertEqual([(r['status'], r['posted']) for r in again],
            [('duplicate', True)] * 2)
        self.assertFalse(Transaction().tasks)

    @with_transaction()
    def test_push_with_a_worker_stores_and_answers(self):
        """With a queue worker a push stores its checked operations and
        answers; recording their sales and posting them is a task of the
        queue retail_sync_post, run after the commit"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Sale = pool.get('sale.point.sale')
        Operation = pool.get('retail.sync.operation')
        Queue = pool.get('ir.queue')
        shop = self.shop()
        self.receive(shop.products[0], 10)
        ops = [sale_op(shop, n, client_time=NOON, sequence=n)
            for n in range(701, 703)]
        sales_before = Sale.search([], count=True)
        with Transaction().set_context(company=shop.company,
                retail_sync_defer_records=True):
            results = Push.push(self.terminal(), ops)
        self.assertEqual([(r['status'], r['posted'], r['result']['sale'])
                for r in results], [('accepted', False, None)] * 2)
        self.assertEqual([r['result']['number'] for r in results],
            [f'{shop.prefix}-000701', f'{shop.prefix}-000702'])
        # Nothing recorded yet
        self.assertEqual(Sale.search([], count=True), sales_before)
        operations = Operation.search([('uuid', 'in',
                    [o['uuid'] for o in ops])], order=[('sequence', 'ASC')])
        self.assertEqual({(o.posting, o.sale) for o in operations},
            {('pending', None)})
        self.assertTrue(all(o.sale_values for o in operations))
        self.assertEqual(Operation.pending_counts(self.terminal()),
            {'pending': 2})
        task, = Queue.browse(Transaction().tasks)
        self.assertEqual(task.name, 'retail_sync_post')
        self.assertEqual(task.data['method'], 'post_pending')
        # The X figures add up the acknowledged operations: they do not
        # wait for the sales
        session = operations[0].session
        self.assertEqual(session.figures()['sales'], 2)
        self.assertEqual(session.figures()['sales_total'], '48.00')
        self.assertEqual(session.posting_counts()['pending'], 2)

        self.assertEqual(run_queue(), 1)
        operations = Operation.browse(operations)
        sales = [o.sale for o in operations]
        self.assertEqual([(s.number, s.state) for s in sales],
            [(f'{shop.prefix}-000701', 'posted'),
                (f'{shop.prefix}-000702', 'posted')])
        self.assertEqual({(o.posting, o.sale_values) for o in operations},
            {('posted', None)})
        self.assertEqual([s.cash_session for s in sales], [session] * 2)
        self.assertEqual(Operation.pending_counts(self.terminal()), {})
        # A replay of the push answers them posted
        with Transaction().set_context(company=shop.company):
            again = Push.push(self.terminal(), ops)
        self.assertEqual([(r['status'], r['posted']) for r in again],
            [('duplicate', True)] * 2)
        self.assertFalse(Transaction().tasks)

    @with_transaction()
    def test_receipt_lookup_records_a_waiting_sale(self):
        "The lookup of a receipt not recorded yet records its terminal's"
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Operation = pool.get('retail.sync.operation')
        shop = self.shop()
        self.receive(shop.products[0], 10)
        with Transaction().set_context(company=shop.company,
                retail_sync_defer_records=True):
            result, = Push.push(self.terminal(), [
                    sale_op(shop, 801, client_time=NOON, sequence=801)])
            found = Operation.lookup_receipt(
                self.terminal(), f'{shop.prefix}-000801')
        operation, = Operation.search([('uuid', '=', result['uuid'])])
        self.assertEqual(found['receipt']['sale'], operation.sale.id)
        self.assertEqual(found['receipt']['total'], '24.00')
        self.assertEqual(operation.posting, 'pending')
        self.assertIsNone(Operation.lookup_receipt(
                self.terminal(), f'{shop.prefix}-000802'))
        run_queue()
        self.assertEqual(Operation(operation.id).posting, 'posted')

    @with_transaction()
    def test_sale_that_cannot_be_recorded_fails_and_is_kept(self):
        """A sale the posting task cannot record marks its operation
        failed with the reason, keeps what was checked and its figures;
        Post Again records and posts it"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Operation = pool.get('retail.sync.operation')
        shop = self.shop()
        self.receive(shop.products[0], 10)
        with Transaction().set_context(company=shop.company,
                retail_sync_defer_records=True):
            result, = Push.push(self.terminal(), [
                    sale_op(shop, 811, client_time=NOON, sequence=811)])
        self.assertEqual(result['status'], 'accepted')
        operation, = Operation.search([('uuid', '=', result['uuid'])])
        good = operation.sale_values
        # What was checked no longer fits (a quantity beyond its unit's
        # digits)
        table = Operation.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.sale_values],
                [good.replace('"quantity":2.0', '"quantity":2.123456789')],
                where=table.id == operation.id))
        run_queue()
        operation = Operation(operation.id)
        self.assertEqual((operation.state, operation.posting, operation.sale),
            ('accepted', 'failed', None))
        self.assertTrue(operation.posting_reason)
        self.assertTrue(operation.sale_values)
        self.assertEqual(operation.session.figures()['sales_total'],
            '24.00')
        cursor.execute(*table.update([table.sale_values], [good],
                where=table.id == operation.id))
        Operation.repost([Operation(operation.id)])
        run_queue()
        operation = Operation(operation.id)
        self.assertEqual((operation.posting, operation.sale.state),
            ('posted', 'posted'))

    @with_transaction()
    def test_posting_failure_goes_to_conflicts_and_reposts(self):
        """A sale the posting task cannot post marks its operation failed,
        listed with the conflicts, and is posted again once fixed"""
        pool = Pool()
        Lot = pool.get('stock.lot')
        Push = pool.get('retail.sync.push')
        Sale = pool.get('sale.point.sale')
        Operation = pool.get('retail.sync.operation')
        shop = self.shop()
        yesterday = dt.date.today() - dt.timedelta(days=1)
        lot, = Lot.create([{'number': 'STALE', 'product': shop.products[1],
                    'shelf_life_expiration_date': yesterday,
                    'expiration_date': yesterday}])
        ops = [sale_op(shop, 801, client_time=NOON, sequence=801),
            sale_op(shop, 802, client_time=NOON, sequence=802, lines=[
                    {'product': shop.products[1], 'quantity': '1',
                        'unit_price': '12.00', 'price': '12.00',
                        'lot': lot.id}])]
        with Transaction().set_context(company=shop.company):
            results = Push.push(self.terminal(), ops)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 2)
        run_queue()
        good, bad = [Operation.search([('uuid', '=', o['uuid'])])[0]
            for o in ops]
        self.assertEqual((good.posting, bad.posting), ('posted', 'failed'))
        self.assertIn('STALE', bad.posting_reason)
        conflicts = Operation.search(['OR',
                ('state', '=', 'rejected'),
                ('posting', '=', 'failed'),
                ])
        self.assertIn(bad, conflicts)
        self.assertNotIn(good, conflicts)
        self.assertEqual(Operation.pending_counts(self.terminal()),
            {'failed': 1})
        self.assertEqual(Sale(bad.sale).state, 'done')

        # Once the lot's date is corrected, the sale is posted again
        Lot.write([lot], {'shelf_life_expiration_date': None,
                'expiration_date': None})
        Operation.repost([bad])
        self.assertEqual(Operation(bad.id).posting, 'pending')
        run_queue()
        self.assertEqual(Operation(bad.id).posting, 'posted')
        self.assertEqual(Sale(bad.sale).state, 'posted')

    @with_transaction()
    def test_oversell_counts_sales_not_posted_yet(self):
        """The oversell flag of the answer counts what the branch's
        recorded sales will take once posted"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        shop = self.shop()
        product = shop.products[2]
        stock = self.stock(product)
        self.assertLess(stock, 2)
        self.receive(product, 2 - stock)
        line = {'product': product, 'quantity': '2', 'unit_price': '0.37',
            'price': '0.37'}
        with Transaction().set_context(company=shop.company):
            first, = Push.push(self.terminal(), [
                    sale_op(shop, 901, client_time=NOON, sequence=901,
                        lines=[line])])
            # Not posted: the 2 in stock are still in the done moves
            second, = Push.push(self.terminal(), [
                    sale_op(shop, 902, client_time=NOON, sequence=902,
                        lines=[line])])
        self.assertNotIn('oversell', first['result']['flags'])
        self.assertIn('oversell', second['result']['flags'])
        self.assertEqual(run_queue(), 2)

    @with_transaction()
    def test_oversell_flagged_when_recorded(self):
        """With a queue worker the posting task flags the sales it records
        and posts against the stock they leave (oversell); the answers,
        given before, do not have it"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        shop = self.shop()
        product = shop.products[2]
        stock = self.stock(product)
        self.assertLess(stock, 2)
        self.receive(product, 2 - stock)
        line = {'product': product, 'quantity': '2', 'unit_price': '0.37',
            'price': '0.37'}
        with Transaction().set_context(company=shop.company,
                retail_sync_defer_records=True):
            first, = Push.push(self.terminal(), [
                    sale_op(shop, 901, client_time=NOON, sequence=901,
                        lines=[line])])
            # Not posted: the 2 in stock are still in the done moves
            second, = Push.push(self.terminal(), [
                    sale_op(shop, 902, client_time=NOON, sequence=902,
                        lines=[line])])
        self.assertNotIn('oversell', first['result']['flags'])
        self.assertNotIn('oversell', second['result']['flags'])
        self.assertEqual(run_queue(), 2)
        Operation = pool.get('retail.sync.operation')
        Flag = pool.get('retail.sync.sale.flag')
        operations = Operation.search([
                ('uuid', 'in', [first['uuid'], second['uuid']])],
            order=[('sequence', 'ASC')])
        self.assertEqual([o.posting for o in operations],
            ['posted', 'posted'])
        # 2 in stock, 4 sold
        self.assertEqual([Flag.search([('sale', '=', o.sale.id),
                            ('kind', '=', 'oversell')], count=True)
                for o in operations], [1, 1])

    def stock(self, product):
        from trytond.modules.retail_sync.serialise import stock_quantities
        from trytond.modules.retail_sync.wire import TerminalContext
        locations = TerminalContext(self.terminal()).locations
        return stock_quantities([product], locations).get(product, 0)


    def catalog(self, shop):
        "Taxes, one product a category, by the piece and by the kilogram"
        pool = Pool()
        Tax = pool.get('account.tax')
        Category = pool.get('product.category')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        model = Tax(shop.tax)
        taxes = []
        for name, type_, value in GENERATED_TAXES:
            tax, = Tax.copy([model], default={
                    'name': name, 'description': name, 'type': type_,
                    'rate': Decimal(value) if type_ == 'percentage' else None,
                    'amount': Decimal(value) if type_ == 'fixed' else None,
                    })
            taxes.append(tax)
        unit, = Uom.search([('name', '=', "Unit")])
        kg, = Uom.search([('name', '=', "Kilogram")])
        kg.digits, kg.rounding = 3, Decimal('0.001')
        kg.save()
        revenue = Category.search(
            [('accounting', '=', True)], limit=1)[0].account_revenue
        products = []
        for i, indexes in enumerate(GENERATED_CATEGORIES):
            category = Category(name=f"Generated {i}", accounting=True,
                account_revenue=revenue,
                customer_taxes=[taxes[j] for j in indexes])
            category.save()
            for uom in [unit, kg]:
                template = Template(name=f"Generated {i} {uom.symbol}",
                    default_uom=uom, sale_uom=uom, type='goods',
                    salable=True, account_category=category,
                    list_price=Decimal('1'), products=[{}])
                template.save()
                products.append(template.products[0])
        return products

    def generated(self, shop, terminal, products, rng, start, count):
        """count random sales of terminal numbered from start, each with
        its cash payment of the total the push computes"""
        currency = terminal.company.currency
        today = dt.date.today()
        operations = []
        for number in range(start, start + count):
            kind = 'return' if rng.random() < 0.15 else 'sale'
            lines, total = [], Decimal(0)
            for _ in range(rng.randint(1, 6)):
                product = rng.choice(products)
                if product.sale_uom.digits == 3:
                    quantity = Decimal(rng.randint(1, 9999)) / 1000
                else:
                    quantity = Decimal(rng.randint(1, 12))
                if kind == 'sale' and rng.random() < 0.1:
                    quantity = -quantity
                if rng.random() < 0.5:
                    unit_price = Decimal(rng.randint(1, 99999)) / 100
                else:
                    unit_price = Decimal(rng.randint(1, 999999)) / 10000
                price, discount = unit_price, None
                if rng.random() < 0.3:
                    value = rng.choice(['5', '10', '12.5', '33.33', '50'])
                    price = (unit_price * (1 - Decimal(value) / 100)
                        ).quantize(Decimal('0.0001'))
                    discount = {'type': 'percent', 'value': value}
                lines.append({'product': product.id,
                        'quantity': str(quantity),
                        'unit_price': str(unit_price), 'price': str(price),
                        'discount': discount})
                _, gross = SaleHandler.unit_prices(price,
                    product.customer_taxes_used, today,
                    terminal.tax_included)
                signed = -abs(quantity) if kind == 'return' else quantity
                total += currency.round(signed * gross)
            operations.append(sale_op(shop, number, client_time=NOON,
                    type_=kind, lines=lines,
                    payments=[{'method': shop.cash, 'amount': str(total)}]))
        return operations

    def create_for(self, terminal, operations):
        "Record operations of terminal as the push does; return sale ids"
        Push = Pool().get('retail.sync.push')
        batch = Batch(terminal)
        batch.preload(operations)
        for data in operations:
            _, answer = Push.apply(batch, data)
            self.assertEqual(answer['status'], 'accepted', answer)
        Push.flush(batch)
        self.assertFalse(batch.rejected_sales)
        return [s.id for s in batch.sales]

    @with_transaction()
    def test_generated_sales_post_as_sale_point_post(self):
        "Bulk posting equals Sale.post on generated sales, record for record"
        pool = Pool()
        Company = pool.get('company.company')
        Configuration = pool.get('account.configuration')
        Point = pool.get('sale.point')
        Sale = pool.get('sale.point.sale')
        shop = self.shop()
        company = Company(shop.company)
        products = self.catalog(shop)
        excluded = setup_shop(code='GX', prefix='GXA', company=company,
            products=1)
        Point.write([Point(excluded.terminal)], {'tax_included': False})
        excluded.cash = shop.cash
        rng = random.Random(20261205)
        config = Configuration(1)
        per_case = max(1, GENERATED_SALES // 4)
        compared = 0
        for rounding in ['document', 'line']:
            config.tax_rounding = rounding
            config.save()
            for case_shop in [shop, excluded]:
                terminal = Point(case_shop.terminal)
                start = 10000 + compared * 2
                operations = self.generated(
                    case_shop, terminal, products, rng, start, per_case)
                again = [dict(o, uuid=str(uuid.uuid4()),
                        sequence=o['sequence'] + per_case,
                        payload=dict(o['payload'],
                            receipt_number=(
                                o['payload']['receipt_number'] + per_case))
                        ) for o in operations]
                reference = self.create_for(terminal, operations)
                bulk = self.create_for(terminal, again)
                Sale.post(Sale.browse(reference))
                self.assertEqual(Poster().post(bulk), [])
                for ref, new in zip(reference, bulk):
                    self.assertEqual(self.posting(new), self.posting(ref))
                compared += len(reference)
        self.assertEqual(compared, 4 * per_case)

    def recorded(self, sale_ids):
        """The rows of the sales of sale_ids with their lines, lots,
        payments and flags, without ids and stamps, in order"""
        def clean(row, *drop):
            return {k: normal(v) for k, v in row.items()
                if k not in STAMPS | set(drop)}
        result = []
        for sale_id in sale_ids:
            sale, = rows('sale_point_sale', 'id', [sale_id])
            lines = sorted(rows('sale_point_sale_line', 'sale', [sale_id]),
                key=lambda r: r['id'])
            result.append({
                    'sale': clean(sale),
                    'lines': [(clean(line, 'sale'), [clean(lot, 'line')
                                for lot in sorted(rows(
                                        'sale_point_sale_line_lot', 'line',
                                        [line['id']]),
                                    key=lambda r: r['id'])])
                        for line in lines],
                    'payments': [clean(p, 'sale') for p in sorted(
                            rows('sale_point_payment', 'sale', [sale_id]),
                            key=lambda r: r['id'])],
                    'flags': [clean(f, 'sale') for f in sorted(
                            rows('retail_sync_sale_flag', 'sale',
                                [sale_id]), key=lambda r: r['id'])],
                    })
        return result

    @with_transaction()
    def test_bulk_recording_equals_create(self):
        """The bulk recording inserts the rows that create_sales creates
        (one create per model, validated), on generated sales with lots,
        returns, units by weight, discounts, customers and flags"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Lot = pool.get('stock.lot')
        Party = pool.get('party.party')
        shop = self.shop()
        terminal = self.terminal()
        products = self.catalog(shop)
        p = shop.products
        lots = Lot.create([{'number': f'R-{i}', 'product': p[1]}
                for i in range(2)])
        for lot in lots:
            self.receive(p[1], 5, lot=lot.id)
        customer, = Party.create([{'name': "Recorded customer"}])
        rng = random.Random(20261206)
        operations = self.generated(shop, terminal, products, rng, 20000,
            max(4, GENERATED_SALES // 4))
        operations += self.operations(20500, [lots[0].id])
        operations += [
            # A line taken from two lots, paid by card, with a customer
            sale_op(shop, 20600, client_time=NOON, customer=customer.id,
                lines=[{'product': p[1], 'quantity': '3',
                        'unit_price': '12.00', 'price': '12.00',
                        'lots': [{'lot': lots[0].id, 'quantity': '1'},
                            {'lot': lots[1].id, 'quantity': '2'}]}],
                payments=[{'method': shop.card, 'amount': '36.00'}]),
            # Flagged: an unknown customer and a price that drifted
            sale_op(shop, 20601, client_time=NOON, customer=10 ** 8,
                lines=[{'product': p[0], 'quantity': '1',
                        'unit_price': '9.99', 'price': '9.99'}]),
            ]
        batch = Batch(terminal)
        # Checked and kept, as a push with a worker keeps them
        batch.defer_records = True
        batch.preload(operations)
        with Transaction().set_context(company=shop.company):
            for data in operations:
                _, answer = Push.apply(batch, data)
                self.assertEqual(answer['status'], 'accepted', answer)
            Push.flush(batch)
            stored = [SaleHandler.encode(e) for e in batch.deferred]
            self.assertEqual(len(stored), len(operations))
            reference = SaleHandler.create_sales(
                batch, [SaleHandler.decode(t) for t in stored])
            entries = [SaleHandler.decode(t) for t in stored]
            recorder = batch.recorder
            recorder.prefetch(entries)
            self.assertTrue(all(recorder.covered(batch, e)
                    for e in entries))
            bulk = recorder.record(batch, entries)
        expected = self.recorded([s.id for s in reference])
        recorded = self.recorded(bulk)
        self.assertEqual(len(recorded), len(operations))
        for new, ref in zip(recorded, expected):
            self.assertEqual(new, ref)
        # What the comparison covers
        self.assertTrue(any(line[1] for r in recorded
                for line in r['lines']))
        self.assertTrue(any(r['flags'] for r in recorded))
        self.assertTrue(any(r['sale']['customer'] for r in recorded))
        self.assertTrue(all(r['sale']['cash_session'] for r in recorded))
        self.assertTrue(any(p['session'] for r in recorded
                for p in r['payments']))
        self.assertTrue(any(p['session'] is None for r in recorded
                for p in r['payments']))

    @with_transaction()
    def test_bulk_recording_leaves_what_create_checks_otherwise(self):
        """A sale that create's validation would refuse or that the bulk
        recording does not know is left to create_sales"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        shop = self.shop()
        terminal = self.terminal()
        batch = Batch(terminal)
        batch.defer_records = True
        operations = [sale_op(shop, 21000 + i, client_time=NOON)
            for i in range(6)]
        batch.preload(operations)
        with Transaction().set_context(company=shop.company):
            for data in operations:
                Push.apply(batch, data)
            Push.flush(batch)
        entries = [SaleHandler.decode(SaleHandler.encode(e))
            for e in batch.deferred]
        employee = create_employee(create_company(name="Other company"))
        self.assertNotEqual(employee.company.id, shop.company)
        entries[0]['sale']['employee'] = employee.id
        entries[1]['payments'][0]['amount'] += Decimal('0.01')
        entries[2]['lines'][0]['unit_gross_price'] = Decimal('12.00001')
        entries[3]['sale']['state'] = 'open'
        entries[4]['lines'][0]['quantity'] = 2.123456789
        recorder = batch.recorder
        recorder.prefetch(entries)
        self.assertEqual([recorder.covered(batch, e) for e in entries],
            [False, False, False, False, False, True])
        # The sales create_sales refuses are rejected with its reason, in
        # their order with the others
        with Transaction().set_context(company=shop.company):
            SaleHandler.create_entries(batch, entries)
        self.assertEqual([bool(e.get('rejected')) for e in entries],
            [True, True, True, False, True, False])
        self.assertEqual([e['result'].get('sale') is not None
                for e in entries],
            [False, False, False, True, False, True])

    @with_transaction()
    def test_tax_lookup_keeps_its_batch_lookups_only(self):
        """While a TaxLookup is active, a line's taxes and Tax.compute are
        looked up once and answered as Tryton answers; outside, not kept"""
        pool = Pool()
        Product = pool.get('product.product')
        Tax = pool.get('account.tax')
        Point = pool.get('sale.point')
        Line = pool.get('sale.point.sale.line')
        Configuration = pool.get('account.configuration')
        shop = self.shop()
        company = Point(shop.terminal).company
        product = Product(shop.products[0])
        taxes = product.customer_taxes_used
        expected = Tax.compute(taxes, Decimal('10.00'), 3.0, dt.date.today())
        lookup = TaxLookup()
        with lookup.active():
            self.assertIs(TaxLookup.current(), lookup)
            computed = Tax.compute(
                taxes, Decimal('10.00'), 3.0, dt.date.today())
            self.assertEqual(computed, expected)
            # Each caller gets its own dicts
            computed[0]['amount'] = Decimal('999')
            self.assertEqual(Tax.compute(
                    taxes, Decimal('10.00'), 3.0, dt.date.today()), expected)
            # The same value written otherwise is another key
            self.assertEqual(Tax.compute(
                    taxes, Decimal('10.0'), 3.0, dt.date.today()),
                Tax.compute(taxes, Decimal('10.0'), 3.0, dt.date.today()))
            rounding = Configuration(1).get_multivalue(
                'tax_rounding', company=company.id)
            self.assertEqual(rounding, Configuration(1).get_multivalue(
                    'tax_rounding', company=company.id))
            line = Line(product=product, company=company)
            self.assertEqual(line.taxes, taxes)
            self.assertIs(line.taxes, Line(
                    product=Product(shop.products[1]), company=company).taxes)
        self.assertEqual(len(lookup._computed), 2)
        self.assertEqual(len(lookup._customer_taxes), 1)
        self.assertEqual(len(lookup._roundings), 1)
        self.assertEqual(rounding, Configuration(1).get_multivalue(
                'tax_rounding', company=company.id))
        self.assertIsNone(TaxLookup.current())
        line = Line(product=product, company=company)
        self.assertIsNot(line.taxes, Line(
                product=Product(shop.products[1]), company=company).taxes)
        self.assertEqual(len(lookup._computed), 2)
