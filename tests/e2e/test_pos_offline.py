"""A shift at the till with the server cut midway: nothing lost, nothing
doubled.

Enroll, bootstrap, sell online, cut the network, sell 20 sales (split
payments, a parked and resumed order, a return, a discount approved by a
manager's PIN), reload the page while offline, bring the network back: the
server holds exactly those sales, with the same totals, receipt numbers and
lots as the till's journal, and the manager's approvals as override
records. Close the session: the server's Z figures of the session the till
named (protocol 1.2) equal the till's Z report, opening float included."""
import subprocess
from pathlib import Path

from tests.e2e.till import (
    NOT_PRINT, check_server, close_session, employee_id, journal, login,
    methods, minor, pay, pick_products, scan, shot, total, x_report)


def test_offline_shift_loses_and_doubles_nothing(backend, browser):
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    context.add_init_script(NOT_PRINT)
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    cashier_name, cashier_pin = backend.employees['cashier']
    manager_name, manager_pin = backend.employees['manager']
    if hasattr(backend, 'office'):
        # where the server books the till's opening float and a counted
        # difference (Retail › Configuration › Sync)
        backend.office.float_transfer_type()
        backend.office.cash_difference_type()

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
    # parked: the till starts a new, empty order
    page.wait_for_function(
        "document.querySelector('#total').dataset.minor === '0'")
    scan(page, a)
    pay(page, (card, None))
    sold += 1
    page.keyboard.press('Shift+F8')
    page.wait_for_selector('#held-list')
    shot(page, 'held')
    page.click('#held-list li button')
    page.wait_for_function(
        "Number(document.querySelector('#total').dataset.minor) > 0")
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
    discounted = journal(page)[-1]
    sold += 1
    # a lot-tracked product takes the first-expiring lot
    if products['lotted']:
        scan(page, products['lotted'][0])
        pay(page, (cash, None))
        sold += 1
    # reload while offline: the service worker opens the till, locked
    # by the cashier (the local data too), whose PIN opens it again (key
    # slot) with the open session
    page.reload()
    page.wait_for_selector(f"[data-employee='{cashier_id}']", timeout=30_000)
    assert page.locator('#entry').count() == 0
    login(page, cashier_id, cashier_pin)
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
    page.wait_for_function(
        "Number(document.querySelector('#total').dataset.minor) < 0")
    shot(page, 'return')
    pay(page, (cash, None))
    returned = journal(page)[-1]
    assert returned['kind'] == 'return'
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
    # 20 sales, the customer created offline and the manager's two
    # approvals (discount, refund), each an audit operation
    assert page.get_attribute('#unsynced', 'data-count') == '23'
    shot(page, 'offline')
    assert_encrypted_at_rest(page, local, 'Zoe Privatename')
    # the X report offline: the till's figures, the server's after sync
    x_report(page)
    assert page.get_attribute('#report', 'data-server') == 'pending'
    assert 'Server figures after sync' in page.inner_text('#report')
    assert page.locator('#report td.match, #report td.differ').count() == 0
    page.click('#report ~ .actions button.primary')

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
    if hasattr(backend, 'office'):
        check_overrides(backend.office, local, discounted, returned,
            refundable, cashier_id, manager_id)

    # Close the session: the till's Z report against the server's session
    z = close_session(page, manager_id, manager_pin,
        server=hasattr(backend, 'office'))
    page.wait_for_selector("#unsynced[data-count='0']", timeout=60_000)
    if hasattr(backend, 'office'):
        check_z_report(backend, page, z, local)
        check_journal(backend)
    assert not errors, errors
    context.close()


ROOT = Path(__file__).resolve().parents[2]


