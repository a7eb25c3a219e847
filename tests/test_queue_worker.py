"""Pushed sales posted by a real trytond-worker on PostgreSQL.

trytond serves the sync API with [queue] worker = True: a push records its
sales and answers, and nothing posts them until a trytond-worker process
runs the queue retail_sync_post; then every sale is posted with its moves
and a replay of the push answers them posted (docs/sync-protocol.md
§ Posting in the background)."""
import datetime as dt
import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid

import pytest

from tests.e2e.backoffice import Backoffice
from tests.support.servers import TrytondServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(ROOT, '.venv', 'bin', 'trytond-worker')


@pytest.fixture(scope='module')
def server(postgres):
    with TrytondServer(postgres.uri, 'queue_worker_test', demo=True,
            extra_config={'queue': {'worker': 'True'}}) as server:
        yield server


def post(url, body, key=None):
    headers = {'Content-Type': 'application/json'}
    if key:
        headers['Authorization'] = f'Bearer {key}'
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
        headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_worker_posts_pushed_sales(server, tmp_path):
    office = Backoffice(server)
    base = f'{server.url}{server.database}/retail_sync/v1'
    terminal = office.terminal('BXL1')['id']
    key = post(f'{base}/enroll', {'code': office.enrollment_code('BXL1'),
            'device_name': "queue test"})['device_key']
    admin = office.admin
    product, = admin.model('product.product', 'search',
        [('salable', '=', True), ('type', '=', 'goods')], 0, 1, None)
    cash, = admin.model('sale.point.payment.method', 'search',
        [('cash', '=', True)], 0, 1, None)
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    operations = [{
            'uuid': str(uuid.uuid4()), 'type': 'sale', 'terminal': terminal,
            'sequence': n, 'client_time': now,
            'payload': {'receipt_number': n,
                'lines': [{'product': product, 'quantity': '1',
                        'unit_price': '10.00', 'price': '10.00'}],
                'payments': [{'method': cash, 'amount': '10.00'}]},
            } for n in range(1, 4)]

    answer = post(f'{base}/push', {'operations': operations}, key)
    assert [(r['status'], r['posted']) for r in answer['results']] == [
        ('accepted', False)] * 3, answer
    assert answer['posting'] == {'pending': 3, 'failed': 0}
    # The sales are recorded by the posting task, after the answer
    assert {r['result']['sale'] for r in answer['results']} == {None}
    numbers = [r['result']['number'] for r in answer['results']]
    # No worker yet: nothing records nor posts them
    time.sleep(1)
    assert admin.model('sale.point.sale', 'search',
        [('number', 'in', numbers)], 0, None, None) == []

    log = open(tmp_path / 'worker.log', 'w')
    # One process: trytond-worker's pool of child processes would outlive
    # a terminated parent
    worker = subprocess.Popen([WORKER, '-c', server.config_path,
            '-d', server.database, '-n', '1'], stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            again = post(f'{base}/push', {'operations': operations}, key)
            if all(r['posted'] for r in again['results']):
                break
            assert time.monotonic() < deadline, again
            time.sleep(0.5)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        log.close()
    assert {r['status'] for r in again['results']} == {'duplicate'}
    assert again['posting'] == {'pending': 0, 'failed': 0}
    sales = admin.model('sale.point.sale', 'search',
        [('number', 'in', numbers)], 0, None, None)
    assert len(sales) == 3
    read = admin.model('sale.point.sale', 'read', sales, ['state', 'move'])
    assert {s['state'] for s in read} == {'posted'}
    assert all(s['move'] for s in read)
    moves = admin.model('stock.move', 'search_count', [
            ('origin', 'like', 'sale.point.sale.line,%'),
            ('state', '=', 'done')])
    assert moves >= 3



def query(server, sql, *args):
    "Rows of sql on the server's database"
    import psycopg

    from retail_setup.server import _pg_conninfo
    with psycopg.connect(_pg_conninfo(server.db_uri, server.database)) as c:
        return c.execute(sql, args).fetchall()


def test_worker_makes_bootstrap_pages_ahead(server, tmp_path):
    """An enrollment code queues the making of its branch's bootstrap pages
    (queue retail_sync_warm): the worker makes them before the till asks"""
    office = Backoffice(server)
    terminal = office.terminal('BXL2')
    branch, = [t['branch'] for t in office.admin.search_read('sale.point',
            [('id', '=', terminal['id'])], ['branch'])]
    tasks = ("SELECT id FROM ir_queue WHERE name = 'retail_sync_warm' "
        "AND finished_at IS NULL")
    before = query(server, tasks)
    office.enrollment_code('BXL2')
    task, = set(query(server, tasks)) - set(before)
    log = open(tmp_path / 'worker.log', 'w')
    worker = subprocess.Popen([WORKER, '-c', server.config_path,
            '-d', server.database, '-n', '1'], stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while query(server, 'SELECT id FROM ir_queue '
                'WHERE id = %s AND finished_at IS NULL', task[0]):
            assert time.monotonic() < deadline
            time.sleep(0.5)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
        log.close()
    pages = query(server, 'SELECT kind, after, upto '
        'FROM retail_sync_bootstrap_page WHERE branch = %s', branch)
    # the branch's products, lots and stock in pages of the reference
    # till's size: one range each, the last one open
    assert {p[0] for p in pages} >= {'product', 'stock'}, pages
    assert {(p[1], p[2]) for p in pages if p[0] == 'product'} == {
        (0, None)}
