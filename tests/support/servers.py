"""Real servers for cross-component tests and benchmarks.

    with PostgresServer() as pg:
        with TrytondServer(pg.uri, 'e2e', demo=True) as trytond:
            trytond.url    # http://127.0.0.1:PORT/ (sao at /, POS at /pos/)

PostgresServer reuses the server of the test runner when
RETAIL_TEST_PG_URI is set; otherwise it starts its own.  TrytondServer
creates the database with the suite's modules (and the demo chain), writes
a configuration in a temporary directory and runs trytond until the block
ends; the database is dropped afterwards unless keep=True."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
                __file__))))
sys.path.insert(0, os.path.join(ROOT, 'setup'))

from retail_setup import server  # noqa: E402
from retail_setup.pg import PostgresServer, free_port  # noqa: E402

__all__ = ['PostgresServer', 'TrytondServer', 'free_port']

PREPARE = """
import json, sys
from retail_setup import cli
backend, uri, config_path, name, options = json.loads(sys.argv[1])
cli.prepare_database(backend, uri, config_path, name,
    say=lambda *a, **k: None, **options)
"""


class TrytondServer:

    def __init__(self, db_uri, database, demo=True, products=0, port=None,
            keep=False, extra_config=None):
        self.backend, self.db_uri = server.parse_db_uri(db_uri)
        self.database = database
        self.demo = demo
        self.products = products
        self.port = port or free_port()
        self.keep = keep
        self.extra_config = extra_config
        self.process = None
        self.directory = None

    @property
    def url(self):
        return f'http://127.0.0.1:{self.port}/'

    @property
    def config_path(self):
        return os.path.join(self.directory, 'trytond.conf')

    @property
    def db_path(self):
        return os.path.join(self.directory, 'db')

    def start(self, reuse=False):
        """Create the database and run trytond on it; with reuse, run on
        the database as it is when it exists (benchmarks built once)"""
        self.directory = tempfile.mkdtemp(prefix='retail-trytond-')
        server.write_config(self.config_path, self.db_uri, self.port,
            db_path=self.db_path, extra=self.extra_config)
        if reuse and server.database_exists(self.backend, self.db_uri,
                self.database, db_path=self.db_path):
            server.assemble_web_root()
            return self._run()
        server.drop_database(self.backend, self.db_uri, self.database,
            db_path=self.db_path)
        # In a process of its own: loading the demo configures trytond
        # for good in the process that does it (its backend is chosen at
        # import), and the test process serves servers on SQLite and on
        # PostgreSQL one after the other
        arguments = json.dumps([self.backend, self.db_uri, self.config_path,
                self.database, {'demo': self.demo, 'products': self.products,
                    'db_path': self.db_path, 'summary_dir': self.directory}])
        result = subprocess.run([sys.executable, '-c', PREPARE, arguments],
            cwd=ROOT, capture_output=True, text=True, check=False,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                    [ROOT, os.path.join(ROOT, 'setup')])))
        if result.returncode:
            raise RuntimeError(
                f"preparing {self.database} failed:\n{result.stderr}")
        server.assemble_web_root()
        return self._run()

    def _run(self):
        self.process = server.TrytondProcess(self.config_path, self.port,
            [self.database],
            log_path=os.path.join(self.directory, 'trytond.log'))
        self.process.start()
        return self

    def stop(self):
        if self.process:
            self.process.stop()
            self.process = None

    def restart(self):
        "Stop and start the same server on the same port and database"
        self.stop()
        return self._run()

    def close(self):
        self.stop()
        if not self.keep:
            server.drop_database(self.backend, self.db_uri, self.database,
                db_path=self.db_path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
