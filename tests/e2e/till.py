"""What a cashier does at the till, for the POS end-to-end tests: log in,
scan, pay, and read the till's own journal."""
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / 'docs' / 'screenshots'
NOT_PRINT = ("window.print = () => "
    "{ window.__printed = (window.__printed || 0) + 1; };")


def shot(page, name, prefix='pos'):
    "docs/screenshots/<prefix>-<name>.png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f'{prefix}-{name}.png'))


def open_till(browser, backend, prefix, employee, opening='50.00',
        **options):
    """A new browser profile enrolled as terminal prefix, bootstrapped,
    employee (name, PIN) logged in with the opening float counted; answers
    (context, page, page errors)"""
    context = browser.new_context(
        viewport={'width': 1280, 'height': 800}, **options)
    page, errors = enroll_and_open(context, backend, prefix, employee,
        opening)
    return context, page, errors


def enroll_and_open(context, backend, prefix, employee, opening='50.00'):
    """Enroll a new page of context as terminal prefix, log employee in
    and count the opening float; answers (page, page errors)"""
    context.add_init_script(NOT_PRINT)
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.goto(backend.url + f'pos/?db={backend.database}')
    page.fill('#enroll-code', backend.enrollment_code(prefix))
    page.click('#enroll-submit')
    page.wait_for_selector('[data-employee]', timeout=120_000)
    name, pin = employee
    login(page, employee_id(page, name), pin)
    page.wait_for_selector('#float')
    page.fill('#float', opening)
    page.click('#float-ok')
    page.wait_for_selector('#entry')
    return page, errors


def employee_id(page, name):
    return page.evaluate(
        "(name) => pos.loginEmployees().find(e => e.name === name).id", name)


def login(page, employee_id, pin):
    page.click(f"[data-employee='{employee_id}']")
    page.fill('#pin', pin)
    page.click('#pin-ok')


def scan(page, code):
    """A keyboard-wedge scanner: a burst of keys ending in Enter; returns
    once the line is in the cart (the total changed), so a key pressed next
    (pay, park) never races the scan on a loaded machine.

    On a loaded machine Playwright may pause more than the reader's 30 ms
    between two keys; the reader joins the keys left in the entry field to
    the rest of the burst (services/scanner.js). Should a scan still leave
    keys in the field, the cashier scans again; so does this helper, after
    clearing the field."""
    before = page.get_attribute('#total', 'data-minor')
    for _ in range(3):
        # the field a cashier's scan lands in (a dialog closed last may
        # have left the focus elsewhere, where typed keys are lost)
        page.focus('#entry')
        page.keyboard.type(code + '\n')
        if not page.input_value('#entry'):
            break
        # (not page.fill: it clears with a Delete key, which voids a line)
        page.evaluate(
            "() => { const e = document.querySelector('#entry'); "
            "e.value = ''; e.focus(); }")
    try:
        page.wait_for_function(
            "before => "
            "document.querySelector('#total')?.dataset.minor !== before",
            arg=before, timeout=30_000)
    except Exception as error:
        raise AssertionError((code, before, state(page))) from error


def state(page):
    "What the till shows, for a failed step's message"
    return page.evaluate('''() => ({
        focus: document.activeElement?.id || document.activeElement?.tagName,
        entry: document.querySelector('#entry')?.value,
        modal: [...document.querySelectorAll('.modal, dialog')].map(
            m => m.innerText.slice(0, 200)),
        toasts: [...document.querySelectorAll('.toast')].map(
            t => t.textContent),
        total: document.querySelector('#total')?.dataset.minor})''')


def total(page):
    return int(page.get_attribute('#total', 'data-minor'))


