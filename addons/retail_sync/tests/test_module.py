# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import datetime as dt
import json
from decimal import Decimal
from unittest import mock

from trytond import config
from trytond.modules.retail.tests.views import (
    unapplied_view_extensions, unrenderable_tree_columns)
from trytond.modules.retail_sync.pull import (
    KeptRecords, PageCache, Scope, bootstrap_page, bootstrap_plan,
    decode_token, delta, delta_page, encode_token)
from trytond.modules.retail_sync.tests.tools import (
    committed, operation, pull_own_changes, push_and_post, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

UTC = dt.timezone.utc


def page_records(scope, token, limit):
    "The records of a bootstrap page as a dict (a kept page is its JSON)"
    records = bootstrap_page(scope, token, limit)[0]
    if isinstance(records, KeptRecords):
        return json.loads(records.json())
    return records


def at(hour, minute=0):
    today = dt.date.today()
    return dt.datetime(today.year, today.month, today.day, hour, minute,
        tzinfo=UTC)


class RetailSyncTestCase(ModuleTestCase):
    "Test Retail Sync module"
    module = 'retail_sync'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One committed shop for all tests: making a company with its chart
        # of accounts is most of a test's time; each test rolls back what
        # it does on top of it
        cls._shop = committed(lambda: setup_shop(products=5))

    def setUp(self):
        super().setUp()
        pull_own_changes(self)

    # Helpers

    def shop(self):
        shop = self._shop
        Transaction().set_context(company=shop.company)
        return shop

    def terminal(self, shop):
        return Pool().get('sale.point')(shop.terminal)

    def push(self, shop, operations):
        with Transaction().set_context(company=shop.company):
            return push_and_post(self.terminal(shop), operations)

    def pull(self, shop, cursor, limit=1000):
        return delta(Scope(self.terminal(shop)), cursor, limit)

    def cursor_now(self):
        return Pool().get('retail.sync.change').start_cursor()

    def stock(self, shop, product):
        from trytond.modules.retail_sync.changelog import branch_locations
        from trytond.modules.retail_sync.serialise import stock_quantities
        Branch = Pool().get('retail.branch')
        return stock_quantities(
            [product], branch_locations(Branch(shop.branch)))[product]

    def receive(self, shop, product, quantity, lot=None):
        "Receive stock in the branch's storage"
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        Product = pool.get('product.product')
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        terminal = self.terminal(shop)
        move, = Move.create([{
                    'product': product,
                    'unit': Product(product).default_uom.id,
                    'quantity': quantity,
                    'from_location': supplier.id,
                    'to_location': terminal.storage_location.id,
                    'effective_date': dt.date.today(),
                    'company': shop.company,
                    'unit_price': Decimal('1'),
                    'currency': terminal.company.currency.id,
                    'lot': lot,
                    }])
        Move.do([move])
        return move

    # 2. Change log

    @with_transaction()
    def test_tree_views_renderable(self):
        "Every list column has a widget the web client can draw"
        self.assertEqual(unrenderable_tree_columns('retail_sync'), [])

    @with_transaction()
    def test_view_extensions_applied(self):
        "Every view extension of the module is applied to the view it targets"
        self.assertEqual(unapplied_view_extensions('retail_sync'), [])

    @with_transaction()
    def test_change_log_catalog_changes(self):
        "Creates, writes, price changes, barcodes and archives are logged"
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Identifier = pool.get('product.identifier')
        shop = self.shop()
        cursor = self.cursor_now()
        product = Product(shop.products[0])
        Template.write([product.template], {'list_price': Decimal('11')})
        Identifier.create([{'product': product.id, 'code': 'X-1'}])
        changes, cursor2, more = self.pull(shop, cursor)
        self.assertFalse(more)
        self.assertEqual(
            [(c['kind'], c['id'], c['op']) for c in changes],
            [('product', product.id, 'upsert')])
        data = changes[0]['data']
        self.assertEqual(data['list_price'], '11')
        self.assertIn('X-1', data['barcodes'])

        Template.write([product.template], {'active': False})
        changes, cursor3, _ = self.pull(shop, cursor2)
        self.assertEqual([(c['id'], c['op']) for c in changes],
            [(product.id, 'delete')])
        # Nothing new: same cursor, no change
        self.assertEqual(self.pull(shop, cursor3)[:2], ([], cursor3))

    @with_transaction()
    def test_change_log_delete_propagates(self):
        "A deleted record arrives as a delete"
        pool = Pool()
        Category = pool.get('product.category')
        shop = self.shop()
        category = Category(name="Temporary")
        category.save()
        cursor = self.cursor_now()
        Category.delete([category])
        changes, _, _ = self.pull(shop, cursor)
        self.assertEqual([(c['kind'], c['op']) for c in changes],
            [('category', 'delete')])

    @with_transaction()
    def test_change_log_branch_scope(self):
        "A terminal receives the shared catalog and only its branch's data"
        pool = Pool()
        Category = pool.get('product.category')
        Employee = pool.get('company.employee')
        shop1 = self.shop()
        shop2 = setup_shop(code='S2', prefix='S2A',
            company=pool.get('company.company')(shop1.company))
        cursor = self.cursor_now()
        self.receive(shop1, shop1.products[0], 5)
        Employee.write([Employee(shop1.employee)], {'pos_max_discount': 5})
        Category(name="Shared").save()
        kinds1 = {c['kind'] for c in self.pull(shop1, cursor)[0]}
        kinds2 = {c['kind'] for c in self.pull(shop2, cursor)[0]}
        self.assertEqual(kinds1, {'stock', 'employee', 'category'})
        self.assertEqual(kinds2, {'category'})
        stock, = [c for c in self.pull(shop1, cursor)[0]
            if c['kind'] == 'stock']
        self.assertEqual(stock['data']['quantity'], '5')

    @with_transaction()
    def test_change_log_employee_leaves_branch(self):
        "An employee removed from the branch arrives there as a delete"
        pool = Pool()
        Employee = pool.get('company.employee')
        shop = self.shop()
        cursor = self.cursor_now()
        Employee.write([Employee(shop.employee)], {'branches': [
                    ('remove', [shop.branch])]})
        changes, _, _ = self.pull(shop, cursor)
        self.assertIn(('employee', shop.employee, 'delete'),
            [(c['kind'], c['id'], c['op']) for c in changes])

    # 3. Pull

    @with_transaction()
    def test_bootstrap_paged_resumes_and_ends_with_cursor(self):
        "Bootstrap pages can be asked again and end with a cursor"
        pool = Pool()
        Template = pool.get('product.template')
        shop = self.shop()
        scope = Scope(self.terminal(shop))
        token, pages, products, sent, totals = None, 0, [], 0, set()
        while True:
            records, next_token, cursor, total = bootstrap_page(
                scope, token, 2)
            again = bootstrap_page(scope, token, 2)
            self.assertEqual(again[0], records)  # a cut page resumes
            products += [p['id'] for p in records.get('product', [])]
            sent += sum(len(v) for v in records.values())
            totals.add(total)
            pages += 1
            if next_token is None:
                break
            self.assertIsNone(cursor)
            token = next_token
        self.assertEqual(sorted(products), sorted(shop.products))
        # Every page tells the total for a progress bar
        self.assertEqual(totals, {sent})
        self.assertTrue(cursor.startswith('v1.'))
        self.assertGreater(pages, 3)
        Template.write([pool.get('product.product')(
                    shop.products[0]).template], {'name': "Renamed"})
        changes, _, _ = self.pull(shop, cursor)
        self.assertEqual([c['id'] for c in changes], [shop.products[0]])

    def sequential_bootstrap(self, scope, limit):
        "{kind: {id: data}} of a bootstrap page after page, and its total"
        token, result = None, {}
        while True:
            records, token, cursor, total = bootstrap_page(
                scope, token, limit)
            for kind, values in records.items():
                result.setdefault(kind, {}).update(
                    (v['id'], v) for v in values)
            if token is None:
                return result, total

    @with_transaction()
    def test_bootstrap_plan_pages_equal_the_sequential_pages(self):
        "The pages of a plan, in any order, send what page after page sends"
        shop = self.shop()
        scope = Scope(self.terminal(shop))
        expected, expected_total = self.sequential_bootstrap(scope, 2)
        for limit in [1, 2, 3, 7, 20000]:
            with self.subTest(limit=limit):
                tokens, cursor, total = bootstrap_plan(scope, limit)
                self.assertTrue(cursor.startswith('v1.'))
                self.assertEqual(total, expected_total)
                result, count = {}, 0
                for token in reversed(tokens):
                    records, next_token, page_cursor, page_total = (
                        bootstrap_page(scope, token, limit))
                    if isinstance(records, KeptRecords):
                        records = json.loads(records.json())
                    # asked again (a cut), the same page
                    self.assertEqual(
                        page_records(scope, token, limit), records)
                    self.assertIsNone(next_token)
                    self.assertIsNone(page_cursor)
                    self.assertEqual(page_total, total)
                    size = sum(len(v) for v in records.values())
                    self.assertLessEqual(size, limit)
                    count += size
                    for kind, values in records.items():
                        for value in values:
                            # each record in one page only
                            self.assertNotIn(
                                value['id'], result.get(kind, {}))
                            result.setdefault(kind, {})[value['id']] = value
                self.assertEqual(result, expected)
                self.assertEqual(count, total)
                if limit < total:
                    self.assertGreater(len(tokens), 1)

    @with_transaction()
    def test_bootstrap_plan_then_delta_catches_changes_made_meanwhile(self):
        "Changes made while the pages of a plan are fetched come in the delta"
        pool = Pool()
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        shop = self.shop()
        scope = Scope(self.terminal(shop))
        tokens, cursor, _ = bootstrap_plan(scope, 2)
        half = len(tokens) // 2
        received = {}
        for token in tokens[:half]:
            for kind, values in page_records(scope, token, 2).items():
                received.setdefault(kind, set()).update(
                    v['id'] for v in values)
        first, last = shop.products[0], shop.products[-1]
        # a product already received and one not yet: both renamed
        Template.write([Product(first).template, Product(last).template],
            {'name': "Renamed meanwhile"})
        new_template, = Template.copy([Product(first).template])
        new = new_template.products[0].id
        for token in tokens[half:]:
            for kind, values in page_records(scope, token, 2).items():
                received.setdefault(kind, set()).update(
                    v['id'] for v in values)
        self.assertTrue(set(shop.products) <= received['product'])
        changes, _, _ = self.pull(shop, cursor)
        changed = {c['id']: c['data'] for c in changes
            if c['kind'] == 'product'}
        for product in [first, last, new]:
            self.assertIn(product, changed)
            self.assertEqual(changed[product]['template_name'],
                "Renamed meanwhile")

    @with_transaction()
    def test_bootstrap_pages_kept_until_a_change_is_logged(self):
        "A page of a plan is answered again as made until a change is logged"
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Tax = pool.get('account.tax')
        Kept = pool.get('retail.sync.bootstrap.page')
        shop = self.shop()
        scope = Scope(self.terminal(shop))
        tokens, _, _ = bootstrap_plan(scope, 1)
        kinds = pool.get('retail.sync.pull').kinds()
        product = shop.products[1]
        token, = [t for t in tokens if decode_token(t)['r'][0][0]
            == kinds.index('product') and decode_token(t)['r'][0][2]
            == product]
        template = Product(product).template
        first = page_records(scope, token, 1)
        self.assertEqual([p['id'] for p in first['product']], [product])
        self.assertEqual(Kept.search([], count=True), 1)
        # renamed behind the change log's back: the kept page is answered
        table = Template.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.name], ["Not logged"],
                where=table.id == template.id))
        self.assertEqual(page_records(scope, token, 1), first)
        # renamed through the ORM (logged): made again
        Template.write([template], {'name': "Logged"})
        again = page_records(scope, token, 1)
        self.assertEqual(again['product'][0]['template_name'], "Logged")
        self.assertEqual(Kept.search([], count=True), 1)
        # any tax change makes every kept page stale (gross prices)
        cursor.execute(*table.update([table.name], ["Not logged again"],
                where=table.id == template.id))
        self.assertEqual(page_records(scope, token, 1), again)
        tax, = Tax.search([], limit=1)
        Tax.write([tax], {'description': "Changed"})
        self.assertEqual(page_records(scope, token, 1)['product'][0][
                'template_name'], "Not logged again")
        # one page kept per range; without keeping, made each time
        self.assertEqual(Kept.search([], count=True), 1)
        with mock.patch.object(Kept, 'enabled', return_value=False):
            self.assertEqual(page_records(scope, token, 1)['product'][0][
                    'template_name'], "Not logged again")

    @with_transaction()
    def test_bootstrap_page_kept_replaces_overlapping_pages(self):
        "A branch keeps one page per range: a page replaces those it overlaps"
        pool = Pool()
        Kept = pool.get('retail.sync.bootstrap.page')
        shop = self.shop()
        scope = Scope(self.terminal(shop))
        product = pool.get('retail.sync.pull').kinds().index('product')

        def product_pages(limit):
            tokens, _, _ = bootstrap_plan(scope, limit)
            return [t for t in tokens
                if decode_token(t)['r'][0][0] == product]
        for token in product_pages(1):
            page_records(scope, token, 1)
        self.assertEqual(Kept.search([], count=True), len(shop.products))
        # a plan in pages of 3: its first page replaces the 3 it overlaps
        first = product_pages(3)[0]
        self.assertEqual(len(page_records(scope, first, 3)['product']), 3)
        self.assertEqual(Kept.search([], count=True),
            len(shop.products) - 3 + 1)
        # the pages of another day go
        Kept.write(Kept.search([]), {'day': dt.date(2000, 1, 1)})
        page_records(scope, first, 3)
        self.assertEqual(Kept.search([], count=True), 1)

    def kept_pages(self, scope, limit):
        "The tokens of the pages of a plan that are kept (one range each)"
        kinds = list(Pool().get('retail.sync.pull')._kinds().values())
        tokens, _, _ = bootstrap_plan(scope, limit)
        return [t for t in tokens if len(decode_token(t)['r']) == 1
            and kinds[decode_token(t)['r'][0][0]].keepable]

    @with_transaction()
    def test_bootstrap_pages_made_ahead(self):
        "The pages made ahead are those a till gets, made again once stale"
        pool = Pool()
        Kept = pool.get('retail.sync.bootstrap.page')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        shop = self.shop()
        terminal = self.terminal(shop)
        scope = Scope(terminal)
        tokens = self.kept_pages(scope, 2)
        # the products (5, in pages of 2), lots and stock
        self.assertGreaterEqual(len(tokens), 5)
        with mock.patch.object(Kept, 'enabled', return_value=False):
            on_demand = [page_records(scope, t, 2) for t in tokens]
        self.assertEqual(Kept.warm(terminal, limit=2), len(tokens))
        self.assertEqual(Kept.search([], count=True), len(tokens))
        made = {k.id: k.made_txid for k in Kept.search([])}
        # what a till gets is what a page made on demand sends, from the
        # pages made ahead (none made again)
        self.assertEqual([page_records(scope, t, 2) for t in tokens],
            on_demand)
        self.assertEqual({k.id: k.made_txid for k in Kept.search([])}, made)
        # nothing changed: nothing to make
        self.assertEqual(Kept.warm(terminal, limit=2), 0)
        # a change after the pages were made ahead: its page is stale and
        # never answered; made again on demand or by the next warm, which
        # makes only that one
        product = shop.products[1]
        template = Product(product).template
        Template.write([template], {'name': "Changed after warm"})
        page, = [t for t in tokens if decode_token(t)['r'][0][0]
            == pool.get('retail.sync.pull').kinds().index('product')
            and any(p['id'] == product for p in page_records(scope, t, 2)[
                    'product'])]
        self.assertEqual([p['template_name'] for p in page_records(
                    scope, page, 2)['product'] if p['id'] == product],
            ["Changed after warm"])
        Template.write([template], {'name': "Changed again"})
        self.assertEqual(Kept.warm(terminal, limit=2), 1)
        self.assertEqual([p['template_name'] for p in page_records(
                    scope, page, 2)['product'] if p['id'] == product],
            ["Changed again"])
        # no page ahead without keeping pages, or with a limit of 0
        with mock.patch.object(Kept, 'enabled', return_value=False):
            self.assertEqual(Kept.warm_limit(), 0)

    @with_transaction()
    def test_enrollment_code_queues_pages_made_ahead(self):
        "An enrollment code queues the making of its branch's pages ahead"
        pool = Pool()
        Device = pool.get('retail.sync.device')
        Kept = pool.get('retail.sync.bootstrap.page')
        Queue = pool.get('ir.queue')
        shop = self.shop()
        terminal = self.terminal(shop)

        def warm_tasks():
            return [q for q in Queue.search([
                        ('name', '=', 'retail_sync_warm'),
                        ('dequeued_at', '=', None)])]
        Queue.delete(warm_tasks())
        # without a worker, nothing is made in the request: the code is
        # answered at once (the cron or the till makes the pages)
        Device.new_enrollment(terminal)
        self.assertEqual(warm_tasks(), [])
        self.assertEqual(Transaction().tasks, [])
        config.set('queue', 'worker', 'True')
        try:
            Device.new_enrollment(terminal)
            task, = warm_tasks()
            self.assertEqual(
                (task.data['method'], list(task.data['instances'])),
                ('retail_sync_warm', [terminal.id]))
            Kept.delete(Kept.search([]))
            with mock.patch.object(Kept, 'warm_limit', return_value=2):
                task.run()
            self.assertEqual(Kept.search([], count=True),
                len(self.kept_pages(Scope(terminal), 2)))
            # with a worker, a branch has one task waiting at most
            Queue.delete(warm_tasks())
            Device.new_enrollment(terminal)
            Device.new_enrollment(terminal)
            Kept.warm_branches()
            self.assertEqual(len(warm_tasks()), 1)
            # no task when no page is made ahead
            Queue.delete(warm_tasks())
            with mock.patch.object(Kept, 'warm_limit', return_value=0):
                Device.new_enrollment(terminal)
            self.assertEqual(warm_tasks(), [])
        finally:
            config.set('queue', 'worker', 'False')

    @with_transaction()
    def test_stale_pages_made_again_ahead(self):
        """The cron of every few minutes queues the branches whose pages a
        catalog change made stale, or without pages while a till of theirs
        is enrolled or an enrollment code waits; never a stale page served"""
        pool = Pool()
        Kept = pool.get('retail.sync.bootstrap.page')
        Queue = pool.get('ir.queue')
        Terminal = pool.get('sale.point')
        Device = pool.get('retail.sync.device')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        Tax = pool.get('account.tax')
        Cron = pool.get('ir.cron')
        shop = self.shop()
        terminal = self.terminal(shop)
        scope = Scope(terminal)
        self.assertIn('retail.sync.bootstrap.page|warm_stale',
            dict(Cron.method.selection))
        cron, = Cron.search([
                ('method', '=', 'retail.sync.bootstrap.page|warm_stale')])
        self.assertEqual((cron.interval_number, cron.interval_type),
            (5, 'minutes'))

        def queued():
            tasks = Queue.search([('name', '=', 'retail_sync_warm'),
                    ('dequeued_at', '=', None)])
            instances = [list(t.data['instances']) for t in tasks]
            Queue.delete(tasks)
            Transaction().tasks.clear()
            return instances
        queued()
        Kept.delete(Kept.search([]))
        # no till enrolled nor code waiting: nothing
        Terminal.write([terminal], {'device_state': 'unenrolled'})
        Device.delete(Device.search([]))
        Kept.warm_stale()
        self.assertEqual(queued(), [])
        # a code waiting, no page of the day: its branch is queued
        Device.new_enrollment(terminal)
        Kept.warm_stale()
        self.assertEqual(queued(), [[terminal.id]])
        Device.delete(Device.search([]))
        Terminal.write([terminal], {'device_state': 'enrolled'})
        Kept.warm_stale()
        self.assertEqual(queued(), [[terminal.id]])
        with mock.patch.object(Kept, 'warm_limit', return_value=2):
            tokens = self.kept_pages(scope, 2)
            self.assertEqual(Kept.warm(terminal), len(tokens))
            # pages made: nothing stale, nothing queued
            Kept.warm_stale()
            self.assertEqual(queued(), [])
            # a sale's stock change alone: left to the hourly cron
            self.receive(shop, shop.products[0], 1)
            Kept.warm_stale()
            self.assertEqual(queued(), [])
            self.assertEqual(Kept.warm(terminal), 1)
            # a product renamed: its page is stale, queued once, never
            # served stale meanwhile
            product = shop.products[1]
            template = Product(product).template
            Template.write([template], {'name': "Renamed"})
            self.assertEqual(Kept.stale_branches([shop.branch]),
                {shop.branch})
            Kept.warm_stale()
            self.assertEqual(queued(), [[terminal.id]])
            index = pool.get('retail.sync.pull').kinds().index('product')
            page, = [t for t in tokens
                if decode_token(t)['r'][0][0] == index
                and product in [p['id'] for p in page_records(
                        scope, t, 2).get('product', [])]]
            self.assertEqual([p['template_name'] for p in page_records(
                        scope, page, 2)['product'] if p['id'] == product],
                ["Renamed"])
            # renamed again: the page made on demand is stale again; the
            # task makes only that one, then nothing is stale
            Template.write([template], {'name': "Renamed again"})
            self.assertEqual(Kept.warm(terminal), 1)
            self.assertEqual(Kept.stale_branches([shop.branch]), set())
            self.assertEqual([p['template_name'] for p in page_records(
                        scope, page, 2)['product'] if p['id'] == product],
                ["Renamed again"])
            # a tax change makes every page of every branch stale
            tax, = Tax.search([], limit=1)
            Tax.write([tax], {'description': "Changed"})
            self.assertEqual(Kept.stale_branches([shop.branch]),
                {shop.branch})
            self.assertEqual(Kept.warm(terminal), len(tokens))
            self.assertEqual(Kept.stale_branches([shop.branch]), set())
            # the pages of another day are none of the day's
            Kept.write(Kept.search([]), {'day': dt.date(2000, 1, 1)})
            self.assertEqual(Kept.stale_branches([shop.branch]),
                {shop.branch})
        # no page ahead: nothing queued
        with mock.patch.object(Kept, 'warm_limit', return_value=0):
            Kept.warm_stale()
        self.assertEqual(queued(), [])

    @with_transaction()
    def test_bootstrap_warm_cron_queues_enrolled_terminals_branches(self):
        "The cron queues a task for each branch with an enrolled terminal"
        pool = Pool()
        Kept = pool.get('retail.sync.bootstrap.page')
        Queue = pool.get('ir.queue')
        Terminal = pool.get('sale.point')
        Cron = pool.get('ir.cron')
        shop = self.shop()
        terminal = self.terminal(shop)
        self.assertIn('retail.sync.bootstrap.page|warm_branches',
            dict(Cron.method.selection))
        Queue.delete(Queue.search([('name', '=', 'retail_sync_warm')]))
        Terminal.write([terminal], {'device_state': 'unenrolled'})
        Kept.warm_branches()
        self.assertEqual(Queue.search([
                    ('name', '=', 'retail_sync_warm')], count=True), 0)
        Terminal.write([terminal], {'device_state': 'enrolled'})
        Kept.warm_branches()
        task, = Queue.search([('name', '=', 'retail_sync_warm')])
        self.assertEqual(list(task.data['instances']), [terminal.id])

    @with_transaction()
    def test_bootstrap_plan_token_bounds(self):
        "A page token of a plan with ranges out of bounds is refused"
        shop = self.shop()
        scope = Scope(self.terminal(shop))
        tokens, cursor, total = bootstrap_plan(scope, 5)
        self.assertEqual(decode_token(tokens[0])['v'], 2)
        for ranges in [[], [[0, 5, 5]], [[0, 5, 3]], [[-1, 0, None]],
                [[0, 0]], [[0, 'a', None]], [[True, 0, None]],
                [[0, 0, None]] * 65, [[1024, 0, None]], 'x']:
            with self.subTest(ranges=ranges):
                with self.assertRaises(ValueError):
                    decode_token(encode_token(
                            {'v': 2, 'c': cursor, 'r': ranges, 't': total}))

    @with_transaction()
    def test_delta_pages_are_bounded(self):
        "A delta page holds at most limit change rows"
        pool = Pool()
        Template = pool.get('product.template')
        shop = self.shop()
        cursor = self.cursor_now()
        for product in pool.get('product.product').browse(shop.products):
            Template.write([product.template], {'list_price': Decimal(3)})
        seen = []
        while True:
            changes, cursor, more = self.pull(shop, cursor, limit=2)
            self.assertLessEqual(len(changes), 2)
            seen += [c['id'] for c in changes]
            if not more:
                break
        self.assertEqual(sorted(set(seen)), sorted(shop.products))

    @with_transaction()
    def test_price_change_sends_each_product_once(self):
        "A price change sends each variant once, across pages too"
        pool = Pool()
        Template = pool.get('product.template')
        Change = pool.get('retail.sync.change')
        shop = self.shop()
        cursor = self.cursor_now()
        templates = list({p.template for p in
                pool.get('product.product').browse(shop.products)})
        # One write as a price import does: the list price and the gross
        # price computed from it both log the variants
        Template.write(templates, {'list_price': Decimal('7.77')})
        logged = Change.search([
                ('kind', '=', 'product'),
                ('record', 'in', shop.products),
                ('id', '>', int(cursor.split('.')[2])),
                ], count=True)
        self.assertGreater(logged, len(shop.products))
        seen = []
        while True:
            changes, cursor, more = self.pull(shop, cursor, limit=2)
            seen += [c['id'] for c in changes if c['kind'] == 'product']
            if not more:
                break
        self.assertEqual(sorted(seen), sorted(shop.products))

    @with_transaction()
    def test_delta_pages_are_shared_by_the_tills_of_a_branch(self):
        """The tills of a branch pulling the same change rows get the page
        made once; a change logged since makes another page; a page
        holding the terminal kind is each terminal's own"""
        from trytond.modules.retail.tests.test_module import create_terminal
        pool = Pool()
        Template = pool.get('product.template')
        Terminal = pool.get('sale.point')
        shop = self.shop()
        first = self.terminal(shop)
        second = create_terminal(first.branch, 'S1B', name="Till S1B")
        cache = PageCache(1 << 20, 300)
        cursor = self.cursor_now()
        templates = list({p.template for p in
                pool.get('product.product').browse(shop.products)})
        Template.write(templates, {'list_price': Decimal('7.77')})

        def page(terminal, after=cursor):
            body, count, next_cursor, _ = delta_page(
                Scope(terminal), after, 1000, cache=cache)
            return json.loads(body), count, next_cursor
        changes, count, end = page(first)
        self.assertEqual((cache.hits, cache.misses), (0, 1))
        self.assertEqual(count, len(shop.products))
        self.assertEqual({c['data']['list_price'] for c in changes},
            {'7.77'})
        self.assertEqual(page(second), (changes, count, end))
        self.assertEqual((cache.hits, cache.misses), (1, 1))

        # A change since: other rows, another page, the state now
        Template.write(templates, {'list_price': Decimal('8.88')})
        changes, _, _ = page(second)
        self.assertEqual({c['data']['list_price'] for c in changes},
            {'8.88'})
        self.assertEqual(cache.misses, 2)

        # The terminal kind: each till its own terminal, never the page of
        # another till
        after = self.cursor_now()
        Terminal.write([first, second], {'name': "Renamed"})
        mine = {}
        for terminal in [first, second]:
            changes, _, _ = page(terminal, after)
            mine[terminal.id] = {c['id']: c['op'] for c in changes
                if c['kind'] == 'terminal'}
        self.assertEqual(mine, {
                first.id: {first.id: 'upsert', second.id: 'delete'},
                second.id: {first.id: 'delete', second.id: 'upsert'}})

    # 4. Push

    @with_transaction()
    def test_push_unique_violation_is_a_concurrent_push(self):
        """A (terminal, uuid) recorded by a concurrent push after this one
        looked for it restarts the request; nothing of it stays"""
        from trytond.modules.retail_sync.push import ConcurrentPush
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Operation = pool.get('retail.sync.operation')
        shop = self.shop()
        first, second = sale_op(shop, 1), sale_op(shop, 2)
        self.push(shop, [first])
        stored = Operation.search([], count=True)
        # The concurrent push committed after the lookup of this one
        with mock.patch.object(Push, 'known_operations', return_value={}):
            with self.assertRaises(ConcurrentPush):
                self.push(shop, [second, first])
        self.assertEqual(Operation.search([], count=True), stored)

    @with_transaction()
    def test_push_replay_answers_first_result(self):
        "A replayed operation is a duplicate answered with the first result"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        shop = self.shop()
        op = sale_op(shop, 1)
        first, = self.push(shop, [op])
        second, = self.push(shop, [op])
        self.assertEqual(first['status'], 'accepted')
        self.assertEqual(second['status'], 'duplicate')
        self.assertEqual(second['first_status'], 'accepted')
        self.assertEqual(second['result'], first['result'])
        self.assertEqual(Sale.search([], count=True), 1)

    @with_transaction()
    def test_push_rejected_goes_to_quarantine_and_replays(self):
        "A rejected operation is kept with its reason and can be replayed"
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        shop = self.shop()
        bad = sale_op(shop, 1, lines=[{'product': 999999, 'quantity': '1',
                    'unit_price': '12', 'price': '12'}])
        good = sale_op(shop, 2)
        results = self.push(shop, [bad, good])
        self.assertEqual([r['status'] for r in results],
            ['rejected', 'accepted'])
        self.assertEqual(results[0]['reason']['code'], 'unknown_product')
        conflict, = Operation.search([('state', '=', 'rejected')])
        self.assertEqual(json.loads(conflict.payload)['uuid'], bad['uuid'])
        # A manager fixes the payload and replays it
        data = json.loads(conflict.payload)
        data['payload']['lines'][0]['product'] = shop.products[1]
        conflict.payload = json.dumps(data)
        conflict.save()
        Operation.replay([conflict])
        self.assertEqual(conflict.state, 'accepted')
        self.assertTrue(conflict.sale)
        # The device's replay still gets the first answer
        again, = self.push(shop, [bad])
        self.assertEqual(again['status'], 'duplicate')
        self.assertEqual(again['first_status'], 'rejected')

    @with_transaction()
    def test_push_bad_operations_are_rejected_not_fatal(self):
        "Floats for money, unbalanced payments, unknown types are rejected"
        shop = self.shop()
        float_money = sale_op(shop, 1, lines=[{'product': shop.products[0],
                    'quantity': '1', 'unit_price': 12.0, 'price': 12.0}],
            payments=[{'method': shop.cash, 'amount': '12'}])
        unbalanced = sale_op(shop, 2, payments=[
                {'method': shop.cash, 'amount': '1.00'}])
        unknown = operation(shop, 'teleport', {}, sequence=3)
        results = self.push(shop, [float_money, unbalanced, unknown])
        self.assertEqual([r['reason']['code'] for r in results],
            ['invalid_payload', 'unbalanced_payment', 'invalid_payload'])

    # 5. Sales

    @with_transaction()
    def test_sale_posted_with_split_payments_and_discount(self):
        "A sale is posted at once with stock and account moves"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        shop = self.shop()
        self.receive(shop, shop.products[0], 10)
        op = sale_op(shop, 7, lines=[
                {'product': shop.products[0], 'quantity': '2',
                    'unit_price': '12.00', 'price': '10.80',
                    'discount': {'type': 'percent', 'value': '10'}}],
            payments=[{'method': shop.cash, 'amount': '1.60'},
                {'method': shop.card, 'amount': '20.00'}])
        result, = self.push(shop, [op])
        self.assertEqual(result['status'], 'accepted', result)
        sale = Sale(result['result']['sale'])
        self.assertEqual(sale.state, 'posted')
        self.assertEqual(sale.number, f'{shop.prefix}-000007')
        self.assertEqual(sale.receipt_number, 7)
        self.assertEqual(sale.total, Decimal('21.60'))
        self.assertEqual(len(sale.payments), 2)
        self.assertEqual(sale.move.state, 'posted')
        line, = sale.lines
        self.assertEqual(line.base_price, Decimal('12.00'))
        self.assertEqual(json.loads(line.discount)['value'], '10')
        move, = line.moves
        self.assertEqual(move.state, 'done')
        self.assertEqual(self.stock(shop, shop.products[0]), 8)
        # A discount is not a price drift
        self.assertEqual(result['result']['flags'], [])

    @with_transaction()
    def test_sale_from_a_fast_clock_is_dated_today(self):
        "A sale timed in the company's future is booked today and posted"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Date = pool.get('ir.date')
        shop = self.shop()
        self.receive(shop, shop.products[0], 10)
        op = sale_op(shop, 8, client_time=dt.datetime.now(dt.timezone.utc)
            + dt.timedelta(days=2))
        result, = self.push(shop, [op])
        self.assertEqual(result['status'], 'accepted', result)
        sale = Sale(result['result']['sale'])
        with Transaction().set_context(company=shop.company):
            today = Date.today()
        self.assertEqual(sale.date, today)
        self.assertEqual(sale.state, 'posted')
        move, = sale.lines[0].moves
        self.assertEqual((move.state, move.effective_date), ('done', today))

    @with_transaction()
    def test_sale_fefo_lot(self):
        "Without a lot, the first-expiring lot with stock is taken"
        pool = Pool()
        Lot = pool.get('stock.lot')
        Sale = pool.get('sale.point.sale')
        shop = self.shop()
        product = shop.products[0]
        today = dt.date.today()
        late, early, empty = Lot.create([
                {'number': 'L-LATE', 'product': product,
                    'expiration_date': today + dt.timedelta(days=30)},
                {'number': 'L-EARLY', 'product': product,
                    'expiration_date': today + dt.timedelta(days=5)},
                {'number': 'L-EMPTY', 'product': product,
                    'expiration_date': today + dt.timedelta(days=1)},
                ])
        self.receive(shop, product, 3, lot=late.id)
        self.receive(shop, product, 3, lot=early.id)
        result, = self.push(shop, [sale_op(shop, 1)])
        line, = Sale(result['result']['sale']).lines
        self.assertEqual(line.lot, early)
        self.assertEqual(line.moves[0].lot, early)
        chosen = sale_op(shop, 2)
        chosen['payload']['lines'][0]['lot'] = late.id
        result, = self.push(shop, [chosen])
        line, = Sale(result['result']['sale']).lines
        self.assertEqual(line.lot, late)

    @with_transaction()
    def test_sale_is_a_fact(self):
        "Price drift, negative stock and archived products flag a sale"
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Flag = pool.get('retail.sync.sale.flag')
        shop = self.shop()
        product = Product(shop.products[1])
        Template.write([product.template], {'active': False})
        op = sale_op(shop, 1, lines=[{'product': product.id,
                    'quantity': '1', 'unit_price': '9.99', 'price': '9.99'}])
        result, = self.push(shop, [op])
        self.assertEqual(result['status'], 'accepted')
        self.assertEqual(result['result']['flags'],
            ['archived_product', 'oversell', 'price_drift'])
        self.assertEqual(Flag.search([], count=True), 3)
        # The server keeps its price: catalog and prices are the server's
        product = Product(product.id)
        self.assertEqual(product.template.gross_price, Decimal('12'))

    @with_transaction()
    def test_return_void_and_cash(self):
        "Returns, voids, cash in/out and session close with counted cash"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Session = pool.get('sale.point.cash.session')
        shop = self.shop()
        self.receive(shop, shop.products[0], 5)
        ops = [
            operation(shop, 'session_open', {'opening_amount': '0'}, 1),
            sale_op(shop, 1, sequence=2),
            sale_op(shop, 2, sequence=3, type_='return',
                original_receipt=f'{shop.prefix}-000001', lines=[{
                        'product': shop.products[0], 'quantity': '-1',
                        'unit_price': '12.00', 'price': '12.00'}],
                payments=[{'method': shop.cash, 'amount': '-12.00'}]),
            operation(shop, 'void', {'receipt_number': 3,
                    'reason': "customer left"}, 4),
            operation(shop, 'cash_in', {'amount': '50.00',
                    'transfer_type': shop.transfer_type}, 5),
            operation(shop, 'cash_out', {'amount': '20.00',
                    'transfer_type': shop.transfer_type}, 6),
            operation(shop, 'session_close', {'counted_cash': '41.00'}, 7),
            ]
        results = self.push(shop, ops)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 7,
            results)
        refund = Sale(results[2]['result']['sale'])
        self.assertEqual(refund.total, Decimal('-12.00'))
        self.assertEqual(refund.state, 'posted')
        self.assertEqual(self.stock(shop, shop.products[0]), 4)
        close = results[6]['result']
        # 24 - 12 + 50 - 20 = 42 expected, 41 counted
        self.assertEqual(close['expected'], '42.00')
        self.assertEqual(close['difference'], '-1.00')
        self.assertEqual(Session(close['session']).state, 'closed')

    # 6. Receipts

    @with_transaction()
    def test_receipt_gaps_and_duplicates(self):
        "The receipt report lists gaps and duplicates per terminal"
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        shop = self.shop()
        terminal = self.terminal(shop)
        self.push(shop, [sale_op(shop, 1), sale_op(shop, 2)])
        report = Operation.receipt_report(terminal)
        self.assertEqual((report['gaps'], report['duplicates']), ([], []))
        self.assertIn("No gap", terminal.receipt_report)
        self.push(shop, [sale_op(shop, 5), sale_op(shop, 5, sequence=6),
                operation(shop, 'void', {'receipt_number': 6}, 7)])
        report = Operation.receipt_report(terminal)
        self.assertEqual(report['gaps'], [[3, 4]])
        self.assertEqual(report['duplicates'], [{'number': 5, 'count': 2}])
        self.assertEqual(report['last'], 6)

    # 7. Conflict rules

    @with_transaction()
    def test_customer_merge_field_by_field_last_writer_wins(self):
        "Customers merge field by field by client time, with a version"
        shop = self.shop()
        create = operation(shop, 'customer', {
                'customer_uuid': 'c-1', 'fields': {
                    'name': "Ana", 'phone': '+32 1', 'email': 'a@x.org'}},
            1, client_time=at(10))
        result, = self.push(shop, [create])
        customer = result['result']['customer']
        self.assertEqual(result['result']['version'], 1)
        # A later phone change from one till, an older name change from
        # another that was offline
        newer = operation(shop, 'customer', {'customer': customer,
                'fields': {'phone': '+32 2'}}, 2, client_time=at(12))
        older = operation(shop, 'customer', {'customer': customer,
                'fields': {'phone': '+32 3', 'name': "Anna"}}, 3,
            client_time=at(11))
        results = self.push(shop, [newer, older])
        merged = results[1]['result']
        self.assertEqual(merged['ignored_fields'], ['phone'])
        self.assertEqual(merged['data']['phone'], '+32 2')
        self.assertEqual(merged['data']['name'], "Anna")
        self.assertEqual(merged['data']['email'], 'a@x.org')
        self.assertEqual(merged['version'], 3)

    @with_transaction()
    def test_stock_count_is_an_adjustment_at_count_time(self):
        "A count adjusts the ledger as of its time; late sales still count"
        shop = self.shop()
        product = shop.products[0]
        self.receive(shop, product, 10)
        # 10:00 sale (pushed late), 11:00 count of 8, 12:00 sale of 1
        count = operation(shop, 'stock_count', {'lines': [
                    {'product': product, 'quantity': '8'}]}, 2,
            client_time=at(11))
        result, = self.push(shop, [count])
        self.assertEqual(result['result']['adjustments'][0]['quantity'],
            '-2')
        self.assertEqual(self.stock(shop, product), 8)
        early = sale_op(shop, 1, sequence=1, client_time=at(10))
        late = sale_op(shop, 2, sequence=3, client_time=at(12),
            lines=[{'product': product, 'quantity': '1',
                    'unit_price': '12.00', 'price': '12.00'}])
        self.push(shop, [early, late])
        # The early sale was in what was counted; the late one is not
        self.assertEqual(self.stock(shop, product), 7)


    # 8. Customers, refunds, lots

    def lot_stock(self, shop, product):
        from trytond.modules.retail_sync.changelog import branch_locations
        from trytond.modules.retail_sync.serialise import stock_quantities
        Branch = Pool().get('retail.branch')
        return {lot: quantity for (_, lot), quantity in stock_quantities(
                [product], branch_locations(Branch(shop.branch)),
                by_lot=True).items()}

    def flags(self, sale_id):
        Flag = Pool().get('retail.sync.sale.flag')
        return sorted((f.kind, f.lot.number if f.lot else None)
            for f in Flag.search([('sale', '=', sale_id)]))

    @with_transaction()
    def test_sale_customer_created_at_the_till(self):
        "The sale's customer is the party made from the till's customer"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Party = pool.get('party.party')
        Data = pool.get('ir.model.data')
        Action = pool.get('ir.action.act_window')
        shop = self.shop()
        self.receive(shop, shop.products[0], 10)
        create = operation(shop, 'customer', {'customer': None,
                'customer_uuid': 'till-c-1', 'base_version': 0,
                'fields': {'name': "Zoé Till"}}, 1)
        sold = sale_op(shop, 1, sequence=2, customer=None,
            customer_uuid='till-c-1')
        results = self.push(shop, [create, sold])
        self.assertEqual([r['status'] for r in results], ['accepted'] * 2)
        party = Party(results[0]['result']['customer'])
        sale = Sale(results[1]['result']['sale'])
        self.assertEqual(sale.customer, party)
        # A later push names it by the server's id
        again, = self.push(shop, [sale_op(shop, 2, sequence=3,
                    customer=party.id, customer_uuid='till-c-1')])
        self.assertEqual(Sale(again['result']['sale']).customer, party)
        # Searchable, and listed from the party
        self.assertEqual(
            len(Sale.search([('customer.name', 'ilike', '%zoé till%')])), 2)
        action = Action(Data.get_id('retail_sync', 'act_party_pos_sales'))
        self.assertEqual(action.res_model, 'sale.point.sale')
        # An unknown customer flags the sale, it does not reject it
        unknown, = self.push(shop, [sale_op(shop, 3, sequence=4,
                    customer=None, customer_uuid='never-pushed')])
        self.assertEqual(unknown['status'], 'accepted')
        self.assertIn('unknown_customer', unknown['result']['flags'])
        self.assertIsNone(Sale(unknown['result']['sale']).customer)
        # The receipt lookup names the customer
        Operation = pool.get('retail.sync.operation')
        found = Operation.lookup_receipt(
            self.terminal(shop), f'{shop.prefix}-000001')
        self.assertEqual(found['receipt']['customer'], party.id)

    def card_sale_and_returns(self, shop, returns, paid=None):
        """A sale of 2 × 12.00 paid as paid, then the returns
        [(method, -amount)]"""
        self.receive(shop, shop.products[0], 10)
        paid = paid or [{'method': shop.card, 'amount': '24.00'}]
        ops = [sale_op(shop, 1, payments=paid)]
        for i, payments in enumerate(returns, start=2):
            quantity = -sum(Decimal(p['amount']) for p in payments) / 12
            ops.append(sale_op(shop, i, type_='return',
                    original_receipt=f'{shop.prefix}-000001',
                    lines=[{'product': shop.products[0],
                            'quantity': str(quantity),
                            'unit_price': '12.00', 'price': '12.00'}],
                    payments=payments))
        return self.push(shop, ops)

    @with_transaction()
    def test_refund_to_the_card_the_sale_was_paid_with(self):
        "A return refunds to the original card, never more than was paid"
        Sale = Pool().get('sale.point.sale')
        shop = self.shop()
        card = shop.card
        results = self.card_sale_and_returns(shop, [
                [{'method': card, 'amount': '-12.00'}],
                [{'method': card, 'amount': '-12.00'}],
                ])
        self.assertEqual([r['status'] for r in results],
            ['accepted'] * 3, results)
        refund = Sale(results[1]['result']['sale'])
        self.assertEqual(refund.state, 'posted')
        self.assertEqual(
            [(p.method.id, p.amount) for p in refund.payments],
            [(card, Decimal('-12.00'))])

    @with_transaction()
    def test_refund_never_exceeds_what_was_paid_by_the_method(self):
        "All refunds of a receipt to a method together stay within it"
        shop = self.shop()
        card, cash = shop.card, shop.cash
        results = self.card_sale_and_returns(shop, [
                [{'method': card, 'amount': '-12.00'}],
                [{'method': card, 'amount': '-24.00'}],
                ], paid=[{'method': card, 'amount': '12.00'},
                {'method': cash, 'amount': '12.00'}])
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'accepted', 'rejected'], results)
        self.assertEqual(results[2]['reason']['code'],
            'refund_exceeds_payment')
        # The cash part is refunded in cash
        again, = self.push(shop, [sale_op(shop, 4, type_='return',
                    original_receipt=f'{shop.prefix}-000001',
                    lines=[{'product': shop.products[0], 'quantity': '-1',
                            'unit_price': '12.00', 'price': '12.00'}],
                    payments=[{'method': cash, 'amount': '-12.00'}])])
        self.assertEqual(again['status'], 'accepted')

    @with_transaction()
    def test_refunds_checked_alike_with_a_worker(self):
        """With a queue worker the push records the original sale and the
        refunds before it to check a card refund: the same answers"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        shop = self.shop()
        card, cash = shop.card, shop.cash
        with Transaction().set_context(retail_sync_defer_records=True):
            results = self.card_sale_and_returns(shop, [
                    [{'method': card, 'amount': '-12.00'}],
                    [{'method': card, 'amount': '-24.00'}],
                    ], paid=[{'method': card, 'amount': '12.00'},
                    {'method': cash, 'amount': '12.00'}])
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'accepted', 'rejected'])
        self.assertEqual(results[2]['reason']['code'],
            'refund_exceeds_payment')
        operations = Operation.search([
                ('uuid', 'in', [r['uuid'] for r in results[:2]]),
                ], order=[('sequence', 'ASC')])
        self.assertEqual([(o.posting, o.sale.state) for o in operations],
            [('posted', 'posted')] * 2)

    @with_transaction()
    def test_refund_to_a_method_not_on_the_original_sale(self):
        "A cash sale, or a return without receipt, is not refunded to card"
        shop = self.shop()
        card, cash = shop.card, shop.cash
        results = self.card_sale_and_returns(shop, [
                [{'method': card, 'amount': '-12.00'}],
                ], paid=[{'method': cash, 'amount': '24.00'}])
        self.assertEqual(results[1]['status'], 'rejected')
        self.assertEqual(results[1]['reason']['code'], 'refund_method')
        blind, = self.push(shop, [sale_op(shop, 3, type_='return',
                    lines=[{'product': shop.products[0], 'quantity': '-1',
                            'unit_price': '12.00', 'price': '12.00'}],
                    payments=[{'method': card, 'amount': '-12.00'}])])
        self.assertEqual(blind['reason']['code'], 'refund_method')

    @with_transaction()
    def test_refund_in_cash_only_when_the_branch_says_so(self):
        "A branch that refunds in cash rejects a refund to the card"
        Branch = Pool().get('retail.branch')
        shop = self.shop()
        Branch.write([Branch(shop.branch)], {'refund_to': 'cash'})
        card, cash = shop.card, shop.cash
        results = self.card_sale_and_returns(shop, [
                [{'method': card, 'amount': '-12.00'}],
                [{'method': cash, 'amount': '-12.00'}],
                ])
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'rejected', 'accepted'])
        self.assertEqual(results[1]['reason']['code'], 'refund_method')
        bootstrap, _, _, _ = bootstrap_page(
            Scope(self.terminal(shop)), None, 100)
        self.assertEqual(bootstrap['branch'][0]['refund_to'], 'cash')

    @with_transaction()
    def test_payment_methods_pulled_with_their_type(self):
        "A terminal pulls each payment method's type with its cash flag"
        Method = Pool().get('sale.point.payment.method')
        shop = self.shop()
        Method.write([Method(shop.card)], {'type': 'card_terminal'})
        bootstrap, _, _, _ = bootstrap_page(
            Scope(self.terminal(shop)), None, 100)
        methods = {m['id']: m for m in bootstrap['payment_method']}
        self.assertEqual(
            (methods[shop.cash]['type'], methods[shop.cash]['cash']),
            ('cash', True))
        self.assertEqual(
            (methods[shop.card]['type'], methods[shop.card]['cash']),
            ('card_terminal', False))

    def lots(self, shop, product, *specs):
        "Lots (number, sell-by in days, quantity received)"
        Lot = Pool().get('stock.lot')
        today = dt.date.today()
        lots = Lot.create([{'number': number, 'product': product,
                    'shelf_life_expiration_date': (
                        today + dt.timedelta(days=max(days, 1))),
                    'expiration_date': today + dt.timedelta(days=days + 3)}
                for number, days, _ in specs])
        for lot, (_, days, quantity) in zip(lots, specs):
            if quantity:
                self.receive(shop, product, quantity, lot=lot.id)
            if days < 1:
                # Received before its sell-by date, which is now past
                lot.shelf_life_expiration_date = (
                    today + dt.timedelta(days=days))
                lot.save()
        return lots

    def sell(self, shop, receipt, product, quantity, **line):
        line = dict({'product': product, 'quantity': str(quantity),
                'unit_price': '12.00', 'price': '12.00'}, **line)
        result, = self.push(shop, [sale_op(shop, receipt, lines=[line])])
        self.assertEqual(result['status'], 'accepted', result)
        return result

    @with_transaction()
    def test_fefo_line_split_over_lots(self):
        "A line larger than its first-expiring lot is split over the next"
        Sale = Pool().get('sale.point.sale')
        shop = self.shop()
        product = shop.products[2]
        expired, early, late = self.lots(shop, product,
            ('L-PAST', -1, 5), ('L-24', 5, 24), ('L-10', 30, 10))
        result = self.sell(shop, 1, product, 31)
        line, = Sale(result['result']['sale']).lines
        self.assertEqual(line.lot, early)
        self.assertEqual([(a.lot.number, a.quantity) for a in line.lots],
            [('L-24', 24), ('L-10', 7)])
        self.assertEqual(sorted((m.lot.number, m.quantity, m.state)
                for m in line.moves),
            [('L-10', 7, 'done'), ('L-24', 24, 'done')])
        stock = self.lot_stock(shop, product)
        self.assertEqual((stock[expired.id], stock[early.id], stock[late.id]),
            (5, 0, 3))
        self.assertEqual(self.flags(line.sale.id), [])

    @with_transaction()
    def test_lot_never_negative_unflagged(self):
        "Beyond the stock of every lot, the lot that goes negative is flagged"
        Sale = Pool().get('sale.point.sale')
        shop = self.shop()
        product = shop.products[2]
        early, late = self.lots(shop, product,
            ('L-24', 5, 24), ('L-10', 30, 10))
        result = self.sell(shop, 1, product, 41)
        line, = Sale(result['result']['sale']).lines
        self.assertEqual([(a.lot.number, a.quantity) for a in line.lots],
            [('L-24', 24), ('L-10', 17)])
        self.assertEqual(self.lot_stock(shop, product)[late.id], -7)
        self.assertIn(('lot_oversell', 'L-10'), self.flags(line.sale.id))
        self.assertEqual(sorted(result['result']['flags']),
            ['lot_oversell', 'oversell'])
        # A lot the till names beyond its stock is flagged too
        result = self.sell(shop, 2, product, 30, lot=early.id)
        self.assertIn(('lot_oversell', 'L-24'),
            self.flags(result['result']['sale']))

    @with_transaction()
    def test_till_split_over_lots(self):
        "The till's split is kept; its quantities must add up to the line's"
        Sale = Pool().get('sale.point.sale')
        shop = self.shop()
        product = shop.products[2]
        early, late = self.lots(shop, product, ('L-A', 5, 4), ('L-B', 9, 4))
        result = self.sell(shop, 1, product, 6, lots=[
                {'lot': early.id, 'quantity': '4'},
                {'lot': late.id, 'quantity': '2'}])
        line, = Sale(result['result']['sale']).lines
        self.assertEqual([(a.lot, a.quantity) for a in line.lots],
            [(early, 4), (late, 2)])
        bad, = self.push(shop, [sale_op(shop, 2, lines=[{
                        'product': product, 'quantity': '6',
                        'unit_price': '12.00', 'price': '12.00',
                        'lots': [{'lot': early.id, 'quantity': '1'}]}])])
        self.assertEqual(bad['reason']['code'], 'invalid_payload')

    @with_transaction()
    def test_fefo_split_posted_by_sale_point(self):
        "Posted by sale.point.sale.post, a split line has a move per lot"
        from trytond.modules.retail_sync.posting import Poster
        Sale = Pool().get('sale.point.sale')
        shop = self.shop()
        product = shop.products[2]
        self.lots(shop, product, ('L-A', 5, 4), ('L-B', 9, 4))
        with mock.patch.object(Poster, 'post', lambda self, ids: list(ids)):
            result = self.sell(shop, 1, product, 6)
        sale = Sale(result['result']['sale'])
        self.assertEqual(sale.state, 'posted')
        line, = sale.lines
        self.assertEqual(sorted((m.lot.number, m.quantity, m.state)
                for m in line.moves),
            [('L-A', 4, 'done'), ('L-B', 2, 'done')])

    @with_transaction()
    def test_lot_wire_has_sell_by(self):
        "Lots reach the till with the sell-by date posting checks"
        shop = self.shop()
        lot, = self.lots(shop, shop.products[2], ('L-W', 5, 0))
        records, _, _, _ = bootstrap_page(
            Scope(self.terminal(shop)), None, 1000)
        wire, = [r for r in records['lot'] if r['id'] == lot.id]
        self.assertEqual(wire['sell_by'],
            lot.shelf_life_expiration_date.isoformat())
        self.assertEqual(wire['expiration_date'],
            lot.expiration_date.isoformat())


del ModuleTestCase
