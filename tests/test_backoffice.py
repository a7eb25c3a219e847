"""The back office as a user meets it: trytond on a real PostgreSQL with the
demo chain, sao at /, and the roles' rights through the JSON-RPC API."""
import json
import urllib.error
import urllib.request

import pytest

from tests.support.rpc import Client, RPCError


def test_sao_served_at_root(backoffice):
    with urllib.request.urlopen(backoffice.url, timeout=30) as response:
        page = response.read().decode()
    assert 'tryton-sao' in page


def test_admin_sees_the_demo_chain(backoffice):
    admin = Client(backoffice.url, backoffice.database).login(
        'admin', 'retail-admin')
    branches = admin.model('retail.branch', 'search_read', [], 0, None,
        [['code', 'ASC']], ['code', 'name'])
    assert [b['code'] for b in branches] == ['ANT', 'BXL']
    terminals = admin.model('sale.point', 'search_read', [], 0, None,
        [['receipt_prefix', 'ASC']], ['receipt_prefix', 'branch.code'])
    assert [(t['receipt_prefix'], t['branch.']['code']) for t in terminals] \
        == [('ANT1', 'ANT'), ('BXL1', 'BXL'), ('BXL2', 'BXL')]
    menus = admin.model('ir.ui.menu', 'search_read',
        [['parent', '=', None]], 0, None, None, ['name'])
    assert "Retail" in [m['name'] for m in menus]
    retail, = [m for m in menus if m['name'] == "Retail"]
    children = admin.model('ir.ui.menu', 'search_read',
        [['parent', '=', retail['id']]], 0, None, None, ['name'])
    names = {m['name'] for m in children}
    assert {"Branches", "Terminals", "Employees & PINs"} <= names


def test_manager_sees_only_own_branch_terminals(backoffice):
    manager = Client(backoffice.url, backoffice.database).login(
        'manager.bxl', 'retail-demo')
    terminals = manager.model('sale.point', 'search_read', [], 0, None,
        None, ['receipt_prefix'])
    assert sorted(t['receipt_prefix'] for t in terminals) == ['BXL1', 'BXL2']


def test_manager_cannot_manage_branches(backoffice):
    manager = Client(backoffice.url, backoffice.database).login(
        'manager.bxl', 'retail-demo')
    branch, = manager.model('retail.branch', 'search',
        [['code', '=', 'BXL']], 0, None, None)
    with pytest.raises(RPCError):
        manager.model('retail.branch', 'write', [branch], {'name': "X"})


def test_cashier_cannot_write_products(backoffice):
    cashier = Client(backoffice.url, backoffice.database).login(
        'cashier.bxl', 'retail-demo')
    product, *_ = cashier.model('product.template', 'search', [], 0, 1,
        None)
    with pytest.raises(RPCError):
        cashier.model('product.template', 'write', [product],
            {'name': "Changed"})


def test_pin_hash_not_readable_by_admin(backoffice):
    admin = Client(backoffice.url, backoffice.database).login(
        'admin', 'retail-admin')
    employees = admin.model('company.employee', 'search', [], 0, None, None)
    assert employees
    with pytest.raises(RPCError):
        admin.model('company.employee', 'read', employees, ['pos_pin_hash'])
    values = admin.model('company.employee', 'read', employees,
        ['pos_pin', 'pos_pin_set'])
    assert all(v['pos_pin'] is None and v['pos_pin_set'] for v in values)


def test_demo_catalog(backoffice):
    "The demo is a believable supermarket and boutique catalog"
    from retail_setup.barcodes import is_valid_ean13
    admin = Client(backoffice.url, backoffice.database).login(
        'admin', 'retail-admin')
    identifiers = admin.model('product.identifier', 'search_read',
        [['type', '=', 'ean']], 0, None, None, ['code'])
    assert len(identifiers) >= 40
    assert all(is_valid_ean13(i['code']) for i in identifiers)
    by_weight = admin.model('product.template', 'search_read',
        [['default_uom.name', '=', "Kilogram"]], 0, None, None, ['name'])
    assert "Bananas" in {t['name'] for t in by_weight}
    lots = admin.model('stock.lot', 'search_read', [], 0, None, None,
        ['shelf_life_expiration_date'])
    assert lots and all(l['shelf_life_expiration_date'] for l in lots)
    shirts = admin.model('product.product', 'search_read',
        [['template.name', '=', "Oxford Shirt"]], 0, None, None,
        ['attributes'])
    assert len(shirts) == 12  # 4 sizes x 3 colours
    assert {s['attributes']['size'] for s in shirts} == {'S', 'M', 'L', 'XL'}


