"""Stock, lots and refunds at a real till against the demo as shipped
(docs/pos-client.md § Selling "Stock at the till", § Returns; protocol
§ Lots, § Refunds):

- 8 shirts sold against a stock of 6: the till warns, sells, its figure
  goes to -2 at once and stays -2 once the server's figure is pulled; the
  server flags the oversell;
- 31 bottles of milk against lots of 24 and 36: the line is split 24 + 7
  over the lots, first expiring first, at the till and in the server's
  stock moves, and no lot goes negative;
- the milk is sold to a customer created at the till: the server's POS sale
  has that customer (the party made from the till's customer operation);
- the milk, paid by card, is returned and refunded to the card: the refund
  dialog offers cash and that card, the server accepts it (nothing in
  quarantine) and records the card refund against the original receipt;
- in the back office (sao), the store manager sees the customer in the POS
  sales list and on the sale's form."""
import time
import uuid

import pytest

from tests.e2e.till import (
    SCREENSHOTS, close_session, employee_id, journal, methods, minor,
    open_till, pay, scan, shot, state)

# The product whose code starts with prefix that has the most stock (with
# lots: one with two lots in stock); the e2e tests share one database, and
# it may be run again on a back office that keeps running
FIND = """([prefix, lotted]) => {
    const ps = [...pos.catalog.map('product').values()].filter(
        (p) => String(p.code || '').startsWith(prefix)
            && (!lotted || pos.catalog.lotsOf(p.id).filter(
                (l) => l.quantity > 0).length >= 2));
    ps.sort((a, b) => pos.catalog.stockOf(b.id).quantity
        - pos.catalog.stockOf(a.id).quantity);
    const p = ps[0];
    return p ? {id: p.id, barcode: p.barcodes[0],
        stock: pos.catalog.stockOf(p.id).quantity,
        lots: pos.catalog.lotsOf(p.id).filter((l) => l.quantity > 0).map(
            (l) => [l.id, l.quantity])} : null;
}"""


def lot_stock(page, product, lots):
    "The till's figures of these lots of product, in order"
    figures = dict(page.evaluate(
        '(id) => pos.catalog.lotsOf(id).map((l) => [l.id, l.quantity])',
        product))
    return [figures[lot] for lot in lots]


def set_quantity(page, quantity):
    page.keyboard.press('F4')
    page.wait_for_selector('#qty')
    page.fill('#qty', quantity)
    page.click('#qty-ok')
    page.wait_for_selector('#qty', state='detached')


def synced(page, timeout=60):
    """Pushed, then pulled: every sale of the journal acknowledged, the
    outbox empty and the local stock moves settled"""
    page.evaluate('() => pos.engine?.kick()')
    deadline = time.monotonic() + timeout
    while True:
        done = page.evaluate("""async () => (await pos.db.outbox.count()) === 0
            && (await pos.db.stock.count()) === 0
            && (await pos.db.sales.toArray()).every((e) => e.synced)""")
        if done:
            return
        assert time.monotonic() < deadline, state(page)
        time.sleep(0.25)


