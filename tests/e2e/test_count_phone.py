"""A stock count and a transfer's receipt on a phone, offline.

A store manager makes a counting phone for the branch and its enrollment
code, and opens a count (not blind) of the branch's storage. The phone
(390×844) enrolls, pulls the count, products and lots, loses the network,
counts by scanning (keyboard-wedge keys ending in Enter) and by typing a
quantity, comes back online and sends its entries: the back office count
adds them up into its lines."""
import datetime as dt
import shutil
import subprocess

import pytest

from tests.e2e.backoffice import DEMO_PASSWORD, manager_login
from tests.e2e.conftest import CLIENT
from tests.e2e.till import shot

PHONE = {'width': 390, 'height': 844}


@pytest.fixture(scope='module', autouse=True)
def count_dist(pos_dist):
    "The count page's bundle (served at /count/), rebuilt when out of date"
    built = CLIENT / 'dist-count' / 'index.html'
    # The page, its build and what it takes from the till (the service
    # worker's template, the sync client, the barcodes, the strings)
    sources = [p for p in [*(CLIENT / 'count').rglob('*'),
            *(CLIENT / 'src').rglob('*'), *(CLIENT / 'build').rglob('*'),
            CLIENT / 'vite.count.config.js'] if p.is_file()]
    if not built.exists() or max(
            p.stat().st_mtime for p in sources) > built.stat().st_mtime:
        if not shutil.which('npm'):
            pytest.skip('the count page is not built and npm is missing')
        subprocess.run(['npm', 'run', 'build'], cwd=CLIENT, check=True,
            stdout=subprocess.DEVNULL)


def open_count(office, branch_code='BXL'):
    "A counting phone and a count of the branch, made by its manager"
    manager = office.client(manager_login(branch_code), DEMO_PASSWORD)
    branch, = manager.search_read('retail.branch',
        [('code', '=', branch_code)],
        ['id', 'company', 'warehouse.storage_location'])
    device, = manager.model('retail.sync.device', 'create', [{
                'kind': 'counter', 'device_branch': branch['id'],
                'device_name': "Aisle phone"}])
    code = manager.wizard('retail.sync.enroll', 'create_code',
        'retail.sync.device', device)['view']['defaults']['code']
    count, = manager.model('stock.inventory', 'create', [{
                'location': branch['warehouse.']['storage_location'],
                'company': branch['company'],
                'retail_branch': branch['id'],
                'blind': False,
                }])
    manager.model('stock.inventory', 'complete_lines', [count])
    return manager, code, count


def scan(page, code, field='#scan'):
    "A keyboard-wedge scanner: fast keys into the focused field, then Enter"
    page.focus(field)
    page.keyboard.type(code, delay=5)
    page.keyboard.press('Enter')


def counted(page, product):
    return page.eval_on_selector_all('#line-body tr', '''(rows, product) =>
        rows.filter((r) => r.dataset.key.startsWith(product + ':'))
        .map((r) => r.cells[2].textContent)''', product)