def pay(page, *parts, screenshot=None):
    "parts: (method id, amount text) in order; the last one settles"
    page.keyboard.press('F9')
    try:
        page.wait_for_selector('#pay-amount')
    except Exception as error:
        raise AssertionError(state(page)) from error
    for i, (method, amount) in enumerate(parts):
        if amount is not None:
            page.fill('#pay-amount', amount)
        if screenshot and i == len(parts) - 1:
            shot(page, screenshot)
        page.click(f"[data-method='{method}']")
    page.wait_for_selector('#pay-amount', state='detached')
    page.wait_for_function(
        "document.querySelector('#total').dataset.minor === '0'")


def journal(page):
    return page.evaluate("""async () => {
        const out = [];
        for (const e of await pos.db.sales.orderBy('createdAt').toArray()) {
            const j = await pos.vault.decrypt(e.enc);
            out.push({number: e.number, kind: j.kind, synced: e.synced,
                serverId: e.serverId ?? null,
                total: j.totals ? j.totals.total : null,
                lots: j.order.lines.filter(l => !l.voided && l.lot).map(
                    l => l.lot.id),
                products: j.order.lines.filter(l => !l.voided).map(
                    l => l.product),
                receiptNumber: j.receiptNumber ?? null});
        }
        return out;
    }""")


def pick_products(page):
    "Choose products of the demo catalog from what the till synced"
    return page.evaluate("""() => {
        const ps = [...pos.catalog.map('product').values()].filter(
            p => p.salable !== false && (p.barcodes || []).length);
        const plain = ps.filter(p => !p.lot_required
            && !pos.catalog.lotsOf(p.id).length
            && /^\\d{13}$/.test(p.barcodes[0]) && !/^2/.test(p.barcodes[0]));
        const today = pos.register.today();
        const lotted = ps.filter(p => pos.catalog.lotsOf(p.id).some(
            l => l.quantity > 0
                && (!l.expiration_date || l.expiration_date >= today)));
        return {plain: plain.slice(0, 6).map(p => p.barcodes[0]),
            lotted: lotted.slice(0, 1).map(p => p.barcodes[0])};
    }""")


def methods(page):
    return page.evaluate(
        "() => pos.register.paymentMethods().map("
        "m => ({id: m.id, cash: m.cash === true}))")


def check_server(backend, page, local):
    "The server holds exactly the till's sales: numbers, totals and lots"
    if hasattr(backend, 'received'):
        # the stand-in serves every test of the session: this till's
        # operations are the last ones it received
        ops = [o for o in backend.received()
            if o['type'] in ('sale', 'return')]
        ops = ops[-len(local):]
        assert sorted(o['payload']['receipt_number'] for o in ops) == sorted(
            j['receiptNumber'] for j in local)
        by_number = {o['payload']['receipt_number']: o for o in ops}
        for j in local:
            op = by_number[j['receiptNumber']]
            assert minor(op['payload']['total']) == j['total']
            assert sorted(l['lot'] for l in op['payload']['lines']
                if l['lot']) == sorted(j['lots'])
        return
    # A real back office: the gap report and the POS sales themselves. The
    # terminal may have sold before on another device (an earlier test
    # enrolled it): its numbering continued, so nothing is missing when the
    # server counts every number from 1 to this till's last one once.
    report = page.evaluate("() => pos.api().receipts()")
    assert report['gaps'] == [] and report['duplicates'] == [], report
    assert report['last'] == local[-1]['receiptNumber'], report
    assert report['count'] == report['last'], report
    sales = backend.pos_sales([j['serverId'] for j in local])
    for j in local:
        s = sales[j['serverId']]
        assert minor(s['total']) == j['total'], (j, s)
        assert sorted(s['lots']) == sorted(j['lots']), (j, s)


def minor(text, digits=2):
    whole, _, frac = str(text).partition('.')
    sign = -1 if whole.startswith('-') else 1
    return sign * (abs(int(whole or '0')) * 10 ** digits
        + int((frac + '0' * digits)[:digits]))


def x_report(page):
    "Menu › X report; returns with the report open"
    page.keyboard.press('F12')
    page.click("[data-menu='X report']")
    page.wait_for_selector('#report')


