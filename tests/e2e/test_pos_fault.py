"""A till page killed right after a payment, in Chromium: its outbox still
delivers, once.

The till talks to trytond through the fault proxy of the reliability suite
(tests/reliability/faultproxy.py), which throws away the answers of the
pushes: the server records the sale but the till never hears it.  The page
is closed as soon as the server has the sale and before the till knows it.
A new page of the same profile (the same IndexedDB) opens the till again
with the cashier's PIN; the proxy lets the answers through now: the outbox
pushes the sale again, the server answers it as a duplicate, and holds it
once, with its receipt number; the server's Z equals the till's.
(tests/reliability/ runs the same under node, for many tills and
schedules.)"""
import os
import time
import urllib.parse

import pytest

from tests.e2e.till import (
    NOT_PRINT, close_session, employee_id, journal, login, methods, pay,
    pick_products, scan)
from tests.reliability.faultproxy import Fault, FaultProxy, Schedule

# A back office kept between runs (POS_E2E_SERVER) may hold ANT1's session
# open: another terminal can be named
TERMINAL = os.environ.get('POS_E2E_FAULT_TERMINAL', 'ANT1')


class Proxied:
    "The back office as the till reaches it: through the proxy"

    def __init__(self, backend, proxy):
        self.backend = backend
        self.url = proxy.url
        self.database = backend.database

    def enrollment_code(self, prefix):
        return self.backend.enrollment_code(prefix)


def test_page_killed_after_payment_delivers_once(backend, browser):
    if not hasattr(backend, 'office'):
        pytest.skip('needs the real back office')
    office = backend.office
    office.float_transfer_type()
    office.cash_difference_type()
    branch = office.terminal(TERMINAL)['branch.']['code']
    cashier_name, cashier_pin = office.cashier(branch)
    manager_name, manager_pin = office.manager(branch)
    port = urllib.parse.urlsplit(backend.url).port
    with FaultProxy(port) as proxy:
        via = Proxied(backend, proxy)
        context = browser.new_context(viewport={'width': 1280, 'height': 800})
        context.add_init_script(NOT_PRINT)
        page = context.new_page()
        errors = []
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto(via.url + f'pos/?db={via.database}')
        page.fill('#enroll-code', via.enrollment_code(TERMINAL))
        page.click('#enroll-submit')
        page.wait_for_selector('[data-employee]', timeout=120_000)
        cashier = employee_id(page, cashier_name)
        manager = employee_id(page, manager_name)
        login(page, cashier, cashier_pin)
        page.wait_for_selector('#float')
        page.fill('#float', '0.00')
        page.click('#float-ok')
        page.wait_for_selector('#entry')
        page.wait_for_selector("#unsynced[data-count='0']", timeout=30_000)
        cash = next(m['id'] for m in methods(page) if m['cash'])
        product = pick_products(page)['plain'][0]

        # From now on every push's answer is lost after the server
        # committed it
        proxy.use(Schedule('page-kill', [Fault(i, 'drop_answer')
                    for i in range(1000)], only=b'/push'))
        scan(page, product)
        pay(page, (cash, None))
        sale = journal(page)[-1]
        assert not sale['synced']
        # The server has it (its answer thrown away by the proxy); the till
        # does not know: kill the page
        deadline = time.monotonic() + 60
        while True:
            found = office.admin.search_read('sale.point.sale',
                [('number', '=', sale['number'])], ['id'])
            if found:
                break
            assert time.monotonic() < deadline, "the sale was not pushed"
            time.sleep(0.05)
        page.close()
        assert proxy.log, "no answer was dropped"
        assert len(found) == 1, found

        # Open the till again; the answers go through now
        proxy.use(Schedule(None))
        page = context.new_page()
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto(via.url + f'pos/?db={via.database}')
        page.wait_for_selector(f"[data-employee='{cashier}']",
            timeout=30_000)
        login(page, cashier, cashier_pin)
        page.wait_for_selector('#entry', timeout=30_000)
        page.wait_for_selector("#unsynced[data-count='0']", timeout=30_000)
        again = [j for j in journal(page) if j['number'] == sale['number']]
        assert len(again) == 1 and again[0]['synced'], again

        found = office.admin.search_read('sale.point.sale',
            [('number', '=', sale['number'])], ['id'])
        assert len(found) == 1, found
        # the answer of the push again: the first one's (a duplicate)
        assert again[0]['serverId'] == found[0]['id'], (again, found)
        operations = office.admin.search_read('retail.sync.operation',
            [('sale', '=', found[0]['id'])], ['state'])
        assert [o['state'] for o in operations] == ['accepted']
        # the receipt-number report has no gap and no duplicate, the
        # server's Z equals the till's
        receipts = page.evaluate('() => pos.api().receipts()')
        assert receipts['gaps'] == [] and receipts['duplicates'] == [], \
            receipts
        close_session(page, manager, manager_pin, server=True,
            screenshot='fault-z', prefix='pos')
        assert errors == []
        context.close()
