"""A shift at the till with the server cut midway: nothing lost, nothing
doubled.

Enroll, bootstrap, sell online, cut the network, sell 20 sales (split
payments, a parked and resumed order, a return, a discount approved by a
manager's PIN), reload the page while offline, bring the network back: the
server holds exactly those sales, with the same totals, receipt numbers and
lots as the till's journal."""
import json
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / 'docs' / 'screenshots'
NOT_PRINT = "window.print = () => { window.__printed = (window.__printed || 0) + 1; };"


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f'pos-{name}.png'))


def employee_id(page, name):
    return page.evaluate(
        "(name) => pos.register.employees().find(e => e.name === name).id", name)


def login(page, employee_id, pin):
    page.click(f"[data-employee='{employee_id}']")
    page.fill('#pin', pin)
    page.click('#pin-ok')


def scan(page, code):
    "A keyboard-wedge scanner: a burst of keys ending in Enter"
    page.keyboard.type(code + '\n')


def total(page):
    return int(page.get_attribute('#total', 'data-minor'))


def pay(page, *parts, screenshot=None):
    "parts: (method id, amount text) in order; the last one settles"
    page.keyboard.press('F9')
    page.wait_for_selector('#pay-amount')
    for i, (method, amount) in enumerate(parts):
        if amount is not None:
            page.fill('#pay-amount', amount)
        if screenshot and i == len(parts) - 1:
            shot(page, screenshot)
        page.click(f"[data-method='{method}']")
    page.wait_for_selector('#pay-amount', state='detached')
    page.wait_for_function("document.querySelector('#total').dataset.minor === '0'")


def journal(page):
    return page.evaluate("""async () => {
        const out = [];
        for (const e of await pos.db.sales.orderBy('createdAt').toArray()) {
            const j = await pos.vault.decrypt(e.enc);
            out.push({number: e.number, kind: j.kind, synced: e.synced,
                serverId: e.serverId ?? null, total: j.totals ? j.totals.total : null,
                lots: j.order.lines.filter(l => !l.voided && l.lot).map(l => l.lot.id),
                receiptNumber: j.receiptNumber ?? null});
        }
        return out;
    }""")


def pick_products(page):
    "Choose products of the demo catalog from what the till synced"
    return page.evaluate("""() => {
        const ps = [...pos.catalog.map('product').values()].filter(
            p => p.salable !== false && (p.barcodes || []).length);
        const plain = ps.filter(p => !p.lot_required && !pos.catalog.lotsOf(p.id).length
            && /^\\d{13}$/.test(p.barcodes[0]) && !/^2/.test(p.barcodes[0]));
        const today = pos.register.today();
        const lotted = ps.filter(p => pos.catalog.lotsOf(p.id).some(
            l => l.quantity > 0 && (!l.expiration_date || l.expiration_date >= today)));
        return {plain: plain.slice(0, 6).map(p => p.barcodes[0]),
            lotted: lotted.slice(0, 1).map(p => p.barcodes[0])};
    }""")


def methods(page):
    return page.evaluate(
        "() => pos.register.paymentMethods().map(m => ({id: m.id, cash: m.cash === true}))")


