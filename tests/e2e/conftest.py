"""Fixtures of the POS end-to-end tests: Debian's Chromium driven by
Playwright, and a back office to sync with.

The back office is a real trytond on PostgreSQL from tests/support/servers.py.
For working on the POS alone, POS_E2E_BACKEND=mock runs the same tests
against pos_offline_client/bench/mock-server.mjs instead.
"""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / 'pos_offline_client'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = [
    '--headless=new', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class MockBackend:
    "The protocol stand-in, with the demo data it generates"

    def __init__(self):
        self.employees = {'cashier': ('Alice Cashier', '1357'),
            'manager': ('Bob Manager', '2468')}
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}/'
        self.database = 'demo'
        self.process = subprocess.Popen(
            ['node', str(CLIENT / 'bench' / 'mock-server.mjs'),
                '--port', str(self.port), '--products', '500'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + 'pos/', timeout=1)
                break
            except OSError:
                time.sleep(0.1)

    def enrollment_code(self, prefix=None):
        return 'DEMO-CODE'

    def received(self):
        with urllib.request.urlopen(self.url + '__mock/received') as r:
            return json.load(r)

    def close(self):
        self.process.terminate()
        self.process.wait(10)


class TrytondBackend:
    """A real back office with the demo chain (setup/retail_setup/demo.py):
    its people and PINs come from the demo, enrollment codes from the store
    manager's button, sales and cash sessions from trytond's RPC API
    (tests/e2e/backoffice.py)"""

    def __init__(self, pg, server):
        from tests.e2e.backoffice import Backoffice
        self.pg = pg
        self.server = server
        self.office = Backoffice(server)
        self.url = server.url
        self.database = server.database
        self.employees = {'cashier': self.office.cashier('BXL'),
            'manager': self.office.manager('BXL')}

    def enrollment_code(self, prefix='BXL1'):
        return self.office.enrollment_code(prefix)

    def pos_sales(self, ids):
        return self.office.pos_sales(ids)

    def cash_sessions(self, prefix):
        return self.office.cash_sessions(prefix)


def _stale(built):
    "The bundle is missing or older than a source it is built from"
    if not built.exists():
        return True
    sources = [CLIENT / 'index.html', CLIENT / 'vite.config.js',
        CLIENT / 'package-lock.json', *(CLIENT / 'src').rglob('*'),
        *(CLIENT / 'build').rglob('*'),
        *(CLIENT / 'public').rglob('*')]
    newest = max(p.stat().st_mtime for p in sources if p.is_file())
    return newest > built.stat().st_mtime


@pytest.fixture(scope='session')
def pos_dist():
    "The POS bundle the server serves at /pos/, rebuilt when out of date"
    if _stale(CLIENT / 'dist' / 'index.html'):
        if not shutil.which('npm'):
            pytest.skip('the POS is not built and npm is missing')
        subprocess.run(['npm', 'run', 'build'], cwd=CLIENT, check=True,
            stdout=subprocess.DEVNULL)
    return CLIENT / 'dist'


class RunningServer:
    "A trytond with the demo chain started elsewhere (POS_E2E_SERVER)"

    def __init__(self, url, database):
        self.url = url.rstrip('/') + '/'
        self.database = database


@pytest.fixture(scope='session')
def backend(pos_dist):
    if os.environ.get('POS_E2E_BACKEND') == 'mock':
        b = MockBackend()
        yield b
        b.close()
        return
    if os.environ.get('POS_E2E_SERVER'):
        # e.g. POS_E2E_SERVER=http://127.0.0.1:8000/ POS_E2E_DATABASE=demo:
        # a back office that keeps running between runs (the tests add
        # sales and sessions to it, and hold when terminals were enrolled
        # before); it must serve this checkout's pos_offline_client/dist
        yield TrytondBackend(None, RunningServer(
            os.environ['POS_E2E_SERVER'],
            os.environ.get('POS_E2E_DATABASE', 'demo')))
        return
    servers = pytest.importorskip(
        'tests.support.servers', reason='tests/support/servers.py missing')
    with servers.PostgresServer() as pg, \
            servers.TrytondServer(pg.uri, 'pos_e2e', demo=True) as server:
        yield TrytondBackend(pg, server)


@pytest.fixture
def browser():
    sync_api = pytest.importorskip('playwright.sync_api')
    if not os.path.exists(CHROMIUM):
        pytest.skip('Debian chromium is not installed')
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
