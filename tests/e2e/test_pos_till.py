"""The till's keyboard, dialogs, held orders, approvals, reprints and lock,
as a cashier meets them: each test is one rule of the till manual
(pos_offline_client/README.md) and failed before the rule was kept.

The tests share one till (enrolling and bootstrapping once) and run in
order; each leaves the till on an empty checkout."""
import re

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.till import (
    employee_id, journal, login, methods, open_till, pay, pick_products,
    scan, shot, state)


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
            "() => pos.ui.order.lines.map(l => ({name: l.name, voided: l.voided,"
            " quantity: l.quantity}))")

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
    page.focus('#qty')
    page.keyboard.type(b + '\n')
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
    page.fill('#discount', '40')
    page.keyboard.press('Enter')
    page.wait_for_selector('#approval-detail')
    detail = page.inner_text('#approval-detail')
    shot(page, 'approval')
    assert name in detail, detail
    assert '40' in detail and '%' in detail, detail
    assert re.search(r'−\S*\d', detail), detail
    page.keyboard.press('Escape')
    till.clear()


def test_a_weighed_line_shows_its_unit(till):
    page = till.page
    weighed = page.evaluate("""() => {
        const kg = pos.catalog.all('uom').filter(u => u.symbol === 'kg').map(u => u.id);
        const p = [...pos.catalog.map('product').values()].find(
            p => kg.includes(p.uom) && p.salable !== false && !pos.catalog.lotsOf(p.id).length);
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
        "() => /COPY/.test(document.querySelector('#print-area')?.textContent || '')")
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
        "() => pos.catalog.get('branch', pos.device.branch.id)?.lock_after_minutes ?? 5")
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
