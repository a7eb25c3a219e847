"""A shop's first day, as shipped, through the real clients.

The demo chain exactly as the README's set-up code makes it (no record
made over RPC that a user would make in a client). The store manager of
Brussels logs into the back office (sao, Tryton's web client, in
Chromium), opens Retail › Terminals › Brussels Till 1, clicks Enrollment
Code and reads the code off the form. The till (the POS in Chromium)
enrolls with it. A cashier sells scanned items, a weighed item from a scale
label, a price-embedded label, a lot-tracked item, attaches a customer
created at the till and pays split cash and card; a card sale is refunded
to the card; the server stops and comes back in the middle of the day; the
session is closed with a count.

Then the back office: the manager opens the POS sale in sao and the
terminal's receipt-number report; the detailed figures are read over RPC
(as sao reads them): each sale with its customer, receipt number, lots and
the back office's own prices, no price-drift flag, no quarantined
operation, stock down by what was sold, no gap in the receipt numbers, and
the session's figures equal to the till's Z report to the cent.

Each step's screenshot is docs/screenshots/acceptance-*.png."""
import os
import re
from decimal import Decimal

import pytest

from retail_setup.barcodes import ean13
from retail_setup.demo import DAIRY, DEMO_PASSWORD, PACKAGED, PRODUCE
from tests.e2e.backoffice import Backoffice, employee, manager_login
from tests.e2e.conftest import CHROMIUM
from tests.e2e.till import (
    NOT_PRINT, close_session, employee_id, journal, login, methods, minor, pay,
    scan)
from tests.e2e.till import shot as till_shot
from tests.e2e.till import state, total

CODE = re.compile(r'^[A-Z2-9]{4}-[A-Z2-9]{4}$')
TERMINAL = "Brussels Till 1"
PREFIX = 'BXL1'


def shot(page, name):
    till_shot(page, name, 'acceptance')


def product_id(office, name):
    product, = office.admin.search_read('product.product',
        [('name', '=', name)], ['id'])
    return product['id']


def scale_label(office, name, kind, value):
    """The label a shop's scale prints for product name under the demo's
    first layout of kind ('weight' or 'price'): the product's in-store code
    (its EAN under that layout's prefix, value zeroed) with value in the
    layout's value digits and decimals (docs/sync-protocol.md, settings)"""
    layouts = office.admin.search_read('retail.barcode.layout',
        [('kind', '=', kind)],
        ['prefix', 'item_digits', 'value_check', 'value_digits',
            'value_decimals'], [('sequence', 'ASC')])
    assert layouts, f"the demo defines no {kind} layout"
    layout = layouts[0]
    codes = [i['code'] for i in office.admin.search_read(
            'product.identifier',
            [('product.name', '=', name), ('type', '=', 'ean')], ['code'])]
    own = [c for c in codes if c.startswith(layout['prefix'])]
    assert own, (f"{name} has no in-store code under layout "
        f"{layout['prefix']}: scale labels are unknown at the till", codes)
    start = len(layout['prefix'])
    item = own[0][start:start + layout['item_digits']]
    assert not layout['value_check'], layout
    digits = int((Decimal(value) * 10 ** layout['value_decimals'])
        .to_integral_exact())
    body = f"{layout['prefix']}{item}{digits:0{layout['value_digits']}d}"
    return ean13(body)


def stock(office, product_ids):
    "{product: quantity} in Brussels Central's storage (RPC, as sao shows)"
    terminal, = office.admin.search_read('sale.point',
        [('receipt_prefix', '=', PREFIX)], ['storage_location'])
    context = dict(office.admin.context,
        locations=[terminal['storage_location']])
    rows = office.admin.call('model.product.product.read',
        list(product_ids), ['quantity'], context)
    return {r['id']: Decimal(str(r['quantity'])) for r in rows}


