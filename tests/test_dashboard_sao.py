"""The owner's dashboard in Chromium: the demo's owner logs in to the back
office (sao), opens Retail › Dashboard from the menu, and the page (a new
tab, same session, no second login) shows the figures of the database; the
manager of Antwerp sees their branch only."""
import os
from decimal import Decimal

import pytest

from retail_setup.cli import ADMIN_PASSWORD
from retail_setup.demo import DEMO_PASSWORD
from tests.e2e.backoffice import Backoffice, _decimal, employee, manager_login
from tests.support.chain import operation, sync

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCREENSHOT = os.path.join(ROOT, 'docs', 'screenshots', 'dashboard.png')


@pytest.fixture(scope='module')
def sales(backoffice):
    "Two sales and a return of Antwerp Till 1 today, through the sync API"
    office = Backoffice(backoffice)
    admin = office.admin
    terminal = office.terminal('ANT1')['id']
    enrolled = sync(backoffice, 'enroll', body={
            'code': office.enrollment_code('ANT1'),
            'app_version': 'dashboard-test',
            'device_name': "ANT1 dashboard"})
    key = enrolled['device_key']
    sequence = (enrolled['last_sequence'] or 0) + 1
    receipt = (enrolled['last_receipt_number'] or 0) + 1
    cash, = admin.model('sale.point.payment.method', 'search',
        [('cash', '=', True)], 0, 1, None)
    product, = admin.model('product.product', 'search',
        [('template.name', '=', "Spaghetti 500 g")], 0, 1, None)
    employees = {e['party.']['name']: e['id'] for e in admin.search_read(
            'company.employee', [], ['party.name'])}
    cashier = employees[employee('Cashier', 'ANT')[0]]

    def sale(number, quantity, price, type_='sale'):
        total = Decimal(quantity) * Decimal(price)
        return operation(terminal, cashier, type_, sequence + number, {
                'receipt_number': receipt + number, 'customer': None,
                'lines': [{'product': product, 'quantity': quantity,
                        'unit_price': price, 'price': price,
                        'discount': None, 'lot': None}],
                'payments': [{'method': cash, 'amount': str(total)}]})
    operations = [sale(0, '4', '2.50'), sale(1, '2', '3.25'),
        sale(2, '-1', '2.50', 'return')]
    operations[2]['payload']['original_receipt'] = (
        f'ANT1-{receipt:06d}')
    answer = sync(backoffice, 'push', key, {'terminal': terminal,
            'app_version': 'dashboard-test', 'pending_operations': 0,
            'operations': operations})
    assert [r['status'] for r in answer['results']] == ['accepted'] * 3, (
        answer)
    return answer


def expected(office, date, branch_codes):
    """The day's figures of branch_codes through Tryton's ORM (the POS
    sales' totals), as the dashboard's summary states them"""
    rows = office.admin.search_read('sale.point.sale', [
            ('date', '=', date),
            ('state', 'in', ['done', 'posted']),
            ('point.branch.code', 'in', branch_codes),
            ], ['total'])
    totals = [_decimal(r['total']) for r in rows]
    sales = [t for t in totals if t >= 0]
    returns = [t for t in totals if t < 0]
    amount = sum(sales, Decimal(0))
    return {
        'sales': f'{amount:,.2f}',
        'transactions': str(len(sales)),
        'average_basket': f'{(amount / len(sales) if sales else 0):,.2f}',
        'returns': f'{len(returns)} · {sum(returns, Decimal(0)):,.2f}',
        }


def open_dashboard(sao):
    "Retail › Dashboard from the menu: the page opens in a new tab"
    with sao.page.context.expect_page() as new:
        sao.open_menu("Retail", "Dashboard")
    page = new.value
    page.wait_for_selector('body[data-loaded]')
    return page


def figures(page):
    return {key: page.locator(
                f'#tiles [data-value="{key}"]').inner_text().strip()
        for key in ['sales', 'transactions', 'average_basket', 'returns']}


def test_owner_and_manager_see_the_figures_of_the_database(
        backoffice, sales):
    from tests.support.sao import Sao
    office = Backoffice(backoffice)
    with Sao(backoffice.url, backoffice.database,
            viewport=(1366, 1000)) as sao:
        sao.login('admin', ADMIN_PASSWORD)
        page = open_dashboard(sao)
        assert page.url.endswith(
            f'/{backoffice.database}/retail_report/dashboard'), page.url
        date = page.input_value('#date')
        cards = page.locator('#cards .card')
        names = cards.locator('h3').all_inner_texts()
        assert len(names) == 2, names
        assert figures(page) == expected(office, date, ['ANT', 'BXL'])
        ant = page.locator('#cards .card', has_text="Antwerp")
        assert ant.locator('[data-value="transactions"]').inner_text(
            ) == expected(office, date, ['ANT'])['transactions']
        assert page.locator('#chart rect.bar').count() == 24
        assert page.locator('#terminals tbody tr').count() == 3
        assert page.locator('#top-products tbody tr').count() >= 1
        page.screenshot(path=SCREENSHOT, full_page=True)

        # The export link holds the same figures
        with page.expect_download() as download:
            page.click('#export')
        with open(download.value.path(), encoding='utf-8') as f:
            content = f.read()
        assert 'summary,,transactions,%s,' % expected(
            office, date, ['ANT', 'BXL'])['transactions'] in content

    with Sao(backoffice.url, backoffice.database) as sao:
        sao.login(manager_login('ANT'), DEMO_PASSWORD)
        page = open_dashboard(sao)
        names = page.locator('#cards .card h3').all_inner_texts()
        assert len(names) == 1 and "Antwerp" in names[0], names
        assert figures(page) == expected(
            office, page.input_value('#date'), ['ANT'])
        assert page.locator('#branch-filter input').count() == 1
