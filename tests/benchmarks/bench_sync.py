#!/usr/bin/env python
# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Benchmark of the sync service (retail_sync) on PostgreSQL.

A script run by hand, not a test.  It starts its own PostgreSQL 15 in a
temporary directory, activates retail_sync, and measures through the real
WSGI application:

1. bootstrap of N variants with prices, barcodes and stock (server time,
   bytes gzipped and raw);
2. a delta pull after 100 price changes;
3. push ingestion of S sales of 3 lines each, posted (sales per second);
4. the baseline: the same kind of sales entered through Tryton's own
   sale_point API, one sale per transaction (create, pay, process, post),
   on a sample (--baseline-sales, 200 by default): it runs at a few sales
   per second.

Push and baseline are measured in the same run and their ratio printed.

Usage: .venv/bin/python tests/benchmarks/bench_sync.py
    [--variants 100000] [--sales 10000] [--baseline-sales 200]
"""
import argparse
import atexit
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from functools import partial

PG_BIN = '/usr/lib/postgresql/15/bin'


def free_port():
    "A free loopback port, so the benchmark runs beside the tests"
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


PORT = free_port()


def start_postgresql():
    directory = tempfile.mkdtemp(prefix='bench_sync_pg_')
    data = os.path.join(directory, 'data')
    runas = []
    if os.geteuid() == 0:
        shutil.chown(directory, 'postgres')
        runas = ['runuser', '-u', 'postgres', '--']
    subprocess.run(runas + [f'{PG_BIN}/initdb', '-D', data, '-U', 'postgres',
            '-A', 'trust'], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(runas + [f'{PG_BIN}/pg_ctl', '-D', data, '-w', '-l',
            os.path.join(directory, 'log'), '-o',
            f'-p {PORT} -k /tmp -c listen_addresses=127.0.0.1', 'start'],
        check=True, stdout=subprocess.DEVNULL)

    def stop():
        subprocess.run(runas + [f'{PG_BIN}/pg_ctl', '-D', data, '-m', 'fast',
                'stop'], stdout=subprocess.DEVNULL)
        shutil.rmtree(directory, ignore_errors=True)
    atexit.register(stop)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--variants', type=int, default=100_000)
    parser.add_argument('--sales', type=int, default=10_000)
    parser.add_argument('--baseline-sales', type=int, default=200)
    parser.add_argument('--batch', type=int, default=500)
    args = parser.parse_args()

    start_postgresql()
    os.environ['TRYTOND_DATABASE_URI'] = (
        f'postgresql://postgres@127.0.0.1:{PORT}/')
    os.environ['DB_NAME'] = 'bench_sync'
    os.environ.pop('DB_CACHE', None)
    run(args)


def run(args):
    import gzip
    import json
    from decimal import Decimal

    from trytond.modules.retail_sync.tests.tools import (
        Api, committed, enroll, sale_op, setup_shop)
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module
    from trytond.transaction import Transaction

    started = time.monotonic()
    activate_module(['retail_sync'])
    print(f"database ready in {time.monotonic() - started:.0f} s",
        flush=True)
    shop = committed(lambda: setup_shop(products=3))
    key = committed(lambda: enroll(shop.terminal))
    pool = Pool(DB_NAME)

    def shop_timezone():
        # The company keeps its shop's time, so that its today is the date
        # of the shop's sales (in the UTC evening a shop east of UTC sells
        # on the next day, which stock moves take for a date in the future)
        Company = pool.get('company.company')
        Branch = pool.get('retail.branch')
        Company.write([Company(shop.company)],
            {'timezone': Branch(shop.branch).timezone})
    committed(shop_timezone)

    # The catalog, in bulk SQL: templates, variants, list and gross prices,
    # one EAN per variant and a done receipt move per variant
    def bulk_catalog():
        Template = pool.get('product.template')
        cursor = Transaction().connection.cursor()
        template = Template(pool.get('product.product')(
                shop.products[0]).template.id)
        uom = template.default_uom.id
        category = template.account_category.id
        n = args.variants
        cursor.execute(
            'INSERT INTO product_template (name, type, default_uom, '
            'sale_uom, salable, account_category, active, consumable, '
            'create_uid, create_date) '
            "SELECT 'Bench ' || g, 'goods', %s, %s, true, %s, true, false, "
            '0, now() FROM generate_series(1, %s) g RETURNING id',
            (uom, uom, category, n))
        template_ids = [r[0] for r in cursor.fetchall()]
        cursor.execute(
            'INSERT INTO product_product (template, code, active, '
            'create_uid, create_date) '
            "SELECT t.id, 'B' || t.id, true, 0, now() FROM product_template t "
            "WHERE t.name LIKE 'Bench %%' RETURNING id, template")
        products = cursor.fetchall()
        cursor.execute(
            'INSERT INTO product_list_price (template, company, list_price, '
            'create_uid, create_date) '
            "SELECT id, %s, 10 + (id %% 90), 0, now() FROM product_template "
            "WHERE name LIKE 'Bench %%'", (shop.company,))
        cursor.execute(
            'INSERT INTO product_gross_price (template, company, '
            'gross_price, create_uid, create_date) '
            "SELECT id, %s, 12 + (id %% 90), 0, now() FROM product_template "
            "WHERE name LIKE 'Bench %%'", (shop.company,))
        cursor.execute(
            'INSERT INTO product_identifier (product, type, code, sequence, '
            'create_uid, create_date) '
            "SELECT p.id, 'ean', lpad(p.id::text, 13, '0'), 10, 0, now() "
            "FROM product_product p JOIN product_template t "
            "ON p.template = t.id WHERE t.name LIKE 'Bench %%'")
        terminal = pool.get('sale.point')(shop.terminal)
        Location = pool.get('stock.location')
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        cursor.execute(
            'INSERT INTO stock_move (product, unit, quantity, '
            'internal_quantity, from_location, to_location, effective_date, '
            "company, state, currency, unit_price, create_uid, create_date) "
            "SELECT p.id, %s, 1000, 1000, %s, %s, %s, %s, 'done', %s, 1, 0, "
            "now() FROM product_product p JOIN product_template t "
            "ON p.template = t.id WHERE t.name LIKE 'Bench %%'",
            (uom, supplier.id, terminal.storage_location.id,
                dt.date.today(), shop.company,
                terminal.company.currency.id))
        cursor.execute('ANALYZE')
        return [p for p, _ in products], template_ids

    started = time.monotonic()
    product_ids, template_ids = committed(bulk_catalog)
    print(f"catalog of {len(product_ids)} variants loaded in "
        f"{time.monotonic() - started:.0f} s", flush=True)

    api = Api(key)
    figures = {}

    # 1. Bootstrap
    started = time.monotonic()
    token, pages, raw, zipped, variants, cursor = None, 0, 0, 0, 0, None
    while True:
        params = {'limit': 20000}
        if token:
            params['page'] = token
        response = api.client.get(api.url('bootstrap'), query_string=params,
            headers=api.headers())
        assert response.status_code == 200, response.get_data()[:500]
        body = response.get_data()
        zipped += len(body)
        body = gzip.decompress(body)
        raw += len(body)
        page = json.loads(body)
        variants += len(page['records'].get('product', []))
        pages += 1
        if page['next_page'] is None:
            cursor = page['cursor']
            break
        token = page['next_page']
    figures['bootstrap_s'] = time.monotonic() - started
    print(f"bootstrap: {variants} variants in {pages} pages, "
        f"{figures['bootstrap_s']:.2f} s, {zipped / 1e6:.1f} MB gzipped "
        f"({raw / 1e6:.1f} MB JSON)", flush=True)

    # 2. Delta after 100 price changes
    def change_prices():
        Template = pool.get('product.template')
        with Transaction().set_context(company=shop.company):
            for template in Template.browse(template_ids[:100]):
                Template.write([template], {'list_price': Decimal('99')})
    committed(change_prices)
    started = time.monotonic()
    status, data = api.get('changes', cursor=cursor, limit=500)
    figures['delta_s'] = time.monotonic() - started
    assert status == 200
    print(f"delta after 100 price changes: {len(data['changes'])} changes "
        f"in {figures['delta_s'] * 1000:.0f} ms", flush=True)

    # 3. Push ingestion
    def sale(n, sequence):
        lines = []
        for i in range(3):
            product = product_ids[(n * 3 + i) % len(product_ids)]
            lines.append({'product': product, 'quantity': '1',
                    'unit_price': '20.00', 'price': '20.00'})
        return sale_op(shop, n, lines=lines, sequence=sequence)

    operations = [sale(n, n) for n in range(1, args.sales + 1)]
    started = time.monotonic()
    accepted = 0
    for i in range(0, len(operations), args.batch):
        status, data = api.push(operations[i:i + args.batch])
        assert status == 200, data
        accepted += sum(r['status'] == 'accepted' for r in data['results'])
        rejected = [r for r in data['results'] if r['status'] == 'rejected']
        assert not rejected, rejected[:3]
        if (i // args.batch) % 4 == 3:
            print(f"  {accepted} sales pushed, "
                f"{accepted / (time.monotonic() - started):.1f} sales/s",
                flush=True)
    figures['push_s'] = time.monotonic() - started
    push_rate = accepted / figures['push_s']
    print(f"push: {accepted} sales of 3 lines posted in "
        f"{figures['push_s']:.0f} s = {push_rate:.1f} sales/s", flush=True)

    def check_posted():
        # Every pushed sale posted with its account move and a done stock
        # move per line
        cursor = Transaction().connection.cursor()
        cursor.execute("SELECT count(*) FROM sale_point_sale s "
            "JOIN account_move m ON m.id = s.move "
            "WHERE s.state = 'posted' AND m.state = 'posted' "
            "AND m.number IS NOT NULL")
        sales, = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM stock_move "
            "WHERE origin LIKE 'sale.point.sale.line,%' "
            "AND state = 'done'")
        moves, = cursor.fetchone()
        return sales, moves
    sales_posted, moves_done = committed(check_posted)
    print(f"posted sales with a posted account move: {sales_posted}, "
        f"done stock moves of sale lines: {moves_done}", flush=True)

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
        # committed() starts the transaction again with the locks it asks
        # for (sequences), as trytond's dispatcher does for an RPC call
        committed(partial(baseline_sale, n))
    figures['baseline_s'] = time.monotonic() - started
    baseline_rate = args.baseline_sales / figures['baseline_s']
    print(f"baseline (sale_point, one sale per transaction): "
        f"{args.baseline_sales} sales in {figures['baseline_s']:.0f} s = "
        f"{baseline_rate:.2f} sales/s", flush=True)
    print(f"ratio push / baseline: {push_rate / baseline_rate:.1f}x")


if __name__ == '__main__':
    sys.exit(main())
