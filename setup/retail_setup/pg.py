"""A throwaway PostgreSQL server for tests, benchmarks and trials.

Started with the Debian binaries in a temporary directory, on a free
loopback port, with a Unix socket in the same directory; stopped and
removed on exit, also when the code inside the ``with`` block fails."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from . import SetupError

PG_BIN = os.environ.get('RETAIL_PG_BIN', '/usr/lib/postgresql/15/bin')


def free_port(host='127.0.0.1'):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_in_use(port, host='127.0.0.1'):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def _check_binaries():
    for name in ['initdb', 'pg_ctl', 'postgres']:
        if not os.access(os.path.join(PG_BIN, name), os.X_OK):
            raise SetupError(
                f"PostgreSQL 15 is not installed ({PG_BIN}/{name} is "
                "missing): run 'apt-get install postgresql-15' or "
                "'./setup/test', which installs it.")


class PostgresServer:
    """Start a PostgreSQL 15 server; ``uri`` is its connection URI.

    When RETAIL_TEST_PG_URI is set (the test runner started one already),
    that server is reused and nothing is started or stopped.

    directory: a data directory kept between runs (made on the first one,
    stopped cleanly and kept on exit) instead of a temporary one removed.
    durable: PostgreSQL's own defaults (fsync, synchronous_commit and
    full_page_writes on: a committed transaction survives a crash of the
    machine), as a production server runs; without it the server trades
    durability for speed, which only tests may do."""

    def __init__(self, reuse_env=True, directory=None, durable=False,
            settings=None):
        self.reuse = (
            os.environ.get('RETAIL_TEST_PG_URI') if reuse_env else None)
        self.kept = directory
        self.directory = None
        self.durable = durable
        self.settings = dict(settings or {})
        self.port = None
        self._run_as = None

    @property
    def uri(self):
        if self.reuse:
            return self.reuse
        return f'postgresql://postgres@127.0.0.1:{self.port}/'

    def _cmd(self, args):
        if self._run_as:
            return ['runuser', '-u', self._run_as, '--'] + args
        return args

    def options(self):
        "The server's settings (postgres -c options)"
        settings = {'listen_addresses': '127.0.0.1', 'max_connections': 200}
        if not self.durable:
            settings.update(fsync='off', synchronous_commit='off',
                full_page_writes='off')
        settings.update(self.settings)
        return ' '.join([f'-p {self.port}', f'-k {self.directory}']
            + [f'-c {k}={v}' for k, v in settings.items()])

    def start(self):
        if self.reuse:
            return self
        _check_binaries()
        if self.kept:
            self.directory = os.path.abspath(self.kept)
            os.makedirs(self.directory, exist_ok=True)
        else:
            self.directory = tempfile.mkdtemp(prefix='retail-pg-')
        data = os.path.join(self.directory, 'data')
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root
            self._run_as = 'postgres'
            try:
                shutil.chown(self.directory, 'postgres')
            except LookupError:
                raise SetupError(
                    "There is no 'postgres' system user to run PostgreSQL: "
                    "run 'apt-get install postgresql-15'.")
        self.port = free_port()
        try:
            if not os.path.exists(os.path.join(data, 'PG_VERSION')):
                subprocess.run(self._cmd([
                            os.path.join(PG_BIN, 'initdb'), '-D', data,
                            '-U', 'postgres', '-A', 'trust', '-E', 'UTF8',
                            '--locale=C.UTF-8', '--no-sync']),
                    check=True, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE)
            subprocess.run(self._cmd([
                        os.path.join(PG_BIN, 'pg_ctl'), '-D', data,
                        '-l', os.path.join(self.directory, 'server.log'),
                        '-w', '-t', '60', '-o', self.options(), 'start']),
                check=True, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
        except subprocess.CalledProcessError as exc:
            log = ''
            log_path = os.path.join(self.directory, 'server.log')
            if os.path.exists(log_path):
                with open(log_path) as fp:
                    log = fp.read()[-2000:]
            self.stop()
            raise SetupError(
                "PostgreSQL did not start: "
                f"{(exc.stderr or b'').decode().strip()} {log}".strip())
        return self

    def stop(self):
        if self.reuse or not self.directory:
            return
        data = os.path.join(self.directory, 'data')
        if os.path.exists(os.path.join(data, 'postmaster.pid')):
            subprocess.run(self._cmd([
                        os.path.join(PG_BIN, 'pg_ctl'), '-D', data,
                        '-m', 'fast' if self.kept else 'immediate',
                        '-w', 'stop']),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not self.kept:
            shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def check_postgresql_uri(uri, timeout=5):
    """Check that a PostgreSQL server answers at uri, or raise SetupError
    with what to do"""
    try:
        import psycopg
    except ImportError:
        raise SetupError(
            "The PostgreSQL driver is missing: run './setup/start' once "
            "to install it.")
    try:
        conninfo = uri.rstrip('/') + '/postgres' if uri.count('/') <= 3 \
            else uri
        with psycopg.connect(conninfo, connect_timeout=timeout):
            pass
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc) else 'refused'
        raise SetupError(
            f"Cannot reach PostgreSQL at {uri}: {reason}. Check that the "
            "server runs, and the host, port, user and password in the URI.")


def wait_for(predicate, timeout, interval=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False
