"""Branch records of the demo chain for the back-office scoping tests: each
branch's terminal enrolled by its store manager and sending, through the
sync API as a till does, a sale with price drift and oversell, an audited
manager override and an operation the server must quarantine; an internal
shipment in each branch keyed by the administrator.

    records = fill(server)      # a running tests/support TrytondServer
    records['BXL']['terminal'], records['ANT']['key'], ...
"""
import datetime as dt
import json
import urllib.request
import uuid

from tests.e2e.backoffice import Backoffice, employee


def sync(server, path, key=None, body=None):
    request = urllib.request.Request(
        f'{server.url}{server.database}/retail_sync/v1/{path}',
        data=json.dumps(body).encode() if body is not None else None,
        headers={'Content-Type': 'application/json'})
    if key:
        request.add_header('Authorization', f'Bearer {key}')
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def operation(terminal, employee_id, type_, sequence, payload):
    return {'uuid': str(uuid.uuid4()), 'type': type_, 'terminal': terminal,
        'sequence': sequence, 'employee': employee_id,
        'client_time': dt.datetime.now(dt.timezone.utc).isoformat(),
        'payload': payload}


def _date(date):
    "A date as JSON-RPC carries it"
    return {'__class__': 'date', 'year': date.year, 'month': date.month,
        'day': date.day}


def fill(server):
    office = Backoffice(server)
    admin = office.admin
    cash, = admin.model('sale.point.payment.method', 'search',
        [('cash', '=', True)], 0, 1, None)
    spaghetti, = admin.search_read('product.product',
        [('template.name', '=', "Spaghetti 500 g")],
        ['id', 'template.list_price'])
    product = spaghetti['id']
    employees = {e['party.']['name']: e['id'] for e in admin.search_read(
            'company.employee', [], ['party.name'])}
    records = {}
    for code, prefix in [('BXL', 'BXL1'), ('ANT', 'ANT1')]:
        terminal = office.terminal(prefix)['id']
        key = sync(server, 'enroll', body={
                'code': office.enrollment_code(prefix),
                'app_version': 'scope-test', 'device_name': f"{prefix} test"}
            )['device_key']
        cashier = employees[employee('Cashier', code)[0]]
        manager = employees[employee('Store Manager', code)[0]]
        operations = [
            # Sold at 0.10 (price drift) and far more than in stock
            operation(terminal, cashier, 'sale', 1, {
                    'receipt_number': 1, 'customer': None, 'lines': [{
                            'product': product, 'quantity': '5000',
                            'unit_price': '0.10', 'price': '0.10',
                            'discount': None, 'lot': None}],
                    'payments': [{'method': cash, 'amount': '500.00'}]}),
            operation(terminal, manager, 'audit', 2, {
                    'action': 'expired_lot', 'manager': manager,
                    'cashier': cashier, 'receipt': f'{prefix}-000001',
                    'product': product, 'lot': None, 'detail': {}}),
            # A product the server does not know: quarantined
            operation(terminal, cashier, 'sale', 3, {
                    'receipt_number': 2, 'customer': None, 'lines': [{
                            'product': 999999999, 'quantity': '1',
                            'unit_price': '1.00', 'price': '1.00',
                            'discount': None, 'lot': None}],
                    'payments': [{'method': cash, 'amount': '1.00'}]}),
            ]
        answer = sync(server, 'push', key, {'terminal': terminal,
                'app_version': 'scope-test', 'pending_operations': 0,
                'operations': operations})
        statuses = [r['status'] for r in answer['results']]
        assert statuses == ['accepted', 'accepted', 'rejected'], answer
        warehouse = admin.search_read('stock.location',
            [('code', '=', code), ('type', '=', 'warehouse')],
            ['id', 'storage_location', 'output_location'])[0]
        shipment, = admin.model('stock.shipment.internal', 'create', [{
                    'from_location': warehouse['storage_location'],
                    'to_location': warehouse['output_location'],
                    'planned_date': _date(dt.date.today()),
                    'planned_start_date': _date(dt.date.today()),
                    }])
        records[code] = {'terminal': terminal, 'key': key,
            'warehouse': warehouse['id'],
            'storage': warehouse['storage_location'],
            'shipment': shipment, 'product': product, 'cash': cash,
            'price': spaghetti['template.']['list_price']['decimal'],
            'cashier': cashier, 'manager': manager}
    return records