def test_offline_shift_loses_and_doubles_nothing(backend, browser):
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    context.add_init_script(NOT_PRINT)
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    cashier_name, cashier_pin = backend.employees['cashier']
    manager_name, manager_pin = backend.employees['manager']

    # Enroll and bootstrap
    page.goto(backend.url + f'pos/?db={backend.database}')
    page.fill('#enroll-code', backend.enrollment_code())
    shot(page, 'enroll')
    page.click('#enroll-submit')
    page.wait_for_selector('[data-employee]', timeout=120_000)
    shot(page, 'login')
    cashier_id = employee_id(page, cashier_name)
    manager_id = employee_id(page, manager_name)
    login(page, cashier_id, cashier_pin)
    page.wait_for_selector('#float')
    page.fill('#float', '100.00')
    page.click('#float-ok')
    page.wait_for_selector('#entry')
    products = pick_products(page)
    assert len(products['plain']) >= 3, products
    cash, card = None, None
    for m in methods(page):
        if m['cash'] and cash is None:
            cash = m['id']
        elif not m['cash'] and card is None:
            card = m['id']
    assert cash and card
    others = [m['id'] for m in methods(page) if m['id'] not in (cash, card)]
    wallet = others[0] if others else card
    a, b, c = products['plain'][:3]

    # 1. Online sale
    scan(page, a)
    scan(page, b)
    shot(page, 'checkout')
    pay(page, (cash, None))
    page.wait_for_selector("#unsynced[data-count='0']", timeout=30_000)
    assert journal(page)[-1]['synced']

    # Cut the server
    context.set_offline(True)
    page.click('#force-sync')
    page.wait_for_selector("#net[data-online='false']", timeout=30_000)

    # 2-21. Twenty sales offline
    sold = 0
    # split payments over three methods
    for i in range(3):
        scan(page, a)
        scan(page, c)
        due = total(page)
        first = due // 3
        pay(page, (card, f'{first // 100}.{first % 100:02d}'),
            (wallet, f'{first // 100}.{first % 100:02d}'), (cash, '100'),
            screenshot='payment' if i == 0 else None)
        sold += 1
    # a parked and resumed order
    scan(page, b)
    page.keyboard.press('F8')
    scan(page, a)
    pay(page, (card, None))
    sold += 1
    page.keyboard.press('Shift+F8')
    page.wait_for_selector('#held-list')
    shot(page, 'held')
    page.click('#held-list li button')
    page.wait_for_function("Number(document.querySelector('#total').dataset.minor) > 0")
    pay(page, (cash, None))
    sold += 1
    # a discount above the cashier's limit, approved by a manager's PIN
    scan(page, c)
    before = total(page)
    page.keyboard.press('F6')
    page.fill('#discount', '20')
    page.click('#discount-ok')
    page.click(f"[data-manager='{manager_id}']")
    page.fill('#pin', manager_pin)
    page.click('#pin-ok')
    page.wait_for_function(
        f"Number(document.querySelector('#total').dataset.minor) < {before}")
    shot(page, 'discount')
    pay(page, (card, None))
    sold += 1
    # a lot-tracked product takes the first-expiring lot
    if products['lotted']:
        scan(page, products['lotted'][0])
        pay(page, (cash, None))
        sold += 1
    # reload while offline: the service worker opens the till
    page.reload()
    page.wait_for_selector('#entry', timeout=30_000)
    shot(page, 'offline-reload')
    assert page.get_attribute('#net', 'data-online') != 'true'
    # a return of an offline sale, by typing its receipt number
    refundable = [j for j in journal(page) if j['kind'] == 'sale'][-2]
    page.keyboard.press('F10')
    page.fill('#return-number', refundable['number'])
    page.click('#return-find')
    page.click('#return-ok')
    page.click(f"[data-manager='{manager_id}']")
    page.fill('#pin', manager_pin)
    page.click('#pin-ok')
    page.wait_for_function("Number(document.querySelector('#total').dataset.minor) < 0")
    shot(page, 'return')
    pay(page, (cash, None))
    sold += 1
    # a customer created offline and attached
    scan(page, a)
    page.keyboard.press('F3')
    page.fill('#new-customer-name', 'Zoe Privatename')
    page.fill('#new-customer-email', 'zoe@example.org')
    page.click('#create-customer')
    page.wait_for_selector('.customer')
    pay(page, (card, None))
    sold += 1
    while sold < 20:
        scan(page, [a, b, c][sold % 3])
        if sold % 2:
            pay(page, (card, None))
        else:
            pay(page, (cash, '50'))
        sold += 1
    local = journal(page)
    assert len(local) == 21
    assert sum(1 for j in local if not j['synced']) == 20
    # 20 sales and the customer created offline
    assert page.get_attribute('#unsynced', 'data-count') == '21'
    shot(page, 'offline')
    assert_encrypted_at_rest(page, local, 'Zoe Privatename')

    # Bring the server back
    context.set_offline(False)
    page.click('#force-sync')
    page.wait_for_selector("#unsynced[data-count='0']", timeout=120_000)
    shot(page, 'synced')
    local = journal(page)
    assert all(j['synced'] for j in local)
    numbers = [j['receiptNumber'] for j in local]
    assert numbers == list(range(numbers[0], numbers[0] + 21))
    check_server(backend, page, local)
    assert not errors, errors
    context.close()


def assert_encrypted_at_rest(page, local, customer_name):
    "The raw IndexedDB holds no customer name and no sale total in clear"
    raw = page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open('retail-pos');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
            const db = req.result;
            const names = [...db.objectStoreNames];
            const tx = db.transaction(names, 'readonly');
            const out = {};
            for (const n of names) {
                const r = tx.objectStore(n).getAll();
                r.onsuccess = () => { out[n] = r.result; };
            }
            tx.oncomplete = () => {
                const text = JSON.stringify(out, (k, v) => (v instanceof Uint8Array
                    ? String.fromCharCode(...v) : v));
                db.close();
                resolve(text);
            };
        };
    })""")
    assert customer_name not in raw
    assert 'Privatename' not in raw
    for j in local:
        minor = abs(j['total'])
        text = f'{minor // 100}.{minor % 100:02d}'
        assert f'"total":"{text}"' not in raw and f'"total":{j["total"]}' not in raw, text


def check_server(backend, page, local):
    "The server holds exactly the till's sales: numbers, totals and lots"
    if hasattr(backend, 'received'):
        ops = [o for o in backend.received() if o['type'] in ('sale', 'return')]
        assert sorted(o['payload']['receipt_number'] for o in ops) == sorted(
            j['receiptNumber'] for j in local)
        by_number = {o['payload']['receipt_number']: o for o in ops}
        for j in local:
            op = by_number[j['receiptNumber']]
            assert _minor(op['payload']['total']) == j['total']
            assert sorted(l['lot'] for l in op['payload']['lines'] if l['lot']) == sorted(j['lots'])
        return
    # A real back office: the gap report and the POS sales themselves
    report = page.evaluate("() => pos.api().receipts()")
    assert report['gaps'] == [] and report['duplicates'] == [], report
    assert report['count'] == len(local), report
    sales = backend.pos_sales([j['serverId'] for j in local])
    for j in local:
        s = sales[j['serverId']]
        assert _minor(s['total']) == j['total'], (j, s)
        assert sorted(s['lots']) == sorted(j['lots']), (j, s)


def _minor(text, digits=2):
    whole, _, frac = str(text).partition('.')
    sign = -1 if whole.startswith('-') else 1
    return sign * (abs(int(whole or '0')) * 10 ** digits + int((frac + '0' * digits)[:digits]))
