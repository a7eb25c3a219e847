"""Benchmark: first-expiring-first-out assignment (retail_stock) of N
outgoing moves over M lots, against Tryton's own assign_try (grouped by
lot, ordered by location) on the same data, in the same run.

    .venv/bin/python tests/benchmarks/bench_fefo.py [--lines 10000]
        [--lots 1000] [--products 100]

The data (a company, lot-tracked products, lots with sell-by dates from
yesterday to two weeks ahead and receipts over the last ten days, spread
over two bins, and the draft moves to a customer) is made once and
committed; each assignment then runs in a transaction of its own that is
rolled back.  Prints the seconds (wall and CPU: the machine may be
shared) of each, the moves assigned and split,
the expired lots each one picked and the ratio.  SQLite in memory unless
DB_NAME and the trytond configuration say otherwise."""
import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from decimal import Decimal

os.environ.setdefault('DB_NAME', ':memory:')
os.environ.setdefault('DB_CACHE', os.path.join(
        tempfile.gettempdir(), 'retail-bench-fefo-cache'))

from trytond.tests.test_tryton import DB_NAME, activate_module  # noqa: E402


def make_data(lines, lots, products, seed=7):
    from trytond.modules.company.tests import create_company, set_company
    from trytond.modules.retail_stock.tests.tools import (
        lot_product, receive, stock_locations)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    rng = random.Random(seed)
    with Transaction().start(DB_NAME, 0) as transaction:
        pool = Pool()
        Date = pool.get('ir.date')
        Lot = pool.get('stock.lot')
        Move = pool.get('stock.move')
        company = create_company()
        with set_company(company):
            today = Date.today()
            storage, bins, supplier, customer = stock_locations()
            made = [lot_product(f"Fresh {i}") for i in range(products)]
            vlist, receipts = [], []
            for i in range(lots):
                product = made[i % products]
                vlist.append({'number': f"B{i}", 'product': product.id,
                        'shelf_life_expiration_date': today
                        + dt.timedelta(days=rng.randint(-1, 14))})
            records = Lot.create(vlist)
            for lot in records:
                receipts.append((lot, rng.choice(bins), rng.randint(20, 60),
                        today - dt.timedelta(days=rng.randint(1, 10))))
            by_product = {}
            for receipt in receipts:
                by_product.setdefault(receipt[0].product, []).append(receipt)
            for product, entries in by_product.items():
                receive(company, product, entries, supplier)
            Move.create([{
                        'product': made[i % products].id,
                        'unit': made[i % products].default_uom.id,
                        'quantity': rng.randint(1, 5),
                        'from_location': storage.id,
                        'to_location': customer.id,
                        'company': company.id,
                        'unit_price': Decimal('2'),
                        'currency': company.currency.id,
                        'planned_date': today,
                        } for i in range(lines)])
        transaction.commit()
        return company.id


def assign(company_id, grouping):
    from trytond.transaction import TransactionError
    extras = {}
    while True:
        try:
            return _assign(company_id, grouping, extras)
        except TransactionError as error:
            # As Tryton's dispatcher: start again with the table locks asked
            error.fix(extras)


def _assign(company_id, grouping, extras):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(DB_NAME, 0, context={
                'company': company_id, '_skip_warnings': True},
            **extras) as t:
        pool = Pool()
        Move = pool.get('stock.move')
        Date = pool.get('ir.date')
        moves = Move.search([('to_location.type', '=', 'customer'),
                ('state', '=', 'draft')], order=[('id', 'ASC')])
        count = len(moves)
        start, cpu = time.perf_counter(), time.process_time()
        if grouping:
            Move.assign_try(moves, grouping=grouping)
        else:
            Move.assign_try(moves)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        today = Date.today()
        assigned = Move.search([('to_location.type', '=', 'customer'),
                ('state', '=', 'assigned')])
        expired = sum(1 for m in assigned if m.lot
            and m.lot.shelf_life_expiration_date
            and m.lot.shelf_life_expiration_date < today)
        t.rollback()
    return seconds, cpu, count, len(assigned), expired


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--lines', type=int, default=10000)
    parser.add_argument('--lots', type=int, default=1000)
    parser.add_argument('--products', type=int, default=100)
    args = parser.parse_args()
    activate_module('retail_stock')
    start = time.perf_counter()
    company_id = make_data(args.lines, args.lots, args.products)
    print(f"data: {args.lines} sale lines, {args.lots} lots, "
        f"{args.products} products in {time.perf_counter() - start:.1f} s")
    results = {}
    for name, grouping in [
            ("Tryton assign_try (by lot, location order)",
                ('product', 'lot')),
            ("retail_stock FEFO assign_try", None)]:
        seconds, cpu, count, assigned, expired = assign(
            company_id, grouping)
        results[name] = (seconds, cpu)
        print(f"{name}: {seconds:.2f} s ({cpu:.2f} s of CPU) for {count} "
            f"moves ({count / cpu:.0f} moves per CPU second), {assigned} "
            f"assigned moves after splits, {expired} on expired lots",
            flush=True)
    (tryton, tryton_cpu), (fefo, fefo_cpu) = results.values()
    print(f"ratio FEFO / Tryton: {fefo / tryton:.2f} "
        f"(CPU {fefo_cpu / tryton_cpu:.2f})")


if __name__ == '__main__':
    sys.exit(main())
