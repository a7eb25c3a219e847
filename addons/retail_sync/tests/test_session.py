# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Protocol 1.2: cash sessions named by the device with their float, the
server's X/Z figures, and the audit of manager overrides"""
import json
import unittest
import uuid
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.modules.retail_sync.sale_push import SaleHandler
from trytond.modules.retail_sync.tests.tools import (
    Api, committed, enroll, operation, push_and_post, run_queue, sale_op,
    setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction


def new_uuid():
    return str(uuid.uuid4())


def second_shop(shop, code, prefix):
    "Another branch and terminal of the company of shop"
    def make():
        Company = Pool().get('company.company')
        company = Company(shop.company)
        with set_company(company):
            return setup_shop(code=code, prefix=prefix, company=company)
    return committed(make)


def shift(shop, session, opening='100.00', counted='160.00'):
    """The operations of a shift with split payments, a return, cash in and
    out and a close with counted cash; figures computed by hand:

    - sale 1: 2 x 12.00 = 24.00 (10.00 cash + 14.00 card), tax 4.00
    - sale 2: 3 x 12.00 = 36.00 cash, tax 6.00
    - return 3: -1 x 12.00 = -12.00 cash, tax -2.00
    - cash in 50.00, cash out 20.00
    - expected cash = 100.00 + (10.00 + 36.00 - 12.00) + 50.00 - 20.00
      = 164.00
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
                    'unit_price': '12.00', 'price': '12.00'}]),
        sale_op(shop, 3, sequence=4, type_='return', session=session,
            original_receipt=f'{shop.prefix}-000002', lines=[
                {'product': product, 'quantity': '-1',
                    'unit_price': '12.00', 'price': '12.00'}],
            payments=[{'method': shop.cash, 'amount': '-12.00'}]),
        operation(shop, 'cash_in', {'amount': '50.00', 'session': session,
                'transfer_type': shop.transfer_type}, 5),
        operation(shop, 'cash_out', {'amount': '20.00', 'session': session,
                'transfer_type': shop.transfer_type}, 6),
        ]


def close(shop, session, counted, sequence=7):
    return operation(shop, 'session_close', {'session': session,
            'counted_cash': counted}, sequence)


def x_figures(shop, session, state='open'):
    "The figures of shift(), computed by hand"
    return {
        'uuid': session,
        'terminal': shop.terminal,
        'state': state,
        'opening_float': '100.00',
        'sales': 2, 'sales_total': '60.00',
        'returns': 1, 'returns_total': '-12.00',
        'net': '48.00', 'taxes': '8.00',
        # Tax included at 20 %: 20.00 + 30.00 - 10.00 untaxed
        'tax_lines': [{'tax': shop.tax, 'name': shop.tax_name,
                'base': '40.00', 'amount': '8.00'}],
        'payments': [
            {'method': shop.cash, 'name': "Cash", 'amount': '34.00'},
            {'method': shop.card, 'name': "Card", 'amount': '14.00'},
            ],
        'cash_in': '50.00', 'cash_out': '20.00',
        'expected_cash': '164.00',
        'counted_cash': None, 'difference': None,
        }


class SessionOverrideTestCase(TestCase):
    "Test cash sessions, X/Z figures and manager overrides"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync'])
        cls.shop = committed(setup_shop)
        cls.shop3 = second_shop(cls.shop, 'S3', 'S3A')
        cls.shop4 = second_shop(cls.shop, 'S4', 'S4A')
        cls.shop5 = second_shop(cls.shop, 'S5', 'S5A')
        cls.shop6 = second_shop(cls.shop, 'S6', 'S6A')
        tax_name = committed(
            lambda: Pool().get('account.tax')(cls.shop.tax).name)
        for shop in [cls.shop, cls.shop3, cls.shop4, cls.shop5, cls.shop6]:
            shop.tax_name = tax_name

        def employees():
            pool = Pool()
            Employee = pool.get('company.employee')
            Party = pool.get('party.party')
            Company = pool.get('company.company')
            company = Company(cls.shop.company)
            with set_company(company):
                manager = Employee(party=Party(name="Manager"),
                    company=company, branches=[cls.shop.branch],
                    pos_allow_manager_override='allow',
                    pos_allow_void='allow',
                    pos_max_discount=Decimal(20))
                manager.party.save()
                manager.save()
                return manager.id
        cls.manager = committed(employees)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def push(self, shop, operations):
        pool = Pool()
        Terminal = pool.get('sale.point')
        with Transaction().set_context(company=shop.company):
            return push_and_post(Terminal(shop.terminal), operations)

    def assertFigures(self, figures, expected):
        figures = dict(figures)
        figures.pop('id')
        self.assertEqual(figures, expected)

    # Sessions

    @with_transaction()
    def test_session_float_is_recorded_and_figures_hand_computed(self):
        "The opening float is a transfer; X and Z figures match by hand"
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        shop = self.shop
        session = new_uuid()
        results = self.push(shop, shift(shop, session))
        self.assertEqual([r['status'] for r in results], ['accepted'] * 6,
            results)
        opened = results[0]['result']
        self.assertEqual((opened['uuid'], opened['start_amount'],
                opened['opening_amount']), (session, '0.00', '100.00'))
        record = Session(opened['session'])
        self.assertEqual(record.retail_uuid, session)
        self.assertEqual(record.retail_float_transfer.amount,
            Decimal('100.00'))
        self.assertEqual(record.retail_float_transfer.type,
            pool.get('retail.sync.configuration')(1).float_transfer_type)
        self.assertEqual(results[4]['result']['session_uuid'], session)
        # X report: the open session
        self.assertFigures(record.figures(), x_figures(shop, session))
        # Tryton's own balance agrees with the expected cash
        self.assertEqual(record.start_amount + record.balance,
            Decimal('164.00'))

        closed, = self.push(shop, [close(shop, session, '160.00')])
        self.assertEqual(closed['status'], 'accepted', closed)
        result = closed['result']
        self.assertEqual((result['expected'], result['counted'],
                result['difference']), ('164.00', '160.00', '-4.00'))
        z = dict(x_figures(shop, session, state='closed'),
            counted_cash='160.00', difference='-4.00')
        self.assertFigures(result['figures'], z)
        record = Session(record.id)
        self.assertEqual(record.state, 'closed')
        self.assertEqual(record.retail_difference_transfer.amount,
            Decimal('-4.00'))
        # The same figures computed again for the closed session
        self.assertFigures(record.figures(), z)

        # The next session starts from 160.00: a float of 150.00 is -10.00
        following = new_uuid()
        opened, = self.push(shop, [operation(shop, 'session_open', {
                        'session': following, 'opening_amount': '150.00'},
                    8)])
        self.assertEqual((opened['result']['start_amount'],
                opened['result']['opening_amount']), ('160.00', '150.00'))
        record = Session(opened['result']['session'])
        self.assertEqual(record.retail_float_transfer.amount,
            Decimal('-10.00'))
        figures = record.figures()
        self.assertEqual((figures['opening_float'], figures['expected_cash'],
                figures['sales'], figures['payments']),
            ('150.00', '150.00', 0, []))

    @with_transaction()
    def test_figures_come_from_the_acknowledged_operations(self):
        """Each sale's figures are stored with its operation when it is
        acknowledged, equal to those its records give (a discounted line
        included), and the X figures add them up: they do not read the
        sales"""
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Operation = pool.get('retail.sync.operation')
        Sale = pool.get('sale.point.sale')
        shop = self.shop
        session = new_uuid()
        operations = shift(shop, session)
        operations.append(sale_op(shop, 4, sequence=7, session=session,
                lines=[{'product': shop.products[0], 'quantity': '2',
                        'unit_price': '12.00', 'price': '10.50',
                        'discount': {'type': 'percent', 'value': '12.5'}}],
                payments=[{'method': shop.card, 'amount': '21.00'}]))
        results = self.push(shop, operations)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 7,
            results)
        record = Session(results[0]['result']['session'])
        sales = Operation.search([
                ('terminal', '=', shop.terminal),
                ('type', 'in', ['sale', 'return']),
                ], order=[('sequence', 'ASC')])
        self.assertEqual(len(sales), 4)
        summaries = record.retail_summaries()
        self.assertEqual([s['sale'] for s in summaries],
            [o.sale.id for o in sales])
        for sale_operation, summary in zip(sales, summaries):
            self.assertEqual(sale_operation.session, record)
            from_records = Sale(sale_operation.sale.id).retail_summary()
            for key in ['total', 'tax', 'taxes', 'payments', 'discount',
                    'employee', 'receipt_number']:
                self.assertEqual(summary[key], from_records[key], key)
        self.assertEqual(summaries[-1]['discount'], Decimal('3.00'))
        figures = record.figures()
        # Without the sales' records in the session the operations still
        # give the same figures
        cursor = Transaction().connection.cursor()
        sale = Sale.__table__()
        payment = pool.get('sale.point.payment').__table__()
        ids = [o.sale.id for o in sales]
        cursor.execute(*sale.update([sale.cash_session], [None],
                where=sale.id.in_(ids)))
        cursor.execute(*payment.update([payment.session], [None],
                where=payment.sale.in_(ids)))
        self.assertEqual(Session(record.id).retail_sales_of(), [])
        self.assertFigures(Session(record.id).figures(),
            {k: v for k, v in figures.items() if k != 'id'})
        self.assertEqual(figures['sales'], 3)
        self.assertEqual(figures['sales_total'], '81.00')

    @with_transaction()
    def test_close_records_the_sales_waiting_for_the_posting_task(self):
        """A close pushed while the session's sales wait for the posting
        task (a queue worker) records them first: Tryton's balance of the
        session counts their cash, as the figures do"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Session = pool.get('sale.point.cash.session')
        Operation = pool.get('retail.sync.operation')
        Terminal = pool.get('sale.point')
        shop = self.shop
        session = new_uuid()
        # With a queue worker: the push leaves its sales to the task
        with Transaction().set_context(company=shop.company,
                retail_sync_defer_records=True):
            results = Push.push(Terminal(shop.terminal), shift(shop, session))
            sales = Operation.search([
                    ('terminal', '=', shop.terminal),
                    ('type', 'in', ['sale', 'return']),
                    ])
            self.assertEqual({o.sale for o in sales}, {None})
            record = Session(results[0]['result']['session'])
            self.assertEqual(record.figures()['expected_cash'], '164.00')
            closed, = Push.push(Terminal(shop.terminal),
                [close(shop, session, '164.00')])
        self.assertEqual(closed['status'], 'accepted', closed)
        self.assertEqual((closed['result']['expected'],
                closed['result']['difference']), ('164.00', '0.00'))
        record = Session(record.id)
        self.assertEqual(record.state, 'closed')
        self.assertIsNone(record.retail_difference_transfer)
        sales = Operation.browse(sales)
        self.assertTrue(all(o.sale for o in sales))
        self.assertEqual({o.posting for o in sales}, {'pending'})
        self.assertEqual(len(record.retail_sales_of()), 3)
        run_queue()
        self.assertEqual({o.posting for o in Operation.browse(sales)},
            {'posted'})

    @with_transaction()
    def test_session_float_equal_to_start_needs_no_transfer(self):
        "A float equal to the start amount records no transfer"
        Session = Pool().get('sale.point.cash.session')
        shop = self.shop
        result, = self.push(shop, [operation(shop, 'session_open', {
                        'session': new_uuid(), 'opening_amount': '0.00'})])
        self.assertEqual(result['result']['float_transfer'], None)
        self.assertFalse(Session(result['result']['session']).transfers)

    @with_transaction()
    def test_session_float_without_type_is_quarantined(self):
        "Without a float transfer type the opening is quarantined"
        pool = Pool()
        Configuration = pool.get('retail.sync.configuration')
        Operation = pool.get('retail.sync.operation')
        Session = pool.get('sale.point.cash.session')
        shop = self.shop
        config = Configuration(1)
        config.float_transfer_type = None
        config.save()
        session = new_uuid()
        op = operation(shop, 'session_open', {
                'session': session, 'opening_amount': '100.00'})
        result, = self.push(shop, [op])
        self.assertEqual((result['status'], result['reason']['code']),
            ('rejected', 'not_configured'))
        self.assertIn("Float Transfer Type".lower(),
            result['reason']['message'].lower())
        conflict, = Operation.search([('uuid', '=', op['uuid'])])
        self.assertEqual(conflict.state, 'rejected')
        self.assertFalse(Session.search([('retail_uuid', '=', session)]))
        # Configured, the manager replays it
        config.float_transfer_type = shop.float_type
        config.save()
        Operation.replay([conflict])
        self.assertEqual(conflict.state, 'accepted')
        record, = Session.search([('retail_uuid', '=', session)])
        self.assertEqual(record.figures()['opening_float'], '100.00')

    @with_transaction()
    def test_session_named_must_be_the_terminals_open_session(self):
        """An operation naming an unknown or other session is rejected, a
        sale naming a closed session is booked"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Sale = pool.get('sale.point.sale')
        shop = self.shop
        other = self.shop3
        session, foreign = new_uuid(), new_uuid()
        self.push(other, [operation(other, 'session_open', {
                        'session': foreign, 'opening_amount': '0'})])
        results = self.push(shop, [
                operation(shop, 'session_open', {
                        'session': session, 'opening_amount': '0'}, 1),
                sale_op(shop, 1, sequence=2, session=new_uuid()),
                sale_op(shop, 2, sequence=3, session=foreign),
                operation(shop, 'cash_in', {'amount': '5.00',
                        'transfer_type': shop.transfer_type,
                        'session': 42}, 4),
                operation(shop, 'session_open', {
                        'session': new_uuid(), 'opening_amount': '0'}, 5),
                operation(shop, 'session_open', {
                        'session': session, 'opening_amount': '0'}, 6),
                close(shop, session, '0.00', 7),
                sale_op(shop, 3, sequence=8, session=session),
                ])
        # A sale is a fact: the one naming the closed session is booked
        self.assertEqual([r['status'] for r in results], ['accepted',
                'rejected', 'rejected', 'rejected', 'rejected', 'rejected',
                'accepted', 'accepted'], results)
        self.assertEqual([r['reason']['code'] for r in results
                if r['status'] == 'rejected'], ['unknown_session',
                'unknown_session', 'invalid_payload', 'session_still_open',
                'invalid_payload'])
        self.assertEqual(Operation.search([('state', '=', 'rejected'),
                    ('terminal', '=', shop.terminal)], count=True), 5)
        sale, = Sale.search([('point', '=', shop.terminal)])
        self.assertEqual(sale.receipt_number, 3)

    @with_transaction()
    def test_weighed_sale_rejected_then_replayed_after_close(self):
        """A weighed quantity needs the digits of its unit: 1.234 kg is
        rejected with a kilogram of 2 digits, with a clear reason; once the
        unit weighs grams, its replay books the sale although its session
        has closed since (a sale is a fact), with its quantity"""
        pool = Pool()
        Company = pool.get('company.company')
        Date = pool.get('ir.date')
        Operation = pool.get('retail.sync.operation')
        Product = pool.get('product.product')
        Sale = pool.get('sale.point.sale')
        Session = pool.get('sale.point.cash.session')
        Template = pool.get('product.template')
        Terminal = pool.get('sale.point')
        Uom = pool.get('product.uom')
        shop = self.shop6
        kg, = Uom.search([('name', '=', "Kilogram")])
        kg.digits, kg.rounding = 2, Decimal('0.01')
        kg.save()
        model = Product(shop.products[0])
        with set_company(Company(shop.company)):
            bananas = Template(name="Bananas", default_uom=kg, sale_uom=kg,
                type='goods', salable=True,
                account_category=model.template.account_category,
                list_price=Decimal('1.6583'), gross_price=Decimal('1.99'),
                products=[{}])
            bananas.save()
            product = bananas.products[0]
            _, gross = SaleHandler.unit_prices(Decimal('1.99'),
                product.customer_taxes_used, Date.today(),
                Terminal(shop.terminal).tax_included)
        total = (Decimal('1.234') * gross).quantize(Decimal('0.01'))
        session = new_uuid()
        sale = sale_op(shop, 1, sequence=2, session=session, lines=[
                {'product': product.id, 'quantity': '1.234',
                    'unit_price': '1.99', 'price': '1.99'}],
            payments=[{'method': shop.cash, 'amount': str(total)}])
        results = self.push(shop, [
                operation(shop, 'session_open', {
                        'session': session, 'opening_amount': '0'}, 1),
                sale, close(shop, session, '0.00', 3)])
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'rejected', 'accepted'], results)
        self.assertEqual(results[1]['reason']['code'], 'invalid_payload')
        self.assertIn("1.234", results[1]['reason']['message'])
        self.assertIn("kg allows (2)", results[1]['reason']['message'])
        self.assertEqual(
            Session.search([('retail_uuid', '=', session)])[0].state,
            'closed')
        # The kilogram weighs grams: the manager replays the sale
        kg.digits, kg.rounding = 3, Decimal('0.001')
        kg.save()
        # The replay runs later, in its own transaction: nothing read before
        Transaction().cache.clear()
        conflict, = Operation.search([('uuid', '=', sale['uuid'])])
        Operation.replay([conflict])
        Transaction().cache.clear()
        conflict = Operation(conflict.id)
        self.assertEqual(conflict.state, 'accepted', conflict.reason)
        record, = Sale.search([('point', '=', shop.terminal),
                ('receipt_number', '=', 1)])
        line, = record.lines
        self.assertEqual(Decimal(str(line.quantity)), Decimal('1.234'))
        self.assertEqual(line.unit, kg)
        self.assertEqual(record.total, total)
        self.assertNotEqual(record.cash_session.retail_uuid, session)

    @with_transaction()
    def test_session_replays_answer_the_first_result(self):
        "session_open, session_close and audit replays answer the first time"
        Session = Pool().get('sale.point.cash.session')
        shop = self.shop
        session = new_uuid()
        ops = shift(shop, session)[:1] + [close(shop, session, '90.00', 2),
            operation(shop, 'audit', {'action': 'void_sale',
                    'manager': self.manager, 'cashier': shop.employee,
                    'receipt': None, 'product': None, 'lot': None,
                    'detail': {}}, 3)]
        first = self.push(shop, ops)
        self.assertEqual([r['status'] for r in first], ['accepted'] * 3,
            first)
        again = self.push(shop, ops)
        self.assertEqual([r['status'] for r in again], ['duplicate'] * 3)
        self.assertEqual([r['result'] for r in again],
            [r['result'] for r in first])
        self.assertEqual(Session.search([
                    ('point', '=', shop.terminal)], count=True), 1)

    # Overrides

    @with_transaction()
    def test_audit_accepted_and_stored(self):
        "An override approved by a manager with the right is stored"
        pool = Pool()
        Override = pool.get('retail.sync.override')
        shop = self.shop
        sale = sale_op(shop, 5)
        audit = operation(shop, 'audit', {'action': 'discount',
                'manager': self.manager, 'cashier': shop.employee,
                'receipt': f'{shop.prefix}-000005',
                'product': shop.products[0], 'lot': None,
                'detail': {'discount': '15.00', 'line': 'l-1'}}, 6)
        results = self.push(shop, [sale, audit])
        self.assertEqual([r['status'] for r in results],
            ['accepted', 'accepted'], results)
        override = Override(results[1]['result']['override'])
        self.assertEqual((override.terminal.id, override.branch.id,
                override.action, override.manager.id, override.cashier.id,
                override.receipt, override.sale.id, override.product.id,
                override.lot, override.operation_uuid),
            (shop.terminal, shop.branch, 'discount', self.manager,
                shop.employee, f'{shop.prefix}-000005',
                results[0]['result']['sale'], shop.products[0], None,
                audit['uuid']))
        self.assertEqual(json.loads(override.detail),
            {'discount': '15.00', 'line': 'l-1'})
        self.assertTrue(override.date)
        # Searchable by terminal, manager, action and date
        self.assertEqual(Override.search([
                    ('terminal', '=', shop.terminal),
                    ('manager', '=', self.manager),
                    ('action', '=', 'discount'),
                    ('date', '=', override.date),
                    ]), [override])

    @with_transaction()
    def test_audit_rejected_cases_are_quarantined(self):
        "Unknown actions, managers without the right are quarantined"
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Override = pool.get('retail.sync.override')
        shop = self.shop

        def audit(sequence, action, manager, **detail):
            return operation(shop, 'audit', {'action': action,
                    'manager': manager, 'cashier': shop.employee,
                    'receipt': None, 'product': None, 'lot': None,
                    'detail': detail}, sequence)
        ops = [
            audit(1, 'teleport', self.manager),
            # The cashier has no manager override right
            audit(2, 'void_sale', shop.employee),
            # The manager may void but not refund nor override prices
            audit(3, 'refund', self.manager),
            audit(4, 'price_override', self.manager),
            # Above the manager's own discount limit (20 %)
            audit(5, 'order_discount', self.manager, discount='25.00'),
            audit(6, 'discount', 999999),
            audit(7, 'expired_lot', self.manager),
            ]
        ops[-1]['payload']['lot'] = 999999
        results = self.push(shop, ops)
        self.assertEqual([r['status'] for r in results], ['rejected'] * 7)
        self.assertEqual([r['reason']['code'] for r in results], [
                'unknown_action', 'not_allowed', 'not_allowed',
                'not_allowed', 'not_allowed', 'unknown_employee',
                'unknown_lot'])
        self.assertIn('allow_refund', results[2]['reason']['message'])
        self.assertIn('max_discount', results[4]['reason']['message'])
        self.assertEqual(Operation.search([
                    ('uuid', 'in', [o['uuid'] for o in ops]),
                    ('state', '=', 'rejected'),
                    ('type', '=', 'audit'),
                    ], count=True), 7)
        self.assertFalse(Override.search([]))
        # Within the limit and with the right it is accepted
        result, = self.push(shop, [
                audit(8, 'order_discount', self.manager, discount='20.00')])
        self.assertEqual(result['status'], 'accepted', result)

    @with_transaction()
    def test_audit_pin_failed_locked_unlocked(self):
        "Wrong PINs, a lockout and a manager's unlock are stored and listed"
        pool = Pool()
        Override = pool.get('retail.sync.override')
        shop = self.shop

        def pin(sequence, action, manager=None, **detail):
            return operation(shop, 'audit', {'action': action,
                    'manager': manager, 'cashier': shop.employee,
                    'receipt': None, 'detail': detail}, sequence)
        ops = [
            pin(1, 'pin_failed', purpose='login', failures=1,
                max_attempts=2),
            pin(2, 'pin_failed', purpose='login', failures=2,
                max_attempts=2),
            pin(3, 'pin_locked', purpose='login', failures=2),
            pin(4, 'pin_unlocked', self.manager, failures=2),
            ]
        results = self.push(shop, ops)
        self.assertEqual([r['status'] for r in results], ['accepted'] * 4,
            results)
        overrides = Override.browse(
            [r['result']['override'] for r in results])
        self.assertEqual(
            [(o.action, o.manager.id if o.manager else None, o.cashier.id)
                for o in overrides],
            [('pin_failed', None, shop.employee),
                ('pin_failed', None, shop.employee),
                ('pin_locked', None, shop.employee),
                ('pin_unlocked', self.manager, shop.employee)])
        self.assertEqual(json.loads(overrides[1].detail),
            {'purpose': 'login', 'failures': 2, 'max_attempts': 2})
        # The back office lists them by action
        self.assertEqual(Override.search([
                    ('terminal', '=', shop.terminal),
                    ('action', 'in', ['pin_failed', 'pin_locked']),
                    ], count=True), 3)

    @with_transaction()
    def test_audit_pin_actions_rejected(self):
        "A lockout is lifted by a manager with the right; a wrong PIN has none"
        pool = Pool()
        Override = pool.get('retail.sync.override')
        shop = self.shop

        def pin(sequence, action, manager=None):
            return operation(shop, 'audit', {'action': action,
                    'manager': manager, 'cashier': shop.employee,
                    'receipt': None, 'detail': {}}, sequence)
        results = self.push(shop, [
                # no manager lifts a lockout
                pin(1, 'pin_unlocked'),
                # the cashier has no manager override right
                pin(2, 'pin_unlocked', shop.employee),
                # no manager approves a wrong PIN
                pin(3, 'pin_failed', self.manager),
                ])
        self.assertEqual([r['status'] for r in results], ['rejected'] * 3)
        self.assertEqual([r['reason']['code'] for r in results],
            ['invalid_payload', 'not_allowed', 'invalid_payload'])
        self.assertFalse(Override.search([]))

    @with_transaction()
    def test_settings_carry_the_pin_policy(self):
        "The settings record says the PIN length and the attempts allowed"
        pool = Pool()
        Configuration = pool.get('retail.sync.configuration')
        Employee = pool.get('company.employee')
        from trytond.modules.retail.exceptions import PinValidationError
        from trytond.modules.retail_sync.serialise import ser_settings
        settings = ser_settings([1], None)[1]
        self.assertEqual(
            (settings['pin_length'], settings['pin_max_attempts']), (4, 5))
        config = Configuration(1)
        config.pos_pin_length = 6
        config.pos_pin_max_attempts = 3
        config.save()
        settings = ser_settings([1], None)[1]
        self.assertEqual(
            (settings['pin_length'], settings['pin_max_attempts']), (6, 3))
        employee = Employee(self.shop.employee)
        with self.assertRaises(PinValidationError):
            Employee.write([employee], {'pos_pin': '2580'})
        Employee.write([employee], {'pos_pin': '258014'})
        self.assertTrue(Employee(employee.id).check_pos_pin('258014'))

    @with_transaction()
    def test_overrides_visible_to_the_branch_store_managers(self):
        "A store manager reads the overrides of their branches only"
        pool = Pool()
        Override = pool.get('retail.sync.override')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        Branch = pool.get('retail.branch')
        shop = self.shop
        other = self.shop4
        for each in [shop, other]:
            result, = self.push(each, [operation(each, 'audit', {
                            'action': 'expired_lot',
                            'manager': self.manager,
                            'cashier': each.employee, 'receipt': None,
                            'product': None, 'lot': None, 'detail': {}})])
            self.assertEqual(result['status'], 'accepted', result)
        group = Group(ModelData.get_id('retail', 'group_store_manager'))
        user = User(login='manager_s1', name="Manager S1", groups=[group],
            companies=[shop.company], company=shop.company)
        user.save()
        Branch.write([Branch(shop.branch)], {
                'managers': [('add', [user.id])]})
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True,
                    company=shop.company):
            User._get_branches_cache.clear()
            overrides = Override.search([])
            self.assertEqual([o.branch.id for o in overrides], [shop.branch])
            with self.assertRaises(AccessError):
                Override.create([{}])

    # HTTP

    def test_http_session_figures_x_and_z(self):
        "GET sessions/<uuid> answers the X then the Z figures; 401/403/404"
        shop = self.shop5
        key = committed(lambda: enroll(shop.terminal))
        other_key = committed(lambda: enroll(self.shop6.terminal))
        api = Api(key)
        session = new_uuid()
        status, data = api.push(shift(shop, session))
        self.assertEqual(status, 200, data)
        self.assertEqual([r['status'] for r in data['results']],
            ['accepted'] * 6, data)
        # The sales are recorded after the answer: "sale" is null
        sales = sum(1 for r in data['results'] if 'sale' in r['result'])
        self.assertEqual(sales, 3)
        status, x = api.get(f'sessions/{session}')
        self.assertEqual(status, 200, x)
        self.assertTrue(x.pop('server_time'))
        # Without a worker trytond posted them after the push's commit
        self.assertEqual(x.pop('posting'),
            {'posted': sales, 'pending': 0, 'failed': 0})
        self.assertFigures(x, x_figures(shop, session))

        status, data = api.push([close(shop, session, '164.00')])
        result = data['results'][0]['result']
        z = dict(x_figures(shop, session, state='closed'),
            counted_cash='164.00', difference='0.00')
        self.assertFigures(result['figures'], z)
        status, figures = api.get(f'sessions/{session}')
        self.assertEqual(status, 200, figures)
        figures.pop('server_time')
        self.assertEqual(figures.pop('posting')['pending'], 0)
        self.assertEqual(figures, result['figures'])

        status, data = Api(other_key).get(f'sessions/{session}')
        self.assertEqual((status, data['error']['code']), (403, 'forbidden'))
        status, data = api.get(f'sessions/{new_uuid()}')
        self.assertEqual((status, data['error']['code']), (404, 'not_found'))
        status, data = Api().get(f'sessions/{session}')
        self.assertEqual((status, data['error']['code']),
            (401, 'unauthorized'))

    def test_http_audit_and_protocol_version(self):
        "An audit pushed over HTTP is stored; the server says it speaks 1.2"
        shop = self.shop6
        key = committed(lambda: enroll(shop.terminal))
        api = Api(key)
        status, data = api.post('status', {'app_version': '2.0.0'})
        self.assertEqual((status, data['protocol_version']), (200, '1.4'))
        audit = operation(shop, 'audit', {'action': 'void_line',
                'manager': self.manager, 'cashier': None,
                'receipt': f'{shop.prefix}-000009',
                'product': shop.products[1], 'lot': None,
                'detail': {'line': 'l-9'}}, 1)
        status, data = api.push([audit])
        self.assertEqual(data['results'][0]['status'], 'accepted', data)
        status, again = api.push([audit])
        self.assertEqual(again['results'][0]['status'], 'duplicate')
        self.assertEqual(again['results'][0]['result'],
            data['results'][0]['result'])

        def check():
            Override = Pool().get('retail.sync.override')
            override, = Override.search([('terminal', '=', shop.terminal)])
            # Without a cashier the employee logged in at the till is
            self.assertEqual((override.action, override.cashier.id,
                    override.sale, override.product.id),
                ('void_line', shop.employee, None, shop.products[1]))
        committed(check)


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    suite.addTests(loader.loadTestsFromTestCase(SessionOverrideTestCase))
    return suite
