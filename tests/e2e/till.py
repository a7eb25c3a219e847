"""What a cashier does at the till, for the POS end-to-end tests: log in,
scan, pay, and read the till's own journal."""
from pathlib import Path

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
    """A keyboard-wedge scanner: a burst of keys ending in Enter; returns
    once the line is in the cart (the total changed), so a key pressed next
    (pay, park) never races the scan on a loaded machine"""
    before = page.get_attribute('#total', 'data-minor')
    page.keyboard.type(code + '\n')
    page.wait_for_function(
        "before => document.querySelector('#total')?.dataset.minor !== before",
        arg=before, timeout=30_000)


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


def check_server(backend, page, local):
    "The server holds exactly the till's sales: numbers, totals and lots"
    if hasattr(backend, 'received'):
        # the stand-in serves every test of the session: this till's
        # operations are the last ones it received
        ops = [o for o in backend.received() if o['type'] in ('sale', 'return')]
        ops = ops[-len(local):]
        assert sorted(o['payload']['receipt_number'] for o in ops) == sorted(
            j['receiptNumber'] for j in local)
        by_number = {o['payload']['receipt_number']: o for o in ops}
        for j in local:
            op = by_number[j['receiptNumber']]
            assert minor(op['payload']['total']) == j['total']
            assert sorted(l['lot'] for l in op['payload']['lines'] if l['lot']) == sorted(j['lots'])
        return
    # A real back office: the gap report and the POS sales themselves
    report = page.evaluate("() => pos.api().receipts()")
    assert report['gaps'] == [] and report['duplicates'] == [], report
    assert report['count'] == len(local), report
    sales = backend.pos_sales([j['serverId'] for j in local])
    for j in local:
        s = sales[j['serverId']]
        assert minor(s['total']) == j['total'], (j, s)
        assert sorted(s['lots']) == sorted(j['lots']), (j, s)


def minor(text, digits=2):
    whole, _, frac = str(text).partition('.')
    sign = -1 if whole.startswith('-') else 1
    return sign * (abs(int(whole or '0')) * 10 ** digits + int((frac + '0' * digits)[:digits]))
