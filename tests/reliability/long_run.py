#!/usr/bin/env python
"""The long fault-injection run (docs/reliability.md), by hand, not a test.

Starts its own PostgreSQL 15 (or uses RETAIL_TEST_PG_URI) and a trytond
with the demo chain and its queue worker, adds terminals to the demo's
three until there are --terminals (each a copy of BXL1 with its own
receipt prefix FLTnn), enrolls one till per terminal (the POS client's
sync engine under node) and runs --schedules seeded schedules through the
fault proxy, --sales sales in all spread over them, each schedule one
terminal's shift; the terminals sell at the same time (a round of
schedules, one per terminal, at once).  Every 10th schedule kills its till
right after a payment, every 10th (another) runs the terminal in two tabs,
every 50th kills trytond with SIGKILL, every 20th kills the queue worker.
Prints every schedule (seed and faults) and the counts at the end.

    .venv/bin/python -m tests.reliability.long_run --seed 1 \\
        --schedules 1000 --terminals 10 --sales 10000 [--minutes 60]

Replay one schedule: the same --seed and arguments replay the run; the
schedule printed as `seed=S` is the shift of seed S."""
import argparse
import contextlib
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.support.servers import PostgresServer, TrytondServer  # noqa: E402

from .run import FaultRun  # noqa: E402

DEMO_TERMINALS = ['BXL1', 'BXL2', 'ANT1']


def add_terminals(office, count):
    "Terminals FLT01... copied from BXL1 until there are `count`"
    admin = office.admin
    names = list(DEMO_TERMINALS)
    template = office.terminal('BXL1')['id']
    sequence, = admin.model('sale.point', 'read', [template],
        ['sequence'])
    for n in range(1, max(0, count - len(names)) + 1):
        prefix = f'FLT{n:02d}'
        new_sequence, = admin.model('ir.sequence.strict', 'copy',
            [sequence['sequence']], {'name': f"Fault till {n}",
                'prefix': f'{prefix}-'})
        admin.model('sale.point', 'copy', [template], {
                'name': f"Fault till {n}", 'receipt_prefix': prefix,
                'sequence': new_sequence})
        names.append(prefix)
    return names[:count]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--schedules', type=int, default=1000)
    parser.add_argument('--terminals', type=int, default=10)
    parser.add_argument('--sales', type=int, default=10000,
        help="sales in all, spread over the schedules")
    parser.add_argument('--sqlite', action='store_true',
        help="trytond on SQLite without a queue worker (the single-shop "
        "default: the posting runs in the request after the commit); no "
        "worker to kill")
    parser.add_argument('--minutes', type=float,
        help="start no round of schedules after this many minutes (from "
        "the start, set-up included): the checks then count what ran")
    parser.add_argument('--quiet', action='store_true',
        help="print the counts only, not every schedule")
    args = parser.parse_args(argv)

    started = time.monotonic()
    worker = not args.sqlite
    config = {'retail_sync': {'posting_recovery': '5'}}
    if worker:
        config['queue'] = {'worker': 'True'}
    with contextlib.ExitStack() as stack:
        uri = 'sqlite://' if args.sqlite else stack.enter_context(
            PostgresServer()).uri
        server = stack.enter_context(TrytondServer(uri, 'fault_long',
                demo=True, extra_config=config))
        from tests.e2e.backoffice import Backoffice
        terminals = add_terminals(Backoffice(server), args.terminals)
        ready = time.monotonic()
        with FaultRun(server, terminals=terminals, worker=worker,
                verbose=not args.quiet, timeout=1800) as run:
            per = args.sales // args.schedules
            extra = args.sales - per * args.schedules
            plans = []
            for index in range(args.schedules):
                seed = args.seed * 1000003 + index
                options = {'sales': per + (1 if index < extra else 0),
                    'cash_in': index % 8 == 5,
                    # each terminal's session closed every fourth of its
                    # schedules and at the end
                    'close': (index // len(terminals)) % 4 == 3
                    or index >= args.schedules - len(terminals)}
                if index % 10 == 3:
                    options['kill_after'] = [options['sales'] // 2]
                if index % 10 == 7:
                    options['tabs'] = 2
                kills = []
                if index % 50 == 11:
                    kills.append('kill_server')
                if index % 20 == 4 and worker:
                    kills.append('kill_worker')
                options['kills'] = kills
                plans.append((seed, terminals[index % len(terminals)],
                        options))
            # the terminals sell at the same time, each its own schedule
            for start in range(0, len(plans), len(terminals)):
                if args.minutes and (
                        time.monotonic() - started > args.minutes * 60):
                    print(f"-- {args.minutes} minutes passed: no more "
                        f"rounds, {start} of {len(plans)} schedules run",
                        flush=True)
                    break
                run.at_once(plans[start:start + len(terminals)])
                print(f"-- {start + len(terminals)} schedules in "
                    f"{time.monotonic() - ready:.0f} s", flush=True)
            report = run.check()
        report['sales'] = sum(s['sales']
            for s in run.shifts)
        report['seconds'] = round(time.monotonic() - ready)
        report['setup_seconds'] = round(ready - started)
    print(json.dumps(report, indent=1, default=str))


if __name__ == '__main__':
    main()
