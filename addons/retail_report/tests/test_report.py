# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""X/Z reports (Z number, grand total, figures, PDF) and the exports (CSV,
Excel, PDF) checked against the database"""
import csv
import io
import json
import uuid
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.modules.retail_sync.tests.tools import (
    committed, operation, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction, check_access


def new_uuid():
    return str(uuid.uuid4())


def pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    return '\n'.join(page.extract_text() for page in reader.pages)


def shift(shop, session, opening='100.00'):
    """Open, three receipts and a void (receipt numbers 1-3 and 5: 4 is
    never received), a discounted line, a return, cash in and out:

    - sale 1: 2 x 12.00 = 24.00 (10.00 cash + 14.00 card)
    - sale 2: 3 x 10.00 (12.00 before a discount of 2.00 each) = 30.00 cash
    - void 3
    - return 5: -1 x 12.00 = -12.00 cash
    - cash in 50.00, cash out 20.00
    - expected cash = 100.00 + 10.00 + 30.00 - 12.00 + 50.00 - 20.00
      = 158.00
    """
    product = shop.products[0]
    return [
        operation(shop, 'session_open', {'session': session,
                'opening_amount': opening}, 1),
        sale_op(shop, 1, sequence=2, session=session,
            payments=[{'method': shop.cash, 'amount': '10.00'},
                {'method': shop.card, 'amount': '14.00'}]),
        sale_op(shop, 2, sequence=3, session=session, lines=[
                {'product': product, 'quantity': '3',
                    'unit_price': '12.00', 'price': '10.00',
                    'discount': {'percent': '16.67'}}]),
        operation(shop, 'void', {'receipt_number': 3, 'reason': 'test'}, 4),
        sale_op(shop, 5, sequence=5, type_='return', session=session,
            original_receipt=f'{shop.prefix}-000002', lines=[
                {'product': product, 'quantity': '-1',
                    'unit_price': '12.00', 'price': '12.00'}],
            payments=[{'method': shop.cash, 'amount': '-12.00'}]),
        operation(shop, 'cash_in', {'amount': '50.00', 'session': session,
                'transfer_type': shop.transfer_type}, 6),
        operation(shop, 'cash_out', {'amount': '20.00', 'session': session,
                'transfer_type': shop.transfer_type}, 7),
        ]


def close(shop, session, counted, sequence=8, denominations=None):
    payload = {'session': session, 'counted_cash': counted}
    if denominations:
        payload['denominations'] = denominations
    return operation(shop, 'session_close', payload, sequence)


class ReportTestCase(TestCase):
    "Test the X/Z reports and the exports"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_report'])
        cls.shop = committed(setup_shop)

        def second():
            Company = Pool().get('company.company')
            company = Company(cls.shop.company)
            with set_company(company):
                return setup_shop(code='S2', prefix='S2A', company=company)
        cls.shop2 = committed(second)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def push(self, shop, operations):
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        with Transaction().set_context(company=shop.company):
            results = Push.push(Terminal(shop.terminal), operations)
        self.assertEqual(
            [r['status'] for r in results], ['accepted'] * len(operations),
            results)
        return results

    def session(self, shop, session_uuid):
        Session = Pool().get('sale.point.cash.session')
        record, = Session.search([('retail_uuid', '=', session_uuid)])
        return record

    def run_report(self, name, records, extension=None, data=None):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        Report = pool.get(name, type='report')
        domain = [('report_name', '=', name)]
        if extension:
            domain.append(('extension', '=', extension))
        action, = ActionReport.search(domain)
        data = dict(data or {}, action_id=action.id, model=action.model)
        with Transaction().set_context(company=self.shop.company):
            oext, content, _, _ = Report.execute(
                [r.id for r in records], data)
        return oext, bytes(content)

    @with_transaction()
    def test_z_number_grows_per_terminal_and_grand_total_is_perpetual(self):
        "Each close takes the terminal's next Z number; the grand total adds"
        Session = Pool().get('sale.point.cash.session')
        shop, shop2 = self.shop, self.shop2
        first = new_uuid()
        self.push(shop, shift(shop, first) + [close(shop, first, '158.00')])
        record = self.session(shop, first)
        self.assertEqual(record.state, 'closed')
        self.assertEqual(record.retail_z_number, 1)
        # Net: 24.00 + 30.00 - 12.00
        self.assertEqual(record.retail_grand_total, Decimal('42.00'))
        self.assertTrue(record.retail_closed_at)

        second = new_uuid()
        self.push(shop, [
                operation(shop, 'session_open', {'session': second,
                        'opening_amount': '158.00'}, 9),
                sale_op(shop, 6, sequence=10, session=second),
                close(shop, second, '182.00', sequence=11),
                ])
        record2 = self.session(shop, second)
        self.assertEqual(record2.retail_z_number, 2)
        self.assertEqual(record2.retail_grand_total, Decimal('66.00'))

        # Another terminal counts its own Z numbers
        other = new_uuid()
        self.push(shop2, [
                operation(shop2, 'session_open', {'session': other,
                        'opening_amount': '0'}, 1),
                close(shop2, other, '0', sequence=2),
                ])
        self.assertEqual(self.session(shop2, other).retail_z_number, 1)

        # Reopened and closed again, a session keeps its Z number
        Session.open([record])
        Session.close([record])
        record = Session(record.id)
        self.assertEqual((record.state, record.retail_z_number),
            ('closed', 1))

        # Nobody changes a Z number or a grand total, nor copies it
        with check_access(), self.assertRaises(AccessError):
            Session.write([record], {'retail_z_number': 7})
        with check_access(), self.assertRaises(AccessError):
            Session.write([record], {'retail_grand_total': Decimal(0)})
        self.assertEqual(Session(record.id).retail_z_number, 1)

    @with_transaction()
    def test_back_office_close_takes_the_next_z_number(self):
        "A session closed in the back office takes its Z number too"
        Session = Pool().get('sale.point.cash.session')
        shop = self.shop
        with Transaction().set_context(company=shop.company):
            first = Session(point=shop.terminal, end_amount=Decimal(0))
            first.on_change_point()
            first.save()
            Session.close([first])
            second = Session(point=shop.terminal, end_amount=Decimal(0))
            second.on_change_point()
            second.save()
            Session.close([second])
        self.assertEqual(
            [Session(first.id).retail_z_number,
                Session(second.id).retail_z_number], [1, 2])
        figures = Session(second.id).report_figures()
        self.assertEqual((figures['voids'], figures['first_receipt'],
                figures['receipt_gaps'], figures['grand_total']),
            (0, None, [], '0.00'))

    @with_transaction()
    def test_report_figures_extend_the_sync_figures(self):
        """The report's figures are the sync API's plus discounts, voids,
        the receipt range with its gaps, the cashiers and denominations"""
        Employee = Pool().get('company.employee')
        shop = self.shop
        session = new_uuid()
        self.push(shop, shift(shop, session) + [close(shop, session,
                    '160.00', denominations=[
                        {'value': '50.00', 'count': 3},
                        {'value': '10.00', 'count': 1}])])
        record = self.session(shop, session)
        sync = record.figures()
        figures = record.report_figures()
        # One computation: the sync API's keys and values unchanged
        self.assertEqual({k: figures[k] for k in sync}, sync)
        self.assertEqual((sync['sales'], sync['sales_total'],
                sync['returns'], sync['returns_total'], sync['net']),
            (2, '54.00', 1, '-12.00', '42.00'))
        self.assertEqual((sync['expected_cash'], sync['counted_cash'],
                sync['difference']), ('158.00', '160.00', '2.00'))
        self.assertEqual(figures['discounts'], '6.00')
        self.assertEqual(figures['voids'], 1)
        self.assertEqual((figures['first_receipt'], figures['last_receipt']),
            (f'{shop.prefix}-000001', f'{shop.prefix}-000005'))
        self.assertEqual(figures['receipt_gaps'],
            [[f'{shop.prefix}-000004', f'{shop.prefix}-000004']])
        self.assertEqual(figures['cashiers'],
            [Employee(shop.employee).rec_name])
        self.assertEqual(figures['denominations'], [
                {'value': '50.00', 'count': 3},
                {'value': '10.00', 'count': 1}])
        self.assertEqual((figures['z_number'], figures['grand_total']),
            (1, '42.00'))

    @with_transaction()
    def test_z_report_pdf_shows_the_figures(self):
        "The X/Z report action prints the session's figures as a PDF"
        shop = self.shop
        session = new_uuid()
        self.push(shop, shift(shop, session) + [close(shop, session,
                    '158.00')])
        record = self.session(shop, session)
        oext, content = self.run_report('retail.report.z', [record])
        self.assertEqual(oext, 'pdf')
        self.assertTrue(content.startswith(b'%PDF'))
        text = pdf_text(content)
        for expected in ["Z report", "Z number", "Opening float", "100.00",
                "Net sales", "42.00", "Discounts", "6.00",
                "Cash expected", "158.00", f"{shop.prefix}-000004",
                "Cash", "Card", "14.00", "Grand total"]:
            self.assertIn(expected, text)

    @with_transaction()
    def test_z_print_wizard_sums_per_terminal_branch_and_day(self):
        "The wizard's report has a page per session and the sums"
        pool = Pool()
        Wizard = pool.get('retail.report.z.print', type='wizard')
        Date = pool.get('ir.date')
        shop, shop2 = self.shop, self.shop2
        one, two = new_uuid(), new_uuid()
        self.push(shop, shift(shop, one) + [close(shop, one, '158.00')])
        self.push(shop2, [
                operation(shop2, 'session_open', {'session': two,
                        'opening_amount': '0'}, 1),
                sale_op(shop2, 1, sequence=2, session=two),
                ])
        with Transaction().set_context(company=shop.company):
            session_id, _, _ = Wizard.create()
            wizard = Wizard(session_id)
            wizard.start.date_from = wizard.start.date_to = Date.today()
            wizard.start.branches = [shop.branch, shop2.branch]
            wizard.start.terminals = []
            _, data = wizard.do_print_(None)
        self.assertEqual(len(data['ids']), 2)
        sessions = pool.get('sale.point.cash.session').browse(data['ids'])
        _, content = self.run_report('retail.report.z', sessions,
            data=data)
        text = pdf_text(content)
        self.assertIn("X report", text)
        self.assertIn("Z report", text)
        self.assertIn("Branch [S1] Shop S1", text)
        self.assertIn("Branch [S2] Shop S2", text)
        self.assertIn("Terminal Till S1A", text)
        self.assertIn(Date.today().isoformat(), text)

    @with_transaction()
    def test_exports_csv_xlsx_pdf_match_the_database(self):
        "Each export in each format opens and shows the database's figures"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Session = pool.get('sale.point.cash.session')
        Operation = pool.get('retail.sync.operation')
        Branch = pool.get('retail.branch')
        shop, shop2 = self.shop, self.shop2
        one, two = new_uuid(), new_uuid()
        self.push(shop, shift(shop, one) + [close(shop, one, '158.00')])
        self.push(shop2, [
                operation(shop2, 'session_open', {'session': two,
                        'opening_amount': '0'}, 1),
                sale_op(shop2, 1, sequence=2, session=two),
                ])
        sales = Sale.search([])
        self.assertEqual(len(sales), 4)
        db_total = sum(s.total for s in sales)
        db_tax = sum(s.total_tax for s in sales)
        branches = {s.point.branch.rec_name for s in sales}

        # Sales journal
        oext, content = self.run_report('retail.report.sales_journal', sales,
            'csv')
        self.assertEqual(oext, 'csv')
        rows = list(csv.DictReader(io.StringIO(content.decode('utf-8'))))
        self.assertEqual(list(rows[0].keys()), ['branch', 'terminal',
                'receipt', 'date', 'time', 'cashier', 'customer', 'lines',
                'untaxed', 'tax', 'total', 'taxes', 'payments'])
        self.assertEqual(len(rows), 4)
        self.assertEqual(sum(Decimal(r['total']) for r in rows), db_total)
        self.assertEqual(sum(Decimal(r['tax']) for r in rows), db_tax)
        receipt2, = [r for r in rows if r['receipt'] ==
            f'{shop.prefix}-000002']
        self.assertIn("3 x", receipt2['lines'])
        self.assertIn("Cash 30.00", receipt2['payments'])
        self.assertIn(shop.prefix, receipt2['terminal'])

        oext, content = self.run_report('retail.report.sales_journal', sales,
            'xlsx')
        self.assertEqual(oext, 'xlsx')
        book = load_workbook(io.BytesIO(content))
        self.assertEqual(set(book.sheetnames), {"S1 Shop S1", "S2 Shop S2"})
        total = Decimal(0)
        for sheet in book.worksheets:
            self.assertEqual(sheet.freeze_panes, 'A2')
            header = [c.value for c in sheet[1]]
            column = header.index("Total") + 1
            values = [sheet.cell(row=r, column=column)
                for r in range(2, sheet.max_row)]
            self.assertTrue(all(isinstance(c.value, (int, float))
                    for c in values))
            self.assertEqual(values[0].number_format, '#,##0.00')
            date_cell = sheet.cell(row=2, column=header.index("Date") + 1)
            self.assertTrue(date_cell.is_date)
            last = [c.value for c in sheet[sheet.max_row]]
            self.assertEqual(last[0], "Total")
            self.assertAlmostEqual(last[column - 1],
                sum(c.value for c in values))
            total += Decimal(str(last[column - 1]))
        self.assertEqual(total, db_total)

        oext, content = self.run_report('retail.report.sales_journal', sales,
            'pdf')
        self.assertEqual(oext, 'pdf')
        text = pdf_text(content)
        self.assertIn("Sales journal", text)
        self.assertIn("Page 1", text)
        for branch in branches:
            self.assertIn(branch, text)
        self.assertIn(f"{shop.prefix}-000005", text)
        self.assertIn("42.00", text)  # Shop S1's total

        # Z reports
        sessions = Session.search([])
        oext, content = self.run_report('retail.report.z_list', sessions,
            'csv')
        rows = list(csv.DictReader(io.StringIO(content.decode('utf-8'))))
        by_terminal = {r['terminal']: r for r in rows}
        closed = self.session(shop, one)
        row = by_terminal[closed.point.rec_name]
        self.assertEqual((row['z_number'], row['net'], row['discounts'],
                row['voids'], row['expected_cash'], row['grand_total']),
            ('1', '42.00', '6.00', '1', '158.00', '42.00'))
        oext, content = self.run_report('retail.report.z_list', sessions,
            'xlsx')
        book = load_workbook(io.BytesIO(content))
        self.assertEqual(len(book.worksheets), 2)
        oext, content = self.run_report('retail.report.z_list', sessions,
            'pdf')
        self.assertIn("Z reports", pdf_text(content))

        # Taxes per rate per branch
        oext, content = self.run_report('retail.report.taxes', sales, 'csv')
        rows = list(csv.DictReader(io.StringIO(content.decode('utf-8'))))
        self.assertEqual(sum(Decimal(r['amount']) for r in rows), db_tax)
        self.assertEqual({r['branch'] for r in rows}, branches)
        oext, content = self.run_report('retail.report.taxes', sales, 'xlsx')
        book = load_workbook(io.BytesIO(content))
        amounts = Decimal(0)
        for sheet in book.worksheets:
            amounts += Decimal(str(sheet.cell(row=sheet.max_row,
                        column=5).value))
        self.assertEqual(amounts, db_tax)
        oext, content = self.run_report('retail.report.taxes', sales, 'pdf')
        self.assertIn("Taxes per rate", pdf_text(content))

        # Stock valuation: the branch's warehouse stock at cost
        for extension in ['csv', 'xlsx', 'pdf']:
            oext, content = self.run_report(
                'retail.report.stock_valuation', Branch.search([]),
                extension)
            self.assertEqual(oext, extension)
        rows = list(csv.DictReader(io.StringIO(
                    self.run_report('retail.report.stock_valuation',
                        Branch.search([]), 'csv')[1].decode('utf-8'))))
        for row in rows:
            self.assertEqual(Decimal(row['value']),
                (Decimal(row['quantity'])
                    * Decimal(row['cost_price'])).quantize(Decimal('0.01')))

        # Sync conflicts: a quarantined operation
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        with Transaction().set_context(company=shop.company):
            result, = Push.push(Terminal(shop.terminal), [
                    sale_op(shop, 9, sequence=20, lines=[
                            {'product': 999999, 'quantity': '1',
                                'unit_price': '1.00', 'price': '1.00'}])])
        self.assertEqual(result['status'], 'rejected')
        conflicts = Operation.search([('state', '=', 'rejected')])
        oext, content = self.run_report('retail.report.conflicts', conflicts,
            'csv')
        rows = list(csv.DictReader(io.StringIO(content.decode('utf-8'))))
        self.assertEqual([(r['receipt_number'], r['reason_code'])
                for r in rows], [('9', result['reason']['code'])])
        oext, content = self.run_report('retail.report.conflicts', conflicts,
            'xlsx')
        sheet = load_workbook(io.BytesIO(content)).worksheets[0]
        self.assertEqual(sheet.cell(row=2, column=5).value, 9)
        oext, content = self.run_report('retail.report.conflicts', conflicts,
            'pdf')
        self.assertIn(result['reason']['code'], pdf_text(content))

    @with_transaction()
    def test_sync_session_answer_is_unchanged(self):
        "The sync API's session answer has the same keys with the module"
        shop = self.shop
        session = new_uuid()
        self.push(shop, shift(shop, session))
        figures = self.session(shop, session).figures()
        self.assertEqual(set(figures), {'id', 'uuid', 'terminal', 'state',
                'opening_float', 'sales', 'sales_total', 'returns',
                'returns_total', 'net', 'taxes', 'tax_lines', 'payments',
                'cash_in', 'cash_out', 'expected_cash', 'counted_cash',
                'difference'})
        self.assertEqual(json.loads(json.dumps(figures))['net'], '42.00')
