#!/usr/bin/env python
# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Load and reconnect storm on the production topology, as local processes.

A script run by hand, not a test.  It starts its own PostgreSQL 15 on a
free loopback port in a temporary directory, creates a database with the
demo chain and --products scale variants (setup/retail_setup/scale.py),
then runs what docs/deployment.md describes:

- gunicorn with --wsgi-workers processes serving trytond.application:app,
- two trytond-worker processes (one child each) running the queue,
- trytond-cron,

all reading one trytond.conf with ``[queue] worker = True``.  Over HTTP
only (the sync API and the back office's JSON-RPC), it makes --tills
terminals (the demo's three and more like them, split over the two
branches), enrolls each through the real API (the "Enrollment Code"
wizard, then POST /enroll) and measures:

1. burst: --terminals terminals pushing at once, each --burst-pushes
   pushes of --burst-size sales of 3 lines, one push after the other as a
   till sends them (sales/s, p50/p95/p99 push latency, errors), beside a
   baseline in the same run: one terminal alone making the same pushes;
2. reconnect storm: --terminals terminals each with a backlog of
   --storm-sales sales, pushed in batches of --storm-batch (the till's
   batch size) from the same instant: time until every sale is
   acknowledged (target 60 s) and until every one is posted by the two
   queue workers (target 5 minutes);
3. price change: --price-change products' list price changed through the
   back office (one write of the templates), then --tills tills pulling
   their deltas at once (time, p95 per till, bytes as sent gzipped).

Retries are counted where they happen: the sync API's retries of a lock or
serialisation failure (``sync: retry`` at DEBUG in the WSGI log), the
queue's (``Retry:`` and ``failed after ..., retrying`` of trytond.worker),
the 503 answers the tills retried after Retry-After, and the errors
PostgreSQL logged (serialisation failures, deadlocks, lock timeouts).

Afterwards it checks, and prints, that nothing assumes one process: every
operation pushed is in the database once (lost 0, doubled 0), each
terminal's receipt report (GET /receipts) has no gap and no duplicate,
every pushed sale is posted with its account move and its lines' done
stock moves, every account move balances, and which gunicorn and queue
worker processes did the work.

0. sweep (not in the default scenarios): one terminal of each branch
   alone, then --sweep numbers of terminals at once, each pushing
   --sweep-sales sales in batches of --storm-batch: where the rate of the
   whole stops growing with the terminals.

Every measured phase also prints the CPU seconds each role used (this
script, the WSGI workers, the queue workers, cron, PostgreSQL, and the
rest of the machine), what PostgreSQL's backends of each process were
doing (pg_stat_activity sampled every --sample-interval seconds; each
process names its connections with TRYTOND_APPNAME) and the locks waited
for; with --profile, py-spy's samples of the WSGI workers' requests;
with --statements, the statements that took PostgreSQL the most time
(pg_stat_statements).
--queue-workers 0 measures the acknowledgement alone (two workers are
started after it to post).  PostgreSQL runs with its durable defaults
unless --no-durable; --pg-dir keeps its data directory and the database
made for --products as a template that the next runs copy.  The tills
charge what a till of their branch charges (till_prices.mjs: the till's
catalog and pricing code under node).

Usage: .venv/bin/python tests/benchmarks/bench_load.py
    [--products 20000] [--terminals 50] [--tills 100] [--storm-sales 500]
    [--storm-batch 100] [--burst-pushes 4] [--burst-size 25]
    [--price-change 10000] [--wsgi-workers 4] [--compare-uncached]
    [--queue-workers 2] [--sweep 1,5,10,50] [--sweep-sales 100]
    [--profile] [--statements] [--sample-interval 1.0]
    [--pg-dir DIR [--update-template]] [--no-durable]
    [--scenarios pull,sweep,burst,storm]
"""
import argparse
import collections
import contextlib
import gzip
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
sys.path[:0] = [ROOT, os.path.join(ROOT, 'setup')]

from retail_setup import server as srv  # noqa: E402
from retail_setup.cli import ADMIN_PASSWORD  # noqa: E402
from retail_setup.cli import modules_stamp  # noqa: E402
from retail_setup.cli import _modules as cli_modules  # noqa: E402
from retail_setup.demo import EMPLOYEES  # noqa: E402
from retail_setup.pg import PostgresServer, free_port  # noqa: E402
from tests.support.rpc import Client  # noqa: E402
from tests.support.servers import PREPARE  # noqa: E402

BIN = os.path.dirname(sys.executable)
DATABASE = 'bench_load'
LOGCONF = """[loggers]
keys=root,sync,worker

[handlers]
keys=file

[formatters]
keys=plain

[logger_root]
level=WARNING
handlers=file

[logger_sync]
level=DEBUG
handlers=
qualname=trytond.modules.retail_sync.routes

[logger_worker]
level=DEBUG
handlers=
qualname=trytond.worker

[handler_file]
class=FileHandler
level=DEBUG
formatter=plain
args=({path!r}, 'a')

[formatter_plain]
format=%(process)d [%(asctime)s] %(levelname)s %(name)s %(message)s
"""
# gunicorn's: its access log (the process that served each request) and
# trytond's loggers in one file (TRYTOND_LOGGING_CONFIG would disable
# gunicorn's loggers)
GUNICORN_LOGCONF = """[loggers]
keys=root,sync,access

[handlers]
keys=file,access

[formatters]
keys=plain,message

[logger_root]
level=WARNING
handlers=file

[logger_sync]
level=DEBUG
handlers=
qualname=trytond.modules.retail_sync.routes

[logger_access]
level=INFO
handlers=access
propagate=0
qualname=gunicorn.access

[handler_file]
class=FileHandler
level=DEBUG
formatter=plain
args=({path!r}, 'a')

[handler_access]
class=FileHandler
level=INFO
formatter=message
args=({access!r}, 'a')

[formatter_plain]
format=%(process)d [%(asctime)s] %(levelname)s %(name)s %(message)s

[formatter_message]
format=%(message)s
"""
PG_ERRORS = {
    'serialization failure': 'could not serialize access',
    'deadlock': 'deadlock detected',
    'lock not available': 'could not obtain lock',
    'lock timeout': 'canceling statement due to lock timeout',
    'unique violation': 'duplicate key value violates unique constraint',
    }


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * len(values))))]


def loadavg():
    return '/'.join(f'{v:.2f}' for v in os.getloadavg())


def say(*args):
    print(*args, flush=True)


class Process:
    "One process of the topology, in its own session, logging to a file"

    def __init__(self, name, args, env, log_path):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, 'ab')
        self.process = subprocess.Popen(args, env=env, cwd=ROOT,
            stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        else:
            # trytond-worker's child may outlive its parent
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()


class Topology:
    """gunicorn (WSGI workers), two trytond-worker processes and
    trytond-cron on one configuration"""

    def __init__(self, directory, pg_uri, wsgi_workers, queue_workers=2,
            worker_nice=0):
        self.directory = directory
        self.pg_uri = pg_uri
        self.port = free_port()
        self.config = os.path.join(directory, 'trytond.conf')
        self.configure()
        self.wsgi_workers = wsgi_workers
        self.worker_nice = worker_nice
        self.queue_workers = queue_workers
        self.processes = []

    def configure(self, retail_sync=None):
        "Write trytond.conf, with these [retail_sync] options"
        extra = {'queue': {'worker': 'True'}}
        if retail_sync:
            extra['retail_sync'] = retail_sync
        srv.write_config(self.config, self.pg_uri, self.port,
            db_path=os.path.join(self.directory, 'db'), extra=extra)

    @property
    def url(self):
        return f'http://127.0.0.1:{self.port}/'

    def log(self, name):
        return os.path.join(self.directory, f'{name}.log')

    def logconf(self, name):
        path = os.path.join(self.directory, f'{name}.logconf')
        with open(path, 'w') as fp:
            fp.write(LOGCONF.format(path=self.log(name)))
        return path

    def gunicorn_logconf(self):
        path = os.path.join(self.directory, 'gunicorn.logconf')
        with open(path, 'w') as fp:
            fp.write(GUNICORN_LOGCONF.format(path=self.log('wsgi'),
                    access=self.log('access')))
        return path

    def env(self, name):
        # TRYTOND_APPNAME: PostgreSQL's application_name of the process's
        # connections (pg_stat_activity tells whose each backend is)
        return dict(os.environ, TRYTOND_CONFIG=self.config,
            TRYTOND_DATABASE_NAMES=DATABASE, TRYTOND_APPNAME=name)

    def start_queue_workers(self, count, first=1):
        for n in range(first, first + count):
            # nice: the posting yields the cores to the pushes
            # (docs/deployment.md, Nice= of trytond-worker.service)
            nice = (['nice', '-n', str(self.worker_nice)]
                if self.worker_nice else [])
            self.processes.append(Process(f'worker{n}', nice + [
                        os.path.join(BIN, 'trytond-worker'),
                        '-c', self.config, '-d', DATABASE, '-n', '1',
                        '--logconf', self.logconf(f'worker{n}')],
                    self.env(f'worker{n}'), self.log(f'worker{n}.out')))

    def start(self):
        self.processes.append(Process('gunicorn', [
                    os.path.join(BIN, 'gunicorn'),
                    '--workers', str(self.wsgi_workers),
                    '--bind', f'127.0.0.1:{self.port}',
                    '--timeout', '600',
                    '--log-config', self.gunicorn_logconf(),
                    '--access-logformat', '%(p)s %(m)s %(U)s %(s)s %(L)s',
                    'trytond.application:app'],
                self.env('wsgi'), self.log('gunicorn')))
        self.start_queue_workers(self.queue_workers)
        self.processes.append(Process('cron', [
                    os.path.join(BIN, 'trytond-cron'), '-c', self.config,
                    '-d', DATABASE, '--logconf', self.logconf('cron')],
                self.env('cron'), self.log('cron.out')))
        end = time.monotonic() + 180
        while time.monotonic() < end:
            for process in self.processes:
                if not process.alive():
                    raise RuntimeError(
                        f"{process.name} stopped; see {process.log_path}")
            try:
                urllib.request.urlopen(
                    f'{self.url}{DATABASE}/retail_sync/v1/status',
                    timeout=5).close()
            except urllib.error.HTTPError:
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise RuntimeError("gunicorn did not answer within 180 s")

    def stop(self):
        for process in reversed(self.processes):
            process.stop()
        self.processes = []

    def count(self, name, pattern):
        path = self.log(name)
        if not os.path.exists(path):
            return 0
        with open(path, errors='replace') as fp:
            return sum(1 for line in fp if pattern in line)

    def worker_names(self):
        return [p.name for p in self.processes
            if p.name.startswith('worker')]

    def pids(self):
        """{pid: role} of the processes started (their children belong to
        it); both queue workers are the role 'queue workers'"""
        return {p.process.pid: ('queue workers'
                if p.name.startswith('worker') else p.name)
            for p in self.processes}

    def retries(self):
        "The retries logged so far, by where they happened"
        workers = self.worker_names()
        return {
            'sync API retries (lock/serialisation)': self.count(
                'wsgi', 'sync: retry'),
            'sync API gave up (503)': self.count('wsgi', 'sync: gave up'),
            'queue task retries': sum(self.count(w, 'Retry:')
                for w in workers),
            'queue tasks rescheduled': sum(self.count(w, 'retrying')
                for w in workers),
            }

    def tasks_by_worker(self):
        return {w: self.count(w, '@' + DATABASE + '> in ')
            for w in self.worker_names()}

    def pushes_by_pid(self):
        by_pid = collections.Counter()
        with open(self.log('access'), errors='replace') as fp:
            for line in fp:
                pid, method, path, *_ = line.split()
                if method == 'POST' and path.endswith('/push'):
                    by_pid[pid] += 1
        return dict(by_pid)


class Sync:
    "The sync API as a till calls it"

    def __init__(self, url, key=None):
        self.base = f'{url}{DATABASE}/retail_sync/v1/'
        self.key = key
        self.busy = 0

    def call(self, path, body=None, timeout=600):
        """(status, answer, bytes received); a 503 is retried after its
        Retry-After, as the till does, and counted"""
        data = None
        headers = {'Accept-Encoding': 'gzip'}
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        if self.key:
            headers['Authorization'] = f'Bearer {self.key}'
        while True:
            request = urllib.request.Request(self.base + path, data=data,
                headers=headers)
            try:
                with urllib.request.urlopen(request,
                        timeout=timeout) as response:
                    raw = response.read()
                    status = response.status
                    encoding = response.headers.get('Content-Encoding')
            except urllib.error.HTTPError as e:
                raw = e.read()
                status = e.code
                encoding = e.headers.get('Content-Encoding')
                if status == 503:
                    self.busy += 1
                    time.sleep(float(e.headers.get('Retry-After') or 2))
                    continue
            size = len(raw)
            if encoding == 'gzip':
                raw = gzip.decompress(raw)
            return status, json.loads(raw) if raw else None, size


class Terminal:
    "An enrolled till: its numbering and what it pushed"

    def __init__(self, url, record, key, enrolled, employee, cash):
        self.id = record['id']
        self.prefix = record['receipt_prefix']
        self.branch = record['branch.']['code']
        self.sync = Sync(url, key)
        self.receipt = enrolled['last_receipt_number'] or 0
        self.sequence = enrolled['last_sequence'] or 0
        self.employee = employee
        self.cash = cash
        self.sent = []
        self.cursor = None

    def sale(self, lines):
        self.receipt += 1
        self.sequence += 1
        # The amount each line charges (its quantity times its price,
        # rounded to the currency as the till does)
        total = sum(Decimal(line.pop('amount')) for line in lines)
        operation = {
            'uuid': str(uuid.uuid4()), 'type': 'sale',
            'terminal': self.id, 'sequence': self.sequence,
            'client_time': datetime.now(timezone.utc).isoformat(),
            'employee': self.employee,
            'payload': {'receipt_number': self.receipt, 'customer': None,
                'lines': lines,
                'payments': [{'method': self.cash, 'amount': str(total)}],
                'total': str(total)}}
        self.sent.append(operation['uuid'])
        return operation

    def push(self, operations):
        "(seconds, errors) of one push"
        started = time.monotonic()
        status, answer, _ = self.sync.call('push', {
                'terminal': self.id, 'app_version': 'bench-load',
                'pending_operations': 0, 'operations': operations})
        elapsed = time.monotonic() - started
        if status != 200:
            say(f"  push of {self.prefix}: HTTP {status} {answer}")
            return elapsed, len(operations)
        errors = [r for r in answer['results']
            if r['status'] not in ('accepted', 'duplicate')]
        if errors:
            say(f"  push of {self.prefix}: {errors[:2]}")
        return elapsed, len(errors)


class Catalog:
    "Sale lines over the scale products, each product in turn"

    def __init__(self, products):
        self.products = products
        self.next = 0
        self.lock = threading.Lock()

    def lines(self, count=3):
        "Lines of one unit each, with the amount the till charges"
        with self.lock:
            start, self.next = self.next, self.next + count
        return [dict(self.products[(start + i) % len(self.products)],
                quantity='1', discount=None, lot=None)
            for i in range(count)]


def till_prices(records, products, currency_digits=2):
    """{product id: {unit_price, amount, source}}: the unit price and line
    amount of one unit as the till works them out from its bootstrap's
    records (tests/benchmarks/till_prices.mjs runs the till's catalog and
    pricing code under node)"""
    result = subprocess.run(['node',
            os.path.join(os.path.dirname(os.path.abspath(__file__)),
                'till_prices.mjs')],
        input=json.dumps({'records': records, 'products': products,
                'currency_digits': currency_digits}),
        capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def run_together(terminals, work):
    """Run work(terminal) for every terminal in its own thread, started
    at the same instant; return (seconds, results)"""
    barrier = threading.Barrier(len(terminals) + 1)
    results = [None] * len(terminals)

    def target(i, terminal):
        barrier.wait()
        results[i] = work(terminal)
    # daemon: an interrupted run exits (its topology stopped by main)
    threads = [threading.Thread(target=target, args=(i, t), daemon=True)
        for i, t in enumerate(terminals)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, results


def latency_line(times):
    return (f"p50 {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {percentile(times, 95) * 1000:.0f} ms, "
        f"p99 {percentile(times, 99) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {len(times)} pushes")


class Profiler:
    """py-spy recording every WSGI worker (--profile): samples of every
    thread, idle ones included (waiting for PostgreSQL shows), in
    py-spy's raw format, one file per process, summed up at the end"""

    def __init__(self, bench, label):
        self.bench = bench
        self.label = label
        self.records = []

    def wsgi_pids(self):
        table = proc_table()
        master, = [pid for pid, role in self.bench.topology.pids().items()
            if role == 'gunicorn']
        return [pid for pid, (ppid, _) in table.items() if ppid == master]

    def __enter__(self):
        spy = os.path.join(BIN, 'py-spy')
        for pid in self.wsgi_pids():
            path = os.path.join(self.bench.directory,
                f'py-spy-{self.label}-{pid}.txt')
            self.records.append((path, subprocess.Popen([spy, 'record',
                            '--idle', '--rate', '50', '--format', 'raw',
                            '--pid', str(pid), '--output', path,
                            '--nonblocking'],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)))
        return self

    def __exit__(self, *exc):
        for _, process in self.records:
            process.send_signal(signal.SIGINT)
        for _, process in self.records:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        inclusive, own, total = (collections.Counter(),
            collections.Counter(), 0)
        for path, _ in self.records:
            if not os.path.exists(path):
                continue
            with open(path) as fp:
                for line in fp:
                    stack, _, count = line.rstrip().rpartition(' ')
                    if not count.isdigit():
                        continue
                    count = int(count)
                    if 'dispatch_request' not in stack:
                        # the process's other threads, or between requests
                        continue
                    frames = [f.split(' (')[0] + ' (' + f.split(' (')[-1]
                            .split(':')[0].rsplit('/', 1)[-1] + ')'
                        for f in stack.split(';')]
                    total += count
                    own[frames[-1]] += count
                    for frame in set(frames):
                        inclusive[frame] += count
        if not total:
            say("   py-spy: no samples")
            return
        say(f"   py-spy over the WSGI workers' requests during {self.label} "
            f"({total} samples, files in {self.bench.directory}): "
            "inclusive: " + '; '.join(f'{f} {n / total * 100:.0f} %'
                for f, n in inclusive.most_common(60)
                if 'gunicorn' not in f and 'wsgi' not in f))
        say("   own: " + '; '.join(f'{f} {n / total * 100:.0f} %'
                for f, n in own.most_common(15)))


TICKS = os.sysconf('SC_CLK_TCK')


def proc_table():
    "{pid: (parent pid, CPU seconds used, user and system)} of the machine"
    table = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open(f'/proc/{name}/stat') as fp:
                stat = fp.read()
        except OSError:
            continue
        # after the command's closing parenthesis: state ppid ... utime stime
        fields = stat[stat.rindex(')') + 2:].split()
        table[int(name)] = (int(fields[1]),
            (int(fields[11]) + int(fields[12])) / TICKS)
    return table


def machine_cpu():
    "CPU seconds the whole machine used (not idle, not waiting for IO)"
    with open('/proc/stat') as fp:
        values = [int(v) for v in fp.readline().split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICKS


class Observer:
    """What the machine does during a measured phase: CPU seconds by role
    (this client, the WSGI workers, the queue workers, cron, PostgreSQL,
    everything else on the machine) and, sampled every --sample-interval
    seconds, what each PostgreSQL backend of the database is doing, by
    the process it serves (application_name) and its wait event; the
    locks waited for, by what is locked"""

    def __init__(self, bench, interval):
        self.bench = bench
        self.interval = interval
        self.samples = collections.Counter()
        self.locks = collections.Counter()
        self.count = 0
        self._stop = threading.Event()
        self._thread = None

    def roots(self):
        roots = {os.getpid(): 'client'}
        roots.update(self.bench.topology.pids())
        with open(os.path.join(self.bench.pg.directory, 'data',
                    'postmaster.pid')) as fp:
            roots[int(fp.readline())] = 'postgres'
        return roots

    def cpu(self):
        table = proc_table()
        roots = self.roots()
        by_role = collections.Counter()
        for pid, (ppid, seconds) in table.items():
            p, seen = pid, 0
            while p and p not in roots and seen < 20:
                p, seen = table.get(p, (0, 0))[0], seen + 1
            if p in roots:
                by_role[roots[p]] += seconds
        return by_role, machine_cpu()

    def sample(self):
        import psycopg
        conninfo = srv._pg_conninfo(self.bench.pg.uri, DATABASE)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                rows = conn.execute(
                    'SELECT application_name, state, wait_event_type, '
                    'wait_event FROM pg_stat_activity WHERE datname = %s '
                    'AND pid <> pg_backend_pid() '
                    "AND backend_type = 'client backend'",
                    (DATABASE,)).fetchall()
                self.count += 1
                for app, state, wtype, wevent in rows:
                    if state == 'active':
                        what = (f'waits {wtype}:{wevent}' if wtype
                            else 'runs (CPU)')
                    else:
                        what = state
                    self.samples[(app, what)] += 1
                for row in conn.execute(
                        'SELECT a.application_name, l.locktype, '
                        'l.relation::regclass::text, l.mode '
                        'FROM pg_locks l JOIN pg_stat_activity a '
                        'ON a.pid = l.pid WHERE NOT l.granted '
                        'AND a.datname = %s', (DATABASE,)).fetchall():
                    self.locks[row] += 1

    def statements(self, reset=False):
        """PostgreSQL's statements of the database by total time
        (pg_stat_statements, --statements): reset, or the top ones"""
        import psycopg
        conninfo = srv._pg_conninfo(self.bench.pg.uri, DATABASE)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            if reset:
                conn.execute('CREATE EXTENSION IF NOT EXISTS '
                    'pg_stat_statements')
                conn.execute('SELECT pg_stat_statements_reset()')
                return
            return conn.execute(
                'SELECT s.total_exec_time, s.calls, s.query '
                'FROM pg_stat_statements s JOIN pg_database d '
                'ON d.oid = s.dbid WHERE d.datname = %s '
                'ORDER BY s.total_exec_time DESC LIMIT 12',
                (DATABASE,)).fetchall()

    def __enter__(self):
        self.started = time.monotonic()
        if self.bench.args.statements:
            self.statements(reset=True)
        self.cpu_before, self.machine_before = self.cpu()
        if self.interval:
            self._thread = threading.Thread(target=self.sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.seconds = time.monotonic() - self.started
        cpu_after, machine_after = self.cpu()
        self.by_role = {role: cpu_after[role] - self.cpu_before.get(role, 0)
            for role in cpu_after}
        self.machine = machine_after - self.machine_before
        self.top = (self.statements() if self.bench.args.statements
            else [])

    def report(self, label):
        seconds = self.seconds
        cores = os.cpu_count()
        ours = sum(self.by_role.values())
        parts = [f'{role} {cpu:.1f} s ({cpu / seconds * 100:.0f} %)'
            for role, cpu in sorted(self.by_role.items(),
                key=lambda i: -i[1])]
        parts.append(f'the rest of the machine {self.machine - ours:.1f} s '
            f'({(self.machine - ours) / seconds * 100:.0f} %)')
        say(f"   CPU during {label} ({seconds:.1f} s, {cores} cores = "
            f"{seconds * cores:.0f} CPU s; 100 % = one core): "
            + ', '.join(parts))
        if self.count:
            by_app = collections.defaultdict(list)
            for (app, what), n in self.samples.items():
                by_app[app].append((n, what))
            for app, items in sorted(by_app.items()):
                items.sort(reverse=True)
                say(f"   PostgreSQL backends of {app} (mean over "
                    f"{self.count} samples): " + ', '.join(
                        f'{what} {n / self.count:.2f}'
                        for n, what in items[:6]))
            for total, calls, query in self.top:
                say(f"   statement: {total / 1000:.1f} s in {calls} calls "
                    f"({total / calls:.2f} ms each): "
                    + ' '.join(query.split())[:300])
            if self.locks:
                say("   locks waited for (samples): " + '; '.join(
                        f'{n} x {app} {kind} {rel or ""} {mode}'
                        for (app, kind, rel, mode), n
                        in self.locks.most_common(6)))


class Bench:

    def __init__(self, args, pg, directory):
        self.args = args
        self.pg = pg
        self.directory = directory
        self.topology = None
        log = os.path.join(pg.directory, 'server.log')
        self.pg_log_start = (os.path.getsize(log)
            if os.path.exists(log) else 0)

    def sql(self, query, params=()):
        import psycopg
        conninfo = srv._pg_conninfo(self.pg.uri, DATABASE)
        with psycopg.connect(conninfo) as conn:
            return conn.execute(query, params).fetchall()

    def pg_log(self):
        "The lines PostgreSQL logged since this run started"
        path = os.path.join(self.pg.directory, 'server.log')
        with open(path, errors='replace') as fp:
            fp.seek(self.pg_log_start)
            yield from fp

    def pg_errors(self):
        counts = dict.fromkeys(PG_ERRORS, 0)
        for line in self.pg_log():
            if 'ERROR:' not in line:
                continue
            for name, text in PG_ERRORS.items():
                if text in line:
                    counts[name] += 1
        return counts

    def pg_error_summary(self):
        "The errors PostgreSQL logged, by message"
        messages = collections.Counter()
        for line in self.pg_log():
            if 'ERROR:' in line:
                messages[line.split('ERROR:', 1)[1].strip()] += 1
        say("PostgreSQL errors of the whole run, by message: "
            + ('; '.join(f'{n} x {m}' for m, n in messages.most_common(8))
                or 'none'))

    @contextlib.contextmanager
    def observe(self, label):
        "CPU by role, PostgreSQL's wait events and py-spy (--profile)"
        observer = Observer(self, self.args.sample_interval)
        profiler = (Profiler(self, label.replace(' ', '-'))
            if self.args.profile else contextlib.nullcontext())
        with observer, profiler:
            yield
        observer.report(label)

    def counters(self):
        return dict(self.topology.retries(), **{
                f'PostgreSQL {k}': v for k, v in self.pg_errors().items()})

    def print_retries(self, before, label):
        after = self.counters()
        figures = {k: after[k] - before.get(k, 0) for k in after}
        say(f"  retries during {label}: " + ', '.join(
                f'{k} {v}' for k, v in figures.items()))
        return figures

    def prepare(self):
        started = time.monotonic()
        config = os.path.join(self.directory, 'prepare.conf')
        srv.write_config(config, self.pg.uri, free_port(),
            db_path=os.path.join(self.directory, 'db'))
        template = f'{DATABASE}_template_{self.args.products}'
        kept = self.args.pg_dir and self.template_stamp(template)
        if kept:
            # A database made by an earlier run on this --pg-dir server
            stamp = modules_stamp()
            if kept != stamp:
                if self.args.update_template:
                    srv.update_database(config, template, cli_modules())
                    self.sql_admin(f'COMMENT ON DATABASE "{template}" IS '
                        f"'{stamp}'")
                else:
                    say("WARNING: the modules changed since the kept "
                        f"database {template} was made (--update-template "
                        "updates it)")
            self.sql_admin(f'DROP DATABASE IF EXISTS "{DATABASE}"')
            self.sql_admin(
                f'CREATE DATABASE "{DATABASE}" TEMPLATE "{template}"')
            say(f"database {DATABASE}: copied from {template} (made by an "
                f"earlier run) in {time.monotonic() - started:.0f} s")
            return
        arguments = json.dumps(['postgresql', self.pg.uri, config, DATABASE,
                {'demo': True, 'products': self.args.products,
                    'db_path': os.path.join(self.directory, 'db'),
                    'summary_dir': self.directory}])
        subprocess.run([sys.executable, '-c', PREPARE, arguments],
            cwd=ROOT, check=True, env=dict(os.environ,
                PYTHONPATH=os.pathsep.join([ROOT,
                        os.path.join(ROOT, 'setup')])))
        say(f"database {DATABASE}: demo chain and {self.args.products} "
            f"scale variants in {time.monotonic() - started:.0f} s")
        if self.args.pg_dir:
            # Kept for the next runs on this server
            self.sql_admin(f'DROP DATABASE IF EXISTS "{template}"')
            self.sql_admin(
                f'CREATE DATABASE "{template}" TEMPLATE "{DATABASE}"')
            self.sql_admin(f'COMMENT ON DATABASE "{template}" IS '
                f"'{modules_stamp()}'")

    def sql_admin(self, query, params=()):
        "A statement outside any database's transaction"
        import psycopg
        conninfo = srv._pg_conninfo(self.pg.uri, 'postgres')
        with psycopg.connect(conninfo, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else None

    def template_stamp(self, template):
        "The modules' stamp of the kept database template, or None"
        rows = self.sql_admin('SELECT shobj_description(oid, %s) '
            'FROM pg_database WHERE datname = %s',
            ('pg_database', template))
        return (rows[0][0] or 'unknown') if rows else None

    def terminals(self, admin):
        """The demo's terminals and as many more as --tills, each enrolled
        through the enrollment code and POST /enroll"""
        started = time.monotonic()
        fields = ['id', 'name', 'receipt_prefix', 'branch', 'branch.code',
            'journal', 'sequence', 'storage_location', 'customer_location',
            'tax_included', 'company']
        existing = admin.search_read('sale.point',
            [('receipt_prefix', '!=', None)], fields, [('id', 'ASC')])
        models = {t['branch.']['code']: t for t in existing}
        sequence_type, = {s['sequence_type'] for s in admin.model(
                'ir.sequence.strict', 'read',
                [t['sequence'] for t in existing], ['sequence_type'])}
        branches = sorted(models)
        missing = self.args.tills - len(existing)
        if missing > 0:
            models_for = [models[branches[i % len(branches)]]
                for i in range(missing)]
            prefixes = [f'L{i + 1:03d}' for i in range(missing)]
            sequences = admin.model('ir.sequence.strict', 'create', [{
                        'name': f"Load till {p}",
                        'sequence_type': sequence_type,
                        'company': m['company'], 'prefix': f'{p}-',
                        'padding': 6}
                    for p, m in zip(prefixes, models_for)])
            admin.model('sale.point', 'create', [{
                        'name': f"Load till {p}", 'branch': m['branch'],
                        'receipt_prefix': p, 'tax_included': True,
                        'journal': m['journal'], 'sequence': s,
                        'storage_location': m['storage_location'],
                        'customer_location': m['customer_location'],
                        'company': m['company']}
                    for p, m, s in zip(prefixes, models_for, sequences)])
        records = admin.search_read('sale.point',
            [('receipt_prefix', '!=', None)], fields,
            [('id', 'ASC')])[:self.args.tills]
        employees = {e['party.']['name']: e['id'] for e in admin.search_read(
                'company.employee', [], ['party.name'])}
        cashiers = {}
        for name, _login, role, codes, _pin in EMPLOYEES:
            if role == 'Cashier':
                for code in codes:
                    cashiers.setdefault(code, employees[name])
        cash, = admin.model('sale.point.payment.method', 'search',
            [('cash', '=', True)], 0, 1, None)
        terminals = []
        for record in records:
            result = admin.wizard('retail.sync.enroll', 'create_code',
                'sale.point', record['id'])
            code = result['view']['defaults']['code']
            status, enrolled, _ = Sync(self.topology.url).call('enroll', {
                    'code': code, 'app_version': 'bench-load',
                    'device_name': f"Load bench {record['receipt_prefix']}"})
            assert status == 200, (status, enrolled)
            terminals.append(Terminal(self.topology.url, record,
                    enrolled['device_key'], enrolled,
                    cashiers[record['branch.']['code']], cash))
        say(f"{len(terminals)} terminals enrolled through the API "
            f"({', '.join(f'{b}: {n}' for b, n in sorted(collections.Counter(t.branch for t in terminals).items()))}) "  # noqa: E501
            f"in {time.monotonic() - started:.0f} s")
        return terminals

    def bootstrap(self, terminal):
        """A till's whole bootstrap: the scale products it sells, each at
        the price a till of its branch charges, and the cursor to pull
        from"""
        started = time.monotonic()
        records, page, size = collections.defaultdict(list), None, 0
        while True:
            path = 'bootstrap?limit=5000' + (f'&page={page}' if page else '')
            status, answer, received = terminal.sync.call(path)
            assert status == 200, (status, answer)
            size += received
            for kind, values in answer['records'].items():
                records[kind].extend(values)
            page = answer['next_page']
            if not page:
                break
        scale = [r['id'] for r in records['product']
            if r['name'].startswith('Scale item')]
        prices = till_prices(records, scale)
        products = [{'product': int(id_), 'unit_price': p['unit_price'],
                'price': p['unit_price'], 'amount': p['amount']}
            for id_, p in prices.items() if Decimal(p['amount']) > 0]
        sources = collections.Counter(p['source'] for p in prices.values())
        say(f"bootstrap of {terminal.prefix} ({terminal.branch}): "
            f"{len(records['product'])} products in "
            f"{time.monotonic() - started:.1f} s, {size / 1e6:.1f} MB "
            f"gzipped; {len(products)} scale products to sell at the "
            f"till's prices ({dict(sources)})")
        return products, answer['cursor']

    def catch_up(self, terminals, cursor):
        def pull(terminal):
            terminal.cursor = cursor
            while True:
                status, answer, _ = terminal.sync.call(
                    f'changes?cursor={terminal.cursor}&limit=5000')
                assert status == 200, (status, answer)
                terminal.cursor = answer['cursor']
                if not answer['has_more']:
                    return
        run_together(terminals, pull)

    def price_change(self, admin, tills, cursor, price='7.77'):
        args = self.args
        if cursor:
            self.catch_up(tills, cursor)
        templates = admin.model('product.template', 'search',
            [('code', 'like', 'SC%')], 0, args.price_change,
            [('id', 'ASC')])
        started = time.monotonic()
        # As an import of a price file does it: writes of 500 templates
        for i in range(0, len(templates), 500):
            admin.model('product.template', 'write', templates[i:i + 500],
                {'list_price': {'__class__': 'Decimal', 'decimal': price}})
        written = time.monotonic() - started
        say(f"3. price change: list price of {len(templates)} templates "
            f"written through the back office's RPC (writes of 500) in "
            f"{written:.1f} s (load {loadavg()})")

        def pull(terminal):
            times, size, changes, pages = [], 0, 0, 0
            start = time.monotonic()
            while True:
                t0 = time.monotonic()
                status, answer, received = terminal.sync.call(
                    f'changes?cursor={terminal.cursor}&limit=500')
                times.append(time.monotonic() - t0)
                assert status == 200, (status, answer)
                size += received
                pages += 1
                changes += len(answer['changes'])
                terminal.cursor = answer['cursor']
                if not answer['has_more']:
                    return (time.monotonic() - start, times, size, changes,
                        pages)
        seconds, results = run_together(tills, pull)
        per_till = [r[0] for r in results]
        pages = [t for r in results for t in r[1]]
        sizes = [r[2] for r in results]
        changes = [r[3] for r in results]
        say(f"   {len(tills)} tills pulling at once: all done in "
            f"{seconds:.1f} s; per till p50 {statistics.median(per_till):.1f}"
            f" s, p95 {percentile(per_till, 95):.1f} s, max "
            f"{max(per_till):.1f} s; {min(changes)}-{max(changes)} changes "
            f"per till in pages of 500 (page p95 "
            f"{percentile(pages, 95) * 1000:.0f} ms); "
            f"{statistics.mean(sizes) / 1e6:.2f} MB gzipped per till, "
            f"{sum(sizes) / 1e6:.1f} MB in all (load {loadavg()})")
        return {'seconds': seconds, 'per_till_p95': percentile(per_till, 95)}

    def burst(self, terminals, catalog):
        args = self.args

        def work(terminal):
            times, errors = [], 0
            for _ in range(args.burst_pushes):
                lines = catalog[terminal.branch].lines
                operations = [terminal.sale(lines())
                    for _ in range(args.burst_size)]
                elapsed, failed = terminal.push(operations)
                times.append(elapsed)
                errors += failed
            return times, errors

        sales = args.burst_pushes * args.burst_size
        before = self.counters()
        seconds, (baseline,) = run_together(terminals[:1], work)
        say(f"1. baseline, one terminal alone: {sales} sales in pushes of "
            f"{args.burst_size} in {seconds:.1f} s = "
            f"{sales / seconds:.1f} sales/s; {latency_line(baseline[0])}; "
            f"errors {baseline[1]} (load {loadavg()})")
        self.print_retries(before, 'the baseline')
        before = self.counters()
        busy = sum(t.sync.busy for t in terminals)
        with self.observe('the burst'):
            seconds, results = run_together(terminals, work)
        times = [t for r in results for t in r[0]]
        errors = sum(r[1] for r in results)
        busy = sum(t.sync.busy for t in terminals) - busy
        rate = sales * len(terminals) / seconds
        say(f"   {len(terminals)} terminals at once: "
            f"{sales * len(terminals)} sales in {seconds:.1f} s = "
            f"{rate:.1f} sales/s; {latency_line(times)}; errors {errors}; "
            f"503 answers retried {busy} (load {loadavg()})")
        retries = self.print_retries(before, 'the burst')
        return {'rate': rate, 'errors': errors, 'retries': retries}

    def wait_posted(self, deadline):
        """Wait until no sale is left to post (or deadline; at once when
        no queue worker runs); the counts"""
        counts = self.posting_counts()
        while (counts.get('pending') and self.topology.worker_names()
                and time.monotonic() < deadline):
            time.sleep(1)
            counts = self.posting_counts()
        return counts

    def push_backlogs(self, terminals, catalog, sales, label):
        """Each terminal pushes a backlog of sales in batches of
        --storm-batch, all from the same instant; (seconds, push times,
        errors, 503 answers)"""
        args = self.args
        backlogs = {t.id: [t.sale(catalog[t.branch].lines())
                for _ in range(sales)] for t in terminals}

        def work(terminal):
            backlog = backlogs[terminal.id]
            times, errors = [], 0
            for i in range(0, len(backlog), args.storm_batch):
                elapsed, failed = terminal.push(
                    backlog[i:i + args.storm_batch])
                times.append(elapsed)
                errors += failed
            return times, errors

        busy = sum(t.sync.busy for t in terminals)
        with self.observe(label):
            seconds, results = run_together(terminals, work)
        times = [t for r in results for t in r[0]]
        errors = sum(r[1] for r in results)
        busy = sum(t.sync.busy for t in terminals) - busy
        return seconds, times, errors, busy

    def sweep(self, terminals, catalog):
        """The storm's pushes with 1, 5, ... terminals at once (--sweep):
        where the rate of the whole stops growing with the terminals"""
        args = self.args
        rates = {}
        # One terminal of each branch alone: what a push costs there
        for branch in sorted({t.branch for t in terminals}):
            first = [t for t in terminals if t.branch == branch][:1]
            self.wait_posted(time.monotonic() + args.post_timeout)
            label = f'one terminal of {branch} alone'
            seconds, times, errors, _ = self.push_backlogs(
                first, catalog, args.sweep_sales, label)
            rates[branch] = args.sweep_sales / seconds
            say(f"0. sweep: {label}: {args.sweep_sales} sales in pushes of "
                f"{args.storm_batch} in {seconds:.1f} s = "
                f"{rates[branch]:.1f} sales/s; {latency_line(times)}; "
                f"errors {errors} (load {loadavg()})")
        for count in args.sweep:
            self.wait_posted(time.monotonic() + args.post_timeout)
            before = self.counters()
            label = f'{count} terminals at once'
            seconds, times, errors, busy = self.push_backlogs(
                terminals[:count], catalog, args.sweep_sales, label)
            total = count * args.sweep_sales
            rates[count] = total / seconds
            say(f"0. sweep: {count} terminals x {args.sweep_sales} sales in "
                f"pushes of {args.storm_batch}: {total} acknowledged in "
                f"{seconds:.1f} s = {total / seconds:.1f} sales/s; "
                f"{latency_line(times)}; errors {errors}; 503 answers "
                f"{busy} (load {loadavg()})")
            self.print_retries(before, label)
        say("0. sweep, sales/s by terminals at once: " + ', '.join(
                f'{c}: {r:.1f}' for c, r in rates.items()))
        return rates

    def storm(self, terminals, catalog):
        args = self.args
        total = args.storm_sales * len(terminals)
        # The storm starts on a quiet server: what the burst left to post
        # is posted first (so that the storm's posting time is its own)
        pending_before = self.wait_posted(
            time.monotonic() + args.post_timeout).get('pending', 0)
        before = self.counters()
        started = time.monotonic()
        seconds, times, errors, busy = self.push_backlogs(
            terminals, catalog, args.storm_sales, 'the storm')
        say(f"2. storm: {len(terminals)} terminals x {args.storm_sales} "
            f"sales in pushes of {args.storm_batch}: all {total} "
            f"acknowledged in {seconds:.1f} s = {total / seconds:.1f} "
            f"sales/s (target 60 s: "
            f"{'met' if seconds <= 60 else 'NOT met'}); "
            f"{latency_line(times)}; errors {errors}; 503 answers "
            f"retried {busy} (load {loadavg()})")
        counts = self.posting_counts()
        say(f"   at the last acknowledgement: operations by posting state "
            f"{counts}")
        if not self.topology.worker_names():
            # --queue-workers 0: the acknowledgement measured alone, the
            # posting after it
            posting_started = time.monotonic()
            self.topology.start_queue_workers(2)
            say("   no queue worker ran during the storm: two started now")
            with self.observe('the posting after the storm'):
                counts = self.wait_posted(
                    posting_started + args.post_timeout)
            posting_s = time.monotonic() - posting_started
            say(f"   posted by two queue workers in {posting_s:.1f} s "
                f"= {total / posting_s:.1f} sales/s; operations by posting "
                f"state {counts} (load {loadavg()})")
        else:
            with self.observe('the posting after the acknowledgement'):
                counts = self.wait_posted(started + args.post_timeout)
        posted_s = time.monotonic() - started
        say(f"   all posted by the queue workers {posted_s:.1f} s after the "
            f"storm began (target 300 s: "
            f"{'met' if posted_s <= 300 and not counts.get('pending') else 'NOT met'}); "  # noqa: E501
            f"operations by posting state {counts}; pending before the "
            f"storm {pending_before} (load {loadavg()})")
        retries = self.print_retries(before, 'the storm')
        return {'ack_s': seconds, 'posted_s': posted_s, 'errors': errors,
            'retries': retries}

    def posting_counts(self):
        return dict(self.sql(
                'SELECT posting, count(*) FROM retail_sync_operation '
                "WHERE type = 'sale' GROUP BY posting"))

    def proof(self, terminals, pushed_lines):
        "Nothing lost, nothing doubled, nothing assuming one process"
        ids = [t.id for t in terminals]
        sent = {(t.id, u) for t in terminals for u in t.sent}
        rows = self.sql('SELECT terminal, uuid, count(*) '
            'FROM retail_sync_operation WHERE terminal = ANY(%s) '
            'GROUP BY terminal, uuid', (ids,))
        stored = {(r[0], r[1]): r[2] for r in rows}
        lost = len(sent - set(stored))
        doubled = sum(1 for c in stored.values() if c > 1)
        extra = len(set(stored) - sent)
        gaps, duplicates = 0, 0
        for terminal in terminals:
            status, report, _ = terminal.sync.call('receipts')
            assert status == 200, (status, report)
            gaps += len(report['gaps'])
            duplicates += len(report['duplicates'])
        (sales, posted, moves_ok), = self.sql(
            'SELECT count(*), count(*) FILTER (WHERE s.state = %s '
            'AND m.state = %s), count(m.id) FROM sale_point_sale s '
            'JOIN retail_sync_operation o ON o.sale = s.id '
            'LEFT JOIN account_move m ON m.id = s.move '
            'WHERE o.terminal = ANY(%s)', ('posted', 'posted', ids))
        (stock_moves,), = self.sql(
            'SELECT count(*) FROM stock_move sm '
            'JOIN sale_point_sale_line l '
            "ON sm.origin = 'sale.point.sale.line,' || l.id "
            'JOIN retail_sync_operation o ON o.sale = l.sale '
            "WHERE o.terminal = ANY(%s) AND sm.state = 'done'", (ids,))
        (unbalanced,), = self.sql(
            'SELECT count(*) FROM (SELECT move FROM account_move_line '
            'GROUP BY move HAVING sum(debit) <> sum(credit)) m')
        flags = dict(self.sql(
            'SELECT f.kind, count(*) FROM retail_sync_sale_flag f '
            'JOIN retail_sync_operation o ON o.sale = f.sale '
            'WHERE o.terminal = ANY(%s) GROUP BY f.kind', (ids,)))
        say(f"proof over {len(terminals)} terminals: {len(sent)} operations "
            f"pushed, {len(stored)} stored: lost {lost}, doubled {doubled}, "
            f"unknown {extra}; receipt reports: gaps {gaps}, duplicates "
            f"{duplicates}; sales {sales}, posted with a posted account "
            f"move {posted}; done stock moves of their lines {stock_moves} "
            f"(lines pushed {pushed_lines}); unbalanced account moves "
            f"{unbalanced}; sale flags {flags}")
        say(f"   pushes served by gunicorn worker pid: "
            f"{self.topology.pushes_by_pid()}; queue tasks run by "
            f"{self.topology.tasks_by_worker()}")
        failures = []
        for name, value, expected in [('lost', lost, 0),
                ('doubled', doubled, 0), ('unknown', extra, 0),
                ('gaps', gaps, 0), ('duplicates', duplicates, 0),
                ('posted', posted, len(sent)), ('sales', sales, len(sent)),
                ('stock moves', stock_moves, pushed_lines),
                ('unbalanced', unbalanced, 0)]:
            if value != expected:
                failures.append(f'{name} {value} != {expected}')
        if len(self.topology.pushes_by_pid()) < 2:
            failures.append("one gunicorn process served every push")
        if sum(1 for n in self.topology.tasks_by_worker().values() if n) < 2:
            failures.append("one queue worker ran every task")
        say("proof: " + ('PASSED' if not failures
                else 'FAILED: ' + '; '.join(failures)))
        return not failures

    def run(self):
        args = self.args
        say(f"load average at start {loadavg()}; {os.cpu_count()} CPUs")
        self.prepare()
        self.topology = Topology(self.directory, self.pg.uri,
            args.wsgi_workers, queue_workers=args.queue_workers,
            worker_nice=args.worker_nice)
        self.topology.start()
        say(f"topology: gunicorn {args.wsgi_workers} workers on "
            f"{self.topology.url}, trytond-worker x{args.queue_workers} "
            f"(-n 1), trytond-cron; PostgreSQL "
            f"{'durable' if args.durable else 'NOT durable (fsync off)'}; "
            f"logs in {self.directory}")
        admin = Client(self.topology.url, DATABASE).login(
            'admin', ADMIN_PASSWORD)
        tills = self.terminals(admin)
        terminals = tills[:args.terminals]
        # Each branch's tills charge the branch's prices (Antwerp's price
        # list adds 5 %): a catalog per branch, from one of its tills
        catalog, cursor = {}, None
        for terminal in terminals:
            if terminal.branch not in catalog:
                products, branch_cursor = self.bootstrap(terminal)
                catalog[terminal.branch] = Catalog(products)
                if terminal is terminals[0]:
                    cursor = branch_cursor
        ok = True
        if 'pull' in args.scenarios:
            try:
                self.price_change(admin, tills, cursor)
                if args.compare_uncached:
                    # The same again, every page made for its request
                    self.topology.stop()
                    self.topology.configure({'delta_cache_size': '0'})
                    self.topology.start()
                    say("   again without the page cache "
                        "([retail_sync] delta_cache_size = 0):")
                    self.price_change(admin, tills, None, price='8.88')
            except Exception as e:
                # The push scenarios and their proof still run
                say(f"3. price change FAILED: {e!r}")
                ok = False
        lines = 0
        if 'sweep' in args.scenarios:
            self.sweep(terminals, catalog)
            lines += 3 * args.sweep_sales * (sum(args.sweep) + len(
                    {t.branch for t in terminals}))
        if 'burst' in args.scenarios:
            self.burst(terminals, catalog)
            lines += 3 * args.burst_size * args.burst_pushes * (
                len(terminals) + 1)
        if 'storm' in args.scenarios:
            self.storm(terminals, catalog)
            lines += 3 * args.storm_sales * len(terminals)
        if lines:
            if not self.topology.worker_names():
                self.topology.start_queue_workers(2)
            self.wait_posted(time.monotonic() + args.post_timeout)
            ok = self.proof(terminals, lines) and ok
        self.pg_error_summary()
        say(f"load average at the end {loadavg()}")
        return ok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--products', type=int, default=20000)
    parser.add_argument('--terminals', type=int, default=50)
    parser.add_argument('--tills', type=int, default=100)
    parser.add_argument('--storm-sales', type=int, default=500)
    parser.add_argument('--storm-batch', type=int, default=100)
    parser.add_argument('--burst-pushes', type=int, default=4)
    parser.add_argument('--burst-size', type=int, default=25)
    parser.add_argument('--price-change', type=int, default=10000)
    parser.add_argument('--wsgi-workers', type=int, default=4)
    parser.add_argument('--queue-workers', type=int, default=2,
        help="trytond-worker processes during the pushes; 0: the "
        "acknowledgement measured alone, two workers started after it")
    parser.add_argument('--sweep', default='1,5,10,50',
        help="the sweep scenario's numbers of terminals pushing at once")
    parser.add_argument('--sweep-sales', type=int, default=100,
        help="sales each terminal pushes in each step of the sweep")
    parser.add_argument('--sample-interval', type=float, default=1.0,
        help="seconds between samples of PostgreSQL's activity during "
        "the measured phases (0: none)")
    parser.add_argument('--statements', action='store_true',
        help="PostgreSQL's pg_stat_statements: the statements of each "
        "measured phase that took the most time")
    parser.add_argument('--profile', action='store_true',
        help="py-spy records every WSGI worker during the measured phases")
    parser.add_argument('--pg-dir',
        help="keep PostgreSQL's data directory here, and the database "
        "made for --products as a template that the next runs copy")
    parser.add_argument('--update-template', action='store_true',
        help="with --pg-dir: update the kept database's modules when "
        "their code changed since it was made")
    parser.add_argument('--durable', action=argparse.BooleanOptionalAction,
        default=True, help="PostgreSQL with fsync and synchronous commit "
        "(the default, as in production); --no-durable turns them off")
    parser.add_argument('--worker-nice', type=int, default=0,
        help="the queue workers' nice value (0: the WSGI workers' own)")
    parser.add_argument('--compare-uncached', action='store_true',
        help="after the price change and its pulls, another price change "
        "pulled with the delta page cache off (delta_cache_size = 0)")
    parser.add_argument('--post-timeout', type=int, default=1800,
        help="seconds to wait for the posting to finish")
    parser.add_argument('--scenarios', default='pull,burst,storm',
        help="comma-separated: pull, sweep, burst, storm")
    parser.add_argument('--keep', action='store_true',
        help="keep the logs' directory")
    args = parser.parse_args()
    args.scenarios = set(args.scenarios.split(','))
    args.sweep = [int(n) for n in args.sweep.split(',')]
    args.tills = max(args.tills, args.terminals)

    directory = tempfile.mkdtemp(prefix='bench-load-')
    bench = None
    settings = ({'shared_preload_libraries': 'pg_stat_statements'}
        if args.statements else None)
    with PostgresServer(reuse_env=False, directory=args.pg_dir,
            durable=args.durable, settings=settings) as pg:
        try:
            bench = Bench(args, pg, directory)
            ok = bench.run()
        finally:
            if bench and bench.topology:
                bench.topology.stop()
    if not args.keep:
        import shutil
        shutil.rmtree(directory, ignore_errors=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