def test_demo_lots_costs_and_fiscal_year(backoffice):
    """The demo's lots have a sell-by date (the shelf life expiration date
    FEFO and posting use) before their use-by date (expiration date), every
    product a cost price, and its fiscal years are calendar years"""
    admin = Client(backoffice.url, backoffice.database).login(
        'admin', 'retail-admin')
    check_demo_lots_costs_and_fiscal_year(admin)


def check_demo_lots_costs_and_fiscal_year(admin):
    import datetime as dt
    from decimal import Decimal

    def day(value):
        "A date of the JSON-RPC answer"
        return dt.date(value['year'], value['month'], value['day'])

    lots = admin.model('stock.lot', 'search_read', [], 0, None, None,
        ['shelf_life_expiration_date', 'expiration_date'])
    assert lots
    for lot in lots:
        sell_by = day(lot['shelf_life_expiration_date'])
        use_by = day(lot['expiration_date'])
        assert dt.date.today() < sell_by < use_by, lot
    products = admin.model('product.product', 'search_read', [], 0, None,
        None, ['cost_price'])
    assert products
    for product in products:
        assert Decimal(product['cost_price']['decimal']) > 0, product
    years = admin.model('account.fiscalyear', 'search_read', [], 0, None,
        [['start_date', 'ASC']], ['start_date', 'end_date'])
    year = dt.date.today().year
    spans = [(day(y['start_date']), day(y['end_date'])) for y in years]
    assert (dt.date(year, 1, 1), dt.date(year, 12, 31)) in spans, spans
    assert all((s.month, s.day, e.month, e.day) == (1, 1, 12, 31)
        for s, e in spans), spans


def _sync(backoffice, path, key=None, body=None):
    request = urllib.request.Request(
        f'{backoffice.url}{backoffice.database}/retail_sync/v1/{path}',
        data=json.dumps(body).encode() if body is not None else None,
        headers={'Content-Type': 'application/json'})
    if key:
        request.add_header('Authorization', f'Bearer {key}')
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_scale_import_reaches_enrolled_terminals(backoffice, postgres):
    """Variants bulk-created by `setup/retail scale` reach a terminal that
    bootstrapped before the import, through its next delta pull"""
    import subprocess
    import sys

    from tests.e2e.backoffice import Backoffice
    office = Backoffice(backoffice)
    enrolled = _sync(backoffice, 'enroll', body={
            'code': office.enrollment_code('BXL2'),
            'app_version': 'test', 'device_name': 'scale test'})
    key = enrolled['device_key']
    page, cursor = None, None
    while True:
        answer = _sync(backoffice, 'bootstrap?limit=5000'
            + (f'&page={page}' if page else ''), key)
        page = answer['next_page']
        if not page:
            cursor = answer['cursor']
            break

    root = __import__('pathlib').Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, '-m', 'retail_setup.cli',
            'scale', '--products', '25', '--name', backoffice.database,
            '--db', postgres.uri, '--config', backoffice.config_path],
        cwd=root, env={**__import__('os').environ,
            'PYTHONPATH': str(root / 'setup')},
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr

    changes = []
    while True:
        answer = _sync(backoffice,
            f'changes?cursor={cursor}&limit=1000', key)
        changes.extend(answer['changes'])
        cursor = answer['cursor']
        if not answer['has_more']:
            break
    products = {c['id']: c['data'] for c in changes
        if c['kind'] == 'product' and c['op'] == 'upsert'}
    stock = {c['id']: c['data'] for c in changes
        if c['kind'] == 'stock' and c['op'] == 'upsert'}
    new = {i: p for i, p in products.items()
        if p['name'].startswith("Scale item")}
    assert len(new) == 25
    assert all(len(p['barcodes']) == 1 for p in new.values())
    assert all(stock[i]['quantity'] not in (None, '0') for i in new)