def lot_stock(office, lot_ids):
    terminal, = office.admin.search_read('sale.point',
        [('receipt_prefix', '=', PREFIX)], ['storage_location'])
    context = dict(office.admin.context,
        locations=[terminal['storage_location']])
    rows = office.admin.call('model.stock.lot.read', list(lot_ids),
        ['quantity'], context)
    return {r['id']: Decimal(str(r['quantity'])) for r in rows}


def dec(value):
    if isinstance(value, dict):
        return Decimal(value['decimal'])
    return Decimal(str(value)) if value is not None else None


class Problems(list):
    '''What the day got wrong, collected so that one run reports every
    step that fails after the first (the steps after it still run)'''

    def __call__(self, ok, what, *detail):
        if not ok:
            self.append((what, *detail))
        return ok


def test_first_day(shop, pos_dist):
    check = Problems()
    pytest.importorskip('playwright.sync_api')
    if not os.path.exists(CHROMIUM):
        pytest.skip('Debian chromium is not installed')
    from tests.support.sao import Sao
    office = Backoffice(shop)
    milk_code = ean13(DAIRY[0][1])
    spaghetti_code = ean13(PACKAGED[0][1])
    coffee_code = ean13(PACKAGED[2][1])
    water_code = ean13(PACKAGED[7][1])
    names = {'milk': DAIRY[0][0], 'spaghetti': PACKAGED[0][0],
        'coffee': PACKAGED[2][0], 'water': PACKAGED[7][0],
        'bananas': PRODUCE[0][0], 'carrots': PRODUCE[3][0]}
    ids = {k: product_id(office, v) for k, v in names.items()}
    stock_before = stock(office, ids.values())
    weighed = scale_label(office, names['bananas'], 'weight', '1.234')
    # the shelf price per kilogram the demo gives carrots
    carrots_price = Decimal(PRODUCE[3][2])
    priced = scale_label(office, names['carrots'], 'price', '2.50')

    with Sao(shop.url, shop.database) as sao:
        # 1. The store manager makes the terminal's enrollment code
        sao.login(manager_login('BXL'), DEMO_PASSWORD)
        shot(sao.page, '01-backoffice-login')
        sao.open_menu("Retail", "Terminals")
        sao.open_row(TERMINAL)
        shot(sao.page, '02-terminal-form')
        sao.click_button("Enrollment Code")
        dialog = sao.dialog()
        code = sao.field_value('code', dialog)
        assert CODE.match(code), code
        shot(sao.page, '03-enrollment-code')
        sao.click_button("Close", dialog)

        # 2. The till enrolls with it, the cashier opens the session
        # (a second window of the same Chromium)
        context = sao.browser.new_context(
            viewport={'width': 1280, 'height': 800})
        context.add_init_script(NOT_PRINT)
        page = context.new_page()
        errors = []
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto(shop.url + f'pos/?db={shop.database}')
        page.fill('#enroll-code', code)
        shot(page, '04-till-enroll')
        page.click('#enroll-submit')
        page.wait_for_selector('[data-employee]', timeout=120_000)
        cashier, cashier_pin = employee('Cashier', 'BXL')
        manager, manager_pin = employee('Store Manager', 'BXL')
        cashier_id = employee_id(page, cashier)
        manager_id = employee_id(page, manager)
        login(page, cashier_id, cashier_pin)
        page.wait_for_selector('#float')
        page.fill('#float', '100.00')
        page.click('#float-ok')
        page.wait_for_selector('#entry')
        shot(page, '05-till-open')
        cash = card = None
        for m in methods(page):
            if m['cash'] and cash is None:
                cash = m['id']
            elif not m['cash'] and card is None:
                card = m['id']

        # 3. Sale 1: two scanned items, a weighed item (scale label), a
        # price-embedded label, a lot-tracked item, a customer created at
        # the till, paid part card, the rest cash
        scan(page, spaghetti_code)
        scan(page, spaghetti_code)
        scan(page, coffee_code)
        scan(page, weighed)
        scan(page, priced)
        scan(page, milk_code)
        lines = page.evaluate(
            "() => pos.ui.order.lines.filter(l => !l.voided).map(l => ("
            "{product: l.product, quantity: l.quantity,"
            " lot: l.lot ? l.lot.id : null}))")
        by_product = {}
        for line in lines:
            by_product.setdefault(line['product'], []).append(line)
        assert sum(l['quantity'] for l in by_product[ids['spaghetti']]) \
            == 2000, lines
        banana, = by_product[ids['bananas']]
        check(banana['quantity'] == 1234, "weighed label quantity", lines)
        carrot, = by_product[ids['carrots']]
        # quantity = embedded price / shelf price, to the gram
        expected = (Decimal('2.50') / carrots_price).quantize(
            Decimal('0.001'))
        check(carrot['quantity'] == int(expected * 1000),
            "price-embedded label: quantity is not price / shelf price",
            carrot, expected)
        milk, = by_product[ids['milk']]
        check(milk['lot'], "the lot-tracked item has no lot", lines)
        # what the cashier reads: the articles (a weighed line is one),
        # and no stray "null" where the branch has no quick keys
        items = page.locator('#totals > *').first.inner_text()
        check(items.split()[-1] == '6', "6 articles (2 spaghetti, coffee, "
            "bananas, carrots, milk)", items)
        check('null' not in page.inner_text('#products'),
            "the product panel shows 'null'",
            page.inner_text('#products')[:80])
        shot(page, '06-checkout')
        page.keyboard.press('F3')
        page.fill('#new-customer-name', 'Lucie Lambert')
        page.fill('#new-customer-email', 'lucie.lambert@example.org')
        page.click('#create-customer')
        page.wait_for_selector('.customer')
        shot(page, '07-customer')
        due = total(page)
        part = due // 2
        page.keyboard.press('F9')
        page.wait_for_selector('#pay-amount')
        page.fill('#pay-amount', f'{part // 100}.{part % 100:02d}')
        page.click(f"[data-method='{card}']")
        page.wait_for_function(
            "() => pos.ui.order.payments.length === 1")
        shot(page, '08-split-payment')
        page.click(f"[data-method='{cash}']")
        page.wait_for_selector('#pay-amount', state='detached')
        page.wait_for_function(
            "document.querySelector('#total').dataset.minor === '0'")
        page.wait_for_selector("#unsynced[data-count='0']", timeout=60_000)

        # 4. Sale 2: paid by card; then returned and refunded to the card
        scan(page, water_code)
        scan(page, coffee_code)
        pay(page, (card, None))
        page.wait_for_selector("#unsynced[data-count='0']", timeout=60_000)
        card_sale = journal(page)[-1]
        page.keyboard.press('F10')
        page.fill('#return-number', card_sale['number'])
        page.click('#return-find')
        page.wait_for_selector('#return-lines')
        page.click('#return-ok')
        # a cashier's refund needs a manager's approval where the
        # cashier's role does not allow refunds
        page.wait_for_function(
            "(m) => document.querySelector(`[data-manager='${m}']`)"
            " || Number(document.querySelector('#total').dataset.minor) < 0",
            arg=manager_id)
        if page.locator(f"[data-manager='{manager_id}']").count():
            page.click(f"[data-manager='{manager_id}']")
            page.fill('#pin', manager_pin)
            page.click('#pin-ok')
        page.wait_for_function(
            "Number(document.querySelector('#total').dataset.minor) < 0")
        refund = total(page)
        assert refund == -card_sale['total'], (refund, card_sale)
        page.keyboard.press('F9')
        page.wait_for_selector('#pay-amount')
        offered = [int(b.get_attribute('data-method'))
            for b in page.query_selector_all('[data-method]')]
        assert card in offered, (offered, state(page))
        shot(page, '09-refund-to-card')
        page.click(f"[data-method='{card}']")
        page.wait_for_selector('#pay-amount', state='detached')
        page.wait_for_function(
            "document.querySelector('#total').dataset.minor === '0'")
        page.wait_for_selector("#unsynced[data-count='0']", timeout=60_000)

        # 5. The server goes away: the till sells on (a weighed item and
        # a lot-tracked one), and catches up when it comes back
        weighed_offline = scale_label(office, names['bananas'], 'weight',
            '0.755')
        shop.stop()
        page.click('#force-sync')
        page.wait_for_selector("#net[data-online='false']", timeout=60_000)
        scan(page, milk_code)
        scan(page, weighed_offline)
        pay(page, (cash, None))
        scan(page, spaghetti_code)
        pay(page, (card, None))
        assert page.get_attribute('#unsynced', 'data-count') != '0'
        shot(page, '10-offline')
        shop.restart()
        page.click('#force-sync')
        page.wait_for_selector("#unsynced[data-count='0']", timeout=120_000)
        page.wait_for_selector("#net[data-online='true']", timeout=60_000)
        shot(page, '11-back-online')

        local = journal(page)
        assert all(j['synced'] for j in local), local
        check(all(j['serverId'] for j in local),
            "sales the server did not record", [
                (j['number'], j['kind']) for j in local if not j['serverId']])
        assert [j['kind'] for j in local] == [
            'sale', 'sale', 'return', 'sale', 'sale'], local

        # 6. The session is closed with a count; the Z report shows the
        # server's figures beside the till's, all matching
        z = close_session(page, manager_id, manager_pin,
            screenshot='12-z-report', prefix='acceptance')
        page.wait_for_selector("#unsynced[data-count='0']", timeout=60_000)
        # the server's figures of the session the till named (GET
        # sessions/<uuid>), figure by figure
        figures = page.evaluate('(uuid) => pos.api().session(uuid)',
            z['session'])
        for key, mine in [('sales', 'sales'), ('returns', 'returns'),
                ('sales_total', 'salesTotal'),
                ('returns_total', 'returnsTotal'), ('net', 'net'),
                ('taxes', 'tax'), ('expected_cash', 'expectedCash'),
                ('counted_cash', 'counted'), ('difference', 'difference')]:
            theirs = figures.get(key)
            if key not in ('sales', 'returns'):
                theirs = minor(theirs) if theirs is not None else None
            check(theirs == z[mine], "the session's figure differs from "
                "the Z report", key, figures.get(key), z[mine])
        assert not errors, errors

        # 7. The back office: the terminal's receipt-number report (the
        # Terminals tab opened in the morning, on the terminal's form), the
        # POS sale with its customer
        sao.reload()
        report = sao.tab.locator('textarea[name="receipt_report"]')
        report.wait_for()
        report.scroll_into_view_if_needed()
        sao.page.wait_for_timeout(300)
        report = report.input_value()
        shot(sao.page, '13-receipt-report')
        check('No gap, no duplicate.' in report,
            "the terminal's receipt report", report)
        sao.open_menu("Retail", "POS Sales")
        # (the list opens on the sales still open: the day's are posted)
        sao.tab.locator('.nav-tabs a, .nav a').filter(
            has_text=re.compile(r'^\s*All\s*$')).first.click()
        sao.idle(1000)
        shot(sao.page, '14-pos-sales')
        if check(sao.tab.locator('td').filter(
                    has_text=local[0]['number']).count(),
                "the first sale is not in the POS sales", local[0]['number']):
            sao.open_row(local[0]['number'])
            customer = sao.field_value('customer')
            check(customer == 'Lucie Lambert',
                "the POS sale form shows not the till's customer", customer)
            shot(sao.page, '15-pos-sale-form')
        context.close()

    check_backoffice(check, office, local, z, ids, stock_before, card,
        card_sale)
    assert check == [], '\n'.join(map(repr, check))


