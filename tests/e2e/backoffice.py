"""The back office as the POS tests and benchmark meet it: the demo chain's
people (setup/retail_setup/demo.py) and trytond's JSON-RPC API, used the
way a manager uses the web client.

    office = Backoffice(server)             # a tests/support TrytondServer
    office.enrollment_code('BXL1')          # the "Enrollment Code" button
    office.cashier('BXL'), office.manager('BXL')   # (name, PIN) of the demo
    office.pos_sales([12, 13])              # totals and lots as recorded
    office.cash_sessions('BXL1')            # the terminal's cash sessions
    office.overrides('BXL1')                # manager overrides it sent
    office.returns_of('BXL1-000007')        # returns of a receipt

Everything goes through the same RPC the web client uses (no SQL, no
trytond in this process: its configuration is global), so a test sees what
a manager sees and a schema change in the modules does not break it."""
import json
from decimal import Decimal

from retail_setup.cli import ADMIN_PASSWORD
from retail_setup.demo import DEMO_PASSWORD, EMPLOYEES
from tests.support import servers  # noqa: F401  (puts setup/ on sys.path)
from tests.support.rpc import Client, RPCError  # noqa: F401


def employee(role, branch):
    "(name, PIN) of the first demo employee with this role in this branch"
    for name, _login, r, branches, pin in EMPLOYEES:
        if r == role and branch in branches:
            return name, pin
    raise LookupError(f"no {role} in branch {branch} in the demo")


def manager_login(branch):
    for _name, login, role, branches, _pin in EMPLOYEES:
        if role == 'Store Manager' and branch in branches and login:
            return login
    raise LookupError(f"no store manager with a login in branch {branch}")


def _decimal(value):
    "Decimals come over JSON-RPC as {'__class__': 'Decimal', 'decimal': ..}"
    if isinstance(value, dict) and value.get('__class__') == 'Decimal':
        return Decimal(value['decimal'])
    return Decimal(str(value)) if value is not None else None


