"""The sync API fuzzed from its OpenAPI description (docs/sync-openapi.yaml)
by schemathesis, against a real trytond on a free port: with and without
a device key, no answer may be a 5xx or leave the documented schema, and
no request may write half of what it answers (counts of POS sales, sync
operations and stock moves are compared before and after each request).

Bounded in time: FUZZ_SECONDS (default 90) for the whole module after
the server is up, half with and half without the key; in each half the
push gets half the time and the other operations share the rest.
FUZZ_EXAMPLES caps the examples per operation.  What was tried and found:
docs/reliability.md § Sync API fuzzing."""
import datetime as dt
import json
import os
import time
import urllib.request
from decimal import Decimal

import pytest

schemathesis = pytest.importorskip('schemathesis')
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, response_schema_conformance,
    status_code_conformance)

from tests.e2e.backoffice import Backoffice  # noqa: E402
from tests.support.servers import TrytondServer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, 'docs', 'sync-openapi.yaml')
SECONDS = float(os.environ.get('FUZZ_SECONDS', '90'))
EXAMPLES = int(os.environ.get('FUZZ_EXAMPLES', '60'))
CHECKS = [not_a_server_error, status_code_conformance,
    content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_path(SPEC)
schema.config.generation.update(max_examples=EXAMPLES, deterministic=False)
OPERATIONS = [(method, path) for path, methods in schema.raw_schema[
        'paths'].items() for method in methods]


class Fuzz:
    "The server, the device key and what the requests found"

    def __init__(self, server):
        self.server = server
        self.office = Backoffice(server)
        self.base = f'{server.url}{server.database}/retail_sync/v1'
        self.deadlines = {}
        self.calls = 0
        self.statuses = {}
        self.results = {}
        self.messages = {}

    def start(self):
        terminal = self.office.terminal('BXL1')
        self.terminal = terminal['id']
        body = json.dumps({'code': self.office.enrollment_code('BXL1'),
                'device_name': "fuzzer"}).encode()
        request = urllib.request.Request(f'{self.base}/enroll', data=body,
            headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=60) as response:
            self.key = json.loads(response.read())['device_key']
        admin = self.office.admin
        self.products = admin.model('product.product', 'search',
            [('salable', '=', True)], 0, 20, None)
        self.methods = admin.model('sale.point.payment.method', 'search',
            [], 0, None, None)
        self.cash = admin.model('sale.point.payment.method', 'search',
            [('cash', '=', True)], 0, 1, None)[0]
        self.employees = admin.model('company.employee', 'search',
            [], 0, None, None)

    def budget(self, case, key):
        """Whether this operation in this mode and phase has time left: the
        coverage phase (schemathesis' edge cases) gets a third of the
        operation's time, the random fuzzing the rest"""
        phase = phase_of(case)
        name = (key, case.method, case.path, phase)
        if name not in self.deadlines:
            half = SECONDS / 2
            if case.path == '/push':
                seconds = half / 2
            else:
                seconds = half / 2 / (len(OPERATIONS) - 1)
            seconds *= 1 / 3 if phase == 'coverage' else 2 / 3
            self.deadlines[name] = time.monotonic() + seconds
        return time.monotonic() < self.deadlines[name]

    def counts(self):
        admin = self.office.admin
        return tuple(admin.model(model, 'search_count', [])
            for model in ['sale.point.sale', 'retail.sync.operation',
                'stock.move'])

    def steer(self, case):
        """Make half the operations of a push reachable: the key's terminal,
        a time of now, ids and payments of the demo chain; the other half
        stay as generated"""
        body = case.body
        if not isinstance(body, dict):
            return
        if 'terminal' in body:
            body['terminal'] = self.terminal
        operations = body.get('operations')
        if not isinstance(operations, list):
            return
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        for i, op in enumerate(operations):
            if not isinstance(op, dict):
                continue
            op['terminal'] = self.terminal
            if i % 2:
                continue
            op['client_time'] = now
            op['employee'] = self.employees[i % len(self.employees)]
            payload = op.get('payload')
            if not isinstance(payload, dict):
                continue
            total = Decimal(0)
            for j, line in enumerate(payload.get('lines') or []):
                if not isinstance(line, dict):
                    continue
                line['product'] = self.products[j % len(self.products)]
                line.pop('lot', None)
                try:
                    total += (Decimal(line['quantity'])
                        * Decimal(line['price'])).quantize(Decimal('0.01'))
                except Exception:
                    pass
            if 'payments' in payload and abs(total) < 10 ** 9:
                payload['payments'] = [
                    {'method': self.cash, 'amount': str(total)}]
            if 'transfer_type' in payload:
                payload['transfer_type'] = 1


@pytest.fixture(scope='module')
def fuzz(postgres):
    with TrytondServer(postgres.uri, 'sync_fuzz', demo=True) as server:
        state = Fuzz(server)
        state.start()
        yield state
        print(f"\nsync fuzz: {state.calls} requests; sales, operations, "
            f"moves at the end: {state.counts()}")
        for name, statuses in sorted(state.statuses.items()):
            print(f"  {name}: {statuses}")
        print(f"  push results: {state.results}")
        for name, messages in sorted(state.messages.items()):
            print(f"  {name}: {sorted(messages)[:6]}")


def phase_of(case):
    meta = getattr(case, 'meta', None)
    phase = getattr(getattr(meta, 'phase', None), 'name', None)
    return getattr(phase, 'value', None) or str(phase or 'fuzzing')


def mode_of(case):
    meta = getattr(case, 'meta', None)
    mode = getattr(getattr(meta, 'generation', None), 'mode', None)
    return getattr(mode, 'value', None) or str(mode or '?')


def run(fuzz, case, key):
    if not fuzz.budget(case, key):
        return
    headers = {'Authorization': f'Bearer {fuzz.key}'} if key else {}
    if key:
        fuzz.steer(case)
    before = fuzz.counts()
    response = case.call(base_url=fuzz.base, headers=headers, timeout=120)
    after = fuzz.counts()
    fuzz.calls += 1
    name = (f"{'key' if key else 'no key'} {case.method} {case.path} "
        f"{phase_of(case)}/{mode_of(case)}")
    fuzz.statuses.setdefault(name, {}).setdefault(response.status_code, 0)
    fuzz.statuses[name][response.status_code] += 1
    if response.status_code >= 400:
        try:
            message = response.json()['error']['message']
        except Exception:  # noqa: BLE001 (reported as a schema violation)
            message = response.text[:80]
        fuzz.messages.setdefault(name, set()).add(message[:100])
    case.validate_response(response, checks=CHECKS)
    sales, operations, moves = (a - b for a, b in zip(after, before))
    detail = f"{case.method} {case.path} -> {response.status_code}"
    if response.status_code != 200 or case.path != '/push':
        assert (sales, operations, moves) == (0, 0, 0), (
            f"{detail} wrote sales/operations/moves "
            f"{(sales, operations, moves)}")
        return
    results = response.json()['results']
    for result in results:
        reason = (result.get('reason') or {}).get('code')
        label = f"{result['status']} {reason}" if reason else result['status']
        fuzz.results[label] = fuzz.results.get(label, 0) + 1
    new = {r['uuid']: r for r in results if r['status'] != 'duplicate'}
    accepted_sales = sum(1 for r in new.values()
        if r['status'] == 'accepted'
        and isinstance((r.get('result') or {}).get('sale'), int))
    assert operations == len(new), (
        f"{detail}: {operations} operations stored for {len(new)} new")
    assert sales == accepted_sales, (
        f"{detail}: {sales} sales for {accepted_sales} accepted")
    if not any(r['status'] == 'accepted' for r in new.values()):
        assert moves == 0, f"{detail}: {moves} moves and nothing accepted"


FUZZ_SETTINGS = settings(deadline=None, max_examples=EXAMPLES,
    suppress_health_check=list(HealthCheck), print_blob=True)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_without_key(fuzz, case):
    "Without a device key: 4xx, never 5xx, nothing written"
    run(fuzz, case, key=False)


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzz_with_key(fuzz, case):
    "With the key of terminal BXL1: no 5xx, no schema violation, no half write"
    run(fuzz, case, key=True)
