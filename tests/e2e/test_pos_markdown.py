"""A near-expiry markdown sold at a real till against the demo (protocol
§ Record shapes "lot" markdowns, docs/user-manual.md "Expiry and
markdowns"): a manager marks down the lot the till sells first (first
expiring first out); the till pulls the markdown, sells that lot at the
markdown's price, and the price on its receipt is the price of the server's
POS sale line, which is not flagged as a price drift."""
import time

import pytest

from tests.e2e.test_pos_stock_refund import FIND, synced
from tests.e2e.till import (
    close_session, employee_id, journal, methods, minor, open_till, pay, scan,
    shot, state)

MARKDOWN = '0.55'


def test_markdown_price_on_receipt_and_server(backend, browser):
    if not hasattr(backend, 'office'):
        pytest.skip('the stand-in keeps no lots nor markdowns')
    office = backend.office
    office.float_transfer_type()
    office.cash_difference_type()
    context, page, errors = open_till(
        browser, backend, 'BXL2', office.cashier('BXL'))
    manager_name, manager_pin = office.manager('BXL')
    manager_id = employee_id(page, manager_name)
    cash = next(m['id'] for m in methods(page) if m['cash'])

    milk = page.evaluate(FIND, ['D541234500001', True])
    today = page.evaluate('() => pos.register.today()')
    lot = page.evaluate("""([id, today]) => pos.catalog.lotsOf(id).find(
        (l) => l.quantity > 0 && !(l.sell_by && l.sell_by < today)).id""",
        [milk['id'], today])
    branch, = office.admin.search_read('retail.branch',
        [('code', '=', 'BXL')], ['id'])
    markdown, = office.admin.model('retail.stock.lot.markdown', 'create', [{
                'lot': lot, 'branch': branch['id'],
                'unit_price': {'__class__': 'Decimal',
                    'decimal': MARKDOWN},
                'start_date': {'__class__': 'date', 'year': int(today[:4]),
                    'month': int(today[5:7]), 'day': int(today[8:10])},
                }])
    try:
        sell_marked_down(office, page, milk, lot, cash)
    finally:
        # The shared back office's next tests sell this lot at its price
        office.admin.model('retail.stock.lot.markdown', 'delete', [markdown])
    close_session(page, manager_id, manager_pin)
    context.close()
    assert not errors, errors


def sell_marked_down(office, page, milk, lot, cash):
    "The till pulls the lot's markdown and sells the lot at its price"
    # The till pulls the lot again, with its markdown
    deadline = time.monotonic() + 60
    while not page.evaluate(
            "(id) => (pos.catalog.get('lot', id).markdowns || []).length",
            lot):
        assert time.monotonic() < deadline, state(page)
        page.evaluate('() => pos.engine?.kick()')
        time.sleep(0.5)

    scan(page, milk['barcode'])
    page.wait_for_function(
        "document.querySelector('#cart tr')?.textContent.includes('markdown')")
    assert page.evaluate(
        '() => pos.ui.order.lines.map((l) => [l.lot.id, l.unitPrice])') == [
        [lot, minor(MARKDOWN, 4)]]
    shot(page, 'markdown-line')
    pay(page, (cash, None))
    receipt = page.locator('#print-area .lines small').first
    receipt.wait_for(state='attached', timeout=10_000)
    printed = receipt.inner_text().split('×')[1].strip()
    assert printed == '0.55', printed
    synced(page)
    sale = journal(page)[-1]
    line, = office.admin.search_read('sale.point.sale.line',
        [('sale', '=', sale['serverId'])], ['unit_gross_price', 'lot'])
    assert line['lot'] == lot, line
    price = line['unit_gross_price']
    price = price['decimal'] if isinstance(price, dict) else str(price)
    assert minor(price) == minor(printed), (price, printed)
    flags = office.admin.search_read('retail.sync.sale.flag',
        [('sale', '=', sale['serverId'])], ['kind'])
    assert 'price_drift' not in [f['kind'] for f in flags], flags