def test_count_offline_on_a_phone(backend, browser):
    if not hasattr(backend, 'office'):
        pytest.skip('the count page needs the real back office')
    manager, code, count = open_count(backend.office)
    context = browser.new_context(viewport=PHONE, is_mobile=True,
        has_touch=True)
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.goto(backend.url + f'count/?db={backend.database}')
    page.fill('#code', code)
    page.fill('#device-name', "Aisle phone")
    shot(page, 'enroll', prefix='count')
    page.click('#enroll-go')
    page.wait_for_selector(f'#count-list button[data-count="{count}"]',
        timeout=60_000)
    shot(page, 'counts', prefix='count')
    # Two products with a barcode, not counted by lot
    products = page.evaluate('''() => [...window.countPage.state.catalog
        .products.values()].filter((p) => p.barcodes.length && !p.lot_tracked)
        .slice(0, 2).map((p) => [p.id, p.barcodes[0]])''')
    assert len(products) == 2, products
    (a, a_code), (b, b_code) = products

    # Installed: the service worker holds the page for offline use
    page.evaluate('navigator.serviceWorker.ready.then(() => true)')
    context.set_offline(True)
    page.wait_for_selector('#net[data-online="0"]')
    page.click(f'#count-list button[data-count="{count}"]')
    page.wait_for_selector('#scan-form')
    for _ in range(3):
        scan(page, a_code)
    # Typed: a quantity, then the code by hand
    page.fill('#qty', '5')
    page.focus('#scan')
    page.keyboard.type(b_code, delay=60)
    page.click('#scan-form button[type=submit]')
    assert counted(page, a) == ['3']
    assert counted(page, b) == ['5']
    # An unknown code is refused on the phone, nothing counted
    scan(page, '0000000000000')
    assert 'code' in page.text_content('#message')
    page.wait_for_function(
        "document.getElementById('pending').textContent === '4'")
    shot(page, 'offline', prefix='count')

    # The page works offline after a reload (service worker, IndexedDB):
    # the count opens with its lines read back from IndexedDB
    page.reload()
    page.wait_for_selector(f'#count-list button[data-count="{count}"]')
    page.click(f'#count-list button[data-count="{count}"]')
    page.wait_for_selector(f'#count[data-count="{count}"]:not([hidden])')
    assert counted(page, a) == ['3']

    context.set_offline(False)
    page.wait_for_function(
        "document.getElementById('pending').textContent === '0'",
        timeout=60_000)
    shot(page, 'synced', prefix='count')

    entries = manager.search_read('retail.stock.count.entry',
        [('inventory', '=', count)], ['product', 'quantity', 'scanned'])
    assert sorted((e['product'], e['quantity']) for e in entries) == sorted(
        [(a, 1.0)] * 3 + [(b, 5.0)])
    manager.model('stock.inventory', 'apply_count_entries', [count])
    lines = manager.search_read('stock.inventory.line',
        [('inventory', '=', count), ('product', 'in', [a, b])],
        ['product', 'quantity', 'expected_quantity', 'difference'])
    assert {l['product']: l['quantity'] for l in lines} == {a: 3, b: 5}
    assert not errors, errors
    context.close()


def ship_to_brussels(office):
    """A transfer from Antwerp to Brussels, shipped by Antwerp's manager: 3
    of a product counted by lot (one line per lot as first expiring first
    out assigned them) and 2 of one without lots, both with a barcode"""
    admin = office.admin
    antwerp = office.client(manager_login('ANT'), DEMO_PASSWORD)
    locations = {}
    for code in ['ANT', 'BXL']:
        branch, = admin.search_read('retail.branch', [('code', '=', code)],
            ['warehouse.storage_location'])
        locations[code] = branch['warehouse.']['storage_location']
    stock = admin.call('model.product.product.search_read', [
            ('type', '=', 'goods'), ('identifiers.code', '!=', None)],
        0, None, [('id', 'ASC')],
        ['id', 'lot_required', 'default_uom', 'quantity'],
        dict(admin.context, locations=[locations['ANT']]))
    quantities = {p['id']: p['quantity'] for p in stock}
    by_lot = next(p for p in stock
        if p['lot_required'] and quantities[p['id']] >= 5)
    plain = next(p for p in stock
        if not p['lot_required'] and quantities[p['id']] >= 5)
    company = admin.context['company']
    today = dt.date.today()
    day = {'__class__': 'date', 'year': today.year, 'month': today.month,
        'day': today.day}
    shipment, = antwerp.model('stock.shipment.internal', 'create', [{
                'company': company, 'from_location': locations['ANT'],
                'to_location': locations['BXL'], 'planned_date': day,
                'planned_start_date': day,
                'moves': [['create', [{
                                'product': p['id'], 'unit': p['default_uom'],
                                'quantity': quantity,
                                'from_location': locations['ANT'],
                                'to_location': locations['BXL'],
                                'company': company}
                            for p, quantity in [(by_lot, 3), (plain, 2)]]]],
                }])
    for step in ['wait', 'assign_try', 'pack', 'ship']:
        antwerp.model('stock.shipment.internal', step, [shipment])
    return shipment, by_lot['id'], plain['id']


def enroll_phone(office, page, url, database, branch_code='BXL'):
    manager = office.client(manager_login(branch_code), DEMO_PASSWORD)
    branch, = manager.search_read('retail.branch',
        [('code', '=', branch_code)], ['id'])
    device, = manager.model('retail.sync.device', 'create', [{
                'kind': 'counter', 'device_branch': branch['id'],
                'device_name': "Receiving phone"}])
    code = manager.wizard('retail.sync.enroll', 'create_code',
        'retail.sync.device', device)['view']['defaults']['code']
    page.goto(url + f'count/?db={database}')
    page.fill('#code', code)
    page.fill('#device-name', "Receiving phone")
    page.click('#enroll-go')
    return manager


