"""Run every test of the suite, on SQLite and on a real PostgreSQL 15.

- each addon's Tryton tests (module tests and proteus scenarios) on SQLite,
  then again on a PostgreSQL server started here for the run;
- the Python test suites (the hardware proxy's, and the cross-component
  tests under tests/, end to end included) with that server available
  through RETAIL_TEST_PG_URI;
- the POS client's unit tests (npm test) and its lint (ESLint);
- lint: ruff (ruff.toml) and isort (.isort.cfg) over the Python files.
The server is stopped at the end, also when tests fail.  The last line is
the total, "N passed, N failed, N skipped"."""
import argparse
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from . import ROOT, SetupError, addon_modules, addon_path, test_addon_modules
from .pg import PostgresServer

PY = sys.executable


class Totals:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.suites = []

    def add(self, name, passed, failed, skipped, seconds, ok):
        if not ok and not failed:
            # A suite that crashed before counting counts as one failure
            failed = 1
        self.passed += passed
        self.failed += failed
        self.skipped += skipped
        self.suites.append((name, passed, failed, skipped, seconds))


# With --jobs > 1 suites run side by side: each one's output is printed
# whole when it ends (a line says when it starts), never interleaved
_lanes = threading.local()
_print_lock = threading.Lock()


def _run(cmd, env=None, cwd=ROOT, timeout=None):
    buffered = getattr(_lanes, 'buffered', False)
    with _print_lock:
        print(f"$ {' '.join(cmd)}" + (" (started)" if buffered else ''),
            flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors='replace')
    output = []
    for line in proc.stdout:
        if not buffered:
            sys.stdout.write(line)
        output.append(line)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    seconds = time.monotonic() - start
    if buffered:
        with _print_lock:
            print(f"$ {' '.join(cmd)} (ended after {seconds:.0f}s)")
            sys.stdout.write(''.join(output))
            sys.stdout.flush()
    return proc.returncode, ''.join(output), seconds


