# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Fixtures of the sync tests: a shop with accounting, a terminal, products"
import datetime as dt
import gzip
import json
import uuid
from decimal import Decimal
from unittest import mock

from trytond import backend
from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.retail.tests.test_module import (
    create_branch, create_terminal)
from trytond.modules.retail_sync import changelog
from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.tests.test_tryton import DB_NAME, Client
from trytond.transaction import Transaction, TransactionError


def own_start_cursor(cls):
    "The cursor after the changes logged so far, this transaction's included"
    table = cls.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(table.id, order_by=[table.id.desc], limit=1))
    row = cursor.fetchone()
    return changelog.format_cursor(cls.current_txid(), row[0] if row else 0)


def pull_own_changes(test):
    """Let the test's pulls read the changes of its own running transaction.

    On PostgreSQL a cursor never passes a transaction still running, this
    one included, so the cursor is taken inside it.  The horizon rule
    itself is tested with concurrent committed transactions in
    test_concurrency."""
    if backend.name != 'postgresql':
        return
    Change = changelog.Change
    for name, method in [
            ('horizon', classmethod(lambda cls: None)),
            ('start_cursor', classmethod(own_start_cursor)),
            ]:
        patcher = mock.patch.object(Change, name, method)
        patcher.start()
        test.addCleanup(patcher.stop)



class Shop:
    "Ids of the records of a test shop"


def setup_shop(code='S1', prefix='S1A', company=None, products=3):
    "Create a company with accounting, a branch, a terminal and products"
    pool = Pool()
    Account = pool.get('account.account')
    Category = pool.get('product.category')
    Employee = pool.get('company.employee')
    FiscalYear = pool.get('account.fiscalyear')
    Journal = pool.get('account.journal')
    Method = pool.get('sale.point.payment.method')
    Party = pool.get('party.party')
    Tax = pool.get('account.tax')
    Template = pool.get('product.template')
    TransferType = pool.get('sale.point.cash.transfer.type')
    Uom = pool.get('product.uom')
    Configuration = pool.get('retail.sync.configuration')

    shop = Shop()
    new_company = company is None
    if new_company:
        company = create_company()
    with set_company(company):
        if new_company:
            create_chart(company, tax=True)
            fiscalyear = get_fiscalyear(company)
            fiscalyear.save()
            FiscalYear.create_period([fiscalyear])
        if not Journal.search([('type', '=', 'revenue')]):
            Journal(name="Revenue", type='revenue', code='REV').save()
        tax, = Tax.search([('company', '=', company.id)], limit=1)
        revenue, = Account.search([
                ('type.revenue', '=', True),
                ('closed', '!=', True),
                ('company', '=', company.id)], limit=1)
        cash, = Account.search([
                ('company', '=', company.id),
                ('code', '=', '1.1.1')], limit=1) or Account.search([
                ('type.receivable', '=', False),
                ('type', '!=', None),
                ('company', '=', company.id)], limit=1)
        expense, = Account.search([
                ('type.expense', '=', True),
                ('closed', '!=', True),
                ('company', '=', company.id)], limit=1)
        category = Category(name=f"{code} Goods", accounting=True,
            account_revenue=revenue, customer_taxes=[tax])
        category.save()
        unit, = Uom.search([('name', '=', 'Unit')])
        branch = create_branch(company, code=code, name=f"Shop {code}")
        terminal = create_terminal(branch, prefix, name=f"Till {prefix}")
        # The company's own methods: a shop of another company made before
        # in the same database (a committed fixture) has its own
        cash_method = Method.search([
                ('cash', '=', True), ('company', '=', company.id)], limit=1)
        if cash_method:
            cash_method, = cash_method
            card_method, = Method.search([
                    ('cash', '=', False), ('company', '=', company.id)],
                limit=1)
        else:
            cash_method = Method(name="Cash", cash=True, account=cash,
                company=company)
            cash_method.save()
            card_method = Method(name="Card", account=cash, company=company)
            card_method.save()
        journal, = Journal.search([('type', '=', 'revenue')], limit=1)
        transfer_type = TransferType(name="Float", journal=journal,
            account=expense, company=company)
        transfer_type.save()
        float_type = TransferType(name="Opening float", journal=journal,
            account=expense, company=company)
        float_type.save()
        config = Configuration(1)
        config.cash_difference_type = transfer_type
        config.float_transfer_type = float_type
        config.save()
        templates = Template.create([{
                    'name': f"{code} Product {i}",
                    'default_uom': unit.id,
                    'sale_uom': unit.id,
                    'type': 'goods',
                    'salable': True,
                    'account_category': category.id,
                    'list_price': Decimal('10.0000'),
                    'gross_price': Decimal('12.0000'),
                    'products': [('create', [{
                                    'identifiers': [('create', [{
                                                    'type': 'ean',
                                                    'code': ean(code, i),
                                                    }])],
                                    }])],
                    } for i in range(products)])
        party = Party(name=f"{code} Cashier")
        party.save()
        employee = Employee(party=party, company=company,
            branches=[branch])
        employee.save()
    shop.company = company.id
    shop.branch = branch.id
    shop.terminal = terminal.id
    shop.cash = cash_method.id
    shop.card = card_method.id
    shop.transfer_type = transfer_type.id
    shop.float_type = float_type.id
    shop.products = [t.products[0].id for t in templates]
    shop.employee = employee.id
    shop.tax = tax.id
    shop.prefix = prefix
    return shop