def close_session(page, manager_id, manager_pin, server=False,
        screenshot='z-report', prefix='pos', before_closing=None):
    """Count exactly the expected cash, close; answers the Z report's
    figures. server: the Z report shows the server's figures beside the
    till's once the close is acknowledged, and they match.
    before_closing(page): called while the Z report is open"""
    x = page.evaluate('''async () => {
        const r = await pos.register.report(
            await pos.register.currentSession());
        return {expected: r.expectedCash};
    }''')
    page.keyboard.press('F12')
    page.click("[data-menu='Close session (Z report)']")
    page.wait_for_selector(
        f"[data-manager='{manager_id}'], [data-denomination]")
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
    if server:
        page.wait_for_selector("#report[data-server='match']", timeout=60_000)
        assert page.locator('#report td.differ').count() == 0
        assert page.locator('#report td.match').count() >= 10, \
            page.inner_html('#report')
        for figure in ('counted', 'difference', 'expectedCash'):
            assert page.get_attribute(f"#report td[data-figure='{figure}']",
                'data-match') == 'true', page.inner_html('#report')
    if screenshot:
        shot(page, screenshot, prefix)
    z = page.evaluate('''async () => {
        const rec = (await pos.db.sessions.toArray()).sort(
            (a, b) => b.openedAt - a.openedAt)[0];
        const session = {uuid: rec.uuid, state: rec.state,
            openedAt: rec.openedAt, ...(await pos.vault.decrypt(rec.enc))};
        const r = await pos.register.report(session);
        return {...r, state: rec.state, counted: session.counted,
            difference: session.counted - r.expectedCash,
            text: document.querySelector('#report').innerText};
    }''')
    if before_closing:
        before_closing(page)
    page.click('#report ~ .actions button.primary')
    assert z['state'] == 'closed' and z['counted'] == x['expected'] \
        and z['difference'] == 0
    return z


MAIN_ACTIONS = ('Pay', 'Quantity', 'Discount', 'Search', 'Park')


def layout(page, width, height):
    """The checkout screen at width x height: horizontal overflow, and for
    each main action (and the selected line's − / +) its box and whether
    a tap at its centre reaches it"""
    page.set_viewport_size({'width': width, 'height': height})
    page.wait_for_function(
        "([w, h]) => innerWidth === w && innerHeight === h",
        arg=[width, height])
    return page.evaluate('''(actions) => {
        const target = (el) => {
            const r = el.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const hit = document.elementFromPoint(x, y);
            return {width: r.width, height: r.height,
                inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth
                    && r.bottom <= innerHeight,
                reached: Boolean(hit && el.contains(hit))};
        };
        const found = {};
        for (const a of actions) {
            const el = document.querySelector(`[data-action='${a}']`);
            found[a] = el ? target(el) : null;
        }
        for (const a of ['qty-minus', 'qty-plus', 'entry']) {
            const el = document.querySelector(
                a === 'entry' ? '#entry' : `[data-action='${a}']`);
            found[a] = el ? target(el) : null;
        }
        const root = document.documentElement;
        return {actions: found,
            scrollWidth: Math.max(root.scrollWidth, document.body.scrollWidth),
            width: innerWidth,
            clipped: [...document.querySelectorAll(
                '#screen button, #screen input')].filter(
                (el) => el.scrollWidth > el.clientWidth + 1).map(
                (el) => el.outerHTML.slice(0, 80))};
    }''', list(MAIN_ACTIONS))


def check_touch_layout(page, width, height, minimum=44):
    """No horizontal overflow; every main action on screen, tappable,
    >= minimum px"""
    found = layout(page, width, height)
    assert found['scrollWidth'] <= found['width'], found
    for name, box in found['actions'].items():
        assert box is not None, (name, found)
        assert box['inside'] and box['reached'], (name, box)
        assert box['width'] >= minimum and box['height'] >= minimum, (
            name, box)
    return found