def _run_lanes(jobs, lanes):
    """Run jobs (callables, longest first) on lanes threads, each lane
    taking the next job when it is done; a job's exception is raised
    once every lane has stopped"""
    if lanes <= 1:
        for job in jobs:
            job()
        return
    todo = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    errors = []

    def lane():
        _lanes.buffered = True
        while True:
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            try:
                job()
            except BaseException as exc:  # reported after the other lanes
                errors.append(exc)

    threads = [threading.Thread(target=lane) for _ in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _unittest_counts(output):
    ran = sum(int(n) for n in re.findall(r'^Ran (\d+) tests?', output, re.M))
    failed = sum(int(n) for n in re.findall(
            r'(?:failures|errors)=(\d+)', output))
    skipped = sum(int(n) for n in re.findall(r'skipped=(\d+)', output))
    return ran - failed - skipped, failed, skipped


def _pytest_counts(output):
    tail = output.strip().splitlines()[-1] if output.strip() else ''
    def n(word):
        m = re.search(rf'(\d+) {word}', tail)
        return int(m.group(1)) if m else 0
    return n('passed'), n('failed') + n('error'), n('skipped')


def addon_test_modules(addon):
    tests = os.path.join(addon_path(addon), 'tests')
    return [f'trytond.modules.{addon}.tests.{f[:-3]}'
        for f in sorted(os.listdir(tests))
        if f.startswith('test_') and f.endswith('.py')]


def run_addons(totals, backend, env_extra, addons):
    for addon in addons:
        modules = addon_test_modules(addon)
        if not modules:
            continue
        env = dict(os.environ, **env_extra)
        code, output, seconds = _run(
            [PY, '-m', 'unittest', *modules], env=env)
        passed, failed, skipped = _unittest_counts(output)
        totals.add(f'{addon} ({backend})', passed, failed, skipped,
            seconds, code == 0)


def run_upstream(totals, backend, env_extra, addons):
    """Tryton's own tests of the modules the suite extends, with the
    suite's modules activated too (retail_setup/upstream.py)"""
    from .upstream import RETAIL_MODULES
    if not set(RETAIL_MODULES) <= set(addons):
        return
    env = dict(os.environ, **env_extra)
    code, output, seconds = _run(
        [PY, '-m', 'retail_setup.upstream'], env=env)
    passed, failed, skipped = _unittest_counts(output)
    totals.add(f'upstream modules with retail ({backend})', passed, failed,
        skipped, seconds, code == 0)


def run_pytest(totals, name, paths, env):
    paths = [p for p in paths if os.path.isdir(os.path.join(ROOT, p))]
    if not paths:
        return
    code, output, seconds = _run(
        [PY, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', *paths],
        env=env)
    if code == 5:  # no test collected
        code = 0
    passed, failed, skipped = _pytest_counts(output)
    totals.add(name, passed, failed, skipped, seconds, code == 0)


def run_npm(totals):
    pos = os.path.join(ROOT, 'pos_offline_client')
    if not os.path.isfile(os.path.join(pos, 'package.json')):
        return
    code, output, seconds = _run(['npm', 'test', '--silent'], cwd=pos)
    # node's test runner closes with "ℹ pass N", "ℹ fail N", "ℹ skipped N"
    def count(word):
        return sum(int(n) for n in re.findall(
                rf'^(?:ℹ |# ){word} (\d+)', output, re.M))
    passed, failed, skipped = count('pass'), count('fail'), count('skipped')
    totals.add('pos_offline_client (npm test)', passed, failed, skipped,
        seconds, code == 0)
    # ESLint (pos_offline_client/eslint.config.js): a file passes when it
    # has no problem
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, 'eslint.json')
        code, _, seconds = _run(['npm', 'run', '--silent', 'lint', '--',
                '--format', 'json', '--output-file', report], cwd=pos)
        try:
            with open(report) as f:
                files = json.load(f)
        except (OSError, ValueError):
            files = []
    bad = 0
    with _print_lock:
        for f in files:
            if f['errorCount'] or f['warningCount']:
                bad += 1
            for m in f['messages']:
                print(f"{os.path.relpath(f['filePath'], pos)}:"
                    f"{m.get('line')}:{m.get('column')}: {m['message']} "
                    f"({m.get('ruleId')})")
    totals.add('pos_offline_client (eslint)', len(files) - bad, bad, 0,
        seconds, code == 0 and bool(files))


def run_lint(totals):
    """ruff (ruff.toml) and isort (.isort.cfg) over the repository's Python
    files: a file passes when neither finds anything in it"""
    start = time.monotonic()
    listing = subprocess.run([PY, '-m', 'ruff', 'check', '--show-files', '.'],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    code = listing.returncode
    def rel(path):
        return os.path.relpath(os.path.join(ROOT, path), ROOT)
    files = {rel(line.strip())
        for line in listing.stdout.splitlines()
        if line.strip().endswith('.py')}
    ruff_code, ruff_out, _ = _run(
        [PY, '-m', 'ruff', 'check', '--output-format', 'concise', '.'])
    isort_code, isort_out, _ = _run(
        [PY, '-m', 'isort', '--check-only', '--diff', '.'])
    bad = {rel(m) for m in re.findall(
            r'^([^\s:]+\.py):\d+:\d+: ', ruff_out, re.M)}
    bad |= {rel(m) for m in re.findall(
            r'^ERROR: (\S+\.py) Imports are incorrectly sorted', isort_out,
            re.M)}
    ok = code == 0 and ruff_code == 0 and isort_code == 0
    totals.add('lint (ruff, isort)', len(files - bad), len(bad), 0,
        time.monotonic() - start, ok and bool(files))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='setup/test')
    parser.add_argument('--sqlite-only', action='store_true',
        help="skip PostgreSQL (quick local runs)")
    parser.add_argument('--addons', help="comma-separated addons to test "
        "('' for none)")
    parser.add_argument('--no-pytest', action='store_true')
    parser.add_argument('--no-npm', action='store_true')
    parser.add_argument('--no-lint', action='store_true',
        help="skip ruff and isort")
    parser.add_argument('--jobs', type=int, default=2, metavar='N',
        help="suites run side by side (default 2, one per core of the "
        "smallest machine the suite is tested on; 1 streams each "
        "suite's output as it runs)")
    parser.add_argument('--no-upstream', action='store_true',
        help="skip Tryton's own tests of the modules the suite extends")
    args = parser.parse_args(argv)

    started = time.monotonic()
    totals = Totals()
    # (--addons '': none, e.g. for the lint suite alone)
    addons = [a for a in args.addons.split(',') if a] if (
        args.addons is not None) else (
        addon_modules() + test_addon_modules())
    # A fresh cache per run, of this run only (never a shared path under
    # var/): it must never hide a module change
    cache = tempfile.mkdtemp(prefix='retail-test-cache-')
    base_env = {
        'PYTHONPATH': os.pathsep.join(filter(None, [
                    ROOT, os.path.join(ROOT, 'setup'),
                    os.environ.get('PYTHONPATH')])),
        'TRYTOND_CONFIG': '',
        }
    os.environ.pop('TRYTOND_DATABASE_URI', None)
    os.environ.pop('TRYTOND_CONFIG', None)

    try:
        # One connection serves every transaction of SQLite's memory
        # database: trytond's cache sync, run by the first transaction
        # started after [cache] clean_timeout, turns it to autocommit,
        # which commits the running test's writes (see
        # addons/retail_sync/tests/__init__.py); a test run has nothing
        # to sync
        sqlite_env = dict(base_env,
            DB_NAME=':memory:', DB_CACHE=os.path.join(cache, 'sqlite'),
            TRYTOND_CACHE__CLEAN_TIMEOUT=str(10 ** 9))
        if args.sqlite_only:
            pg = None
        else:
            pg = PostgresServer(reuse_env=False).start()
        try:
            pg_env = {}
            if pg:
                pg_env = {
                    'TRYTOND_DATABASE_URI': pg.uri,
                    'DB_NAME': 'test',
                    'DB_CACHE': pg.uri.rstrip('/'),
                    'RETAIL_TEST_PG_URI': pg.uri,
                    'PGHOST': '127.0.0.1', 'PGPORT': str(pg.port),
                    'PGUSER': 'postgres',
                    }
            env = dict(os.environ, **base_env)
            env.update({k: v for k, v in pg_env.items()
                    if k == 'RETAIL_TEST_PG_URI'})
            # The suites, longest first, on args.jobs lanes.  The Tryton
            # suites on PostgreSQL share the database "test": one lane
            # runs them one after the other
            jobs = []
            if not args.no_pytest:
                jobs.append(lambda: run_pytest(totals, 'tests/ (pytest)',
                        ['tests'], env))
            if pg:
                pg_suites_env = dict(base_env, **pg_env)

                def pg_suites():
                    run_addons(totals, 'PostgreSQL', pg_suites_env, addons)
                    if not args.no_upstream:
                        run_upstream(totals, 'PostgreSQL', pg_suites_env,
                            addons)
                jobs.append(pg_suites)
            jobs.append(lambda: run_addons(totals, 'SQLite', sqlite_env,
                    addons))
            if not args.no_upstream:
                # (its own cache: it may run beside the suite's modules)
                jobs.append(lambda: run_upstream(totals, 'SQLite',
                        dict(sqlite_env, DB_CACHE=os.path.join(
                                cache, 'sqlite-upstream')), addons))
            if not args.no_pytest:
                jobs.append(lambda: run_pytest(totals, 'iot_proxy (pytest)',
                        ['iot_proxy/tests'], env))
            if not args.no_npm:
                jobs.append(lambda: run_npm(totals))
            if not args.no_lint:
                jobs.append(lambda: run_lint(totals))
            _run_lanes(jobs, args.jobs)
        finally:
            if pg:
                pg.stop()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    print()
    print(f"{'suite':<36} {'passed':>7} {'failed':>7} {'skipped':>8} "
        f"{'seconds':>8}")
    for name, passed, failed, skipped, seconds in totals.suites:
        print(f"{name:<36} {passed:>7} {failed:>7} {skipped:>8} "
            f"{seconds:>8.1f}")
    print(f"Wall time: {time.monotonic() - started:.0f}s")
    print(f"{totals.passed} passed, {totals.failed} failed, "
        f"{totals.skipped} skipped")
    return 1 if totals.failed else 0


if __name__ == '__main__':
    sys.exit(main())