def ean(code, i):
    digits = ''.join(str(ord(c) % 10) for c in code)[:4].ljust(4, '0')
    body = f'54{digits}{i:06d}'
    total = sum(int(d) * (3 if n % 2 else 1) for n, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def enroll(terminal_id):
    "Enroll a terminal in the current transaction; return the device key"
    pool = Pool()
    Device = pool.get('retail.sync.device')
    Terminal = pool.get('sale.point')
    _, code = Device.new_enrollment(Terminal(terminal_id))
    _, key = Device.enroll(code)
    return key


def sale_op(shop, receipt, lines=None, payments=None, sequence=None,
        client_time=None, type_='sale', **payload):
    "A sale operation as the POS makes it"
    if lines is None:
        lines = [{'product': shop.products[0], 'quantity': '2',
                'unit_price': '12.00', 'price': '12.00', 'discount': None,
                'lot': None}]
    if payments is None:
        total = sum(Decimal(line_['quantity']) * Decimal(line_['price'])
            for line_ in lines)
        payments = [{'method': shop.cash, 'amount': str(total)}]
    payload.update({'receipt_number': receipt, 'lines': lines,
            'payments': payments})
    return operation(shop, type_, payload, sequence=sequence or receipt,
        client_time=client_time)


def operation(shop, type_, payload, sequence=1, client_time=None):
    return {
        'uuid': str(uuid.uuid4()),
        'type': type_,
        'terminal': shop.terminal,
        'sequence': sequence,
        'client_time': (client_time or dt.datetime.now(
                dt.timezone.utc)).isoformat(),
        'employee': shop.employee,
        'payload': payload,
        }


class Api:
    "The sync API of the test database, through the real WSGI app"

    def __init__(self, key=None, database=DB_NAME):
        from trytond.wsgi import app
        self.client = Client(app, Response)
        self.key = key
        self.database = database

    def url(self, path):
        return f'/{self.database}/retail_sync/v1/{path}'

    def headers(self, key=None):
        headers = {'Accept-Encoding': 'gzip'}
        key = key or self.key
        if key:
            headers['Authorization'] = f'Bearer {key}'
        return headers

    @staticmethod
    def decode(response):
        data = response.get_data()
        if response.headers.get('Content-Encoding') == 'gzip':
            data = gzip.decompress(data)
        try:
            return json.loads(data) if data else None
        except ValueError:
            return {'raw': data.decode('utf-8', 'replace')[:2000]}

    def get(self, path, key=None, **params):
        response = self.client.get(
            self.url(path), query_string=params, headers=self.headers(key))
        return response.status_code, self.decode(response)

    def post(self, path, body, key=None):
        response = self.client.post(
            self.url(path), data=json.dumps(body),
            content_type='application/json', headers=self.headers(key))
        return response.status_code, self.decode(response)

    def push(self, operations, key=None, terminal=None, **extra):
        body = {'operations': operations}
        if terminal is not None:
            body['terminal'] = terminal
        body.update(extra)
        return self.post('push', body, key=key)


def committed(func):
    """Run func in its own committed transaction of the test database,
    again with the locks it asks for (as trytond's dispatcher does)"""
    extras = {}
    while True:
        with Transaction().start(DB_NAME, 1,
                **extras) as transaction:
            try:
                result = func()
            except TransactionError as e:
                transaction.rollback()
                e.fix(extras)
                continue
            transaction.commit()
        return result


def run_queue():
    """Run the tasks queued in the current transaction (the posting of
    pushed sales), as trytond runs them after the commit of a request when
    no worker is configured; return how many ran"""
    Queue = Pool().get('ir.queue')
    transaction = Transaction()
    ran = 0
    while transaction.tasks:
        task = Queue(transaction.tasks.pop(0))
        task.run()
        ran += 1
    return ran


def push_and_post(terminal, operations):
    """Push operations of terminal then run the posting tasks it queued;
    return the push's results, the result of each accepted sale completed
    with the id of the sale the posting task recorded (the push answers
    "sale": null, the sale being recorded after the answer)"""
    pool = Pool()
    Push = pool.get('retail.sync.push')
    Operation = pool.get('retail.sync.operation')
    results = Push.push(terminal, operations)
    run_queue()
    waiting = {r['uuid']: r for r in results
        if r.get('status') == 'accepted'
        and isinstance(r.get('result'), dict)
        and 'sale' in r['result'] and r['result']['sale'] is None}
    if waiting:
        for operation in Operation.search([
                    ('terminal', '=', terminal.id),
                    ('uuid', 'in', list(waiting)),
                    ]):
            if operation.sale:
                waiting[operation.uuid]['result']['sale'] = (
                    operation.sale.id)
    return results
