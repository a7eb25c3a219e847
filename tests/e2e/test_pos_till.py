"""The till's keyboard, dialogs, held orders, approvals, reprints and lock,
as a cashier meets them: each test is one rule of the till manual
(pos_offline_client/README.md) and failed before the rule was kept.

The tests share one till (enrolling and bootstrapping once) and run in
order; each leaves the till on an empty checkout."""
import re

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.till import (
    employee_id, journal, login, methods, open_till, pay, pick_products, scan)
from tests.e2e.till import shot as till_shot
from tests.e2e.till import state


@pytest.fixture(scope='module')
def till(backend):
    sync_api = pytest.importorskip('playwright.sync_api')
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context, page, errors = open_till(
            browser, backend, 'BXL1', backend.employees['cashier'])
        till = Till(page, backend, errors)
        yield till
        context.close()
        browser.close()
    assert not errors, errors


def shot(page, name):
    "A screenshot without the notices of the steps before"
    page.evaluate(
        "() => document.querySelectorAll('.toast').forEach(t => t.remove())")
    till_shot(page, name)


class Till:
    def __init__(self, page, backend, errors):
        self.page = page
        self.errors = errors
        self.cashier = backend.employees['cashier']
        self.manager = backend.employees['manager']
        self.cashier_id = employee_id(page, self.cashier[0])
        self.manager_id = employee_id(page, self.manager[0])
        self.products = pick_products(page)
        self.methods = methods(page)

    def lines(self):
        return self.page.evaluate(
            "() => pos.ui.order.lines.map(l => ({name: l.name, "
            "voided: l.voided, quantity: l.quantity}))")

    def no_modal(self):
        return self.page.locator('.modal').count() == 0

    def clear(self):
        "Settle or drop what the cart holds: an empty checkout"
        page = self.page
        page.keyboard.press('Escape')
        if page.evaluate("() => pos.ui.order.lines.some(l => !l.voided)"):
            pay(page, (self.methods[0]['id'], None))
        page.evaluate("() => pos.ui.newOrder()")

    def approve(self):
        "The manager picks their name and types their PIN"
        page = self.page
        page.click(f"[data-manager='{self.manager_id}']")
        page.fill('#pin', self.manager[1])
        page.click('#pin-ok')


def test_payment_key_is_not_a_shortcut_after_the_sale(till):
    """F1..F3 settle with the first three payment methods; the key that
    closed the payment dialog does not then open Help, Search or
    Customer"""
    page = till.page
    a = till.products['plain'][0]
    for i, method in enumerate(till.methods[:3]):
        scan(page, a)
        page.keyboard.press('F9')
        page.wait_for_selector('#pay-amount')
        page.keyboard.press(f'F{i + 1}')
        page.wait_for_selector('#pay-amount', state='detached')
        page.wait_for_function(
            "document.querySelector('#total').dataset.minor === '0'")
        page.wait_for_timeout(300)
        assert till.no_modal(), (f'F{i + 1}', state(page))
        assert page.evaluate("document.activeElement.id") == 'entry'
    assert len([j for j in journal(page) if j['kind'] == 'sale']) >= 3


def test_delete_in_the_scan_field_edits_the_text(till):
    """Delete with text in the scan field deletes a character; with the
    field empty it voids the selected line (after the manager's
    approval, which says which line and how much)"""
    page = till.page
    scan(page, till.products['plain'][0])
    page.focus('#entry')
    page.keyboard.type('123')
    page.keyboard.press('Home')
    page.keyboard.press('Delete')
    assert page.input_value('#entry') == '23'
    page.wait_for_timeout(200)
    assert till.no_modal(), state(page)
    assert not any(line['voided'] for line in till.lines())
    page.evaluate("() => { document.querySelector('#entry').value = ''; }")
    page.keyboard.press('Delete')
    page.wait_for_selector('#approval-detail')
    name = till.lines()[-1]['name']
    detail = page.inner_text('#approval-detail')
    assert name in detail and 'void' in detail, detail
    till.approve()
    page.wait_for_function("() => pos.ui.order.lines.at(-1).voided")
    till.clear()


def test_a_scan_while_a_dialog_is_open_is_refused_aloud(till):
    """A scan that reaches a dialog that takes no scan adds nothing, and
    the cashier is told to close the dialog and scan again"""
    page = till.page
    a, b = till.products['plain'][:2]
    scan(page, a)
    page.keyboard.press('F4')
    page.wait_for_selector('#qty')
    before = page.input_value('#qty')
    # a scan from the hardware proxy's scanner (a keyboard-wedge burst
    # typed by Playwright on a loaded machine may come too slow to be a
    # scan, and then is typing)
    page.evaluate("(code) => pos.onScan(code)", b)
    page.wait_for_selector('.toast.bad', timeout=5000)
    toasts = ' '.join(page.locator('.toast').all_inner_texts())
    assert b in toasts and 'close the dialog' in toasts, toasts
    assert page.input_value('#qty') == before
    page.keyboard.press('Escape')
    assert len(till.lines()) == 1
    till.clear()


