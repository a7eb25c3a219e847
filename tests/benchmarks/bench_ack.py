#!/usr/bin/env python
# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of the acknowledgement of pushes and of the background posting
(retail_sync with Tryton's queue) on PostgreSQL.

A script run by hand, not a test.  It starts its own PostgreSQL 15 on a
free port in a temporary directory, activates retail_sync, loads a
catalog of --variants products with stock and measures through the real
WSGI application, in one run:

1. acknowledgement: --sales sales of 3 lines pushed in batches of --batch
   with [queue] worker set, so that a push only checks and stores its
   operations and queues the recording and posting of their sales (sales
   per second; no POS sale recorded after it);
2. posting: the queued tasks run one after the other as trytond-worker runs
   them (trytond.worker.run_task), until none is left: they record the POS
   sales and post them (sales per second; every sale checked posted with
   its moves);
3. latency: --small-pushes pushes of 25 sales with [queue] worker set
   (p50/p95/max), then the same without a worker, where trytond posts in
   the request after the commit (the SQLite single-shop default);
4. the baseline: the same kind of sales through Tryton's own sale_point
   (create, pay, process, post), one per transaction, on --baseline-sales.

Usage: .venv/bin/python tests/benchmarks/bench_ack.py
    [--variants 2000] [--sales 5000] [--batch 500] [--small-pushes 60]
    [--baseline-sales 100] [--prices 1] [--no-vacuum]
    [--database-uri postgresql://...]

After loading the catalog the script runs VACUUM ANALYZE on the database
(--no-vacuum: not), and after the posting it prints the autovacuum runs
that finished or ran during it.
"""
import argparse
import os
import statistics
import sys
import time
from functools import partial

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'setup'))

from retail_setup.pg import PostgresServer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--variants', type=int, default=2000)
    parser.add_argument('--sales', type=int, default=5000)
    parser.add_argument('--batch', type=int, default=500)
    parser.add_argument('--small-pushes', type=int, default=60)
    parser.add_argument('--baseline-sales', type=int, default=100)
    parser.add_argument('--prices', type=int, default=1,
        help="the number of different prices of the variants (1: all at "
        "24.00; N: from 1.20 by steps of 0.30, tax included; a sale's "
        "lines at their product's price), so that the sales' taxes are "
        "not all alike")
    parser.add_argument('--no-vacuum', dest='vacuum', action='store_false',
        help="do not VACUUM ANALYZE the database after loading the catalog "
        "(a database just made by installing the modules is then vacuumed "
        "by autovacuum during the measures)")
    parser.add_argument('--database-uri',
        help="a PostgreSQL server to use instead of starting one; its "
        "template of the activated modules is kept there and reused "
        "(trytond's DB_CACHE), so a next run does not create it again")
    args = parser.parse_args()

    if args.database_uri:
        os.environ['TRYTOND_DATABASE_URI'] = args.database_uri
        os.environ['DB_NAME'] = 'bench_ack'
        os.environ['DB_CACHE'] = args.database_uri.rstrip('/')
        run(args)
        return
    with PostgresServer(reuse_env=False) as pg:
        os.environ['TRYTOND_DATABASE_URI'] = pg.uri
        os.environ['DB_NAME'] = 'bench_ack'
        os.environ.pop('DB_CACHE', None)
        run(args)


def load():
    "The load averages (1, 5, 15 min) as the run prints them"
    return '/'.join(f'{v:.2f}' for v in os.getloadavg())


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * len(values))))]


def run(args):
    import datetime as dt
    from decimal import Decimal

    from trytond import config
    from trytond.modules.retail_sync.tests.tools import (
        Api, committed, enroll, sale_op, setup_shop)
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction
    from trytond.worker import run_task

    print(f"load average at start: {load()}", flush=True)
    started = time.monotonic()
    if args.database_uri:
        # The database of an earlier run on that server: made again, from
        # the template kept there
        drop_db()
    activate_module(['retail_sync'])
    print(f"database ready in {time.monotonic() - started:.0f} s",
        flush=True)
    shop = committed(lambda: setup_shop(products=3))
    key = committed(lambda: enroll(shop.terminal))
    pool = Pool(DB_NAME)

    def shop_timezone():
        Company = pool.get('company.company')
        Branch = pool.get('retail.branch')
        Company.write([Company(shop.company)],
            {'timezone': Branch(shop.branch).timezone})
    committed(shop_timezone)

    def catalog():
        # Products with a done receipt of 100,000 each, in bulk SQL
        Product = pool.get('product.product')
        Location = pool.get('stock.location')
        cursor = Transaction().connection.cursor()
        template = Product(shop.products[0]).template
        uom = template.default_uom.id
        cursor.execute(
            'INSERT INTO product_template (name, type, default_uom, '
            'sale_uom, salable, account_category, active, consumable, '
            'create_uid, create_date) '
            "SELECT 'Bench ' || g, 'goods', %s, %s, true, %s, true, false, "
            '0, now() FROM generate_series(1, %s) g',
            (uom, uom, template.account_category.id, args.variants))
        cursor.execute(
            'INSERT INTO product_product (template, code, active, '
            'create_uid, create_date) '
            "SELECT t.id, 'B' || t.id, true, 0, now() FROM product_template t "
            "WHERE t.name LIKE 'Bench %%' RETURNING id")
        products = [r for r, in cursor.fetchall()]
        for table, column, price in [('product_list_price', 'list_price',
                    '20'), ('product_gross_price', 'gross_price', '24')]:
            if args.prices > 1:
                # From 1.00 (1.20 with its tax) by steps of 0.25
                price = (f'(1 + (id %% {args.prices}) * 0.25)'
                    + (' * 1.2' if column == 'gross_price' else ''))
            cursor.execute(
                f'INSERT INTO {table} (template, company, {column}, '
                'create_uid, create_date) '
                f"SELECT id, %s, {price}, 0, now() FROM product_template "
                "WHERE name LIKE 'Bench %%'", (shop.company,))
        terminal = pool.get('sale.point')(shop.terminal)
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        cursor.execute(
            'INSERT INTO stock_move (product, unit, quantity, '
            'internal_quantity, from_location, to_location, effective_date, '
            "company, state, currency, unit_price, create_uid, create_date) "
            "SELECT p.id, %s, 100000, 100000, %s, %s, %s, %s, 'done', %s, "
            "1, 0, now() FROM product_product p JOIN product_template t "
            "ON p.template = t.id WHERE t.name LIKE 'Bench %%'",
            (uom, supplier.id, terminal.storage_location.id,
                dt.date.today(), shop.company, terminal.company.currency.id))
        cursor.execute('ANALYZE')
        cursor.execute('SELECT p.id, g.gross_price FROM product_product p '
            'JOIN product_gross_price g ON g.template = p.template '
            "WHERE p.code LIKE 'B%%'")
        prices = {i: Decimal(g).quantize(Decimal('0.01'))
            for i, g in cursor.fetchall()}
        return products, prices
    product_ids, prices = committed(catalog)
    if args.vacuum:
        import psycopg
        started = time.monotonic()
        with psycopg.connect(config.get('database', 'uri'), dbname=DB_NAME,
                autocommit=True) as connection:
            connection.execute('VACUUM ANALYZE')
        print(f"VACUUM ANALYZE in {time.monotonic() - started:.1f} s",
            flush=True)

    def database_now():
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT clock_timestamp()')
        return cursor.fetchone()[0]

    def autovacuum(since):
        "Autovacuum runs finished since, and its workers running now"
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT count(*) FILTER (WHERE last_autovacuum >= %s), '
            'count(*) FILTER (WHERE last_autoanalyze >= %s) '
            'FROM pg_stat_user_tables', (since, since))
        vacuums, analyzes = cursor.fetchone()
        cursor.execute('SELECT count(*) FROM pg_stat_activity '
            "WHERE backend_type = 'autovacuum worker'")
        running, = cursor.fetchone()
        return (f"autovacuum since the posting began: {vacuums} vacuums, "
            f"{analyzes} analyzes finished, {running} running")
    api = Api(key)
    sequence = iter(range(1, 10 ** 7))

    def sale(n):
        lines = []
        for i in range(3):
            product = product_ids[(n * 3 + i) % len(product_ids)]
            price = str(prices[product])
            lines.append({'product': product, 'quantity': '1',
                    'unit_price': price, 'price': price})
        return sale_op(shop, n, lines=lines, sequence=next(sequence))

    def push(operations):
        started = time.monotonic()
        status, data = api.push(operations)
        elapsed = time.monotonic() - started
        assert status == 200, data
        rejected = [r for r in data['results'] if r['status'] != 'accepted']
        assert not rejected, rejected[:3]
        return elapsed, data

    def queued():
        Queue = pool.get('ir.queue')
        return [t.id for t in Queue.search([
                    ('name', '=', 'retail_sync_post'),
                    ('dequeued_at', '=', None),
                    ], order=[('id', 'ASC')])]

    def counts():
        cursor = Transaction().connection.cursor()
        cursor.execute("SELECT count(*) FROM sale_point_sale s "
            "JOIN account_move m ON m.id = s.move "
            "WHERE s.state = 'posted' AND m.state = 'posted'")
        sales, = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM stock_move "
            "WHERE origin LIKE 'sale.point.sale.line,%' AND state = 'done'")
        moves, = cursor.fetchone()
        cursor.execute("SELECT posting, count(*) FROM retail_sync_operation "
            "GROUP BY posting")
        states = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM sale_point_sale")
        recorded, = cursor.fetchone()
        return sales, moves, states, recorded

    def drain():
        started = time.monotonic()
        tasks = 0
        while True:
            ids = committed(queued)
            if not ids:
                break
            for task_id in ids:
                run_task(pool, task_id)
                tasks += 1
        return time.monotonic() - started, tasks

    receipt = iter(range(1, 10 ** 7))
    # 1. Acknowledgement, with a worker configured: nothing posted inline
    config.set('queue', 'worker', 'True')
    operations = [sale(next(receipt)) for _ in range(args.sales)]
    started = time.monotonic()
    # The CPU time of this process (the pushes' server side and the test
    # client's encoding), which depends less on the machine's load
    cpu = time.process_time()
    for i in range(0, len(operations), args.batch):
        _, data = push(operations[i:i + args.batch])
        assert not any(r['posted'] for r in data['results'])
    ack_s = time.monotonic() - started
    ack_cpu = time.process_time() - cpu
    ack_rate = args.sales / ack_s
    print(f"acknowledgement: {args.sales} sales of 3 lines ({args.prices} "
        f"price(s)) in batches of {args.batch} in {ack_s:.1f} s = "
        f"{ack_rate:.0f} sales/s; CPU of this process "
        f"{ack_cpu * 1000 / args.sales:.3f} ms per sale", flush=True)
    before = committed(counts)
    print(f"  after the acknowledgement: {before[3]} POS sales recorded, "
        f"{before[0]} posted, operations by posting state: {before[2]}",
        flush=True)

    # 2. Background posting, the queued tasks run as the worker runs them
    print(f"load average before posting: {load()}", flush=True)
    posting_started = committed(database_now)
    post_s, tasks = drain()
    sales_posted, moves, states, _ = committed(counts)
    print(committed(lambda: autovacuum(posting_started)), flush=True)
    post_rate = (sales_posted - before[0]) / post_s
    print(f"posting: {sales_posted - before[0]} sales posted by {tasks} "
        f"tasks in {post_s:.1f} s = {post_rate:.0f} sales/s; done stock "
        f"moves of sale lines: {moves}; operations by posting state: "
        f"{states}; load average after posting: {load()}", flush=True)
    assert sales_posted == args.sales, (sales_posted, args.sales)
    assert states.get('pending') is None and states.get('failed') is None

    # 3. Pushes of 25 operations
    latencies = {}
    for mode, worker in [('worker', 'True'), ('no worker', 'False')]:
        config.set('queue', 'worker', worker)
        times = []
        cpu = 0
        for _ in range(args.small_pushes):
            operations = [sale(next(receipt)) for _ in range(25)]
            started = time.process_time()
            elapsed, _ = push(operations)
            cpu += time.process_time() - started
            times.append(elapsed)
        latencies[mode] = times
        print(f"push of 25 ({mode}): p50 "
            f"{statistics.median(times) * 1000:.0f} ms, p95 "
            f"{percentile(times, 95) * 1000:.0f} ms, max "
            f"{max(times) * 1000:.0f} ms over {len(times)} pushes; CPU of "
            f"this process {cpu * 1000 / len(times):.1f} ms per push",
            flush=True)
    config.set('queue', 'worker', 'True')
    drain()
    config.set('queue', 'worker', 'False')

    # 4. Baseline: Tryton's sale_point, one sale per transaction
    def baseline_sale(n):
        Sale = pool.get('sale.point.sale')
        Line = pool.get('sale.point.sale.line')
        Payment = pool.get('sale.point.payment')
        with Transaction().set_context(company=shop.company):
            sale = Sale(point=shop.terminal)
            lines = []
            for i in range(3):
                line = Line()
                line.sale = sale
                line.product = product_ids[(n * 7 + i) % len(product_ids)]
                line.on_change_product()
                line.quantity = 1
                lines.append(line)
            sale.lines = lines
            sale.save()
            Payment.create([{'sale': sale.id, 'method': shop.card,
                        'amount': sale.amount_to_pay}])
            Sale.process([sale])
            Sale.post([sale])

    started = time.monotonic()
    for n in range(args.baseline_sales):
        committed(partial(baseline_sale, n))
    baseline_s = time.monotonic() - started
    baseline_rate = args.baseline_sales / baseline_s
    print(f"baseline (sale_point, create and post, one sale per "
        f"transaction): {args.baseline_sales} sales in {baseline_s:.1f} s "
        f"= {baseline_rate:.1f} sales/s", flush=True)
    print(f"ratio acknowledgement / baseline: "
        f"{ack_rate / baseline_rate:.1f}x; posting / baseline: "
        f"{post_rate / baseline_rate:.1f}x", flush=True)
    print(f"load average at the end: {load()}", flush=True)


if __name__ == '__main__':
    sys.exit(main())