def test_receive_a_transfer_offline_on_a_phone(backend, browser):
    """Brussels' receiving clerk opens the transfer from Antwerp on the
    phone, scans what arrived offline (one unit short, one damaged), and
    the server posts the receipt with its differences when back online"""
    if not hasattr(backend, 'office'):
        pytest.skip('the phone page needs the real back office')
    office = backend.office
    shipment, by_lot, plain = ship_to_brussels(office)
    context = browser.new_context(viewport=PHONE, is_mobile=True,
        has_touch=True)
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    manager = enroll_phone(office, page, backend.url, backend.database)
    button = f'#transfer-list button[data-transfer="{shipment}"]'
    page.wait_for_selector(button, timeout=60_000)
    shot(page, 'transfers', prefix='count')
    page.evaluate('navigator.serviceWorker.ready.then(() => true)')
    context.set_offline(True)
    page.wait_for_selector('#net[data-online="0"]')
    page.click(button)
    page.wait_for_selector('#receive-form')
    lines = page.evaluate("""() => window.countPage.transfers.state
        .receiving.lines.map((l) => ({move: l.move, product: l.product,
        code: l.codes.find((c) => /^[0-9]{8,14}$/.test(c)) || l.codes[0],
        shipped: l.quantity}))""")
    lot_lines = [l for l in lines if l['product'] == by_lot]
    plain_line, = [l for l in lines if l['product'] == plain]
    # The lot product: its 3 units scanned (they fill its lots in the
    # order shipped); the other: 1 of 2 arrived
    for _ in range(3):
        scan(page, lot_lines[0]['code'], field='#receive-scan')
    scan(page, plain_line['code'], field='#receive-scan')
    received = page.eval_on_selector_all('#receive-body tr', """(rows) =>
        Object.fromEntries(rows.map((r) => [r.dataset.move,
        r.cells[3].textContent]))""")
    assert sum(float(received[str(l['move'])]) for l in lot_lines) == 3
    assert received[str(plain_line['move'])] == '1'
    # Tapped: one unit of the first lot arrived crushed; the missing unit
    # goes back to Antwerp
    first = lot_lines[0]
    row = '#receive-body tr[data-move="{}"]'
    page.click(row.format(first['move']))
    page.fill('#edit-received', str(int(float(first['shipped'])) - 1))
    page.fill('#edit-damaged', '1')
    page.fill('#edit-reason', "Crushed")
    shot(page, 'receive-edit', prefix='count')
    page.click('#edit-ok')
    page.click(row.format(plain_line['move']))
    page.select_option('#edit-short-to', 'back')
    page.fill('#edit-reason', "Missing")
    page.click('#edit-ok')
    assert page.text_content('#receive-total') == '2 lines differ'
    shot(page, 'receive', prefix='count')
    # Kept across a reload before it is finished (offline)
    page.reload()
    page.wait_for_selector(button)
    page.click(button)
    page.wait_for_selector(row.format(plain_line['move']))
    assert page.text_content('#receive-total') == '2 lines differ'
    page.click('#receive-go')
    page.wait_for_selector(f'{button}:disabled')
    assert page.text_content('#pending') == '1'

    context.set_offline(False)
    page.wait_for_function(
        "document.getElementById('pending').textContent === '0'",
        timeout=60_000)
    page.wait_for_selector(button, state='detached', timeout=60_000)
    shot(page, 'received', prefix='count')
    record, = manager.model('stock.shipment.internal', 'read', [shipment],
        ['state', 'differences', 'retail_receipt_device'])
    assert record['state'] == 'done', record
    assert record['retail_receipt_device'], record
    differences = manager.model('retail.stock.transfer.difference', 'read',
        record['differences'], ['product', 'kind', 'quantity',
            'disposition', 'reason'])
    assert sorted((d['product'], d['kind'], d['quantity'], d['disposition'],
                d['reason']) for d in differences) == sorted([
            (by_lot, 'damaged', 1.0, 'loss', "Crushed"),
            (plain, 'short', 1.0, 'back', "Missing")])
    assert not errors, errors
    context.close()


def test_phone_page_in_french(backend, browser, count_dist):
    "A phone set to French shows the page in French"
    context = browser.new_context(viewport=PHONE, is_mobile=True,
        locale='fr-BE')
    page = context.new_page()
    page.goto(backend.url + f'count/?db={backend.database}')
    page.wait_for_selector('#enroll:not([hidden])')
    assert page.text_content('#enroll h1') == "Enrôler ce téléphone"
    assert page.text_content('#enroll-go') == "Enrôler"
    assert page.get_attribute('#scan', 'placeholder') == (
        "Scannez ou tapez un code")
    assert page.evaluate('document.documentElement.lang') == 'fr'
    shot(page, 'enroll-fr', prefix='count')
    context.close()