class Backoffice:
    "The demo chain in a running trytond (tests/support/servers.py)"

    def __init__(self, server):
        self.server = server
        self.url = server.url
        self.database = server.database
        self._admin = None

    def client(self, login, password):
        return Client(self.url, self.database).login(login, password)

    @property
    def admin(self):
        if self._admin is None:
            self._admin = self.client('admin', ADMIN_PASSWORD)
        return self._admin

    @staticmethod
    def cashier(branch='BXL'):
        return employee('Cashier', branch)

    @staticmethod
    def manager(branch='BXL'):
        return employee('Store Manager', branch)

    def terminal(self, prefix):
        terminal, = self.admin.search_read('sale.point',
            [('receipt_prefix', '=', prefix)], ['id', 'branch.code'])
        return terminal

    def enrollment_code(self, prefix='BXL1'):
        """A one-time code made by the branch's store manager with the
        terminal's "Enrollment Code" button (wizard retail.sync.enroll)"""
        terminal = self.terminal(prefix)
        manager = self.client(manager_login(terminal['branch.']['code']),
            DEMO_PASSWORD)
        result = manager.wizard('retail.sync.enroll', 'create_code',
            'sale.point', terminal['id'])
        return result['view']['defaults']['code']

    def quick_key(self, prefix, product, label=None, colour=None,
            sequence=10):
        """A quick key of the terminal's branch, made by the branch's store
        manager (Retail › Quick Keys)"""
        terminal = self.terminal(prefix)
        manager = self.client(manager_login(terminal['branch.']['code']),
            DEMO_PASSWORD)
        branch, = manager.search_read('retail.branch',
            [('code', '=', terminal['branch.']['code'])], ['id'])
        key, = manager.model('retail.quick_key', 'create', [{
                    'branch': branch['id'], 'product': product,
                    'label': label, 'colour': colour,
                    'sequence': sequence}])
        return key

    def cash_difference_type(self, name="Cash difference"):
        """The cash transfer type that books a counted-cash difference at
        session close (Retail › Configuration › Sync), set up as an
        administrator would when the chain has none: the terminals'
        journal and an expense account"""
        return self._sync_transfer_type('cash_difference_type', name)

    def float_transfer_type(self, name="Opening float"):
        """The cash transfer type that records a till's opening float when
        it differs from what the server's session starts from (protocol
        1.2, Retail › Configuration › Sync)"""
        return self._sync_transfer_type('float_transfer_type', name)

    def _sync_transfer_type(self, field, name):
        config = self.admin.model('retail.sync.configuration', 'read', [1],
            [field])[0]
        if config[field]:
            return config[field]
        journal = self.admin.search_read('sale.point', [],
            ['journal'])[0]['journal']
        account, = self.admin.model('account.account', 'search',
            [('type.expense', '=', True), ('closed', '!=', True)], 0, 1,
            None)
        type_id, = self.admin.model('sale.point.cash.transfer.type',
            'create', [{'name': name, 'journal': journal,
                    'account': account}])
        self.admin.model('retail.sync.configuration', 'write', [1],
            {field: type_id})
        return type_id

    def overrides(self, prefix):
        """The manager overrides the terminal sent (Retail › Sync › Manager
        Overrides), oldest first, detail decoded"""
        rows = self.admin.search_read('retail.sync.override',
            [('terminal.receipt_prefix', '=', prefix)],
            ['action', 'manager', 'cashier', 'receipt', 'sale', 'product',
                'lot', 'detail'], [('id', 'ASC')])
        for row in rows:
            row['detail'] = json.loads(row['detail']) if row['detail'] else {}
        return rows

    def returns_of(self, number):
        """The POS sales that return receipt number: number, total, state,
        lines (product, quantity) and payments (method, amount)"""
        sales = self.admin.search_read('sale.point.sale',
            [('original_receipt', '=', number)],
            ['number', 'total', 'state', 'point.receipt_prefix'],
            [('id', 'ASC')])
        for s in sales:
            s['total'] = _decimal(s['total'])
            s['lines'] = [{'product': line['product'],
                    'quantity': _decimal(line['quantity'])}
                for line in self.admin.search_read('sale.point.sale.line',
                    [('sale', '=', s['id'])], ['product', 'quantity'])]
            s['payments'] = [{'method': p['method'],
                    'amount': _decimal(p['amount'])}
                for p in self.admin.search_read('sale.point.payment',
                    [('sale', '=', s['id'])], ['method', 'amount'])]
        return sales

    def journal(self, prefix):
        """The receipt-journal entries of the terminal as the server checked
        them on arrival (docs/journal.md), by sequence"""
        return self.admin.search_read('retail.sync.operation',
            [('terminal.receipt_prefix', '=', prefix),
                ('type', 'in', ['sale', 'return', 'void', 'session_close'])],
            ['sequence', 'type', 'journal_state', 'journal_break'],
            [('sequence', 'ASC')])

    def pos_sales(self, ids):
        "{sale id: {number, total, lots}} as the server recorded them"
        ids = list(ids)
        sales = self.admin.model('sale.point.sale', 'read', ids,
            ['number', 'total', 'state', 'lines'])
        line_sale = {}
        for s in sales:
            for line in s['lines']:
                line_sale[f'sale.point.sale.line,{line}'] = s['id']
        result = {s['id']: {'number': s['number'], 'state': s['state'],
                'total': _decimal(s['total']), 'lots': []} for s in sales}
        if line_sale:
            moves = self.admin.search_read('stock.move',
                [('origin', 'in', list(line_sale)), ('lot', '!=', None)],
                ['origin', 'lot'])
            for move in moves:
                result[line_sale[move['origin']]]['lots'].append(move['lot'])
        return result

    def payments_by_method(self, sale_ids):
        "{method id: total paid} over these POS sales"
        totals = {}
        for p in self.admin.search_read('sale.point.payment',
                [('sale', 'in', list(sale_ids))], ['amount', 'method']):
            totals[p['method']] = totals.get(p['method'], Decimal(0)) \
                + _decimal(p['amount'])
        return totals

    def cash_sessions(self, prefix=None, uuid=None):
        """The terminal's cash sessions (or the one the till named uuid,
        protocol 1.2), oldest first: state, start amount, balance, end
        amount, cash payments (the only ones a session holds) and cash
        transfers"""
        domain = [('point.receipt_prefix', '=', prefix)] if prefix else []
        fields = ['state', 'start_amount', 'balance', 'end_amount']
        if uuid:
            domain.append(('retail_uuid', '=', uuid))
            fields += ['retail_uuid', 'retail_float_transfer',
                'retail_difference_transfer']
        sessions = self.admin.search_read('sale.point.cash.session',
            domain, fields, [('id', 'ASC')])
        for s in sessions:
            for key in ('start_amount', 'balance', 'end_amount'):
                s[key] = _decimal(s[key])
            s['payments'] = [dict(p, amount=_decimal(p['amount']))
                for p in self.admin.search_read('sale.point.payment',
                    [('session', '=', s['id'])], ['amount', 'method', 'sale'])]
            s['transfers'] = [dict(t, amount=_decimal(t['amount']))
                for t in self.admin.search_read('sale.point.cash.transfer',
                    [('session', '=', s['id'])], ['amount', 'type', 'state'])]
        return sessions
