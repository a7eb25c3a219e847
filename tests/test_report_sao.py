"""The reports behind sao's print button, as the manager of Brussels clicks
them in Chromium: a till of the branch sells and closes its session through
the sync API; the session list's print button offers the X/Z report and the
exports, and each produces its file."""
import csv
import io
import os
import uuid

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from retail_setup.demo import DEMO_PASSWORD
from tests.e2e.backoffice import Backoffice, employee, manager_login
from tests.support.chain import operation, sync

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCREENSHOT = os.path.join(ROOT, 'docs', 'screenshots',
    'backoffice-report-print.png')


def pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    return '\n'.join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope='module')
def closed_session(backoffice):
    "A session of Brussels Till 2 with one sale, closed with its Z"
    office = Backoffice(backoffice)
    admin = office.admin
    office.cash_difference_type()
    office.float_transfer_type()
    terminal = office.terminal('BXL2')['id']
    enrolled = sync(backoffice, 'enroll', body={
            'code': office.enrollment_code('BXL2'),
            'app_version': 'report-test', 'device_name': "BXL2 reports"})
    key = enrolled['device_key']
    # A device enrolled again continues the terminal's numbers
    sequence = (enrolled['last_sequence'] or 0) + 1
    receipt = (enrolled['last_receipt_number'] or 0) + 1
    cash, = admin.model('sale.point.payment.method', 'search',
        [('cash', '=', True)], 0, 1, None)
    product, = admin.model('product.product', 'search',
        [('template.name', '=', "Spaghetti 500 g")], 0, 1, None)
    employees = {e['party.']['name']: e['id'] for e in admin.search_read(
            'company.employee', [], ['party.name'])}
    cashier = employees[employee('Cashier', 'BXL')[0]]
    session = str(uuid.uuid4())
    operations = [
        operation(terminal, cashier, 'session_open', sequence,
            {'session': session, 'opening_amount': '0.00'}),
        operation(terminal, cashier, 'sale', sequence + 1, {
                'receipt_number': receipt, 'customer': None,
                'session': session,
                'lines': [{'product': product, 'quantity': '3',
                        'unit_price': '2.50', 'price': '2.50',
                        'discount': None, 'lot': None}],
                'payments': [{'method': cash, 'amount': '7.50'}]}),
        operation(terminal, cashier, 'session_close', sequence + 2,
            {'session': session, 'counted_cash': '7.50'}),
        ]
    answer = sync(backoffice, 'push', key, {'terminal': terminal,
            'app_version': 'report-test', 'pending_operations': 0,
            'operations': operations})
    assert [r['status'] for r in answer['results']] == ['accepted'] * 3, (
        answer)
    figures = sync(backoffice, f'sessions/{session}', key)
    assert figures['state'] == 'closed', figures
    return {'uuid': session, 'figures': figures,
        'receipt': f'BXL2-{receipt:06d}'}


def test_print_button_offers_the_reports_and_makes_the_files(
        backoffice, closed_session):
    from tests.support.sao import Sao
    with Sao(backoffice.url, backoffice.database) as sao:
        sao.login(manager_login('BXL'), DEMO_PASSWORD)
        sao.open_menu("Sales", "POS Cash Sessions")
        sao.tab.get_by_text("All", exact=True).first.click()
        sao.idle(1000)
        rows = sao.rows()
        assert any("Brussels Till 2" in " ".join(r) for r in rows), rows
        sao.tab.locator('td').filter(has_text="Brussels Till 2").first.click()
        sao.idle(500)
        print_button = sao.tab.locator(
            'button[title*="Print"], a[title*="Print"]').first
        print_button.click()
        sao.idle(500)
        menu = sao.page.locator('.dropdown-menu:visible').last
        entries = menu.inner_text()
        for name in ["X/Z Report", "Z Reports (CSV)", "Z Reports (Excel)",
                "Z Reports (PDF)"]:
            assert name in entries, entries
        sao.screenshot(SCREENSHOT)
        with sao.page.expect_download() as download:
            menu.get_by_text("Z Reports (CSV)", exact=True).first.click()
        path = download.value.path()
        with open(path, encoding='utf-8') as f:
            rows = list(csv.DictReader(io.StringIO(f.read())))
        row, = [r for r in rows if r['terminal'] == "Brussels Till 2"]
        figures = closed_session['figures']
        assert (row['net'], row['expected_cash'], row['counted_cash']) == (
            figures['net'], figures['expected_cash'],
            figures['counted_cash'])
        assert row['z_number'].isdigit() and int(row['z_number']) >= 1
        assert row['branch'] == "[BXL] Brussels Central"

        print_button.click()
        sao.idle(500)
        menu = sao.page.locator('.dropdown-menu:visible').last
        with sao.page.expect_download() as download:
            menu.get_by_text("X/Z Report", exact=True).first.click()
        with open(download.value.path(), 'rb') as f:
            content = f.read()
        assert content.startswith(b'%PDF')
        text = pdf_text(content)
        assert "Z report: Brussels Till 2" in text, text
        assert "Net sales" in text and figures['net'] in text, text

        # The sales journal of the branch's sales, in Excel
        sao.open_menu("Sales", "POS Sales")
        sao.tab.get_by_text("All", exact=True).first.click()
        sao.idle(1000)
        sao.tab.locator('thead input[type="checkbox"]').first.click()
        sao.idle(500)
        print_button = sao.tab.locator(
            'button[title*="Print"], a[title*="Print"]').first
        print_button.click()
        menu = sao.page.locator('.dropdown-menu:visible').last
        entries = menu.inner_text()
        for name in ["Sales Journal (CSV)", "Sales Journal (Excel)",
                "Sales Journal (PDF)", "Taxes per Rate (CSV)"]:
            assert name in entries, entries
        with sao.page.expect_download() as download:
            menu.get_by_text("Sales Journal (Excel)", exact=True).first.click()
        with open(download.value.path(), 'rb') as f:
            book = load_workbook(io.BytesIO(f.read()))
        # A manager's export holds their branch only
        assert book.sheetnames == ["BXL Brussels Central"], book.sheetnames
        sheet = book.worksheets[0]
        header = [c.value for c in sheet[1]]
        receipts = [sheet.cell(row=r, column=header.index("Receipt") + 1
                ).value for r in range(2, sheet.max_row)]
        assert closed_session['receipt'] in receipts, receipts