def test_stock_lots_and_card_refund_at_the_till(backend, browser):
    if not hasattr(backend, 'office'):
        pytest.skip('the stand-in keeps no stock')
    office = backend.office
    office.float_transfer_type()
    office.cash_difference_type()
    context, page, errors = open_till(
        browser, backend, 'BXL2', office.cashier('BXL'))
    manager_name, manager_pin = office.manager('BXL')
    manager_id = employee_id(page, manager_name)
    pays = methods(page)
    cash = next(m['id'] for m in pays if m['cash'])
    card = next(m['id'] for m in pays if not m['cash'])

    # 8 shirts against 6 (as shipped): a warning, not a refusal
    shirt = page.evaluate(FIND, ['OXF', False])
    sold = max(shirt['stock'], 0) // 1000 + 2
    expected = shirt['stock'] - sold * 1000
    scan(page, shirt['barcode'])
    set_quantity(page, str(sold))
    warning = page.locator('.toast', has_text='in stock here')
    warning.first.wait_for(timeout=10_000)
    shot(page, 'oversell-warning')
    pay(page, (cash, None))
    assert page.evaluate('(id) => pos.catalog.stockOf(id).quantity',
        shirt['id']) == expected
    synced(page)
    after = page.evaluate('(id) => pos.catalog.stockOf(id)', shirt['id'])
    assert (after['quantity'], after['server'], after['local']) == (
        expected, expected, 0), after
    sold = journal(page)[-1]
    flags = office.admin.search_read('retail.sync.sale.flag',
        [('sale', '=', sold['serverId'])], ['kind'])
    assert 'oversell' in [f['kind'] for f in flags], (flags, state(page))

    # 31 milk over lots of 24 and 36 (as shipped), paid by card: the first
    # lot and 7 more from the next lots, first expiring first (other tests
    # of the shared back office may have brought a lot in between)
    milk = page.evaluate(FIND, ['D541234500001', True])
    first, first_qty = milk['lots'][0]
    in_stock = dict(milk['lots'])
    split, left = [], first_qty + 7000
    for lot, quantity in milk['lots']:
        if left:
            split.append((lot, min(quantity, left)))
            left -= split[-1][1]
    assert not left and len(split) >= 2, milk
    taken = [lot for lot, _ in split]
    scan(page, milk['barcode'])
    set_quantity(page, str(first_qty // 1000 + 7))
    # for a customer created here, at the till
    customer = f"Till Customer {uuid.uuid4().hex[:8]}"
    page.keyboard.press('F3')
    page.fill('#new-customer-name', customer)
    page.click('#create-customer')
    page.wait_for_selector('#new-customer-name', state='detached')
    pay(page, (card, None))
    assert lot_stock(page, milk['id'], taken) == [
        in_stock[lot] - quantity for lot, quantity in split]
    synced(page)
    milk_sale = journal(page)[-1]
    # The server's POS sale has the party made from the till's customer
    sale, = office.admin.model('sale.point.sale', 'read',
        [milk_sale['serverId']], ['customer.name', 'customer.retail_uuid'])
    assert sale['customer.']['name'] == customer, sale
    assert sale['customer.']['retail_uuid'], sale
    assert [s['id'] for s in office.admin.search_read('sale.point.sale',
            [('customer.name', '=', customer)], ['id'])] == [
        milk_sale['serverId']]
    lines = office.admin.search_read('sale.point.sale.line',
        [('sale', '=', milk_sale['serverId'])], ['id'])
    moves = office.admin.search_read('stock.move',
        [('origin', 'in', [f"sale.point.sale.line,{line['id']}"
                    for line in lines])],
        ['lot', 'quantity'])
    assert sorted((m['lot'], m['quantity']) for m in moves) == sorted(
        (lot, quantity / 1000) for lot, quantity in split), moves
    assert lot_stock(page, milk['id'], taken) == [
        in_stock[lot] - quantity for lot, quantity in split]

    # ... returned and refunded to the card it was paid with
    page.keyboard.press('F10')
    page.fill('#return-number', milk_sale['number'])
    page.click('#return-find')
    page.click('#return-ok')
    page.click(f"[data-manager='{manager_id}']")
    page.fill('#pin', manager_pin)
    page.click('#pin-ok')
    page.wait_for_function(
        "Number(document.querySelector('#total').dataset.minor) < 0")
    page.keyboard.press('F9')
    page.wait_for_selector('#pay-amount')
    offered = sorted(int(m) for m in page.eval_on_selector_all(
            '[data-method]', 'els => els.map((e) => e.dataset.method)'))
    assert offered == sorted([cash, card]), offered
    shot(page, 'refund-to-card')
    page.click(f"[data-method='{card}']")
    page.wait_for_selector('#pay-amount', state='detached')
    page.wait_for_function(
        "document.querySelector('#total').dataset.minor === '0'")
    synced(page)
    assert page.evaluate('() => pos.db.quarantine.count()') == 0
    returned = journal(page)[-1]
    assert returned['kind'] == 'return' and returned['synced']
    server_return, = office.returns_of(milk_sale['number'])
    assert [(p['method'], minor(p['amount']))
        for p in server_return['payments']] == [(card, returned['total'])]
    assert lot_stock(page, milk['id'], taken) == [
        in_stock[lot] for lot in taken]

    close_session(page, manager_id, manager_pin, screenshot='z-report-stock')
    context.close()
    assert not errors, errors

    # In the back office (sao), the store manager sees the customer in the
    # POS sales list and on the sale's form
    sao = browser.new_page(viewport={'width': 1366, 'height': 800})
    sao_login(sao, backend, 'manager.bxl', 'retail-demo')
    sao.goto(backend.url + f'#{backend.database}/model/sale.point.sale')
    row = sao.locator('tr', has_text=milk_sale['number']).first
    row.wait_for(timeout=60_000)
    assert customer in row.inner_text()
    assert 'Customer' in sao.locator('th:visible').all_inner_texts()
    sao.screenshot(path=str(SCREENSHOTS / 'backoffice-pos-sales-customer.png'))
    row.locator('td', has_text=milk_sale['number']).first.dblclick()
    sao.locator('label:text-is("Customer:")').wait_for(timeout=60_000)
    # (a many-to-one shows its record's name in an input)
    sao.wait_for_function(
        "(name) => [...document.querySelectorAll('input')].some("
        "(e) => e.value === name)",
        arg=customer, timeout=30_000)
    sao.screenshot(
        path=str(SCREENSHOTS / 'backoffice-pos-sale-form-customer.png'))
    sao.close()


def sao_login(page, backend, login, password):
    "Log into the back office (sao) at the server's root"
    page.goto(backend.url)
    page.wait_for_selector('input#login', timeout=60_000)
    if page.locator('input#database').is_editable():
        page.fill('input#database', backend.database)
    page.fill('input#login', login)
    page.locator('button[type="submit"]:visible').first.click()
    secret = page.locator('input[type="password"]:visible').first
    secret.wait_for(timeout=30_000)
    secret.fill(password)
    page.keyboard.press('Enter')
    page.locator('text=Retail').first.wait_for(timeout=60_000)