def check_journal(backend):
    """Every receipt and the Z the browser's till chained (WebCrypto) is
    chained on the server's check (hashlib), and setup/retail
    verify-journal walks the database's chains without a break"""
    entries = backend.office.journal('BXL1')
    assert len(entries) >= 22, entries
    assert [e for e in entries if e['journal_state'] != 'chained'] == []
    done = subprocess.run([str(ROOT / 'setup' / 'retail'), 'verify-journal',
            '--config', backend.server.config_path,
            '--name', backend.database, '--terminal', 'BXL1'],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert ': chained, ' in done.stdout and 'No break' in done.stdout, \
        done.stdout


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
                const text = JSON.stringify(out, (k, v) => (
                    v instanceof Uint8Array ? String.fromCharCode(...v) : v));
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
        assert f'"total":"{text}"' not in raw, text
        assert f'"total":{j["total"]}' not in raw, text


def check_overrides(office, local, discounted, returned, refunded, cashier,
        manager):
    """The manager's approvals reached the server as override records
    (protocol 1.2 audit): the 20 % discount on its sale and the refund on
    the return, by this manager for this cashier"""
    synced = {j['number']: j for j in local}
    discounted = synced[discounted['number']]
    returned = synced[returned['number']]
    got = [o for o in office.overrides('BXL1') if o['receipt'] in synced]
    assert [(o['action'], o['receipt'], o['manager'], o['cashier'])
        for o in got] == [
        ('discount', discounted['number'], manager, cashier),
        ('refund', returned['number'], manager, cashier)], got
    discount, refund = got
    assert discount['sale'] == discounted['serverId']
    assert discount['product'] == discounted['products'][0]
    assert discount['detail']['discount'] == '20.00'
    assert refund['sale'] == returned['serverId']
    assert refund['detail']['original_receipt'] == refunded['number']


def check_z_report(backend, page, z, local):
    """The server's figures of the session the till named (GET
    sessions/<uuid>, protocol 1.2) equal the till's Z report figure by
    figure, expected cash with the opening float included; in the back
    office that session holds the counted cash, the float as recorded at
    opening and no cash difference booked"""
    figures = page.evaluate('(uuid) => pos.api().session(uuid)', z['session'])
    assert figures['uuid'] == z['session'], figures
    assert figures['state'] in ('closed', 'posted'), figures
    assert minor(figures['opening_float']) == z['opening'] == 10000
    assert (figures['sales'], figures['returns']) == (z['sales'], z['returns'])
    assert z['returns'] == 1 and z['sales'] == 20
    for key, mine in [('sales_total', 'salesTotal'),
            ('returns_total', 'returnsTotal'), ('net', 'net'),
            ('taxes', 'tax'), ('cash_in', 'cashIn'), ('cash_out', 'cashOut'),
            ('expected_cash', 'expectedCash'), ('counted_cash', 'counted'),
            ('difference', 'difference')]:
        assert minor(figures[key]) == z[mine], (key, figures[key], z[mine])
    assert z['expectedCash'] == (z['opening'] + z['cashPayments']
        + z['cashIn'] - z['cashOut'])
    assert {p['method']: minor(p['amount']) for p in figures['payments']
        if minor(p['amount'])} == {
        p['method']: p['amount'] for p in z['payments'] if p['amount']}
    # the same session in the back office (JSON-RPC)
    ids = [j['serverId'] for j in local]
    s, = backend.office.cash_sessions(uuid=z['session'])
    assert s['state'] in ('closed', 'posted'), s
    assert minor(s['end_amount']) == z['counted']
    assert {p['sale'] for p in s['payments']} <= set(ids)
    assert sum(minor(p['amount']) for p in s['payments']) == z['cashPayments']
    by_method = backend.office.payments_by_method(ids)
    assert {m: minor(a) for m, a in by_method.items() if a} == {
        p['method']: p['amount'] for p in z['payments'] if p['amount']}
    server_total = sum(
        minor(v['total']) for v in backend.pos_sales(ids).values())
    assert server_total == z['net']
    assert s['retail_difference_transfer'] is None
    transfers = {t['id']: minor(t['amount']) for t in s['transfers']}
    float_booked = transfers.get(s['retail_float_transfer'], 0)
    assert minor(s['start_amount']) + float_booked == z['opening']
    moved = sum(a for i, a in transfers.items()
        if i != s['retail_float_transfer'])
    assert moved == z['cashIn'] - z['cashOut']
