"""A stock count on a phone, offline.

A store manager makes a counting phone for the branch and its enrollment
code, and opens a count (not blind) of the branch's storage. The phone
(390×844) enrolls, pulls the count, products and lots, loses the network,
counts by scanning (keyboard-wedge keys ending in Enter) and by typing a
quantity, comes back online and sends its entries: the back office count
adds them up into its lines."""
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
    sources = [p for p in (CLIENT / 'count').rglob('*') if p.is_file()]
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


def scan(page, code):
    "A keyboard-wedge scanner: fast keys into the focused field, then Enter"
    page.focus('#scan')
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

    # The page works offline after a reload (service worker, IndexedDB)
    page.reload()
    page.wait_for_selector(f'#count-list button[data-count="{count}"]')
    page.click(f'#count-list button[data-count="{count}"]')
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
