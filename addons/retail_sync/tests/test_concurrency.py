# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Concurrent transactions on PostgreSQL: out-of-order commits and the same
batch pushed twice at once.  SQLite serialises writers, so these rules hold
there by construction and the tests are skipped."""
import logging
import threading
import time
import unittest
from collections import Counter

from trytond import backend, config
from trytond.modules.retail_sync.tests.tools import (
    Api, committed, enroll, operation, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction, TransactionError

TIMEOUT = 60


@unittest.skipIf(backend.name != 'postgresql',
    "needs concurrent writers (PostgreSQL); SQLite serialises them")
class SyncConcurrencyTestCase(TestCase):
    "Test the sync rules under concurrent transactions"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync'])
        cls.shop = committed(setup_shop)
        cls.key = committed(lambda: enroll(cls.shop.terminal))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def test_cursor_never_skips_a_later_commit_with_lower_id(self):
        "Two transactions commit out of order: the cursor skips neither"
        pool = Pool(DB_NAME)
        api = Api(self.key)
        status, data = api.get('changes', cursor='v1.0.0', limit=5000)
        cursor = data['cursor']
        while data['has_more']:
            status, data = api.get('changes', cursor=cursor, limit=5000)
            cursor = data['cursor']

        logged = threading.Event()
        release = threading.Event()
        ids = {}

        def slow_writer():
            with Transaction().start(DB_NAME, 0) as transaction:
                Change = pool.get('retail.sync.change')
                Change.log('category', [900001])
                ids['slow'] = self.last_change_id()
                logged.set()
                release.wait(TIMEOUT)
                transaction.commit()

        thread = threading.Thread(target=slow_writer)
        thread.start()
        try:
            self.assertTrue(logged.wait(TIMEOUT))
            # A second transaction logs later (higher id) and commits first

            def fast_writer():
                pool.get('retail.sync.change').log('category', [900002])
                ids['fast'] = self.last_change_id()
            committed(fast_writer)
            self.assertLess(ids['slow'], ids['fast'])

            status, data = api.get('changes', cursor=cursor)
            self.assertEqual(status, 200)
            # Neither is delivered while the older transaction runs, so the
            # cursor cannot pass the slow one's row
            self.assertEqual(data['changes'], [])
            self.assertEqual(data['cursor'], cursor)
        finally:
            release.set()
            thread.join(TIMEOUT)
        status, data = api.get('changes', cursor=cursor)
        self.assertEqual([c['id'] for c in data['changes']],
            [900001, 900002])
        self.assertTrue(all(c['op'] == 'delete' for c in data['changes']))

    def test_other_database_transaction_does_not_hold_back_pulls(self):
        "A long transaction in another database delays no delta pull"
        import psycopg

        from trytond.config import config
        api = Api(self.key)
        status, data = api.get('changes', cursor='v1.0.0', limit=5000)
        cursor = data['cursor']
        while data['has_more']:
            status, data = api.get('changes', cursor=cursor, limit=5000)
            cursor = data['cursor']
        with psycopg.connect(config.get('database', 'uri'),
                dbname='postgres') as other:
            # A transaction of another tenant holds an id older than ours
            other.execute('SELECT pg_current_xact_id()')

            def write():
                Pool().get('retail.sync.change').log('category', [900003])
            committed(write)
            status, data = api.get('changes', cursor=cursor)
            self.assertEqual(status, 200)
            self.assertEqual([c['id'] for c in data['changes']], [900003])
            other.rollback()

    def last_change_id(self):
        Change = Pool(DB_NAME).get('retail.sync.change')
        table = Change.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, order_by=[table.id.desc], limit=1))
        return cursor.fetchone()[0]

    def test_same_batch_pushed_twice_at_once(self):
        "Two pushes of the same batch at once record one sale"
        ops = [sale_op(self.shop, n) for n in (101, 102, 103)]
        barrier = threading.Barrier(2)
        answers = []

        def push():
            api = Api(self.key)
            barrier.wait(TIMEOUT)
            answers.append(api.push(ops))

        threads = [threading.Thread(target=push) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        self.assertEqual([status for status, _ in answers], [200, 200],
            answers)
        statuses = sorted(tuple(r['status'] for r in data['results'])
            for _, data in answers)
        self.assertEqual(statuses, [
                ('accepted',) * 3, ('duplicate',) * 3])
        results = [[r['result'] for r in data['results']]
            for _, data in answers]
        self.assertEqual(results[0], results[1])

        def count():
            Sale = Pool().get('sale.point.sale')
            return Sale.search([('receipt_number', 'in', [101, 102, 103]),
                    ('point', '=', self.shop.terminal)], count=True)
        self.assertEqual(committed(count), 3)

    def test_pushes_of_two_terminals_run_at_once(self):
        """A push opening the cash session of a terminal does not wait for
        a push of another terminal opening its own: each locks its
        terminal's row; trytond's lock of the whole session table made the
        second wait for the first to commit (503 after LOCK_WAIT)"""
        def shops():
            return setup_shop('C1', 'C1A'), setup_shop('C2', 'C2A')
        first, second = committed(shops)
        key = committed(lambda: enroll(second.terminal))
        pool = Pool(DB_NAME)
        holding, release = threading.Event(), threading.Event()

        def running_push():
            "first's push, its session opened, not committed yet"
            Push = pool.get('retail.sync.push')
            Session = pool.get('sale.point.cash.session')
            Terminal = pool.get('sale.point')
            extras = {}
            while True:
                with Transaction().start(DB_NAME, 0, **extras) as transaction:
                    try:
                        terminal = Terminal(first.terminal)
                        Push.lock_terminal(terminal, {})
                        with Transaction().set_context(
                                company=first.company):
                            Session.get_current(terminal)
                    except TransactionError as e:
                        transaction.rollback()
                        e.fix(extras)
                        continue
                    holding.set()
                    release.wait(TIMEOUT)
                    transaction.rollback()
                    return

        thread = threading.Thread(target=running_push)
        thread.start()
        try:
            self.assertTrue(holding.wait(TIMEOUT))
            started = time.monotonic()
            status, data = Api(key).push([
                    operation(second, 'session_open',
                        {'opening_amount': '0'}, 1),
                    sale_op(second, 2, sequence=2)])
            elapsed = time.monotonic() - started
            self.assertTrue(thread.is_alive())
        finally:
            release.set()
            thread.join(TIMEOUT)
        self.assertEqual(status, 200, data)
        self.assertEqual([r['status'] for r in data['results']],
            ['accepted', 'accepted'], data)
        self.assertLess(elapsed, 10)

    def test_posting_waits_for_the_move_sequence(self):
        """A posting task waits for the account move sequence that another
        posting (another queue worker) holds, then posts; it failed
        trytond's NOWAIT lock and was rescheduled, its sales left pending"""
        from trytond.worker import run_task
        pool = Pool(DB_NAME)
        Operation = pool.get('retail.sync.operation')
        Queue = pool.get('ir.queue')

        def prepare():
            Company = pool.get('company.company')
            Branch = pool.get('retail.branch')
            Period = pool.get('account.period')
            # The shop's today is the company's (a sale dated after the
            # company's today is not posted)
            Company.write([Company(self.shop.company)],
                {'timezone': Branch(self.shop.branch).timezone})
            with Transaction().set_context(company=self.shop.company):
                return Period.find(self.shop.company).move_sequence_used.id
        sequence = committed(prepare)

        def queued():
            return [t.id for t in Queue.search([
                        ('name', '=', 'retail_sync_post'),
                        ('dequeued_at', '=', None)])]
        ops = [sale_op(self.shop, n) for n in (201, 202)]
        config.set('queue', 'worker', 'True')
        try:
            status, data = Api(self.key).push(ops)
        finally:
            config.set('queue', 'worker', 'False')
        self.assertEqual(status, 200, data)
        tasks = committed(queued)
        self.assertTrue(tasks)

        locked, release = threading.Event(), threading.Event()

        def other_posting():
            with Transaction().start(DB_NAME, 0) as transaction:
                transaction.connection.cursor().execute(
                    'SELECT id FROM ir_sequence_strict WHERE id = %s '
                    'FOR UPDATE', (sequence,))
                locked.set()
                release.wait(TIMEOUT)
                transaction.rollback()

        thread = threading.Thread(target=other_posting)
        thread.start()
        try:
            self.assertTrue(locked.wait(TIMEOUT))
            # Longer than trytond's retries of a NOWAIT lock (about 0.3 s)
            threading.Timer(2, release.set).start()
            started = time.monotonic()
            for task in tasks:
                run_task(pool, task)
            waited = time.monotonic() - started
        finally:
            release.set()
            thread.join(TIMEOUT)

        def states():
            return {o.posting for o in Operation.search([
                        ('uuid', 'in', [o['uuid'] for o in ops])])}
        self.assertEqual(committed(states), {'posted'})
        self.assertEqual(committed(queued), [])
        self.assertGreater(waited, 1.5)

    def prepare_posting(self):
        "The shop's today is the company's (a later sale is not posted)"
        def prepare():
            pool = Pool()
            Company = pool.get('company.company')
            Branch = pool.get('retail.branch')
            Company.write([Company(self.shop.company)],
                {'timezone': Branch(self.shop.branch).timezone})
        committed(prepare)

    def push_with_worker(self, key, ops):
        "Push ops with a queue worker; return the posting tasks queued"
        def queued():
            Queue = Pool().get('ir.queue')
            return [t.id for t in Queue.search([
                        ('name', '=', 'retail_sync_post'),
                        ('dequeued_at', '=', None),
                        ], order=[('id', 'ASC')])]
        before = set(committed(queued))
        config.set('queue', 'worker', 'True')
        try:
            status, data = Api(key).push(ops)
        finally:
            config.set('queue', 'worker', 'False')
        self.assertEqual(status, 200, data)
        self.assertEqual({r['status'] for r in data['results']},
            {'accepted'}, data)
        return [t for t in committed(queued) if t not in before]

    def postings(self, ops):
        "{posting state: count} of the operations of ops"
        def states():
            Operation = Pool().get('retail.sync.operation')
            return Counter(o.posting for o in Operation.search([
                        ('uuid', 'in', [o['uuid'] for o in ops])]))
        return committed(states)

    def test_two_posting_workers_do_not_fail_each_other(self):
        """The posting task of a terminal, started while another worker
        posts another terminal of the company, waits for it and posts with
        no database error: waiting on the move sequence inside its
        transaction failed to serialise when the other committed, and the
        queue retried it (155 retries in the storm of 50 terminals)"""
        from trytond.worker import run_task
        pool = Pool(DB_NAME)
        self.prepare_posting()

        def second_shop():
            Company = Pool().get('company.company')
            shop = setup_shop('W2', 'W2A',
                company=Company(self.shop.company))
            return shop, enroll(shop.terminal)
        other, other_key = committed(second_shop)
        big = [sale_op(self.shop, n) for n in range(1000, 1150)]
        small = [sale_op(other, n) for n in range(1, 6)]
        first_tasks = self.push_with_worker(self.key, big)
        second_tasks = self.push_with_worker(other_key, small)

        records = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = records.append
        loggers = [logging.getLogger(n) for n in [
                'trytond.worker', 'trytond.modules.retail_sync']]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.addHandler(handler)
            lg.setLevel(logging.DEBUG)

        def first_worker():
            for task in first_tasks:
                run_task(pool, task)

        def writing():
            "Whether another transaction of the database has written"
            cursor = Transaction().connection.cursor()
            cursor.execute('SELECT count(*) FROM pg_stat_activity '
                'WHERE datname = current_database() '
                'AND backend_xid IS NOT NULL '
                'AND pid <> pg_backend_pid()')
            return cursor.fetchone()[0] > 0
        thread = threading.Thread(target=first_worker)
        try:
            thread.start()
            deadline = time.monotonic() + TIMEOUT
            while not committed(writing) and thread.is_alive():
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.01)
            # The first worker is posting (or done, on a fast machine)
            for task in second_tasks:
                run_task(pool, task)
        finally:
            thread.join(TIMEOUT)
            for lg, level in zip(loggers, levels):
                lg.removeHandler(handler)
                lg.setLevel(level)
        failures = [r.getMessage() for r in records
            if r.getMessage().startswith('Retry')
            or 'again' in r.getMessage()
            or 'failed' in r.getMessage()]
        self.assertEqual(failures, [])
        self.assertEqual(self.postings(big + small), {'posted': 155})

        def numbers():
            Move = Pool().get('account.move')
            return [m.number for m in Move.search([
                        ('company', '=', self.shop.company),
                        ('origin', 'like', 'sale.point.sale,%'),
                        ('state', '=', 'posted'),
                        ])]
        numbers = committed(numbers)
        self.assertEqual(len(numbers), len(set(numbers)))

    def test_posting_gives_way_to_acknowledgement(self):
        """In trytond-worker, a posting task waits while a push is being
        acknowledged, at most [retail_sync] posting_defer seconds after
        the oldest operation it posts was pushed"""
        from trytond.worker import run_task
        pool = Pool(DB_NAME)
        self.prepare_posting()
        ops = [sale_op(self.shop, n) for n in range(2000, 2003)]
        tasks = self.push_with_worker(self.key, ops)
        self.assertTrue(tasks)
        acknowledging, release = threading.Event(), threading.Event()

        def push_in_progress():
            with Transaction().start(DB_NAME, 0) as transaction:
                pool.get('retail.sync.push').mark_acknowledging()
                acknowledging.set()
                release.wait(TIMEOUT)
                transaction.rollback()

        def run(tasks, defer):
            if not config.has_section('retail_sync'):
                config.add_section('retail_sync')
            before = config.get('retail_sync', 'posting_defer', '30')
            config.set('queue', 'worker', 'True')
            config.set('retail_sync', 'posting_defer', str(defer))
            try:
                started = time.monotonic()
                for task in tasks:
                    run_task(pool, task)
                return time.monotonic() - started
            finally:
                config.set('queue', 'worker', 'False')
                config.set('retail_sync', 'posting_defer', before)

        thread = threading.Thread(target=push_in_progress)
        thread.start()
        try:
            self.assertTrue(acknowledging.wait(TIMEOUT))
            threading.Timer(2, release.set).start()
            waited = run(tasks, 60)
            self.assertFalse(thread.is_alive())
        finally:
            release.set()
            thread.join(TIMEOUT)
        self.assertGreater(waited, 1.5)
        self.assertEqual(self.postings(ops), {'posted': 3})

        # Never longer than posting_defer after the push
        acknowledging.clear()
        release.clear()
        ops = [sale_op(self.shop, n) for n in range(2003, 2006)]
        tasks = self.push_with_worker(self.key, ops)
        thread = threading.Thread(target=push_in_progress)
        thread.start()
        try:
            self.assertTrue(acknowledging.wait(TIMEOUT))
            waited = run(tasks, 1)
            self.assertTrue(thread.is_alive())
        finally:
            release.set()
            thread.join(TIMEOUT)
        self.assertLess(waited, 10)
        self.assertEqual(self.postings(ops), {'posted': 3})
