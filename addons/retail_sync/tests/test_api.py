# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The sync API through trytond's real WSGI application and database"
import datetime as dt
import unittest
import zlib
from decimal import Decimal
from unittest import mock

from trytond import backend
from trytond.modules.company.tests import set_company
from trytond.modules.retail_sync import sync
from trytond.modules.retail_sync.sync import Operation
from trytond.modules.retail_sync.tests.tools import (
    Api, committed, operation, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction


def new_code(terminal_id, expired=False):
    pool = Pool()
    Device = pool.get('retail.sync.device')
    Terminal = pool.get('sale.point')
    device, code = Device.new_enrollment(Terminal(terminal_id))
    if expired:
        Device.write([device], {
                'code_expires': dt.datetime.now() - dt.timedelta(seconds=1)})
    return code


class SyncApiTestCase(TestCase):
    "Test the sync API"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync'])
        cls.shop = committed(setup_shop)

        def second():
            Company = Pool().get('company.company')
            with set_company(Company(cls.shop.company)):
                return setup_shop(code='S2', prefix='S2A',
                    company=Company(cls.shop.company))
        cls.shop2 = committed(second)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def enroll(self, shop):
        code = committed(lambda: new_code(shop.terminal))
        status, data = Api().post('enroll', {
                'code': code, 'app_version': '1.0.0',
                'device_name': "test"})
        self.assertEqual(status, 200, data)
        self.assertEqual(data['protocol_version'], '1.4')
        return data['device_key'], code

    def test_enrollment_gives_a_key_once(self):
        "A one-time code is exchanged for a key bound to the terminal"
        key, code = self.enroll(self.shop)
        self.assertTrue(key.startswith(f'rsk_{self.shop.terminal}_'))
        status, data = Api().post('enroll', {'code': code})
        self.assertEqual(status, 401)
        self.assertEqual(data['error']['code'], 'unauthorized')

        def check():
            Device = Pool().get('retail.sync.device')
            devices = Device.search([('key_hash', '!=', None)])
            self.assertTrue(all(key not in (d.key_hash or '')
                    and d.key_hash != key for d in devices))
            Terminal = Pool().get('sale.point')
            self.assertEqual(
                Terminal(self.shop.terminal).device_state, 'enrolled')
        committed(check)

    @unittest.skipIf(backend.name != 'sqlite' or DB_NAME != ':memory:',
        "the memory database shares one connection")
    def test_rollback_after_the_cache_clean_timeout(self):
        """A test's transaction started once the cache's clean timeout has
        passed still rolls back: trytond's cache sync had switched the one
        connection of SQLite's memory database to autocommit, which
        commits, so the test's writes stayed for the tests after it"""
        from trytond.cache import MemoryCache
        Party = Pool(DB_NAME).get('party.party')
        MemoryCache._clean_last = dt.datetime.now() - dt.timedelta(days=1)
        with Transaction().start(DB_NAME, 0) as transaction:
            Party.create([{'name': "Rolled back"}])
            transaction.rollback()
        self.assertEqual(committed(lambda: Party.search(
                    [('name', '=', "Rolled back")], count=True)), 0)

    def test_session_open_locks_no_table(self):
        """A push opening a cash session locks no table, and no later
        request starts with a lock: trytond's lock of the whole session
        table, asked for when a session opens, was remembered by the API
        and taken from the start of every later push of every terminal,
        so that the pushes of all terminals ran one at a time"""
        def shop():
            Company = Pool().get('company.company')
            with set_company(Company(self.shop.company)):
                return setup_shop(code='S7', prefix='S7A',
                    company=Company(self.shop.company))
        shop = committed(shop)
        key, _ = self.enroll(shop)
        starts = []
        start = Transaction.start

        def spy(transaction, *args, **extras):
            starts.append(extras.get('_lock_tables') or [])
            return start(transaction, *args, **extras)

        with mock.patch.object(Transaction, 'start', spy):
            status, data = Api(key).push([operation(shop, 'session_open',
                        {'opening_amount': '0'}, 1)])
            self.assertEqual(status, 200, data)
            self.assertEqual(data['results'][0]['status'], 'accepted', data)
            first = len(starts)
            status, data = Api(key).push([sale_op(shop, 2, sequence=2)])
            self.assertEqual(status, 200, data)
            self.assertEqual(data['results'][0]['status'], 'accepted', data)

        def session_opened():
            Session = Pool().get('sale.point.cash.session')
            return Session.search([('point', '=', shop.terminal),
                    ('state', '=', 'open')], count=True)
        self.assertEqual(committed(session_opened), 1)
        self.assertTrue(starts[first:])
        self.assertFalse([t for tables in starts for t in tables
                if t == 'sale_point_cash_session'], starts)

    def test_expired_code_is_refused(self):
        "An expired enrollment code answers 401"
        code = committed(lambda: new_code(self.shop.terminal, expired=True))
        status, _ = Api().post('enroll', {'code': code})
        self.assertEqual(status, 401)

    def test_unknown_and_revoked_keys_401(self):
        "Unknown or revoked keys answer 401"
        status, _ = Api('rsk_1_nope').get('receipts')
        self.assertEqual(status, 401)
        status, _ = Api().get('receipts')
        self.assertEqual(status, 401)
        key, _ = self.enroll(self.shop2)
        self.assertEqual(Api(key).get('receipts')[0], 200)

        def revoke():
            Terminal = Pool().get('sale.point')
            Terminal.sync_revoke([Terminal(self.shop2.terminal)])
        committed(revoke)
        self.assertEqual(Api(key).get('receipts')[0], 401)

    def test_key_of_other_terminal_403(self):
        "A key of terminal X pushing for terminal Y answers 403"
        key, _ = self.enroll(self.shop)
        op = sale_op(self.shop2, 1)
        status, data = Api(key).push([op])
        self.assertEqual(status, 403)
        self.assertEqual(data['error']['code'], 'forbidden')
        status, _ = Api(key).push([], terminal=self.shop2.terminal)
        self.assertEqual(status, 403)

    def test_bootstrap_delta_push_and_receipts(self):
        "An enrolled terminal bootstraps, pulls deltas and pushes sales"
        key, _ = self.enroll(self.shop)
        api = Api(key)
        response = api.client.get(api.url('bootstrap'),
            query_string={'limit': 3}, headers=api.headers())
        self.assertEqual(response.headers['Content-Encoding'], 'gzip')
        token, kinds, cursor, sent = None, set(), None, 0
        while True:
            params = {'limit': 3}
            if token:
                params['page'] = token
            status, page = api.get('bootstrap', **params)
            self.assertEqual(status, 200, page)
            kinds |= set(page['records'])
            sent += sum(len(v) for v in page['records'].values())
            if page['next_page'] is None:
                self.assertEqual(page['total'], sent)
                cursor = page['cursor']
                break
            token = page['next_page']
        self.assertTrue({'product', 'branch', 'terminal', 'employee',
                'payment_method', 'tax'} <= kinds, kinds)

        status, data = api.get('changes', cursor=cursor)
        self.assertEqual((status, data['changes']), (200, []))

        ops = [sale_op(self.shop, n) for n in (1, 2)]
        status, data = api.push(ops, app_version='1.0.1',
            pending_operations=2, terminal=self.shop.terminal)
        self.assertEqual(status, 200, data)
        self.assertEqual([r['status'] for r in data['results']],
            ['accepted', 'accepted'])
        # The answer was lost: the device pushes the same batch again
        status, again = api.push(ops)
        self.assertEqual([r['status'] for r in again['results']],
            ['duplicate', 'duplicate'])
        self.assertEqual([r['result'] for r in again['results']],
            [r['result'] for r in data['results']])

        # The sales changed the branch stock: a delta carries it
        status, data = api.get('changes', cursor=cursor)
        self.assertIn('stock', {c['kind'] for c in data['changes']})

        status, report = api.get('receipts')
        self.assertEqual((report['gaps'], report['duplicates']), ([], []))
        self.assertEqual(report['last'], 2)

        def check():
            pool = Pool()
            Request = pool.get('retail.sync.request')
            Terminal = pool.get('sale.point')
            terminal = Terminal(self.shop.terminal)
            self.assertEqual(terminal.device_app_version, '1.0.1')
            self.assertTrue(terminal.device_last_seen)
            pushes = Request.search([('endpoint', '=', 'push'),
                    ('terminal', '=', terminal.id)])
            self.assertEqual({(r.accepted, r.duplicates) for r in pushes},
                {(2, 0), (0, 2)})
            self.assertTrue(all(r.bytes_in and r.bytes_out for r in pushes))
        committed(check)

    def test_bootstrap_plan_pages(self):
        "A plan lists pages a till fetches in any order, then pulls deltas"
        key, _ = self.enroll(self.shop)
        api = Api(key)
        status, plan = api.get('bootstrap/plan', limit=3)
        self.assertEqual(status, 200, plan)
        self.assertEqual(set(plan), {'pages', 'cursor', 'total',
                'server_time'})
        self.assertTrue(plan['cursor'].startswith('v1.'))
        self.assertGreater(len(plan['pages']), 2)
        committed(lambda: Pool().get('sale.point').write(
                [Pool().get('sale.point')(self.shop.terminal)],
                {'device_cursor': None}))
        kinds, sent = set(), 0
        for token in reversed(plan['pages']):
            status, page = api.get('bootstrap', page=token, limit=3)
            self.assertEqual(status, 200, page)
            self.assertEqual((page['next_page'], page['cursor'],
                    page['total']), (None, None, plan['total']))
            size = sum(len(v) for v in page['records'].values())
            self.assertLessEqual(size, 3)
            sent += size
            kinds |= set(page['records'])
        self.assertEqual(sent, plan['total'])
        self.assertTrue({'product', 'branch', 'terminal', 'employee',
                'payment_method', 'tax'} <= kinds, kinds)
        # the pages of a plan leave the terminal's row alone (the till
        # fetches several at once)
        self.assertIsNone(committed(lambda: Pool().get('sale.point')(
                    self.shop.terminal).device_cursor))
        status, data = api.get('changes', cursor=plan['cursor'])
        self.assertEqual((status, data['changes']), (200, []))
        # a page of a plan naming a kind the server does not send
        from trytond.modules.retail_sync.pull import encode_token
        bad = encode_token({'v': 2, 'c': plan['cursor'],
                'r': [[1000, 0, None]], 't': 1})
        status, data = api.get('bootstrap', page=bad)
        self.assertEqual((status, data['error']['code']),
            (400, 'bad_request'))
        status, data = api.get('bootstrap/plan', limit='x')
        self.assertEqual((status, data['error']['code']),
            (400, 'bad_request'))
        status, data = Api('nope').get('bootstrap/plan')
        self.assertEqual(status, 401)

    def test_bootstrap_page_kept_answered_compressed(self):
        "A kept page answers the JSON it made, gzipped as kept or plain"
        import json

        from trytond.modules.retail_sync.pull import decode_token
        key, _ = self.enroll(self.shop)
        api = Api(key)
        status, plan = api.get('bootstrap/plan', limit=3)
        self.assertEqual(status, 200, plan)
        product = committed(
            lambda: Pool().get('retail.sync.pull').kinds().index('product'))
        token = [t for t in plan['pages']
            if decode_token(t)['r'][0][0] == product][0]

        def kept():
            Page = Pool().get('retail.sync.bootstrap.page')
            return [(p.count, p.size, p.crc) for p in Page.search([
                        ('branch', '=', self.shop.branch),
                        ('kind', '=', 'product')])]
        committed(lambda: Pool().get('retail.sync.bootstrap.page').delete(
                Pool().get('retail.sync.bootstrap.page').search([])))
        status, made = api.get('bootstrap', page=token, limit=3)
        self.assertEqual(status, 200, made)
        (count, size, crc), = committed(kept)
        self.assertEqual(count, len(made['records']['product']))
        records = json.dumps(made['records']['product'],
            separators=(',', ':')).encode()
        self.assertEqual((size, crc), (len(records), zlib.crc32(records)))
        # answered from the kept page: gzipped, then plain
        status, again = api.get('bootstrap', page=token, limit=3)
        response = api.client.get(api.url('bootstrap'),
            query_string={'page': token, 'limit': 3},
            headers={'Authorization': f'Bearer {key}'})
        self.assertNotIn('Content-Encoding', response.headers)
        plain = json.loads(response.get_data())
        for page in [again, plain]:
            del page['server_time']
        del made['server_time']
        self.assertEqual(again, made)
        self.assertEqual(plain, made)
        self.assertEqual(committed(kept), [(count, size, crc)])

    def test_delta_page_with_deleted_and_changed_records(self):
        "A page mixing a deleted and a changed record answers both"
        key, _ = self.enroll(self.shop)
        api = Api(key)

        def now():
            return Pool().get('retail.sync.change').start_cursor()
        cursor = committed(now)

        def change():
            Category = Pool().get('product.category')
            gone, kept = Category.create(
                [{'name': "Seasonal"}, {'name': "Bakery"}])
            Category.delete([gone])
            Category.write([kept], {'name': "Bakery & Pastry"})
            # A logged record gone from the table since (e.g. removed by an
            # ON DELETE CASCADE of the database, which logs nothing)
            Pool().get('retail.sync.change').log('category', [990001])
            return gone.id, kept.id
        gone, kept = committed(change)
        status, data = api.get('changes', cursor=cursor)
        self.assertEqual(status, 200, data)
        self.assertEqual(
            sorted((c['id'], c['op'], (c['data'] or {}).get('name'))
                for c in data['changes'] if c['kind'] == 'category'),
            sorted([(gone, 'delete', None), (990001, 'delete', None),
                    (kept, 'upsert', "Bakery & Pastry")]))

    def test_tax_rate_change_sends_its_products(self):
        """A new rate of a tax reaches the tills with the tax-included
        prices of the products it applies to (the tax record alone left
        their gross prices stale)"""
        key, _ = self.enroll(self.shop)
        api = Api(key)

        def make():
            pool = Pool()
            Tax = pool.get('account.tax')
            Category = pool.get('product.category')
            Template = pool.get('product.template')
            Product = pool.get('product.product')
            tax, = Tax.copy([Tax(self.shop.tax)], {'name': "Reduced"})
            Tax.write([tax], {'rate': Decimal('0.06')})
            product = Product(self.shop.products[0])
            category, = Category.copy([product.template.account_category],
                {'name': "Books"})
            Category.write([category], {'customer_taxes': [
                        ('remove', [self.shop.tax]), ('add', [tax.id])]})
            # a subcategory taking its parent's taxes
            child, = Category.copy([category], {'name': "Comics",
                    'parent': category.id})
            Category.write([child], {'taxes_parent': True,
                    'customer_taxes': [('remove', [tax.id])]})
            book, comic = Template.copy([product.template] * 2)
            Template.write([book], {'account_category': category.id},
                [comic], {'account_category': child.id})
            Company = pool.get('company.company')
            with set_company(Company(self.shop.company)):
                Template.write([book, comic],
                    {'list_price': Decimal('10.0000'), 'gross_price': None})
            return (tax.id, book.products[0].id, comic.products[0].id,
                Pool().get('retail.sync.change').start_cursor())
        tax, book, comic, cursor = committed(make)

        def gross_prices(cursor):
            status, data = api.get('changes', cursor=cursor)
            self.assertEqual(status, 200, data)
            return {c['id']: c['data']['gross_price']
                for c in data['changes']
                if c['kind'] == 'product' and c['op'] == 'upsert'
                and c['id'] in {book, comic}}

        def new_rate():
            Tax = Pool().get('account.tax')
            Tax.write([Tax(tax)], {'rate': Decimal('0.12')})
            return Pool().get('retail.sync.change').start_cursor()
        committed(new_rate)
        prices = gross_prices(cursor)
        self.assertEqual({book, comic} & set(prices), {book, comic})
        for product in [book, comic]:
            self.assertEqual(Decimal(prices[product]), Decimal('11.20'))

        def rename():
            Tax = Pool().get('account.tax')
            cursor = Pool().get('retail.sync.change').start_cursor()
            Tax.write([Tax(tax)], {'description': "Reduced rate"})
            return cursor
        # a new name is the tax's alone
        self.assertFalse(set(gross_prices(committed(rename))) & {book, comic})

    def test_enroll_again_continues_numbering(self):
        """Enrolling again answers the last receipt number and sequence,
        and the last hash of the receipt journal"""
        from trytond.modules.retail_sync.tests.test_journal import chain
        key, _ = self.enroll(self.shop2)
        ops = [sale_op(self.shop2, 7), sale_op(self.shop2, 8, sequence=9)]
        head = chain(ops)
        status, data = Api(key).push(ops)
        self.assertEqual(status, 200, data)
        code = committed(lambda: new_code(self.shop2.terminal))
        status, data = Api().post('enroll', {'code': code})
        self.assertEqual(status, 200, data)
        self.assertEqual(
            (data['last_receipt_number'], data['last_sequence'],
                data['journal_head']), (8, 9, head))

    def test_receipt_lookup_for_returns_at_another_till(self):
        "A till finds a receipt of another till of the company, 404 if none"
        key2, _ = self.enroll(self.shop2)
        sale = sale_op(self.shop2, 31)
        refund = sale_op(self.shop2, 32, type_='return',
            original_receipt='S2A-000031', lines=[{
                    'product': self.shop2.products[0], 'quantity': '-1',
                    'unit_price': '12.00', 'price': '12.00'}],
            payments=[{'method': self.shop2.cash, 'amount': '-12.00'}])
        status, data = Api(key2).push([sale, refund])
        self.assertEqual([r['status'] for r in data['results']],
            ['accepted', 'accepted'], data)
        key, _ = self.enroll(self.shop)
        status, data = Api(key).get('receipts/S2A-000031')
        self.assertEqual(status, 200, data)
        receipt = data['receipt']
        self.assertEqual((receipt['number'], receipt['terminal'],
                receipt['total']), ('S2A-000031', self.shop2.terminal,
                '24.00'))
        self.assertEqual([(line['product'], line['quantity'])
                for line in receipt['lines']],
            [(self.shop2.products[0], '2')])
        self.assertEqual([r['number'] for r in data['returns']],
            ['S2A-000032'])
        status, data = Api(key).get('receipts/S2A-999999')
        self.assertEqual((status, data['error']['code']), (404, 'not_found'))

    def test_unexpected_error_answers_json_500(self):
        "A server fault answers a JSON 500, not an HTML page"
        key, _ = self.enroll(self.shop)
        with mock.patch.object(Operation, 'receipt_report',
                side_effect=RuntimeError("boom")), self.assertLogs(
                'trytond.modules.retail_sync.routes', 'ERROR'):
            status, data = Api(key).get('receipts')
        self.assertEqual(status, 500)
        self.assertEqual(data['error']['code'], 'server_error')

    def test_heartbeat_queues_a_lost_posting_again(self):
        """A posting task lost with its process (trytond killed between the
        commit of a push and the run of its task, a worker killed after
        taking it) is queued again by the terminal's next heartbeat once
        the recovery delay has passed"""
        key, _ = self.enroll(self.shop)
        api = Api(key)
        ops = [sale_op(self.shop, n, sequence=n) for n in (31, 32)]
        # the task queued by the push is lost: it does not post
        with mock.patch.object(Operation, 'post_pending'):
            status, data = api.push(ops)
        self.assertEqual(status, 200, data)
        uuids = [o['uuid'] for o in ops]

        def posting():
            Operation_ = Pool().get('retail.sync.operation')
            return sorted(o.posting for o in Operation_.search(
                    [('uuid', 'in', uuids)]))
        self.assertEqual(committed(posting), ['pending', 'pending'])
        # within the delay, a heartbeat leaves them to their task
        status, _ = api.post('status', {'pending_operations': 0})
        self.assertEqual(status, 200)
        self.assertEqual(committed(posting), ['pending', 'pending'])
        # after it, the heartbeat queues their posting again
        with mock.patch.object(sync, 'POSTING_RECOVERY', 0):
            status, _ = api.post('status', {'pending_operations': 0})
            self.assertEqual(status, 200)
            self.assertEqual(committed(posting), ['posted', 'posted'])
            # once per delay and process
            self.assertFalse(committed(lambda: Pool().get(
                        'retail.sync.operation').recover_posting(
                        Pool().get('sale.point')(self.shop.terminal),
                        now=sync._recovered[self.shop.terminal])))

    def test_bad_cursor_400(self):
        "A malformed cursor answers 400"
        key, _ = self.enroll(self.shop)
        status, data = Api(key).get('changes', cursor='garbage')
        self.assertEqual(status, 400)


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    suite.addTests(loader.loadTestsFromTestCase(SyncApiTestCase))
    return suite

