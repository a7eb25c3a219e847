"""A fault-injection run: tills (tests/reliability/till.mjs, the POS client's
sync engine under node) selling through the fault proxy (faultproxy.py) to a
real trytond, then the checks that nothing was lost or doubled.

    with FaultRun(server, terminals=['BXL1', 'BXL2'], worker=True) as run:
        run.shift(seed=7, terminal='BXL1', sales=4)   # one seeded schedule
        report = run.check()                          # raises on a failure
        print(report)

Used by test_faults.py (the small run of the test command) and
long_run.py (the long run)."""
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from retail_setup import server as server_module
from tests.e2e.backoffice import Backoffice, _decimal
from tests.reliability.faultproxy import KINDS, Schedule

from .faultproxy import FaultProxy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(ROOT, '.venv', 'bin', 'trytond-worker')

CASHIERS = {}


class RunFailure(AssertionError):
    pass


class FaultRun:

    def __init__(self, server, terminals=('BXL1',), worker=False,
            verbose=True, timeout=300):
        self.server = server
        self.terminals = list(terminals)
        self.worker = worker
        self.verbose = verbose
        self.timeout = timeout
        self.office = Backoffice(server)
        self.worker_process = None
        self.node = None
        # one proxy per terminal: each till's schedule numbers its own
        # requests, whatever the other tills do meanwhile
        self.proxies = {}
        self.lock = threading.Lock()
        self.answers = {}
        self.answered = threading.Condition()
        self.commands = 0
        # per terminal: what the till committed, what it sold
        self.committed = {t: [] for t in self.terminals}
        self.sold = Counter()
        self.shifts = []
        self.injected = Counter()
        self.kills = Counter()
        self.restarts = []
        self.receipts = {}

    def say(self, *args):
        if self.verbose:
            print(*args, flush=True)

    # -- processes -----------------------------------------------------------
    def start(self):
        self.started = time.monotonic()
        admin = self.office.admin
        self.office.float_transfer_type()
        self.office.cash_difference_type()
        # what was there before the run (the demo's own sales, moves)
        self.baseline = {
            'moves': self._moved(),
            'account_line': max(admin.model('account.move.line', 'search',
                    [], 0, 1, [('id', 'DESC')]) or [0]),
            'lost_tasks': self.lost_tasks(),
            }
        if self.worker:
            self.start_worker()
        for prefix in self.terminals:
            self.proxies[prefix] = FaultProxy(self.server.port,
                kill_server=self.kill_server, kill_worker=self.kill_worker
                ).start()
        self.node = subprocess.Popen(['node', os.path.join(HERE, 'till.mjs')],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=ROOT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        for prefix in self.terminals:
            branch = self.office.terminal(prefix)['branch.']['code']
            employee, pin = CASHIERS.get(branch) or self.office.cashier(
                branch)
            answer = self.command({'cmd': 'enroll', 'till': prefix,
                    'url': self.server.url, 'database': self.server.database,
                    'code': self.office.enrollment_code(prefix), 'pin': pin,
                    'employee': employee})
            self.say(f"{prefix}: enrolled (terminal {answer['terminal']}, "
                f"{answer['products']} products to sell)")
        return self

    def start_worker(self):
        self._worker_log = open(os.path.join(self.server.directory,
                'worker.log'), 'ab')
        # One process: trytond-worker's pool of children would outlive a
        # killed parent
        self.worker_process = subprocess.Popen([WORKER,
                '-c', self.server.config_path, '-d', self.server.database,
                '-n', '1'], stdout=self._worker_log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def kill_worker(self):
        "SIGKILL the queue worker (maybe in the middle of posting), restart"
        with self.lock:
            if not self.worker_process:
                return
            os.killpg(self.worker_process.pid, signal.SIGKILL)
            self.worker_process.wait()
            self._worker_log.close()
            self.kills['worker'] += 1
            self.start_worker()

    def kill_server(self):
        "SIGKILL trytond (maybe in the middle of a push), start it again"
        with self.lock:
            process = self.server.process
            os.killpg(process.process.pid, signal.SIGKILL)
            process.process.wait()
            process.stop()
            self.kills['server'] += 1
            started = time.monotonic()
            process.start()
            # refused meanwhile: every till's requests fail at the connection
            self.restarts.append(round(time.monotonic() - started, 1))

    def stop(self):
        if self.node:
            try:
                self.node.stdin.write(json.dumps({'cmd': 'quit'}) + '\n')
                self.node.stdin.close()
                self.node.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.node.kill()
            self.node = None
        for proxy in self.proxies.values():
            proxy.stop()
        self.proxies = {}
        if self.worker_process:
            os.killpg(self.worker_process.pid, signal.SIGTERM)
            self.worker_process.wait(30)
            self._worker_log.close()
            self.worker_process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _read(self):
        for line in self.node.stdout:
            answer = json.loads(line)
            with self.answered:
                self.answers[answer.pop('id')] = answer
                self.answered.notify_all()
        with self.answered:
            self.answers[None] = None
            self.answered.notify_all()

    def command(self, command):
        "Send a command to the tills and wait for its answer"
        with self.answered:
            self.commands += 1
            command = dict(command, id=self.commands)
            self.node.stdin.write(json.dumps(command) + '\n')
            self.node.stdin.flush()
            while command['id'] not in self.answers:
                if None in self.answers:
                    raise RunFailure(
                        f"the tills' process ended ({command['cmd']})")
                self.answered.wait()
            answer = self.answers.pop(command['id'])
        if not answer.pop('ok'):
            raise RunFailure(f"{command['cmd']} failed: {answer['error']}")
        return answer

    # -- a schedule ----------------------------------------------------------
    def shift(self, seed, terminal, sales=3, kill_after=(), tabs=1,
            cash_in=False, weights=None, rate=0.5, kills=(), close=True):
        """One seeded schedule: a shift of the terminal through the proxy
        with the faults drawn from the seed; printed before it runs"""
        schedule = Schedule.generate(seed, requests=6 + 3 * sales,
            rate=rate, weights=weights, kills=kills)
        self.say(f"schedule {terminal} sales={sales} "
            f"tabs={tabs} kill_till_after={list(kill_after)} close={close} "
            f"{schedule}")
        proxy = self.proxies[terminal]
        proxy.use(schedule)
        started = time.monotonic()
        answer = self.command({'cmd': 'shift', 'till': terminal,
                'url': proxy.url, 'direct': self.server.url,
                'seed': seed, 'sales': sales, 'kill_after': list(kill_after),
                'tabs': tabs, 'cash_in': cash_in, 'close': close})
        answer['seconds'] = time.monotonic() - started
        answer['seed'] = seed
        answer['requests'] = proxy.count
        answer['faults'] = [repr(f) for f in schedule.faults.values()
            if f.index < proxy.count]
        self.say(f"  {terminal} seed={seed}: {answer['requests']} requests, "
            f"{len(answer['committed'])} operations, "
            f"{answer['seconds']:.1f} s")
        with self.lock:
            for index, kind in proxy.log:
                if kind in KINDS:
                    self.injected[kind] += 1
            self.kills['till'] += answer['killed']
            self.committed[terminal].extend(answer['committed'])
            for product, quantity in answer['sold'].items():
                self.sold[int(product)] += Decimal(quantity) / 1000
            self.receipts[terminal] = answer['receipts']
            self.shifts.append(answer)
        if not answer['z_match']:
            raise RunFailure(f"schedule seed={seed} {terminal}: the server's "
                f"X/Z differs from the till's in {answer['z_differ']}: till "
                f"{answer['z_local']}, server {answer['z_server']}")
        if answer['quarantine']:
            raise RunFailure(f"schedule seed={seed} {terminal}: "
                f"{answer['quarantine']} operations rejected")
        return answer

    def at_once(self, plans):
        """Shifts of different terminals at the same time: plans are
        (seed, terminal, options) with a terminal once at most"""
        assert len({p[1] for p in plans}) == len(plans)
        with ThreadPoolExecutor(len(plans)) as pool:
            futures = [pool.submit(self.shift, seed, terminal, **options)
                for seed, terminal, options in plans]
            return [f.result() for f in futures]

    # -- the checks ----------------------------------------------------------
    def _moved(self):
        "Done stock moves of POS sale lines: quantity per product"
        moved = Counter()
        for move in self._paged('stock.move', [
                    ('origin', 'like', 'sale.point.sale.line,%'),
                    ('state', '=', 'done')],
                ['product', 'quantity', 'from_location.type']):
            sign = 1 if move['from_location.']['type'] == 'storage' else -1
            moved[move['product']] += sign * _decimal(move['quantity'])
        return moved

    def _paged(self, model, domain, fields, size=2000):
        """The records of model matching domain read in pages by id: one
        call for tens of thousands of lines (a long run's account move
        lines) outlasts the RPC client's timeout"""
        admin, records = self.office.admin, []
        while True:
            last = records[-1]['id'] if records else 0
            page = admin.model(model, 'search_read',
                [('id', '>', last)] + list(domain), 0, size, [('id', 'ASC')],
                fields)
            records.extend(page)
            if len(page) < size:
                return records

    def wait_posted(self):
        """Wait until nothing is pending posting; the tills stay open
        meanwhile (their heartbeat queues again a posting lost with a killed
        process)"""
        admin = self.office.admin
        end = time.monotonic() + self.timeout
        while True:
            for prefix in self.terminals:
                self.command({'cmd': 'heartbeat', 'till': prefix,
                        'direct': self.server.url})
            pending = admin.model('retail.sync.operation', 'search_count',
                [('posting', '=', 'pending')])
            if not pending:
                return
            if time.monotonic() > end:
                raise RunFailure(f"{pending} operations still not posted "
                    f"after {self.timeout} s")
            time.sleep(0.5)

    def lost_tasks(self):
        """Posting tasks taken by a worker killed before it finished them
        (ir.queue has no RPC access: read in the database)"""
        if self.server.backend != 'postgresql':
            return None
        import psycopg
        with psycopg.connect(server_module._pg_conninfo(self.server.db_uri,
                    self.server.database)) as connection:
            return connection.execute("SELECT COUNT(*) FROM ir_queue "
                "WHERE name = 'retail_sync_post' "
                "AND dequeued_at IS NOT NULL AND finished_at IS NULL"
                ).fetchone()[0]

    def check(self):
        """Lost, doubled, gaps, stock, account moves; raises RunFailure
        naming what differs, returns the counts"""
        admin = self.office.admin
        self.wait_posted()
        report = {'schedules': len(self.shifts), 'operations': 0, 'lost': 0,
            'doubled': 0, 'gaps': 0, 'receipt_duplicates': 0,
            'failed_posting': admin.model('retail.sync.operation',
                'search_count', [('posting', '=', 'failed')]),
            'faults': dict(sorted(self.injected.items())),
            'kills': dict(sorted(self.kills.items())),
            'server_restart_seconds': self.restarts,
            'z_mismatches': sum(not s['z_match'] for s in self.shifts)}
        problems = []
        for prefix in self.terminals:
            terminal = self.office.terminal(prefix)['id']
            rows = self._paged('retail.sync.operation',
                [('terminal', '=', terminal)], ['uuid', 'state'])
            on_server = Counter(r['uuid'] for r in rows)
            mine = self.committed[prefix]
            report['operations'] += len(mine)
            lost = [u for u in mine if u not in on_server]
            doubled = [u for u, n in on_server.items() if n > 1]
            if len(set(mine)) != len(mine):
                problems.append(f"{prefix}: the till committed a UUID twice")
            report['lost'] += len(lost)
            report['doubled'] += len(doubled)
            if lost or doubled:
                problems.append(f"{prefix}: lost {lost[:5]}, doubled "
                    f"{doubled[:5]}")
            rejected = [r['uuid'] for r in rows if r['state'] == 'rejected'
                and r['uuid'] in set(mine)]
            if rejected:
                problems.append(f"{prefix}: rejected {rejected[:5]}")
            receipts = self.receipts.get(prefix)
            if receipts:
                report['gaps'] += len(receipts['gaps'])
                report['receipt_duplicates'] += len(receipts['duplicates'])
                if receipts['gaps'] or receipts['duplicates']:
                    problems.append(f"{prefix}: receipts {receipts}")
        if report['failed_posting']:
            problems.append(f"{report['failed_posting']} postings failed")
        moved = self._moved()
        for product in set(moved) | set(self.sold):
            delta = moved[product] - self.baseline['moves'][product]
            if delta != self.sold[product]:
                problems.append(f"product {product}: stock moves "
                    f"{delta}, sold {self.sold[product]}")
                report['stock_mismatches'] = report.get(
                    'stock_mismatches', 0) + 1
        lines = self._paged('account.move.line',
            [('id', '>', self.baseline['account_line'])],
            ['move', 'debit', 'credit'])
        balance = Counter()
        for line in lines:
            balance[line['move']] += (_decimal(line['debit'])
                - _decimal(line['credit']))
        unbalanced = [m for m, b in balance.items() if b]
        # posting tasks taken by a worker killed before it finished them
        # (their sales were posted by the task the heartbeat queued again)
        lost_tasks = self.lost_tasks()
        report['lost_tasks'] = (lost_tasks - self.baseline['lost_tasks']
            if lost_tasks is not None else None)
        report['account_moves'] = len(balance)
        report['unbalanced'] = len(unbalanced)
        if unbalanced:
            problems.append(f"unbalanced account moves {unbalanced[:5]}")
        report['seconds'] = round(time.monotonic() - self.started)
        self.say("counts: " + json.dumps(report, default=str))
        if problems:
            raise RunFailure('; '.join(problems))
        return report