def test_held_orders_list_items_leave_when_resumed_and_ask_before_delete(till):
    page = till.page
    a, b = till.products['plain'][:2]
    names = {}
    for code in (a, b):
        scan(page, code)
        names[code] = till.lines()[-1]['name']
        page.keyboard.press('F8')
        page.wait_for_function("() => pos.ui.order.lines.length === 0")
    page.keyboard.press('Shift+F8')
    page.wait_for_selector('#held-list')
    items = page.locator('#held-list .held-items').all_inner_texts()
    assert len(items) == 2, items
    assert names[a] in items[0] and names[b] in items[1], items
    shot(page, 'held-orders')
    page.locator("#held-list [data-held-action='resume']").first.click()
    page.wait_for_function("() => pos.ui.order.lines.length === 1")
    assert till.lines()[0]['name'] == names[a]
    # the resumed order is the current one: no longer held
    page.keyboard.press('Shift+F8')
    page.wait_for_selector('#held-list')
    assert page.locator('#held-list li').count() == 1
    assert names[b] in page.inner_text('#held-list')
    # Delete asks first; Cancel keeps the order
    page.locator("#held-list [data-held-action='delete']").click()
    page.wait_for_selector('#confirm-text')
    assert names[b] in page.inner_text('#confirm-text')
    page.click('#confirm-no')
    page.keyboard.press('Shift+F8')
    page.wait_for_selector('#held-list')
    assert page.locator('#held-list li').count() == 1
    page.locator("#held-list [data-held-action='delete']").click()
    page.click('#confirm-yes')
    page.wait_for_function(
        "async () => (await pos.register.heldOrders()).length === 0")
    till.clear()


def test_a_manager_approval_says_which_line_and_how_much(till):
    "A discount beyond the cashier's limit: the line, its price, the cut"
    page = till.page
    scan(page, till.products['plain'][0])
    name = till.lines()[-1]['name']
    page.keyboard.press('F6')
    page.fill('#discount', '20')
    page.keyboard.press('Enter')
    page.wait_for_selector('#approval-detail')
    detail = page.inner_text('#approval-detail')
    shot(page, 'approval')
    assert name in detail, detail
    assert '20' in detail and '%' in detail, detail
    assert re.search(r'−\S*\d', detail), detail
    page.keyboard.press('Escape')
    till.clear()


def test_a_weighed_line_shows_its_unit(till):
    page = till.page
    weighed = page.evaluate("""() => {
        const kg = pos.catalog.all('uom').filter(u => u.symbol === 'kg').map(
            u => u.id);
        const p = [...pos.catalog.map('product').values()].find(
            p => kg.includes(p.uom) && p.salable !== false
                && !pos.catalog.lotsOf(p.id).length);
        return p ? {name: p.name, code: p.code} : null;
    }""")
    if not weighed:
        pytest.skip('no product sold by the kilogram')
    page.keyboard.press('F2')
    page.fill('#search', weighed['code'] or weighed['name'])
    page.wait_for_selector('#search-results li')
    page.keyboard.press('Enter')
    page.wait_for_function("() => pos.ui.order.lines.length === 1")
    page.keyboard.press('F4')
    page.fill('#qty', '0.755')
    page.keyboard.press('Enter')
    page.wait_for_function("() => pos.ui.order.lines[0].quantity === 755")
    qty = page.inner_text('#cart tr.selected td.qty')
    assert re.fullmatch(r'0[.,]755\s*kg', qty.strip()), qty
    till.clear()


def test_a_reprint_is_marked_copy_with_the_sale_s_time(till):
    """Without a printer the browser prints; a reprint says COPY and
    carries the sale's own date beside the reprint's"""
    page = till.page
    scan(page, till.products['plain'][0])
    pay(page, (till.methods[0]['id'], None))
    page.wait_for_function("() => pos.ui.lastPrint")
    original = printed(page)
    assert 'Date' in original['meta'] and 'COPY' not in original['text']
    page.keyboard.press('F12')
    page.click("[data-menu='Reprint last receipt']")
    page.wait_for_function(
        "() => /COPY/.test("
        "document.querySelector('#print-area')?.textContent || '')")
    copy = printed(page)
    assert copy['meta']['Date'] == original['meta']['Date'], copy
    assert 'Reprinted' in copy['meta'], copy


def printed(page):
    "What the browser printed last: its text and its Date, Receipt... rows"
    return page.evaluate("""() => {
        const area = document.querySelector('#print-area');
        return {text: area.textContent, meta: Object.fromEntries(
            [...area.querySelectorAll('table.meta tr')].map(
                tr => [...tr.cells].map(c => c.textContent.trim())))};
    }""")


def test_other_till_receipt_offline_needs_the_server(till):
    page = till.page
    page.context.set_offline(True)
    try:
        page.click('#force-sync')
        page.wait_for_selector("#net[data-online='false']", timeout=30_000)
        page.keyboard.press('F10')
        page.fill('#return-number', 'ZZZ9-000042')
        page.click('#return-find')
        page.wait_for_selector('.toast.bad')
        toasts = ' '.join(page.locator('.toast').all_inner_texts())
        assert 'needs the server' in toasts, toasts
        assert 'not found' not in toasts, toasts
    finally:
        page.context.set_offline(False)


