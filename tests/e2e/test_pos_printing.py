"""Printing through the real hardware proxy, and the browser fallback when it
is gone.

A till (BXL2) is told where `iot-proxy serve` listens through its Hardware
proxy dialog; a cash sale opens the drawer and prints the receipt (number,
barcode of the number, cut) on `iot-proxy virtual-printer`. With the proxy
stopped, the next cash sale still completes: the receipt goes to the
browser's print dialog, and both sales reach the server. The till runs in
French on a 1280×800 tablet viewport; it closes its session, the Z report
saying the server's figures match."""
import pytest

from tests.e2e import proxy as iot
from tests.e2e.till import (
    NOT_PRINT, check_server, close_session, employee_id, journal, login,
    methods, pay, pick_products, scan, shot)


@pytest.fixture
def hardware(backend, tmp_path):
    if not iot.available():
        pytest.skip('iot-proxy is not installed (pip install -e iot_proxy)')
    origin = backend.url.rstrip('/')
    with iot.IotProxy(tmp_path, [origin]) as hw:
        yield hw


def test_receipt_and_drawer_through_the_proxy_then_browser_fallback(
        backend, browser, hardware):
    # A tablet till, in French: the receipt's money is written the Belgian way
    context = browser.new_context(viewport={'width': 1280, 'height': 800},
        locale='fr-BE')
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

    # The till's Hardware proxy dialog: address, test, save
    page.keyboard.press('F12')
    page.click("[data-menu='Hardware proxy']")
    page.fill('#proxy-url', hardware.url)
    page.click('#proxy-test')
    page.wait_for_function(
        "document.querySelector('#proxy-status')"
        ".textContent.includes('iot-proxy')")
    shot(page, 'fr-hardware-proxy')
    page.click('#proxy-save')
    page.wait_for_selector('#proxy-url', state='detached')

    cash = next(m['id'] for m in methods(page) if m['cash'])
    a, b = pick_products(page)['plain'][:2]

    # A cash sale: drawer kick, then the receipt, on the printer
    scan(page, a)
    scan(page, b)
    pay(page, (cash, '50'))
    jobs = hardware.wait_for_jobs(2)
    first = journal(page)[-1]
    drawer, receipt = jobs[0], jobs[1]
    assert any(c.startswith('[drawer pin=2')
        for c in drawer['commands']), drawer
    assert first['number'] in receipt['text'], receipt['text']
    assert (f"[barcode type=CODE128 data={first['number']}]"
        in receipt['commands'])
    assert receipt['commands'][-1] == '[cut mode=full]', receipt['commands']
    assert 'Ticket' in receipt['text'] and ' €' in receipt['text'], (
        receipt['text'])
    assert page.evaluate('window.__printed || 0') == 0
    # The printer has the bytes before the till has the proxy's answer
    page.wait_for_function('window.pos.ui.lastPrint', timeout=30_000)
    printed = page.evaluate('pos.ui.lastPrint')
    assert printed['ok'] and printed['status'] == 'done', printed
    assert not printed['browser'] and printed['jobId'].startswith('receipt-')

    # The proxy is gone: the sale completes, the browser prints the receipt
    hardware.stop_service()
    scan(page, a)
    pay(page, (cash, '20'))
    page.wait_for_function('window.__printed === 1', timeout=30_000)
    page.wait_for_function('window.pos.ui.lastPrint.browser === true',
        timeout=30_000)
    second = journal(page)[-1]
    assert second['number'] != first['number']
    area = page.inner_text('#print-area')
    assert second['number'] in area
    assert page.locator('#print-area .barcode svg').count() == 1
    assert page.evaluate('pos.ui.lastPrint.browser') is True
    shot(page, 'fr-print-fallback')
    # nothing printed twice, nothing lost
    assert len(hardware.jobs()) == 2
    page.click('#force-sync')
    page.wait_for_selector("#unsynced[data-count='0']", timeout=60_000)
    local = journal(page)
    assert [j['number'] for j in local] == [first['number'], second['number']]
    assert all(j['synced'] for j in local)
    check_server(backend, page, local)
    # the till closes its session: in French too, its Z report matches the
    # server's figures (protocol 1.2), and the terminal is left closed
    manager_name, manager_pin = backend.employees['manager']
    reprinted = {}
    if hasattr(backend, 'office'):
        # The proxy is back (on a new port): the till is told where
        hardware.start_service()
        page.keyboard.press('F12')
        page.click("[data-menu='Hardware proxy']")
        page.fill('#proxy-url', hardware.url)
        page.click('#proxy-save')
        page.wait_for_selector('#proxy-url', state='detached')

    def reprint_server_report(page):
        # The server's Z of the session, reprinted through the proxy
        before = len(hardware.jobs())
        page.click('#print-server-report')
        page.wait_for_function(
            "(window.pos.ui.lastPrint || {}).jobId?.startsWith('report-')",
            timeout=30_000)
        reprinted['print'] = page.evaluate('pos.ui.lastPrint')
        assert reprinted['print']['ok'], reprinted['print']
        reprinted['job'] = hardware.wait_for_jobs(before + 1)[-1]
        reprinted['session'] = page.evaluate('''async () =>
            (await pos.db.sessions.toArray()).sort(
                (a, b) => b.openedAt - a.openedAt)[0].uuid''')

    z = close_session(page, employee_id(page, manager_name), manager_pin,
        server=hasattr(backend, 'office'), screenshot=None,
        before_closing=reprint_server_report if hasattr(backend, 'office')
        else None)
    if hasattr(backend, 'office'):
        assert reprinted['print']['ok'], reprinted['print']
        text = reprinted['job']['text']
        assert reprinted['session'] in text.replace('\n', ''), text
        assert 'Ventes nettes' in text and 'Espèces attendues' in text, text
        # The server's Z as the back office prints it (retail_report): its
        # Z number, grand total, receipt range, cashiers and the cash the
        # till counted per coin and note
        session, = backend.office.admin.search_read(
            'sale.point.cash.session',
            [('retail_uuid', '=', reprinted['session'])],
            ['retail_z_number', 'retail_grand_total'])
        flat = ' '.join(text.split())
        assert f"Numéro de Z {session['retail_z_number']}" in flat, text
        assert 'Grand total' in flat and 'Caissiers' in flat, text
        assert first['number'] in flat and second['number'] in flat, text
        assert ' × ' in flat, text
    assert z['sales'] == 2 and z['cashPayments'] == sum(
        j['total'] for j in local)
    if hasattr(backend, 'office'):
        assert 'Les chiffres du serveur concordent' in z['text'], z['text']
    assert not errors, errors
    context.close()