def check_backoffice(check, office, local, z, ids, stock_before, card,
        card_sale):
    admin = office.admin
    first_number = local[0]['number']
    # (the sales the server refused are reported by the quarantine check)
    local = [j for j in local if j['serverId']]
    server_ids = [j['serverId'] for j in local]
    sales = {s['id']: s for s in admin.model('sale.point.sale', 'read',
            server_ids, ['number', 'receipt_number', 'customer', 'total',
                'state', 'lines', 'point'])}
    for j in local:
        s = sales[j['serverId']]
        check((s['number'], s['receipt_number'], minor(dec(s['total'])))
            == (j['number'], j['receiptNumber'], j['total']),
            "a POS sale differs from the till's receipt", s, j)
    # the customer created at the till is the first sale's customer
    first, = [s for s in sales.values() if s['number'] == first_number] or [
        {'customer': None, 'number': first_number}]
    name = None
    if first['customer']:
        name = admin.model('party.party', 'read', [first['customer']],
            ['name'])[0]['name']
    check(name == 'Lucie Lambert', "the POS sale has not the till's customer",
        first)
    # each line at the back office's own price, no price-drift flag
    line_ids = [line for s in sales.values() for line in s['lines']]
    lines = admin.model('sale.point.sale.line', 'read', line_ids,
        ['sale', 'product', 'quantity', 'unit_list_price',
            'unit_gross_price'])
    products = {p['id']: p for p in admin.model('product.product', 'read',
            list({line['product'] for line in lines}),
            ['list_price_used', 'name'])}
    for line in lines:
        product = products[line['product']]
        check(dec(line['unit_list_price']) == dec(product['list_price_used']),
            "a line is not at the product's list price", line, product)
    flags = admin.search_read('retail.sync.sale.flag',
        [('sale', 'in', server_ids)], ['kind', 'product', 'expected',
            'actual'])
    check(flags == [], "the day's sales are flagged", flags)
    # the lots the till took are the sale's lots on the server
    sold = office.pos_sales(server_ids)
    for j in local:
        check(sorted(sold[j['serverId']]['lots']) == sorted(j['lots']),
            "a sale's lots differ", j, sold[j['serverId']])
    # no quarantined operation
    rejected = admin.search_read('retail.sync.operation',
        [('state', '=', 'rejected')], ['type', 'reason_code', 'reason'])
    check(rejected == [], "operations are quarantined", rejected)
    # stock down by what was sold (net of the return)
    sold_qty = {}
    for line in lines:
        sold_qty[line['product']] = sold_qty.get(line['product'],
            Decimal(0)) + dec(line['quantity'])
    after = stock(office, ids.values())
    for product, before in stock_before.items():
        check(before - after[product] == sold_qty.get(product, 0),
            "stock is not down by what was sold",
            products.get(product, product), before, after[product],
            sold_qty.get(product))
    # the session's figures equal the till's Z report to the cent
    sessions = office.cash_sessions(PREFIX)
    closed = [s for s in sessions if s['state'] in ('closed', 'posted')]
    check(len(closed) == 1, "not one closed session", sessions)
    for session in closed[:1]:
        check(minor(session['end_amount']) == z['counted'],
            "the session's counted cash differs", session, z)
        cash_paid = sum(minor(p['amount']) for p in session['payments'])
        check(cash_paid == z['cashPayments'],
            "the session's cash payments differ", session['payments'], z)
    by_method = office.payments_by_method(server_ids)
    check({m: minor(a) for m, a in by_method.items() if a} == {
            p['method']: p['amount'] for p in z['payments'] if p['amount']},
        "payments by method differ", by_method, z['payments'])
    check(sum(minor(s['total']) for s in sold.values()) == z['net'],
        "the sales' total differs from the Z report's net", sold, z['net'])
    refund = office.returns_of(card_sale['number'])
    check([(p['method'], minor(p['amount'])) for r in refund
            for p in r['payments']] == [(card, -card_sale['total'])],
        "the return is not refunded to the card", refund)
