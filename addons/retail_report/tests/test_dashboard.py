# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The owner's dashboard through the real WSGI app: figures against the
database, branch rights, the back office's session, bad parameters"""
import base64
import csv
import datetime as dt
import io
import json
import unittest
from decimal import Decimal
from urllib.parse import quote

from trytond.modules.company.tests import set_company
from trytond.modules.retail_sync.tests.tools import (
    committed, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.tests.test_tryton import DB_NAME, Client, activate_module, drop_db
from trytond.transaction import Transaction

URL = f'/{quote(DB_NAME, safe="")}/retail_report/dashboard'


def make_user(login, group, branches=(), company=None):
    """A back office user of group (retail's xml id) managing branches,
    with an open session: (user id, session key)"""
    pool = Pool()
    User = pool.get('res.user')
    Group = pool.get('res.group')
    ModelData = pool.get('ir.model.data')
    Session = pool.get('ir.session')
    group = Group(ModelData.get_id('retail', group))
    user = User(login=login, name=login, groups=[group],
        managed_branches=list(branches),
        companies=[company] if company else [],
        company=company)
    user.save()
    with Transaction().set_user(user.id):
        key = Session.new()
    return user.id, key


def session_header(login, user_id, key):
    token = base64.b64encode(f'{login}:{user_id}:{key}'.encode()).decode()
    return {'Authorization': f'Session {token}'}


class DashboardTestCase(unittest.TestCase):
    "Test the owner's dashboard routes"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_report', 'retail_stock'])
        cls.shop = committed(setup_shop)

        def second():
            Company = Pool().get('company.company')
            company = Company(cls.shop.company)
            with set_company(company):
                return setup_shop(code='S2', prefix='S2A', company=company)
        cls.shop2 = committed(second)

        def users():
            Company = Pool().get('company.company')
            company = Company(cls.shop.company)
            return (
                make_user('owner', 'group_super_admin', company=company),
                make_user('manager', 'group_store_manager',
                    [cls.shop.branch], company=company),
                make_user('cashier', 'group_cashier', company=company))
        cls.owner, cls.manager, cls.cashier = committed(users)
        cls.today = committed(lambda: cls.push_sales())
        cls.client = Client(__import__('trytond.wsgi').wsgi.app, Response)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    @classmethod
    def push_sales(cls):
        """Shop 1 today: 24.00, 30.00 (2.00 discount on each of 3), a
        return of -12.00; shop 1 a week ago: 36.00; shop 2 today: 12.00;
        a rejected operation on shop 1; return the business date"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        Sale = pool.get('sale.point.sale')
        shop, shop2 = cls.shop, cls.shop2
        product = shop.products[0]
        now = dt.datetime.now(dt.timezone.utc)
        week_ago = now - dt.timedelta(days=7)
        operations = [
            sale_op(shop, 1),
            sale_op(shop, 2, lines=[{'product': product, 'quantity': '3',
                        'unit_price': '12.00', 'price': '10.00',
                        'discount': {'percent': '16.67'}}]),
            sale_op(shop, 3, type_='return',
                original_receipt=f'{shop.prefix}-000002', lines=[
                    {'product': product, 'quantity': '-1',
                        'unit_price': '12.00', 'price': '12.00'}]),
            sale_op(shop, 4, client_time=week_ago, lines=[
                    {'product': shop.products[1], 'quantity': '3',
                        'unit_price': '12.00', 'price': '12.00'}]),
            # Refused: an unknown product goes to the conflicts
            sale_op(shop, 5, lines=[{'product': 999999, 'quantity': '1',
                        'unit_price': '1.00', 'price': '1.00'}]),
            ]
        with Transaction().set_context(company=shop.company):
            results = Push.push(Terminal(shop.terminal), operations)
            assert [r['status'] for r in results] == [
                'accepted'] * 4 + ['rejected'], results
            results = Push.push(Terminal(shop2.terminal), [
                    sale_op(shop2, 1, lines=[{'product': shop2.products[0],
                                'quantity': '1', 'unit_price': '12.00',
                                'price': '12.00'}])])
            assert results[0]['status'] == 'accepted', results
        sale, = Sale.search([('point', '=', shop.terminal),
                ('receipt_number', '=', 1)])
        return sale.date

    def get(self, path='/data', user=None, **params):
        headers = {}
        if user is not None:
            headers = session_header(*user)
        response = self.client.get(URL + path, query_string=params,
            headers=headers)
        data = response.get_data()
        if response.mimetype == 'application/json':
            data = json.loads(data)
        return response.status_code, data

    @property
    def owner_auth(self):
        return ('owner', *self.owner)

    @property
    def manager_auth(self):
        return ('manager', *self.manager)

    def test_figures_match_the_database(self):
        "The owner's figures equal the sums of the sales in the database"
        status, data = self.get(user=self.owner_auth,
            date=self.today.isoformat())
        self.assertEqual(status, 200, data)
        self.assertEqual([b['id'] for b in data['branches']],
            sorted([self.shop.branch, self.shop2.branch]))
        # Shop 1: 24.00 + 30.00, return -12.00; shop 2: 12.00
        self.assertEqual(data['today'], {
                'sales': '66.00', 'net': '54.00', 'transactions': 3,
                'average_basket': '22.00', 'returns': 1,
                'returns_total': '-12.00', 'discounts': '6.00'})
        self.assertEqual(data['last_week']['sales'], '36.00')
        self.assertEqual(data['last_week']['transactions'], 1)
        card = {c['id']: c for c in data['cards']}
        self.assertEqual(card[self.shop.branch]['today']['sales'], '54.00')
        self.assertEqual(card[self.shop.branch]['today']['average_basket'],
            '27.00')
        self.assertEqual(card[self.shop2.branch]['today']['sales'], '12.00')
        self.assertEqual(card[self.shop.branch]['conflicts'], 1)
        self.assertEqual(data['totals']['conflicts'], 1)
        self.assertEqual(sum(h['transactions'] for h in data['hourly']), 4)
        self.assertEqual(sum(Decimal(h['net']) for h in data['hourly']),
            Decimal('54.00'))
        self.assertEqual(data['top_products'][0]['id'], self.shop.products[0])
        # 24.00 + 30.00 - 12.00 (the return)
        self.assertEqual(data['top_products'][0]['amount'], '42.00')
        self.assertIs(data['stock_alerts'], True)

        # The same figures through Tryton's ORM
        def orm():
            Sale = Pool().get('sale.point.sale')
            sales = Sale.search([('date', '=', self.today),
                    ('state', 'in', ['done', 'posted'])])
            totals = [s.total for s in sales]
            return (sum(t for t in totals if t >= 0),
                sum(t for t in totals if t < 0),
                len([t for t in totals if t >= 0]))
        sales, returns, count = committed(orm)
        self.assertEqual(Decimal(data['today']['sales']), sales)
        self.assertEqual(Decimal(data['today']['returns_total']), returns)
        self.assertEqual(data['today']['transactions'], count)

    def test_manager_sees_their_branches_only(self):
        "A store manager sees their branch; another branch is refused"
        status, data = self.get(user=self.manager_auth)
        self.assertEqual(status, 200, data)
        self.assertEqual([b['id'] for b in data['branches']],
            [self.shop.branch])
        self.assertEqual([b['id'] for b in data['allowed_branches']],
            [self.shop.branch])
        self.assertEqual({t['branch'] for t in data['terminals']},
            {self.shop.branch})
        status, data = self.get(user=self.manager_auth,
            branch=str(self.shop2.branch))
        self.assertEqual(status, 403, data)
        self.assertEqual(data['error'], 'forbidden')
        status, data = self.get('/export.csv', user=self.manager_auth,
            branch=f'{self.shop.branch},{self.shop2.branch}')
        self.assertEqual(status, 403)

    def test_owner_filters_by_branch(self):
        "The branch filter narrows the figures"
        status, data = self.get(user=self.owner_auth,
            date=self.today.isoformat(), branch=str(self.shop2.branch))
        self.assertEqual(status, 200, data)
        self.assertEqual(data['today']['sales'], '12.00')
        self.assertEqual(data['today']['transactions'], 1)
        self.assertEqual(len(data['allowed_branches']), 2)

    def test_session_cookie_of_the_web_client(self):
        "The web client's session cookie opens the data route"
        login, user_id, key = self.owner_auth
        self.client.set_cookie('tryton_session', f'{login}:{user_id}:{key}',
            path='/')
        try:
            status, data = self.get()
        finally:
            self.client.delete_cookie('tryton_session', path='/')
        self.assertEqual(status, 200, data)

    def test_refused_without_a_session_or_rights(self):
        "No session, a wrong key, a cashier: 401 or 403, never data"
        status, data = self.get()
        self.assertEqual(status, 401)
        self.assertEqual(data['error'], 'unauthorized')
        status, data = self.get(user=('owner', self.owner[0], 'x' * 20))
        self.assertEqual(status, 401)
        status, data = self.get(user=('cashier', *self.cashier))
        self.assertEqual(status, 403)
        status, _ = self.get('/export.csv')
        self.assertEqual(status, 401)

    def test_bad_parameters_answer_400(self):
        "Malformed parameters answer 400 with a message, not 500"
        for params in [{'date': '2026-13-01'}, {'date': 'today'},
                {'date': '20261201'}, {'branch': 'abc'}, {'branch': '-1'},
                {'branch': '99999999999'}, {'offline_minutes': '0'},
                {'offline_minutes': 'x'}, {'offline_minutes': '99999999'},
                {'colour': 'red'}]:
            status, data = self.get(user=self.owner_auth, **params)
            self.assertEqual(status, 400, (params, data))
            self.assertEqual(data['error'], 'bad_request')
            self.assertTrue(data['message'])
        status, data = self.get(user=self.owner_auth, branch='424242')
        self.assertEqual(status, 403, data)

    def test_terminal_health(self):
        "A terminal not seen for longer than the threshold is offline"
        def seen(minutes):
            Terminal = Pool().get('sale.point')
            terminal = Terminal(self.shop.terminal)
            Terminal.write([terminal], {
                    'device_state': 'enrolled',
                    'device_last_seen': dt.datetime.utcnow()
                    - dt.timedelta(minutes=minutes),
                    'device_pending_operations': 4,
                    })
        committed(lambda: seen(30))
        try:
            status, data = self.get(user=self.owner_auth)
            self.assertEqual(status, 200, data)
            terminal, = [t for t in data['terminals']
                if t['id'] == self.shop.terminal]
            self.assertIs(terminal['offline'], True)
            self.assertEqual(terminal['unsynced_operations'], 4)
            self.assertEqual(data['totals']['terminals_offline'], 1)
            status, data = self.get(user=self.owner_auth,
                offline_minutes='60')
            terminal, = [t for t in data['terminals']
                if t['id'] == self.shop.terminal]
            self.assertIs(terminal['offline'], False)
        finally:
            committed(lambda: seen(0))

    def test_csv_export(self):
        "The CSV export holds what the page shows"
        status, body = self.get('/export.csv', user=self.owner_auth,
            date=self.today.isoformat())
        self.assertEqual(status, 200)
        rows = list(csv.reader(io.StringIO(body.decode('utf-8'))))
        self.assertEqual(rows[0],
            ['section', 'branch', 'key', 'value', 'last_week'])
        self.assertIn(['summary', '', 'sales', '66.00', '36.00'], rows)
        self.assertIn(['summary', '', 'transactions', '3', '1'], rows)
        self.assertIn(
            ['branch', "[S2] Shop S2", 'sales', '12.00', '0.00'], rows)

    def test_page_and_menu_action(self):
        "The page is served; the menu's URL names the database"
        response = self.client.get(URL)
        self.assertEqual(response.status_code, 200)
        self.assertIn(b'<title>Dashboard</title>', response.get_data())

        def action():
            pool = Pool()
            Action = pool.get('ir.action')
            ModelData = pool.get('ir.model.data')
            action_id = ModelData.get_id('retail_report', 'act_dashboard')
            return Action.get_action_values('ir.action.url', [action_id])
        value, = committed(action)
        self.assertEqual(value['url'], URL)
