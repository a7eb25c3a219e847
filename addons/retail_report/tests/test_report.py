# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""X/Z reports (Z number, grand total, figures, PDF) and the exports (CSV,
Excel, PDF) checked against the database"""
import csv
import datetime as dt
import io
import json
import uuid
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.modules.retail_report.exceptions import ExportPeriodError
from trytond.modules.retail_stock.tests.tools import (
    lot_product, make_lots, receive, stock_locations)
from trytond.modules.retail_sync.journal import GENESIS, entry_hash
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


def chain(operations, previous=GENESIS):
    "Give each operation its journal entry as the till does"
    for op in operations:
        digest = entry_hash(op, previous)
        op['journal'] = {'previous': previous, 'hash': digest}
        previous = digest
    return previous


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
                {'value': '50.00', 'count': 3, 'amount': '150.00'},
                {'value': '10.00', 'count': 1, 'amount': '10.00'}])
        self.assertEqual(figures['denominations_total'], '160.00')
        self.assertEqual(figures['journal_breaks'], [])
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

    @with_transaction()
    def test_denominations_on_the_z_pdf_beside_the_expected_cash(self):
        """The counted cash by denomination is printed with each amount,
        their total, the expected cash and the difference"""
        shop = self.shop
        session = new_uuid()
        self.push(shop, shift(shop, session) + [close(shop, session,
                    '160.00', denominations=[
                        {'value': '10.00', 'count': 1},
                        {'value': '0.50', 'count': 0},
                        {'value': '50.00', 'count': 3}])])
        record = self.session(shop, session)
        figures = record.report_figures()
        # Largest first, each with value × count
        self.assertEqual(figures['denominations'], [
                {'value': '50.00', 'count': 3, 'amount': '150.00'},
                {'value': '10.00', 'count': 1, 'amount': '10.00'},
                {'value': '0.50', 'count': 0, 'amount': '0.00'}])
        self.assertEqual(figures['denominations_total'],
            figures['counted_cash'])
        _, content = self.run_report('retail.report.z', [record])
        text = ' '.join(pdf_text(content).split())
        self.assertIn("Cash counted by denomination", text)
        for expected in ["50.00 3 150.00", "10.00 1 10.00",
                "Total counted 160.00", "Cash expected 158.00",
                "Difference 2.00"]:
            self.assertIn(expected, text)

    @with_transaction()
    def test_bad_denominations_are_refused_and_the_session_stays_open(self):
        "A denomination that is not {value > 0, count >= 0} is refused"
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        shop = self.shop
        session = new_uuid()
        self.push(shop, shift(shop, session))
        for sequence, bad in enumerate([
                    [{'value': '0', 'count': 1}],
                    [{'value': '10.00', 'count': -1}],
                    [{'value': '10.00'}],
                    [{'value': '10.00', 'count': 1, 'total': '10.00'}],
                    'many',
                    ], 8):
            with self.subTest(denominations=bad):
                with Transaction().set_context(company=shop.company):
                    result, = Push.push(Terminal(shop.terminal), [close(
                                shop, session, '160.00', sequence=sequence,
                                denominations=bad)])
                self.assertEqual(result['status'], 'rejected', result)
                self.assertEqual(result['reason']['code'], 'invalid_payload')
                self.assertIn('denominations', result['reason']['message'])
                self.assertEqual(self.session(shop, session).state, 'open')

    @with_transaction()
    def test_journal_breaks_in_the_z_figures(self):
        """A receipt whose journal entry does not follow the terminal's
        last one is a break of the session's Z (figures and PDF)"""
        shop = self.shop
        session = new_uuid()
        operations = shift(shop, session) + [close(shop, session, '158.00')]
        journal = [o for o in operations
            if o['type'] in {'sale', 'return', 'void', 'session_close'}]
        chain(journal[:1])
        # Receipt 2 chained after an entry the server never received
        chain(journal[1:], previous='f' * 64)
        results = self.push(shop, operations)
        record = self.session(shop, session)
        figures = record.report_figures()
        self.assertEqual([(b['receipt'], b['type'])
                for b in figures['journal_breaks']],
            [(f'{shop.prefix}-000002', 'sale')])
        self.assertIn("missing", figures['journal_breaks'][0]['message'])
        # The session_close's answer is the Z with its break
        self.assertEqual(results[-1]['result']['figures']['journal_breaks'],
            json.loads(json.dumps(figures['journal_breaks'])))
        text = pdf_text(self.run_report('retail.report.z', [record])[1])
        self.assertIn("Journal breaks", text)
        self.assertIn(f'{shop.prefix}-000002', text)

    @with_transaction()
    def test_sync_answer_has_what_the_printed_z_shows(self):
        """GET sessions/<uuid> and the session_close result carry the Z
        number, grand total, receipt range and gaps, cashiers and
        denominations, so that the till reprints the server's Z"""
        Employee = Pool().get('company.employee')
        shop = self.shop
        session = new_uuid()
        results = self.push(shop, shift(shop, session) + [close(shop, session,
                    '160.00', denominations=[
                        {'value': '50.00', 'count': 3},
                        {'value': '10.00', 'count': 1}])])
        answer = results[-1]['result']['figures']
        record = self.session(shop, session)
        self.assertEqual(json.loads(json.dumps(record.sync_figures())),
            answer)
        sync = record.figures()
        self.assertEqual({k: answer[k] for k in sync}, sync)
        self.assertEqual(answer['z_number'], record.retail_z_number)
        self.assertEqual(answer['grand_total'], '42.00')
        self.assertEqual((answer['first_receipt'], answer['last_receipt'],
                answer['receipt_gaps']),
            (f'{shop.prefix}-000001', f'{shop.prefix}-000005',
                [[f'{shop.prefix}-000004', f'{shop.prefix}-000004']]))
        self.assertEqual(answer['cashiers'],
            [Employee(shop.employee).rec_name])
        self.assertEqual(answer['denominations'][0],
            {'value': '50.00', 'count': 3, 'amount': '150.00'})
        self.assertEqual((answer['discounts'], answer['voids']),
            ('6.00', 1))
        self.assertEqual(answer['terminal_name'], 'Till S1A')
        self.assertTrue(answer['closed_at'].endswith('Z'))
        self.assertEqual(answer['journal_breaks'], [])

    def stock_shops(self):
        """Lots of a yoghurt near expiry, expired and later in both shops,
        a milk under its order point's minimum in the second shop, a sale
        of the near lot in the first"""
        pool = Pool()
        Date = pool.get('ir.date')
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        OrderPoint = pool.get('stock.order_point')
        Move = pool.get('stock.move')
        Company = pool.get('company.company')
        Branch = pool.get('retail.branch')
        company = Company(self.shop.company)
        shop1, shop2 = Branch(self.shop.branch), Branch(self.shop2.branch)
        today = Date.today()
        _, _, supplier, customer = stock_locations()
        yoghurt = lot_product("Yoghurt")
        milk = lot_product("Milk")
        Template.write([yoghurt.template, milk.template], {
                'near_expiry_days': 3, 'purchasable': True,
                'purchase_uom': yoghurt.default_uom.id})
        Product.write([yoghurt], {
                'suffix_code': 'YOG', 'cost_price': Decimal('0.8')})
        Product.write([milk], {
                'suffix_code': 'MLK', 'cost_price': Decimal('0.5')})
        near, expired, later = make_lots(yoghurt, [2, -1, 10], today)
        milk_lot, = Pool().get('stock.lot').create([{
                    'number': 'M1', 'product': milk.id,
                    'shelf_life_expiration_date':
                    today + dt.timedelta(days=30)}])
        for shop, lots in [
                (shop1, [(near, 4), (expired, 1), (later, 5)]),
                (shop2, [(near, 7)])]:
            receive(company, yoghurt, [
                    (lot, shop.warehouse.storage_location, qty, today)
                    for lot, qty in lots], supplier)
        receive(company, milk, [(milk_lot, shop2.warehouse.storage_location,
                    2, today)], supplier)
        OrderPoint.create([{
                    'product': milk.id, 'type': 'purchase',
                    'location': shop.warehouse.id, 'company': company.id,
                    'min_quantity': 5, 'target_quantity': 10,
                    } for shop in (shop1, shop2)])
        sale, = Move.create([{
                    'product': yoghurt.id, 'lot': near.id,
                    'unit': yoghurt.default_uom.id, 'quantity': 1,
                    'from_location': shop1.warehouse.storage_location.id,
                    'to_location': customer.id, 'company': company.id,
                    'unit_price': Decimal('2'),
                    'currency': company.currency.id,
                    'planned_date': today, 'effective_date': today}])
        with Transaction().set_context(_skip_warnings=True):
            Move.do([sale])
        return shop1, shop2, near, expired, today

    @with_transaction()
    def test_stock_exports_match_the_database(self):
        """Near-expiry lots, low stock and lot traceability in CSV, Excel
        and PDF, against the lists they export"""
        pool = Pool()
        Expiry = pool.get('retail.stock.lot.expiry')
        Low = pool.get('retail.stock.low')
        company = self.shop.company
        with set_company(pool.get('company.company')(company)):
            shop1, shop2, near, expired, today = self.stock_shops()
            expiry = Expiry.search([])
            low = Low.search([])

        # Near-expiry lots
        _, content = self.run_report('retail.report.near_expiry', expiry,
            'csv')
        rows = list(csv.DictReader(io.StringIO(content.decode('utf-8'))))
        self.assertEqual(list(rows[0].keys()), ['branch', 'sell_by',
                'near_expiry_date', 'state', 'code', 'product', 'lot',
                'quantity', 'unit', 'markdown_price', 'value'])
        self.assertEqual([(r['branch'], r['lot'], r['state'], r['quantity'],
                    r['sell_by'], r['value']) for r in rows], [
                (shop1.rec_name, expired.number, 'Expired', '1',
                    expired.shelf_life_expiration_date.isoformat(), '0.80'),
                (shop1.rec_name, near.number, 'Near expiry', '3',
                    near.shelf_life_expiration_date.isoformat(), '2.40'),
                (shop2.rec_name, near.number, 'Near expiry', '7',
                    near.shelf_life_expiration_date.isoformat(), '5.60')])
        self.assertEqual(sorted((r.branch.rec_name, r.lot.number,
                    r.quantity) for r in expiry),
            sorted((r['branch'], r['lot'], float(r['quantity']))
                for r in rows))
        _, content = self.run_report('retail.report.near_expiry', expiry,
            'xlsx')
        book = load_workbook(io.BytesIO(content))
        # One sheet per branch (a sheet's name has no brackets)
        self.assertEqual(book.sheetnames, ['S1 Shop S1', 'S2 Shop S2'])
        sheet = book.worksheets[0]
        self.assertEqual(sheet.freeze_panes, 'A2')
        self.assertEqual(sheet['A1'].value, "Sell by")
        self.assertEqual(sheet['A2'].value.date(),
            expired.shelf_life_expiration_date)
        self.assertEqual(sheet['A2'].number_format, 'yyyy-mm-dd')
        self.assertEqual(sheet['G3'].value, 3)
        self.assertEqual(sheet['J3'].number_format, '#,##0.00')
        self.assertEqual([c.value for c in sheet[4]][:1], ["Total"])
        self.assertEqual((sheet['G4'].value, Decimal(str(sheet['J4'].value))),
            (4, Decimal('3.20')))
        _, content = self.run_report('retail.report.near_expiry', expiry,
            'pdf')
        text = pdf_text(content)
        for expected in ["Near-expiry lots", today.isoformat(),
                shop1.rec_name, shop2.rec_name, "Expired", "5.60", "Total",
                "Page 1"]:
            self.assertIn(expected, text)

        # Low stock
        _, content = self.run_report('retail.report.low_stock', low, 'csv')
        rows = list(csv.DictReader(io.StringIO(content.decode('utf-8'))))
        self.assertEqual(list(rows[0].keys()), ['branch', 'code', 'product',
                'type', 'quantity', 'min_quantity', 'target_quantity',
                'to_order', 'unit', 'value'])
        self.assertEqual([(r['branch'], r['code'], r['quantity'],
                    r['min_quantity'], r['to_order'], r['value'])
                for r in rows], [
                (shop1.rec_name, 'MLK', '0', '5', '10', '5.00'),
                (shop2.rec_name, 'MLK', '2', '5', '8', '4.00')])
        self.assertEqual(len(rows), len(low))
        _, content = self.run_report('retail.report.low_stock', low, 'xlsx')
        book = load_workbook(io.BytesIO(content))
        sheet = book['S2 Shop S2']
        self.assertEqual((sheet['G2'].value, sheet['G3'].value), (8, 8))
        self.assertEqual(sheet['A3'].value, "Total")
        text = pdf_text(self.run_report('retail.report.low_stock', low,
                'pdf')[1])
        for expected in ["Low stock", "MLK", "To order", shop2.rec_name]:
            self.assertIn(expected, text)

        # Lot traceability, per branch of the moves
        _, content = self.run_report('retail.report.lot_trace', [near],
            'csv')
        rows = list(csv.DictReader(io.StringIO(content.decode('utf-8'))))
        self.assertEqual(list(rows[0].keys()), ['branch', 'lot', 'product',
                'sell_by', 'date', 'kind', 'document', 'party',
                'party_code', 'from_location', 'to_location', 'quantity',
                'unit'])
        self.assertEqual(sorted((r['branch'], r['kind'], r['quantity'])
                for r in rows), [
                (shop1.rec_name, 'Receipt', '4'),
                (shop1.rec_name, 'Sale', '1'),
                (shop2.rec_name, 'Receipt', '7')])
        _, content = self.run_report('retail.report.lot_trace', [near],
            'xlsx')
        book = load_workbook(io.BytesIO(content))
        self.assertEqual(book.sheetnames, ['S1 Shop S1', 'S2 Shop S2'])
        self.assertEqual(book['S1 Shop S1']['K4'].value, 5)
        text = pdf_text(self.run_report('retail.report.lot_trace', [near],
                'pdf')[1])
        for expected in ["Lot traceability", near.number, "Receipt",
                today.isoformat()]:
            self.assertIn(expected, text)

    @with_transaction()
    def test_export_wizard_by_period_and_branch(self):
        """The export wizard exports the sales, taxes or Z reports of a
        period and branches in the chosen format"""
        pool = Pool()
        Wizard = pool.get('retail.report.export', type='wizard')
        Date = pool.get('ir.date')
        Sale = pool.get('sale.point.sale')
        shop, shop2 = self.shop, self.shop2
        one, two = new_uuid(), new_uuid()
        self.push(shop, shift(shop, one) + [close(shop, one, '158.00')])
        self.push(shop2, [
                operation(shop2, 'session_open', {'session': two,
                        'opening_amount': '0'}, 1),
                sale_op(shop2, 1, sequence=2, session=two),
                ])
        today = Date.today()

        def export(report, format_, branches, date_from=today,
                date_to=today):
            with Transaction().set_context(company=shop.company):
                session_id, _, _ = Wizard.create()
                wizard = Wizard(session_id)
                wizard.start.report = report
                wizard.start.format = format_
                wizard.start.date_from = date_from
                wizard.start.date_to = date_to
                wizard.start.branches = branches
                action, data = wizard.do_export(None)
            model = pool.get(data['model'])
            oext, content = self.run_report(report,
                model.browse(data['ids']), format_, data=data)
            self.assertEqual(oext, format_)
            return data, content

        data, content = export('retail.report.sales_journal', 'csv',
            [shop2.branch])
        rows = list(csv.DictReader(io.StringIO(content.decode('utf-8'))))
        sales2 = Sale.search([('point.branch', '=', shop2.branch)])
        self.assertEqual([r['receipt'] for r in rows],
            [s.number for s in sales2])
        self.assertEqual({r['branch'] for r in rows},
            {sales2[0].point.branch.rec_name})

        data, content = export('retail.report.taxes', 'xlsx', [])
        book = load_workbook(io.BytesIO(content))
        self.assertEqual(len(book.sheetnames), 2)
        base = sum(Decimal(str(
                    book[n].cell(row=book[n].max_row, column=4).value))
            for n in book.sheetnames)
        self.assertEqual(base, sum(
                b for s in Sale.search([])
                for b, _ in s.retail_tax_lines().values()))

        data, content = export('retail.report.z_list', 'pdf',
            [shop.branch])
        self.assertEqual(len(data['ids']), 1)
        text = pdf_text(content)
        self.assertIn(today.isoformat(), text)
        self.assertIn("158.00", text)
        self.assertIn("[S1] Shop S1", text)

        # Another period: nothing, but a file all the same
        data, content = export('retail.report.z_list', 'csv', [],
            today - dt.timedelta(days=10), today - dt.timedelta(days=9))
        self.assertEqual(data['ids'], [])
        self.assertEqual(content.decode().splitlines()[0].split(',')[:3],
            ['branch', 'terminal', 'z_number'])

        with self.assertRaises(ExportPeriodError):
            export('retail.report.z_list', 'csv', [], today,
                today - dt.timedelta(days=1))
