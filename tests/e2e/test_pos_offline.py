"""A shift at the till with the server cut midway: nothing lost, nothing
doubled.

Enroll, bootstrap, sell online, cut the network, sell 20 sales (split
payments, a parked and resumed order, a return, a discount approved by a
manager's PIN), reload the page while offline, bring the network back: the
server holds exactly those sales, with the same totals, receipt numbers and
lots as the till's journal."""
from tests.e2e.till import (
    NOT_PRINT,
    check_server,
    employee_id,
    journal,
    login,
    methods,
    minor,
    pay,
    pick_products,
    scan,
    shot,
    total,
)


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

    # Close the session: the till's Z report against the server's session
    if hasattr(backend, 'office'):
        backend.office.cash_difference_type()
    z = close_session(page, manager_id, manager_pin)
    page.wait_for_selector("#unsynced[data-count='0']", timeout=60_000)
    if hasattr(backend, 'cash_sessions'):
        check_z_report(backend, z, local)
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


def close_session(page, manager_id, manager_pin):
    "Count exactly the expected cash, close; answers the Z report's figures"
    x = page.evaluate('''async () => {
        const r = await pos.register.report(await pos.register.currentSession());
        return {expected: r.expectedCash};
    }''')
    page.keyboard.press('F12')
    page.click("[data-menu='Close session (Z report)']")
    page.wait_for_selector(f"[data-manager='{manager_id}'], [data-denomination]")
    if page.locator(f"[data-manager='{manager_id}']").count():
        page.click(f"[data-manager='{manager_id}']")
        page.fill('#pin', manager_pin)
        page.click('#pin-ok')
    page.wait_for_selector('[data-denomination]')
    left = x['expected']
    for el in page.query_selector_all('[data-denomination]'):
        value = int(el.get_attribute('data-denomination'))
        if left >= value:
            el.fill(str(left // value))
            left %= value
    assert left == 0
    page.click('#count-ok')
    page.wait_for_selector('#report')
    shot(page, 'z-report')
    z = page.evaluate('''async () => {
        const rec = (await pos.db.sessions.toArray()).sort((a, b) => b.openedAt - a.openedAt)[0];
        const session = {uuid: rec.uuid, state: rec.state, openedAt: rec.openedAt, ...(await pos.vault.decrypt(rec.enc))};
        const r = await pos.register.report(session);
        return {...r, state: rec.state, counted: session.counted,
            difference: session.counted - r.expectedCash,
            text: document.querySelector('#report').innerText};
    }''')
    page.click('#report ~ .actions button.primary')
    assert z['state'] == 'closed' and z['counted'] == x['expected'] and z['difference'] == 0
    return z


def check_z_report(backend, z, local):
    """The server's cash session of the till against its Z report: same
    counted cash, same cash taken, same payments by method over the same
    sales; the server's expected cash differs at most by the opening float,
    which protocol v1 does not carry (PROTOCOL-NEEDS.md), and that
    difference is what the server books at close"""
    ids = [j['serverId'] for j in local]
    sessions = backend.cash_sessions('BXL1')
    assert len(sessions) == 1, sessions
    s = sessions[0]
    assert s['state'] in ('closed', 'posted'), s
    assert minor(s['end_amount']) == z['counted']
    assert {p['sale'] for p in s['payments']} <= set(ids)
    assert sum(minor(p['amount']) for p in s['payments']) == z['cashPayments']
    by_method = backend.office.payments_by_method(ids)
    assert {m: minor(a) for m, a in by_method.items() if a} == {
        p['method']: p['amount'] for p in z['payments'] if p['amount']}
    server_total = sum(minor(v['total']) for v in backend.pos_sales(ids).values())
    assert server_total == z['net']
    difference_type = backend.office.cash_difference_type()
    booked = sum(minor(t['amount']) for t in s['transfers']
        if t['type'] == difference_type)
    moved = sum(minor(t['amount']) for t in s['transfers']
        if t['type'] != difference_type)
    assert moved == z['cashIn'] - z['cashOut']
    start = minor(s['start_amount'])
    server_expected = start + minor(s['balance']) - booked
    assert server_expected == z['expectedCash'] - z['opening'] + start
    assert booked == z['opening'] - start
