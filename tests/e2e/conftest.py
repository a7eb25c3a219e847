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
    employees = {'cashier': ('Alice Cashier', '1357'),
        'manager': ('Bob Manager', '2468')}

    def __init__(self):
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

    def enrollment_code(self):
        return 'DEMO-CODE'

    def received(self):
        with urllib.request.urlopen(self.url + '__mock/received') as r:
            return json.load(r)

    def close(self):
        self.process.terminate()
        self.process.wait(10)


ENROLL_SCRIPT = """
import sys
from trytond.config import config
config.update_etc(sys.argv[1])
from trytond.pool import Pool
from trytond.transaction import Transaction
pool = Pool(sys.argv[2])
pool.init()
with Transaction().start(sys.argv[2], 0, context={}) as transaction:
    POS = pool.get('sale.point')
    Device = pool.get('retail.sync.device')
    terminal, = POS.search([('receipt_prefix', '=', sys.argv[3])])
    _, code = Device.new_enrollment(terminal)
    transaction.commit()
print(code)
"""


class TrytondBackend:
    "A real back office with the demo chain (setup/retail_setup/demo.py)"
    employees = {'cashier': ('Bruno Peeters', '1357'),
        'manager': ('Chloé Janssens', '4826')}

    def __init__(self, pg, server):
        self.pg = pg
        self.server = server
        self.url = server.url
        self.database = server.database

    def enrollment_code(self, prefix='BXL1'):
        import sys
        out = subprocess.run(
            [sys.executable, '-c', ENROLL_SCRIPT, self.server.config_path,
                self.database, prefix],
            check=True, capture_output=True, text=True)
        return out.stdout.strip().splitlines()[-1]

    def pos_sales(self, ids):
        "{sale id: {total, lots}} as the server recorded them"
        import psycopg
        from decimal import ROUND_HALF_EVEN, Decimal
        uri = self.pg.uri.rstrip('/') + '/' + self.database
        result = {i: {'total': Decimal(0), 'lots': []} for i in ids}
        with psycopg.connect(uri) as conn:
            for sale, qty, price, line in conn.execute(
                    'SELECT sale, quantity, unit_gross_price, id '
                    'FROM sale_point_sale_line WHERE sale = ANY(%s)',
                    [list(ids)]):
                result[sale]['total'] += (Decimal(str(qty)) * price).quantize(
                    Decimal('0.01'), rounding=ROUND_HALF_EVEN)
                for lot, in conn.execute(
                        'SELECT lot FROM stock_move WHERE origin = %s '
                        'AND lot IS NOT NULL',
                        [f'sale.point.sale.line,{line}']):
                    result[sale]['lots'].append(lot)
        return result


@pytest.fixture(scope='session')
def pos_dist():
    if not (CLIENT / 'dist' / 'index.html').exists():
        if not shutil.which('npm'):
            pytest.skip('the POS is not built and npm is missing')
        subprocess.run(['npm', 'run', 'build'], cwd=CLIENT, check=True)
    return CLIENT / 'dist'


@pytest.fixture(scope='session')
def backend(pos_dist):
    if os.environ.get('POS_E2E_BACKEND') == 'mock':
        b = MockBackend()
        yield b
        b.close()
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