def test_touch_selling_with_the_grid_and_quick_keys(till, backend):
    """Without a scanner on a 1280x800 tablet: the branch's quick keys,
    category tabs and product tiles, all at least 44 px; a tile sells its
    product; a template's tile asks its size, then its colour"""
    page = till.page
    page.set_viewport_size({'width': 1280, 'height': 800})
    if hasattr(backend, 'office'):
        # the branch's store manager sets two keys in the back office
        products = page.evaluate("""() => [
                ...pos.catalog.map('product').values()]
            .filter(p => p.salable !== false
                && !pos.catalog.lotsOf(p.id).length
                && !(p.attributes || []).length).slice(0, 2).map(p => p.id)""")
        for i, product in enumerate(products):
            backend.office.quick_key('BXL1', product, label=f'Key {i + 1}',
                colour=['green', 'orange'][i], sequence=i + 1)
        page.click('#force-sync')
    page.wait_for_selector('#quick-keys [data-quick-key]', timeout=60_000)
    # (the notices of the tests before would cover some keys)
    page.evaluate(
        "() => document.querySelectorAll('.toast').forEach(t => t.remove())")
    boxes = page.evaluate("""() => [...document.querySelectorAll(
            '#quick-keys button, #category-tabs button, #tiles button')
            ].map(el => {
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(
            r.left + r.width / 2, r.top + Math.min(r.height / 2, 20));
        return {text: el.innerText, width: r.width, height: r.height,
            visible: r.bottom > 0 && r.top < innerHeight,
            reached: Boolean(hit && el.contains(hit))};
    })""")
    assert boxes and [b for b in boxes
        if b['width'] < 44 or b['height'] < 44] == [], boxes
    first_rows = [b for b in boxes if b['visible']]
    assert first_rows and all(b['reached'] for b in first_rows[:4]), first_rows
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # a quick key sells its product
    key = page.locator('#quick-keys [data-quick-key]').first
    product = int(key.get_attribute('data-product'))
    key.click()
    if page.locator('#weight').count():
        # sold by weight: the cashier types it
        page.fill('#weight', '0.5')
        page.keyboard.press('Enter')
    page.wait_for_function(
        "(id) => pos.ui.order.lines.some(l => l.product === id)", arg=product)
    # a template with variants: pick its category, its tile, then size and
    # colour
    category = page.evaluate("""() => {
        const ps = [...pos.catalog.map('product').values()].filter(
            p => p.salable !== false && (p.attributes || []).length >= 2);
        return ps.length ? ps[0].category : null;
    }""")
    if category is None:
        pytest.skip('no product with two attributes')
    page.click(f"#category-tabs [data-category='{category}']")
    tile = page.locator(
        "#tiles [data-variants]:not([data-variants='1'])").first
    template = tile.inner_text().split('\n')[0]
    tile.click()
    page.wait_for_selector("#variant-values[data-attribute='size']")
    shot(page, 'variant-size')
    page.locator('#variant-values button').nth(1).click()
    page.wait_for_selector("#variant-values[data-attribute='colour']")
    page.locator('#variant-values button').last.click()
    page.wait_for_selector('#variant-values', state='detached')
    name = page.evaluate("() => pos.ui.order.lines.at(-1).name")
    # The back office's name: the template's, then the values in the order
    # of its axes ("Oxford Shirt — M / Pink")
    assert name.startswith(template) and ' — ' in name and ' / ' in name, (
        name, template)
    # another tile of a single product sells it at once
    tab = page.locator('#category-tabs button').first
    tab.click()
    before = len(till.lines())
    page.locator("#tiles [data-variants='1']").first.click()
    page.wait_for_function(
        "(n) => pos.ui.order.lines.length > n", arg=before)
    shot(page, 'touch-grid')
    till.clear()


def test_a_reload_locks_the_till(till):
    page = till.page
    page.reload()
    page.wait_for_selector(f"[data-employee='{till.cashier_id}']",
        timeout=30_000)
    assert page.locator('#entry').count() == 0
    assert till.cashier[0] in page.inner_text('#screen h1')
    login(page, till.cashier_id, till.cashier[1])
    page.wait_for_selector('#entry')


def test_the_till_locks_after_the_branch_s_idle_time(till):
    """No key, tap or scan for the branch's idle time (5 minutes unless
    the back office sets another): the till locks"""
    page = till.page
    minutes = page.evaluate("() => pos.idleMinutes")
    assert minutes == page.evaluate(
        "() => pos.catalog.get('branch', pos.device.branch.id)"
        "?.lock_after_minutes ?? 5")
    page.clock.install()
    page.click('#entry')  # activity: the idle time starts again
    page.clock.run_for((minutes * 60 - 5) * 1000)
    assert page.locator('#entry').count() == 1
    page.clock.run_for(10_000)
    page.wait_for_selector(f"[data-employee='{till.cashier_id}']")
    assert page.locator('#entry').count() == 0
    shot(page, 'idle-lock')
    login(page, till.cashier_id, till.cashier[1])
    page.wait_for_selector('#entry')
