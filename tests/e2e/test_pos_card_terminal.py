"""Paying with a card terminal through the real hardware proxy.

A payment method of type Card Terminal (made in the back office) is pulled
by the till (BXL2), which is told where `iot-proxy serve` listens; the
proxy serves its virtual card terminal, which waits for the customer's card
(`outcome = "manual"`): the test presents it over the proxy's HTTP API,
declined first, approved then. A declined card and a cancelled payment
leave the order unpaid; the approved one pays it, and the server records
the sale paid with the card-terminal method (docs/payment-terminals.md)."""
from decimal import Decimal

import pytest

from tests.e2e import proxy as iot
from tests.e2e.till import (
    NOT_PRINT, close_session, employee_id, journal, login, pick_products, scan,
    shot, state, total)


@pytest.fixture
def hardware(backend, tmp_path):
    if not iot.available():
        pytest.skip('iot-proxy is not installed (pip install -e iot_proxy)')
    with iot.IotProxy(tmp_path, [backend.url.rstrip('/')],
            payment_terminal={'outcome': 'manual'}) as hw:
        yield hw


@pytest.fixture
def terminal_method(backend):
    "A Card Terminal payment method, for this test only"
    if not hasattr(backend, 'office'):
        pytest.skip('needs the back office (not the protocol stand-in)')
    admin = backend.office.admin
    card, = admin.search_read('sale.point.payment.method',
        [('type', '=', 'card')], ['id', 'account', 'company'])
    method, = admin.model('sale.point.payment.method', 'create', [{
            'name': "Card terminal", 'type': 'card_terminal',
            'account': card['account'], 'company': card['company']}])
    yield method
    admin.model('sale.point.payment.method', 'write', [method],
        {'active': False})


def test_card_terminal_declined_cancelled_then_approved(
        backend, browser, hardware, terminal_method):
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    context.add_init_script(NOT_PRINT)
    page = context.new_page()
    errors = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    cashier_name, cashier_pin = backend.employees['cashier']
    page.goto(backend.url + f'pos/?db={backend.database}')
    page.fill('#enroll-code', backend.enrollment_code('BXL2'))
    page.click('#enroll-submit')
    page.wait_for_selector('[data-employee]', timeout=120_000)
    login(page, employee_id(page, cashier_name), cashier_pin)
    page.wait_for_selector('#float')
    page.fill('#float', '50.00')
    page.click('#float-ok')
    page.wait_for_selector('#entry')
    page.keyboard.press('F12')
    page.click("[data-menu='Hardware proxy']")
    page.fill('#proxy-url', hardware.url)
    page.click('#proxy-save')
    page.wait_for_selector('#proxy-url', state='detached')

    method = page.evaluate(
        "(id) => pos.register.paymentMethods().find(m => m.id === id)",
        terminal_method)
    assert method and method['type'] == 'card_terminal', method
    a, b = pick_products(page)['plain'][:2]
    scan(page, a)
    scan(page, b)
    due = total(page)
    page.keyboard.press('F9')
    page.wait_for_selector('#pay-amount')

    # Declined: nothing paid, the dialog says so, the order still due
    page.click(f"[data-method='{terminal_method}']")
    page.wait_for_selector('#pay-terminal:not([hidden])')
    first = hardware.pending_payment()
    assert hardware.payment(first)['amount'] == f'{Decimal(due) / 100:.2f}', \
        hardware.payment(first)
    shot(page, 'card-terminal-waiting')
    hardware.simulate(first, 'declined')
    page.wait_for_selector('#pay-terminal', state='hidden')
    page.wait_for_function(
        "document.querySelector('#pay-error').textContent.includes('declined')")
    assert page.locator('#pay-parts li').count() == 0, state(page)
    assert page.get_attribute('#pay-due', 'data-minor') == str(due)

    # Cancelled by the cashier: the terminal's payment is cancelled too
    page.click(f"[data-method='{terminal_method}']")
    second = hardware.pending_payment()
    assert second != first
    page.click('#pay-cancel')
    page.wait_for_function(
        "document.querySelector('#pay-error').textContent.includes('cancelled')")
    assert hardware.payment(second)['status'] == 'cancelled'
    assert page.locator('#pay-parts li').count() == 0, state(page)

    # Approved: the order is paid and the sale committed
    sales_before = len(journal(page))
    page.click(f"[data-method='{terminal_method}']")
    third = hardware.pending_payment()
    approved = hardware.simulate(third, 'approved')
    assert approved['status'] == 'approved' and approved['auth_code']
    page.wait_for_selector('#pay-amount', state='detached')
    page.wait_for_function(
        "document.querySelector('#total').dataset.minor === '0'")
    sales = journal(page)
    assert len(sales) == sales_before + 1 and sales[-1]['total'] == due, sales
    paid = page.evaluate("""async () => {
        const e = (await pos.db.sales.orderBy('createdAt').toArray()).pop();
        return (await pos.vault.decrypt(e.enc)).order.payments;
    }""")
    assert [(p['method'], p['amount'], p.get('reference')) for p in paid] == [
        (terminal_method, due, approved['auth_code'])], paid

    # The server records the sale paid with the card-terminal method
    page.wait_for_selector("#unsynced[data-count='0']", timeout=60_000)
    server_id = journal(page)[-1]['serverId']
    assert server_id, journal(page)[-1]
    assert backend.office.payments_by_method([server_id]) == {
        terminal_method: Decimal(due) / 100}
    # The session closes with its Z, as at the end of a day: a till
    # enrolled as this terminal next opens a session of its own (the server
    # refuses a second open session of a terminal)
    manager_name, manager_pin = backend.employees['manager']
    close_session(page, employee_id(page, manager_name), manager_pin,
        server=True, screenshot=None)
    assert not errors, errors
    context.close()
