"""Configuration, databases and the trytond process of the suite."""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from . import ROOT, VAR, WEB_ROOT, SetupError, addon_modules
from .pg import check_postgresql_uri, free_port, port_in_use

BIN = os.path.dirname(sys.executable)
DB_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_]{0,62}$')


def parse_db_uri(uri):
    """Return (backend, uri) for a database URI, or raise SetupError"""
    if uri in (None, '', 'sqlite', 'sqlite://'):
        return 'sqlite', 'sqlite://'
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme in ('postgresql', 'postgres'):
        if not parsed.hostname and not parsed.query:
            raise SetupError(
                f"The database URI '{uri}' names no host: use "
                "postgresql://USER:PASSWORD@HOST:PORT/")
        if parsed.path not in ('', '/'):
            raise SetupError(
                f"The database URI '{uri}' must not name a database (it is "
                "the server); give the database with --name.")
        return 'postgresql', urllib.parse.urlunsplit(
            ('postgresql', parsed.netloc, '/', parsed.query, ''))
    raise SetupError(
        f"Unknown database URI '{uri}': use 'sqlite://' (the default) or "
        "postgresql://USER:PASSWORD@HOST:PORT/")


def write_config(path, db_uri, port, web_root=WEB_ROOT, db_path=None,
        extra=None):
    """Write a trytond configuration file for this checkout"""
    db_path = db_path or os.path.join(VAR, 'db')
    os.makedirs(db_path, exist_ok=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = [
        '# Written by setup/start; see trytond.conf.example for every option',
        '[database]',
        f'uri = {db_uri}',
        f'path = {db_path}',
        '# The login screen does not list the tenants: type the name',
        'list = False',
        '',
        '[web]',
        f'listen = 127.0.0.1:{port}',
        f'root = {web_root}',
        '',
        '[session]',
        'timeout = 28800',
        '',
        '[password]',
        'length = 8',
        '',
        ]
    for section, options in (extra or {}).items():
        lines.append(f'[{section}]')
        lines.extend(f'{k} = {v}' for k, v in options.items())
        lines.append('')
    with open(path, 'w') as fp:
        fp.write('\n'.join(lines))
    return path


def database_exists(backend, db_uri, name, db_path=None):
    if backend == 'sqlite':
        return os.path.exists(os.path.join(
                db_path or os.path.join(VAR, 'db'), name + '.sqlite'))
    import psycopg
    with psycopg.connect(_pg_conninfo(db_uri, 'postgres')) as conn:
        cur = conn.execute(
            'SELECT 1 FROM pg_database WHERE datname = %s', (name,))
        return cur.fetchone() is not None


def _pg_conninfo(db_uri, dbname):
    parsed = urllib.parse.urlsplit(db_uri)
    return urllib.parse.urlunsplit(
        ('postgresql', parsed.netloc, '/' + dbname, parsed.query, ''))


def create_database(backend, db_uri, name, db_path=None):
    if not DB_NAME.match(name):
        raise SetupError(
            f"'{name}' is not a valid database name: use letters, digits "
            "and _ , starting with a letter.")
    if backend == 'sqlite':
        path = os.path.join(db_path or os.path.join(VAR, 'db'),
            name + '.sqlite')
        sqlite3.connect(path).close()
        return
    import psycopg
    check_postgresql_uri(db_uri)
    with psycopg.connect(
            _pg_conninfo(db_uri, 'postgres'), autocommit=True) as conn:
        conn.execute(
            f'CREATE DATABASE "{name}" ENCODING \'UTF8\' '
            'TEMPLATE template0')


def drop_database(backend, db_uri, name, db_path=None):
    if backend == 'sqlite':
        path = os.path.join(db_path or os.path.join(VAR, 'db'),
            name + '.sqlite')
        if os.path.exists(path):
            os.remove(path)
        return
    import psycopg
    with psycopg.connect(
            _pg_conninfo(db_uri, 'postgres'), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def initialize_database(config_path, name, password, modules=None):
    """Install the suite's modules in a database with trytond-admin"""
    modules = modules or addon_modules()
    # A private temporary file (mode 0600), not a shared path under var/
    fd, passfile = tempfile.mkstemp(prefix=f'.{name}-', suffix='.pass')
    with os.fdopen(fd, 'w') as fp:
        fp.write(password)
    try:
        _trytond_admin(config_path, name, modules, "Installing the modules in",
            ['--email', 'admin@example.com'],
            dict(os.environ, TRYTONPASSFILE=passfile))
    finally:
        os.remove(passfile)


def _trytond_admin(config_path, name, modules, doing, options=(), env=None):
    """trytond-admin activating or updating modules (and the modules they
    depend on) in database name; SetupError with its last lines if it
    fails"""
    result = subprocess.run([
            os.path.join(BIN, 'trytond-admin'), '-c', config_path,
            '-d', name, *options, '--activate-dependencies', '-u', *modules],
        env=env, capture_output=True, text=True)
    if result.returncode:
        tail = '\n'.join(result.stderr.strip().splitlines()[-15:])
        raise SetupError(f"{doing} database '{name}' failed:\n{tail}")


def update_database(config_path, name, modules):
    """Update the modules (and activate new dependencies) of an existing
    database with trytond-admin"""
    _trytond_admin(config_path, name, modules, "Updating the modules of")


class TrytondProcess:
    """Run trytond with a configuration file and wait until it answers"""

    def __init__(self, config_path, port, databases=(), log_path=None):
        self.config_path = config_path
        self.port = port
        self.databases = list(databases)
        self.log_path = log_path or os.path.join(VAR, 'log', 'trytond.log')
        self.process = None

    @property
    def url(self):
        return f'http://127.0.0.1:{self.port}/'

    def start(self, timeout=120):
        if port_in_use(self.port):
            raise SetupError(
                f"Port {self.port} on 127.0.0.1 is already in use: stop the "
                "program using it or choose another with --port.")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        self._log = open(self.log_path, 'ab')
        env = dict(os.environ)
        if self.databases:
            env['TRYTOND_DATABASE_NAMES'] = ','.join(self.databases)
        self.process = subprocess.Popen([
                os.path.join(BIN, 'trytond'), '-c', self.config_path],
            stdout=self._log, stderr=subprocess.STDOUT, env=env,
            cwd=ROOT, start_new_session=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise SetupError(
                    "trytond stopped at start "
                    f"(exit {self.process.returncode}); see {self.log_path}")
            try:
                urllib.request.urlopen(self.url, timeout=2).close()
                return self
            except urllib.error.HTTPError:
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.stop()
        raise SetupError(
            f"trytond did not answer within {timeout}s; see {self.log_path}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, '_log', None):
            self._log.close()
            self._log = None

    def wait(self):
        return self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def assemble_web_root(web_root=WEB_ROOT):
    """The web root served by trytond: sao at /, the POS at /pos/, the
    counting phones' page at /count/"""
    if not os.path.isfile(os.path.join(web_root, 'index.html')):
        raise SetupError(
            f"The Tryton web client is missing ({web_root}): run "
            "'./setup/start' (or setup/install) to install it.")
    pos = os.path.join(ROOT, 'pos_offline_client', 'dist')
    link = os.path.join(web_root, 'pos')
    if os.path.isdir(pos) and not os.path.lexists(link):
        os.symlink(pos, link)
    count = os.path.join(ROOT, 'pos_offline_client', 'dist-count')
    link = os.path.join(web_root, 'count')
    if os.path.isdir(count) and not os.path.lexists(link):
        os.symlink(count, link)
    return web_root


def free_or_given_port(port):
    return port or free_port()


FIGURES_SQL = {
    'products': (
        'SELECT COUNT(*) FROM product_product p '
        'JOIN product_template t ON t.id = p.template '
        'WHERE p.active AND t.active'),
    'lots': 'SELECT COUNT(*) FROM stock_lot',
    'stock': (
        'SELECT SUM(q.qty), SUM(q.qty * COALESCE(c.cost_price, 0)) FROM ('
        'SELECT m.product AS product, SUM(CASE '
        "WHEN t.type = 'storage' AND f.type <> 'storage' "
        'THEN m.internal_quantity '
        "WHEN f.type = 'storage' AND t.type <> 'storage' "
        'THEN -m.internal_quantity ELSE 0 END) AS qty '
        'FROM stock_move m '
        'JOIN stock_location f ON f.id = m.from_location '
        'JOIN stock_location t ON t.id = m.to_location '
        "WHERE m.state = 'done' GROUP BY m.product) q "
        'LEFT JOIN product_cost_price c ON c.product = q.product'),
    'currency': (
        'SELECT c.code FROM company_company co '
        'JOIN currency_currency c ON c.id = co.currency '
        'ORDER BY co.id LIMIT 1'),
    }


def shop_figures(backend, db_uri, name, db_path=None):
    """The shop's figures as they are in the database now: {products,
    lots, stock_units, stock_value (at cost price), currency}; None when
    they cannot be read (a database without the stock tables)"""
    from decimal import Decimal
    if backend == 'sqlite':
        conn = sqlite3.connect(os.path.join(
                db_path or os.path.join(VAR, 'db'), name + '.sqlite'))
    else:
        import psycopg
        conn = psycopg.connect(_pg_conninfo(db_uri, name))
    try:
        rows = {}
        for key, sql in FIGURES_SQL.items():
            rows[key] = conn.execute(sql).fetchone()
    except Exception:
        return None
    finally:
        conn.close()
    units, value = rows['stock'] or (0, 0)
    return {
        'products': rows['products'][0],
        'lots': rows['lots'][0],
        'stock_units': Decimal(str(units or 0)).quantize(Decimal('0.001')),
        'stock_value': Decimal(str(value or 0)).quantize(Decimal('0.01')),
        'currency': rows['currency'][0] if rows['currency'] else '',
        }
