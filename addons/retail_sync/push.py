# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Applying pushed operations: each in its own savepoint, once per
(terminal, uuid), in the order of their sequence, a rejected one kept in the
quarantine.  What an operation does is its handler's: the handlers are
registered by type in retail.sync.push (_operation_handlers), next to the
models they write (sale_push.py, session.py, party.py, stock.py,
override.py)."""
import datetime as dt
import json
import logging
import zoneinfo
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from itertools import count

from sql import Null
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.config import config
from trytond.exceptions import UserError, UserWarning
from trytond.i18n import gettext
from trytond.model import Model
from trytond.model.exceptions import SQLConstraintError, ValidationError
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, TransactionError

from . import schema
from .changelog import in_
from .posting import Poster, update
from .recording import Recorder
from .serialise import product_prices
from .tax import TaxLookup
from .wire import Rejected, TerminalContext, parse_time, to_int

logger = logging.getLogger(__name__)
MAX_OPERATIONS = schema.MAX_OPERATIONS
_savepoints = count()
# {database name: (stamp, {key: figure})}: see SharedFigures
_shared_figures = {}
# The most figures kept for a database
SHARED_FIGURES_LIMIT = 100_000


class ConcurrentPush(Exception):
    """A concurrent push of the same terminal committed some of these
    operations first: the request starts again and answers them as
    duplicates with their first result"""


class SavepointsNeeded(Exception):
    """An operation applied without a savepoint of its own (its handler
    writes nothing) failed otherwise than by a rejection: the push is
    applied again, each operation in its savepoint"""


@contextmanager
def savepoint():
    transaction = Transaction()
    connection = transaction.connection
    cursor = connection.cursor()
    if backend.name == 'sqlite' and not connection.in_transaction:
        # Outside a transaction SQLite's SAVEPOINT starts one that RELEASE
        # commits: open the transaction the Python driver would have opened
        # at the first write, so that the request stays atomic
        cursor.execute('BEGIN IMMEDIATE')
    name = f'retail_sync_{next(_savepoints)}'
    cursor.execute(f'SAVEPOINT {name}')
    try:
        yield name
    except BaseException:
        cursor.execute(f'ROLLBACK TO SAVEPOINT {name}')
        cursor.execute(f'RELEASE SAVEPOINT {name}')
        # Records read or made inside the savepoint are gone
        transaction.cache.clear()
        raise
    else:
        cursor.execute(f'RELEASE SAVEPOINT {name}')


def rollback_to(name):
    """Undo what was done since the savepoint name was taken (by
    savepoint), which stays taken"""
    transaction = Transaction()
    transaction.connection.cursor().execute(
        f'ROLLBACK TO SAVEPOINT {name}')
    transaction.cache.clear()


class SharedFigures:
    """What the pushes derive from the taxes of the database, kept across
    the pushes of the process: the customer taxes of an accounting
    category, the unit prices of a price with taxes, the taxes of a
    sale's summary.  They depend only on the rows of TABLES (and on the
    configuration file): the figures are kept with a stamp of those rows
    read in the push's own transaction (their count, transaction ids and
    places, which every insert, update and delete changes) and used only
    by a push
    whose transaction reads the same stamp, so a change is seen by the
    next push of every process, exactly when its transaction sees it.

    On PostgreSQL only (the stamp reads the rows' xmin); elsewhere each
    push computes them again (get answers None)."""
    TABLES = ['account.tax', 'product.category',
        'product.category-customer-account.tax',
        'account.configuration.tax_rounding', 'currency.currency']

    @classmethod
    def get(cls):
        """The figures kept for the transaction's database and stamp (a
        dict to read and add to), or None"""
        if backend.name != 'postgresql':
            return None
        transaction = Transaction()
        stamp = cls.stamp()
        name = transaction.database.name
        entry = _shared_figures.get(name)
        if (entry is None or entry[0] != stamp
                or len(entry[1]) > SHARED_FIGURES_LIMIT):
            entry = _shared_figures[name] = (stamp, {})
        return entry[1]

    @classmethod
    def stamp(cls):
        "The stamp of the rows of TABLES, with one query"
        pool = Pool()
        parts = []
        for i, name in enumerate(cls.TABLES):
            try:
                Model = pool.get(name)
            except KeyError:
                continue
            parts.append(f'SELECT {i}, COUNT(*), SUM(xmin::text::bigint), '
                'MAX(xmin::text::bigint), '
                'SUM(hashtext(ctid::text || xmin::text)) '
                f'FROM "{Model._table}"')
        cursor = Transaction().connection.cursor()
        cursor.execute(' UNION ALL '.join(parts))
        return tuple(sorted(cursor))


@dataclass(slots=True, eq=False)
class ProductInfo:
    """What the check of a sold line needs of a product, read for all the
    products of a push in one query (Batch.load_products) rather than
    through the attributes of each product record.

    active: the product and its template are active
    unit: the sale unit (UnitInfo), or None"""
    id: int
    template: int
    active: bool
    type: str
    unit: object
    account_category: object

    @property
    def record(self):
        "The product.product"
        Product = Pool().get('product.product')
        with Transaction().set_context(active_test=False):
            return Product(self.id)


@dataclass(slots=True, eq=False)
class UnitInfo:
    "The sale unit of a product as ProductInfo keeps it"
    id: int
    digits: int

    @property
    def symbol(self):
        return Pool().get('product.uom')(self.id).symbol


class Batch(TerminalContext):
    """What the operations of one push share: the records they refer to,
    read once, and the sales the sale handler creates and posts together"""

    def __init__(self, terminal):
        super().__init__(terminal)
        # The stored values of the operation being applied
        self.values = None
        self.employees = set()
        # {product id: product.product} (OperationHandler.get_product)
        self.products = {}
        # {product id: ProductInfo} (load_products)
        self.product_info = {}
        # {(tax ids, price, date, tax included): SaleHandler.unit_prices}
        self.unit_prices = {}
        # {taxable lines, total tax, date: SaleHandler.summary_taxes}
        self.sale_taxes = {}
        self.price_data = {}
        self.lot_products = set()
        self.methods = None
        self.receipts = set()
        # The batch's tax look-ups (tax.py), shared with the poster
        self.tax_lookup = TaxLookup()
        self.prices = {}
        self.lot_stock = {}
        # Refunded per original receipt: {number: {method id: amount}}
        self.refunded = {}
        # Sales checked but not created yet: created together when the
        # handlers flush (sale_push.py), one create call per model
        self.pending = []
        self.rejected_sales = []
        self.sales = []
        # Flags found when posting: {sale id: set of kinds}
        self.post_flags = {}
        self.poster = Poster(self.tax_lookup)
        self.recorder = Recorder()
        self.company_today = None
        # The id of the terminal's open cash session, False for none, None
        # when not looked up (sale_push.py)
        self.current_session = None
        # The sales are posted after the commit, by the posting task
        # (retail.sync.operation post_pending), not by finish
        self.defer_posting = False
        # The sales are recorded by the posting task too: flush keeps
        # their entries here, stored with their operation (sale_values)
        self.defer_records = False
        self.deferred = []
        # Every operation is applied in a savepoint of its own; a push
        # first tries without one for the handlers that write nothing
        # (OperationHandler.writes)
        self.savepoints = True

    def preload(self, operations):
        """Read at once what the operations refer to: products with their
        prices and lots, employees, payment methods, receipt numbers"""
        pool = Pool()
        Employee = pool.get('company.employee')
        Operation = pool.get('retail.sync.operation')
        product_ids, employee_ids, receipts = set(), set(), set()
        valid = schema.valid_int
        for data in operations:
            if valid(data.get('employee')) is not None:
                employee_ids.add(data['employee'])
            payload = data.get('payload')
            if not isinstance(payload, dict):
                continue
            if valid(payload.get('receipt_number')) is not None:
                receipts.add(payload['receipt_number'])
            lines = payload.get('lines')
            for line in lines if isinstance(lines, list) else []:
                if isinstance(line, dict) and valid(
                        line.get('product')) is not None:
                    product_ids.add(line['product'])
        new_products = [i for i in product_ids
            if i not in self.product_info]
        if new_products:
            self.load_products(new_products)
            self.price_data.update(product_prices(
                    [i for i in new_products if i in self.product_info],
                    self.company.id))
        if employee_ids - self.employees:
            # Those that exist, archived too
            employee = Employee.__table__()
            cursor = Transaction().connection.cursor()
            for sub in grouped_slice(sorted(employee_ids), 1000):
                cursor.execute(*employee.select(employee.id,
                        where=in_(employee.id, list(sub))))
                self.employees.update(i for i, in cursor)
        if receipts:
            table = Operation.__table__()
            cursor = Transaction().connection.cursor()
            for sub in grouped_slice(sorted(receipts), 1000):
                cursor.execute(*table.select(table.receipt_number,
                        where=(table.terminal == self.terminal.id)
                        & in_(table.receipt_number, sub)))
                self.receipts.update(n for n, in cursor)

    def load_products(self, ids):
        """Read the products ids (archived too) in one query: their
        ProductInfo in product_info (an id of no product is left out),
        and those with lots in lot_products"""
        pool = Pool()
        Lot = pool.get('stock.lot')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        product = Product.__table__()
        template = Template.__table__()
        uom = Uom.__table__()
        cursor = Transaction().connection.cursor()
        for sub in grouped_slice(sorted(set(ids)), 1000):
            cursor.execute(*product.join(template,
                    condition=product.template == template.id
                    ).join(uom, 'LEFT',
                    condition=template.sale_uom == uom.id
                    ).select(product.id, template.id, product.active,
                    template.active, template.type, uom.id, uom.digits,
                    template.account_category,
                    where=in_(product.id, list(sub))))
            for (id_, template_id, active, template_active, type_, unit,
                    digits, category) in cursor:
                self.product_info[id_] = ProductInfo(id_, template_id,
                    bool(active) and bool(template_active), type_,
                    UnitInfo(unit, digits) if unit is not None else None,
                    category)
        lot = Lot.__table__()
        for sub in grouped_slice(sorted(set(ids)), 1000):
            cursor.execute(*lot.select(lot.product,
                    where=in_(lot.product, list(sub)),
                    group_by=[lot.product]))
            self.lot_products.update(p for p, in cursor)


    @cached_property
    def handlers(self):
        "{operation type: handler} of retail.sync.push, read once"
        return Pool().get('retail.sync.push')._operation_handlers()

    @cached_property
    def facts(self):
        """What the checks read of the terminal, its branch, its company
        and the company's currency, with one query rather than a read of
        each record: {name: value}"""
        pool = Pool()
        terminal = pool.get('sale.point').__table__()
        branch = pool.get('retail.branch').__table__()
        company = pool.get('company.company').__table__()
        currency = pool.get('currency.currency').__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*terminal.join(company,
                condition=terminal.company == company.id
                ).join(currency, condition=company.currency == currency.id
                ).join(branch, 'LEFT', condition=terminal.branch == branch.id
                ).select(terminal.receipt_prefix, terminal.tax_included,
                company.timezone, currency.digits, currency.rounding,
                branch.timezone, branch.price_list,
                where=terminal.id == self.terminal.id))
        facts = dict(zip(['receipt_prefix', 'tax_included',
                    'company_timezone', 'currency_digits',
                    'currency_rounding', 'branch_timezone', 'price_list'],
                cursor.fetchone()))
        rounding = facts['currency_rounding']
        if not isinstance(rounding, Decimal):
            facts['currency_rounding'] = Decimal(str(rounding))
        facts['tax_included'] = bool(facts['tax_included'])
        return facts

    @cached_property
    def currency(self):
        "The company's currency"
        return self.company.currency

    @property
    def currency_rounding(self):
        "The rounding of the company's currency"
        return self.facts['currency_rounding']

    @cached_property
    def schema_context(self):
        "The context of the schemas' checks (schema.validate)"
        return {'currency_digits': self.facts['currency_digits']}

    @property
    def receipt_prefix(self):
        "The terminal's receipt prefix"
        return self.facts['receipt_prefix']

    def client_time(self, value):
        """The client time of value (wire.parse_time), parsed once for
        the batch"""
        times = self.__dict__.setdefault('_client_times', {})
        time = times.get(value) if isinstance(value, str) else None
        if time is None:
            time = parse_time(value)
            if isinstance(value, str):
                times[value] = time
        return time

    @cached_property
    def shared(self):
        """The figures kept across pushes (SharedFigures), a dict, or None
        when they are not kept"""
        return SharedFigures.get()

    def shared_figure(self, key, compute):
        """The figure of key (a tuple) kept across pushes, compute() the
        first time"""
        shared = self.shared
        if shared is None:
            return compute()
        value = shared.get(key)
        if value is None:
            value = shared[key] = compute()
        return value

    @property
    def tax_included(self):
        "The terminal's prices include their taxes"
        return self.facts['tax_included']

    @cached_property
    def price_list(self):
        "The branch's price list"
        price_list = self.facts['price_list']
        if price_list is None:
            return None
        return Pool().get('product.price_list')(price_list)

    @cached_property
    def zone(self):
        "The branch's time zone"
        return zoneinfo.ZoneInfo(self.facts['branch_timezone'] or 'UTC')

    @cached_property
    def cash_methods(self):
        "The ids of the company's payment methods in cash"
        self.method(None)
        return {i for i, m in self.methods.items() if m.cash}

    def method(self, method_id):
        if self.methods is None:
            Method = Pool().get('sale.point.payment.method')
            self.methods = {m.id: m for m in Method.search([
                        ('company', '=', self.company.id)])}
        return self.methods.get(method_id)

    def customer_taxes(self, product):
        "The customer taxes of product (a record or a ProductInfo)"
        if not isinstance(product, ProductInfo):
            return self.tax_lookup.customer_taxes(product, self.company)
        company = self.company
        key = (company.id, product.account_category
            if product.account_category is not None
            else ('template', product.template))

        def compute():
            pool = Pool()
            Category = pool.get('product.category')
            Tax = pool.get('account.tax')
            with Transaction().set_context(company=company.id):
                if product.account_category is None:
                    return product.record.customer_taxes_used

                def ids():
                    # What the template's customer_taxes_used answers for
                    # a template with an accounting category, without
                    # reading the product and its template
                    return tuple(t.id for t in Category(
                            product.account_category).customer_taxes_used)
                return tuple(Tax.browse(self.shared_figure(
                            ('customer_taxes',) + key, ids)))
        return self.tax_lookup.customer_taxes_of(key, compute)


class OperationHandler:
    """How the operations of one type are applied.  A module registers a
    subclass in retail.sync.push _operation_handlers() with super().

    string: the id of the ir.message that labels the type
    payload_schema: the schema of the payload, a dict (see schema.py) or
        the name of one of schema.SCHEMAS
    session: the payload may name the device's cash session ("session"),
        which must then be open
    closed_session: with session, a session closed since is accepted too
    receipt: the payload's receipt_number is stored with the operation
    batched: operations of this type applied one after the other are not
        flushed between them (see flush)
    writes: handle may write to the database, so each operation is
        applied in a savepoint of its own that a rejection rolls back; a
        handler whose handle writes nothing (what it makes waits in the
        batch for flush) sets it False and a push saves the savepoint's
        round trips to the database"""
    string = None
    payload_schema = {'type': 'object'}
    session = False
    closed_session = False
    receipt = False
    batched = False
    writes = True

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        """Apply the operation data, checked against the schemas, inside
        its savepoint; return its result (a JSON object) or raise
        Rejected"""
        raise NotImplementedError

    @classmethod
    def prepare(cls, batch, data):
        """Called before the operation data is applied, outside its
        savepoint (what it writes stays when the operation is rejected):
        data is not checked yet"""

    @classmethod
    def flush(cls, batch):
        """Write what handle left pending in batch: called before an
        operation of another type and when the batch ends"""

    @classmethod
    def finish(cls, batch):
        "Called once the batch's operations are applied and flushed"

    # Helpers

    @classmethod
    def business_date(cls, batch, client_time):
        """The branch's local date at the client time, but never after the
        company's today: a done stock move cannot be dated in the future,
        so a branch whose time zone is ahead of the company's (after its
        midnight) or a till whose clock runs fast books on that today"""
        local = client_time.astimezone(batch.zone).date()
        if batch.company_today is None:
            Date = Pool().get('ir.date')
            timezone = batch.facts['company_timezone']
            with Transaction().set_context(company=batch.company.id):
                # The company's time zone as Date.today reads it
                batch.company_today = Date.today(
                    timezone=zoneinfo.ZoneInfo(timezone) if timezone
                    else None)
        return min(local, batch.company_today)

    @classmethod
    def get_product_info(cls, product_id, batch):
        """The ProductInfo of a pushed id (archived too), read with the
        batch's; Rejected if none"""
        to_int(product_id, 'product')
        if product_id not in batch.product_info:
            batch.load_products([product_id])
            if product_id not in batch.product_info:
                raise Rejected('unknown_product',
                    f"Product {product_id} does not exist.")
        return batch.product_info[product_id]

    @classmethod
    def get_product(cls, product_id, batch=None):
        """The product of a pushed id (archived too), kept in the batch;
        Rejected if none"""
        Product = Pool().get('product.product')
        to_int(product_id, 'product')
        if batch is not None:
            if product_id not in batch.products:
                if product_id in batch.product_info:
                    # Browsed with the push's other products: the ORM then
                    # reads a field of them all in one query (a branch's
                    # price list reads several fields of each product sold)
                    # instead of one query per product and field
                    ids = [i for i in batch.product_info
                        if i not in batch.products]
                    with Transaction().set_context(active_test=False):
                        batch.products.update(zip(ids, Product.browse(ids)))
                else:
                    batch.products[product_id] = cls.get_product(product_id)
            return batch.products[product_id]
        with Transaction().set_context(active_test=False):
            products = Product.search([('id', '=', product_id)])
        if not products:
            raise Rejected('unknown_product',
                f"Product {product_id} does not exist.")
        return products[0]


class Push(Model):
    "Sync Push: applies the operations pushed by terminals"
    __name__ = 'retail.sync.push'

    @classmethod
    def _operation_handlers(cls):
        """Return {operation type: OperationHandler subclass}; another
        module adds its types with super()"""
        return {}

    @classmethod
    def lot_unit_price(cls, batch, product, quantity, date, lots):
        """The unit price the server expects for a sold line of product
        whose stock comes from lots ([(lot id, quantity)]) on date when the
        lots have a price of their own (retail_stock's markdowns), else
        None: the server's price applies; another module answers with
        super()"""
        return None

    @classmethod
    def operation_types(cls):
        "The [(type, label)] of the operations the server applies"
        return [(type_, gettext(handler.string) if handler.string else type_)
            for type_, handler in cls._operation_handlers().items()]

    @classmethod
    def _handlers(cls):
        "The distinct handler classes, in the order of their types"
        return list(dict.fromkeys(cls._operation_handlers().values()))

    @classmethod
    def lock_terminal(cls, terminal, values):
        """Serialise pushes of a terminal: the update waits for a concurrent
        push of the same terminal and, on PostgreSQL, fails to serialise
        after it commits so the whole request is retried and sees its
        operations."""
        Terminal = Pool().get('sale.point')
        table = Terminal.__table__()
        cursor = Transaction().connection.cursor()
        columns = [table.device_last_seen]
        row = [dt.datetime.now()]
        for name, value in values.items():
            columns.append(getattr(table, name))
            row.append(value)
        cursor.execute(*table.update(columns, row,
                where=table.id == terminal.id))

    @classmethod
    def mark_acknowledging(cls):
        """Name the PostgreSQL session of the push's transaction until it
        ends: a posting task gives way to the pushes being acknowledged
        (retail.sync.operation give_way)"""
        Operation = Pool().get('retail.sync.operation')
        if backend.name == 'postgresql':
            Transaction().connection.cursor().execute(
                "SELECT set_config('application_name', %s, true)",
                (Operation.acknowledging_name(),))

    @classmethod
    def push(cls, terminal, operations):
        """Apply operations of terminal; return the result of each.

        The operations whose handler writes nothing while handling are
        applied without a savepoint of their own; if one of them fails
        otherwise than by a rejection, the push starts again from a
        savepoint taken before it, every operation in its savepoint, so
        that the answers and what is stored are those of that way."""
        cls.mark_acknowledging()
        with savepoint() as name:
            try:
                return cls._push(terminal, operations, savepoints=False)
            except SavepointsNeeded:
                pass
            rollback_to(name)
        return cls._push(terminal, operations, savepoints=True)

    @classmethod
    def _push(cls, terminal, operations, savepoints=True):
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        batch = Batch(terminal)
        handlers = batch.handlers
        batch.savepoints = savepoints
        batch.defer_posting = True
        batch.defer_records = cls.defer_records()

        known = cls.known_operations(
            terminal, [o['uuid'] for o in operations])

        batch.preload([o for o in operations if o['uuid'] not in known])
        results = {}
        to_create = []
        repeated = set()
        for data in sorted(operations,
                key=lambda o: schema.valid_int(o.get('sequence')) or 0):
            uuid = data['uuid']
            if uuid in known:
                results[uuid] = known[uuid].answer()
                continue
            if uuid in results:
                repeated.add(uuid)
                continue
            type_ = data.get('type')
            handler = handlers.get(type_) if isinstance(type_, str) else None
            if handler is None or not handler.batched:
                # What follows may depend on the operations before it (a
                # return on the payments of its original sale)
                cls.flush(batch)
            if handler is not None:
                handler.prepare(batch, data)
            values, answer = cls.apply(batch, data)
            to_create.append(values)
            results[uuid] = answer
        cls.flush(batch)
        for entry in batch.rejected_sales:
            uuid = entry['values']['uuid']
            results[uuid] = {'uuid': uuid, 'status': 'rejected',
                'reason': entry['rejected']}
        cls.finish(batch)
        sale_handler = handlers.get('sale')
        for entry in batch.deferred:
            # Checked, not recorded: the posting task records it
            entry['values']['sale_values'] = sale_handler.encode(entry)
            entry['values']['posting'] = 'pending'
        batch.deferred = []
        for answer in results.values():
            result = answer.get('result')
            if (answer['status'] == 'accepted' and result
                    and result.get('sale') in batch.post_flags):
                result['flags'] = sorted(set(result['flags'])
                    | batch.post_flags[result['sale']])
        for values in to_create:
            answer = results[values['uuid']]
            if (answer['status'] == 'accepted'
                    and isinstance(answer['result'].get('sale'), int)):
                values['sale'] = answer['result']['sale']
                values['posting'] = 'pending'
            elif answer['status'] != 'accepted':
                values.pop('sale_values', None)
                values.pop('posting', None)
            if answer['status'] == 'accepted':
                answer['posted'] = values.get('posting') != 'pending'
            answer_first = {k: v for k, v in answer.items()
                if k in {'result', 'reason'}}
            values['first_result'] = json.dumps(answer_first)
            values['result'] = (json.dumps(answer['result'])
                if 'result' in answer else None)
        if to_create:
            try:
                created = Operation.insert_pushed(to_create)
            except (backend.DatabaseIntegrityError, SQLConstraintError) as e:
                # The push's savepoint undoes it (push)
                raise ConcurrentPush(str(e)) from e
            cls.enqueue_posting([o for o, v in zip(created, to_create)
                    if v.get('posting') == 'pending'])
        sequences = [schema.valid_int(o.get('sequence'))
            for o in operations]
        sequences = [s for s in sequences if s is not None]
        if sequences and max(sequences) > (terminal.sync_sequence or 0):
            cls.lock_terminal(terminal, {'sync_sequence': max(sequences)})
        # The same uuid again in the batch: applied once, at its first
        # place; the next places are answered as its duplicates
        answers, seen = [], set()
        for data in operations:
            uuid = data['uuid']
            answer = results[uuid]
            if uuid in repeated and uuid in seen:
                answer = dict(answer, status='duplicate',
                    first_status=answer['status'])
            seen.add(uuid)
            answers.append(answer)
        return answers

    @classmethod
    def known_operations(cls, terminal, uuids):
        "Return {uuid: operation} of the uuids terminal pushed already"
        Operation = Pool().get('retail.sync.operation')
        known = {}
        for sub in grouped_slice(uuids, 500):
            for operation in Operation.search([
                        ('terminal', '=', terminal.id),
                        ('uuid', 'in', list(sub)),
                        ]):
                known[operation.uuid] = operation
        return known

    @classmethod
    def defer_records(cls):
        """Whether a push leaves recording its sales to the posting task
        too: with a queue worker ([queue] worker), whose process records
        and posts them while the push answers at once; without one trytond
        runs the task in the request anyway, and the push records them
        (its answer then names each sale).  The context's
        retail_sync_defer_records overrides it."""
        context = Transaction().context
        if context.get('retail_sync_defer_records') is not None:
            return bool(context['retail_sync_defer_records'])
        return config.getboolean('queue', 'worker', default=False)

    @classmethod
    def enqueue_posting(cls, operations):
        """Queue the posting of operations: a task of the queue
        retail_sync_post runs after the commit, in trytond-worker when
        [queue] worker is set, else in the request once answered"""
        Operation = Pool().get('retail.sync.operation')
        if not operations:
            return
        with Transaction().set_context(
                queue_name='retail_sync_post', _request=None):
            Operation.__queue__.post_pending(operations)

    @classmethod
    def post(cls, terminal, operations):
        """Post the sales of operations (all of terminal, in their order)
        and mark them posted, or failed with the reason of the sales that
        could not be posted"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Sale = pool.get('sale.point.sale')
        Flag = pool.get('retail.sync.sale.flag')
        batch = Batch(terminal)
        with Transaction().set_context(company=terminal.company.id):
            recorded, failed = cls.record_operations(terminal, [
                    o for o in operations
                    if not o.sale and o.sale_values], batch=batch)
        # Read as stored, in SQL: the sale of each operation and its state
        cursor = Transaction().connection.cursor()
        operation, sale = Operation.__table__(), Sale.__table__()
        order = {o.id: i for i, o in enumerate(operations)}
        linked = []
        for sub in grouped_slice(sorted(order), 1000):
            cursor.execute(*operation.join(sale, 'LEFT',
                    condition=operation.sale == sale.id).select(
                    operation.id, operation.sale, sale.state,
                    where=in_(operation.id, list(sub))))
            linked.extend(cursor)
        linked.sort(key=lambda r: order[r[0]])
        ids = [s for _, s, _ in linked if s is not None]
        if ids:
            with Transaction().set_context(company=terminal.company.id):
                cls.post_sales(batch, ids)
        states = {}
        for sub in grouped_slice(ids, 1000):
            cursor.execute(*sale.select(sale.id, sale.state,
                    where=in_(sale.id, list(sub))))
            states.update(cursor)
        failed = {o.id: reason for o, reason in failed.items()}
        posted = []
        for operation_id, sale_id, _ in linked:
            if operation_id in failed:
                continue
            if sale_id is None or states.get(sale_id) == 'posted':
                # A sale gone (deleted in the back office) has nothing to
                # post
                posted.append(operation_id)
                continue
            flags = Flag.search([
                    ('sale', '=', sale_id),
                    ('kind', '=', 'posting_error'),
                    ], order=[('id', 'DESC')], limit=1)
            failed[operation_id] = (flags[0].actual if flags
                else f"Sale {Sale(sale_id).rec_name} is "
                f"{states.get(sale_id)}.")
        cls.write_posting(posted, [(i, r) for i, r in failed.items()])
        if recorded:
            # The stock they leave, now posted
            cls.flag_recorded(batch, list(recorded.values()))

    @classmethod
    def write_posting(cls, posted, failed):
        """Mark the operations of ids posted, those of failed [(id,
        reason)] failed with their reason, as Operation.write would (the
        operations have no hook on their posting state)"""
        Operation = Pool().get('retail.sync.operation')
        table = Operation.__table__()
        cursor = Transaction().connection.cursor()
        user = Transaction().user
        for sub in grouped_slice(posted, 1000):
            cursor.execute(*table.update(
                    [table.posting, table.posting_reason, table.write_uid,
                        table.write_date],
                    ['posted', Null, user, CurrentTimestamp()],
                    where=in_(table.id, list(sub))))
        for id_, reason in failed:
            cursor.execute(*table.update(
                    [table.posting, table.posting_reason, table.write_uid,
                        table.write_date],
                    ['failed', reason, user, CurrentTimestamp()],
                    where=table.id == id_))
        Poster.invalidate([Operation])

    @classmethod
    def record_operations(cls, terminal, operations, batch=None):
        """Create the sales of operations (of terminal, in their order)
        from what was checked when they were acknowledged (sale_values),
        and link them; return {operation: sale id} and {operation: reason}
        of those whose sale could not be created, marked posting failed
        with the reason (listed with the quarantine, Post Again records
        them again)"""
        Operation = Pool().get('retail.sync.operation')
        if not operations:
            return {}, {}
        if batch is None:
            batch = Batch(terminal)
        # The sale handler records the returns too (ReturnHandler)
        recorded, failed = cls._operation_handlers()['sale'].record(
            batch, operations)
        table = Operation.__table__()
        update(table, [table.sale, table.sale_values],
            [(o.id, [sale, None]) for o, sale in recorded.items()])
        cls.write_posting([], [(o.id, r) for o, r in failed.items()])
        return recorded, failed

    @classmethod
    def flag_recorded(cls, batch, sale_ids):
        "Let each handler flag the sales it recorded (oversell)"
        for handler in cls._handlers():
            if hasattr(handler, 'flag_recorded'):
                handler.flag_recorded(batch, sale_ids)
                break

    @classmethod
    def post_sales(cls, batch, ids):
        "Let each handler post the sales ids of batch"
        for handler in cls._handlers():
            if hasattr(handler, 'post_sales'):
                handler.post_sales(batch, ids)
                break

    @classmethod
    def flush(cls, batch):
        "Let each handler write what it left pending in batch"
        for handler in cls._handlers():
            handler.flush(batch)

    @classmethod
    def finish(cls, batch):
        "Let each handler finish the batch (the sales are posted)"
        for handler in cls._handlers():
            handler.finish(batch)

    @classmethod
    def operation_values(cls, terminal, data, employees, batch=None):
        "What is stored of an operation, valid or not"
        type_ = data.get('type')
        handler = None
        if isinstance(type_, str):
            handler = (batch.handlers if batch is not None
                else cls._operation_handlers()).get(type_)
        if handler is None:
            type_ = None
        values = {
            'terminal': terminal.id,
            'uuid': data['uuid'],
            'type': type_,
            'sequence': schema.valid_int(data.get('sequence')),
            'payload': json.dumps(data, sort_keys=True),
            'replays': 0,
            }
        try:
            values['client_time'] = (batch.client_time if batch is not None
                else parse_time)(data.get('client_time')).astimezone(
                dt.timezone.utc).replace(tzinfo=None)
        except Rejected:
            pass
        employee = schema.valid_int(data.get('employee'))
        if employee in employees:
            values['employee'] = employee
        payload = data.get('payload')
        if handler is not None and handler.receipt and isinstance(
                payload, dict):
            number = schema.valid_int(payload.get('receipt_number'))
            if number is not None:
                values['receipt_number'] = number
        return values

    @classmethod
    def apply(cls, batch, data):
        "Apply one operation; return (operation values, answer)"
        values = cls.operation_values(batch.terminal, data, batch.employees,
            batch=batch)
        batch.values = values
        type_ = data.get('type')
        handler = batch.handlers.get(type_) if isinstance(
            type_, str) else None
        # A handler that writes nothing needs no savepoint to undo it
        protected = batch.savepoints or handler is None or handler.writes
        try:
            # Nothing is written for an operation that does not fit the
            # protocol's bounds
            cls.check(batch, data)
            with savepoint() if protected else nullcontext():
                result = cls.handle(batch, data)
        except (backend.DatabaseOperationalError, TransactionError):
            raise
        except Rejected as e:
            reason = {'code': e.code, 'message': e.message}
        except Exception as e:
            if not protected:
                # Perhaps from a failed statement, after which the
                # transaction is only usable again from a savepoint taken
                # before it: start again, each operation in its own
                raise SavepointsNeeded() from e
            if isinstance(e, (UserError, UserWarning, ValidationError)):
                reason = {'code': 'error', 'message': str(e.message)
                    if hasattr(e, 'message') else str(e)}
            else:
                logger.exception(
                    "sync operation %s failed", data.get('uuid'))
                reason = {'code': 'error',
                    'message': f"{type(e).__name__}: {e}"}
        else:
            values['state'] = 'accepted'
            values['first_state'] = 'accepted'
            return values, {
                'uuid': data['uuid'], 'status': 'accepted', 'result': result}
        values.update(state='rejected', first_state='rejected',
            reason_code=reason['code'], reason=reason['message'])
        return values, {
            'uuid': data['uuid'], 'status': 'rejected', 'reason': reason}

    @classmethod
    def replay(cls, operation, data):
        "Apply again a quarantined operation"
        Operation = Pool().get('retail.sync.operation')
        batch = Batch(operation.terminal)
        batch.preload([data])
        handler = cls._operation_handlers().get(data.get('type')) if (
            isinstance(data.get('type'), str)) else None
        if handler is not None:
            handler.prepare(batch, data)
        values, answer = cls.apply(batch, data)
        cls.flush(batch)
        if batch.rejected_sales:
            answer = {'uuid': data['uuid'], 'status': 'rejected',
                'reason': batch.rejected_sales[0]['rejected']}
        cls.finish(batch)
        write = {'replays': (operation.replays or 0) + 1,
            'payload': json.dumps(data, sort_keys=True)}
        if answer['status'] == 'accepted':
            write.update(state='accepted', reason_code=None, reason=None,
                result=json.dumps(answer['result']),
                sale=answer['result'].get('sale'))
            sale = answer['result'].get('sale')
            if sale:
                # Posted by finish, in this transaction
                Sale = Pool().get('sale.point.sale')
                if Sale(sale).state == 'posted':
                    write.update(posting='posted', posting_reason=None)
                else:
                    write.update(posting='failed',
                        posting_reason="The sale could not be posted: see "
                        "its posting_error flag.")
            if 'receipt_number' in values:
                write['receipt_number'] = values['receipt_number']
            for name in ['session', 'summary']:
                if name in values:
                    write[name] = values[name]
        else:
            write.update(reason_code=answer['reason']['code'],
                reason=answer['reason']['message'])
        Operation.write([operation], write)
        return answer

    @classmethod
    def check(cls, batch, data):
        """Check data against the schema of its type; raise Rejected
        invalid_payload naming the first field that does not fit"""
        handlers = batch.handlers
        context = batch.schema_context
        try:
            schema.validate(data, 'OperationBase', context=context)
            handler = handlers.get(data['type'])
            if handler is None:
                raise schema.Invalid('type',
                    f"must be one of {', '.join(handlers)}.")
            schema.validate(data['payload'], handler.payload_schema,
                'payload', context)
        except schema.Invalid as e:
            raise Rejected('invalid_payload', e.message)

    @classmethod
    def handle(cls, batch, data):
        type_ = data.get('type')
        if not isinstance(data.get('payload'), dict):
            raise Rejected('invalid_payload', "payload must be an object.")
        handler = batch.handlers.get(type_)
        if handler is None:
            raise Rejected('invalid_payload', f"Unknown type {type_!r}.")
        client_time = batch.client_time(data.get('client_time'))
        employee = data.get('employee')
        if employee is not None:
            if (not isinstance(employee, int) or isinstance(employee, bool)
                    or employee not in batch.employees):
                raise Rejected('unknown_employee',
                    f"Employee {employee!r} does not exist.")
        if handler.session and data['payload'].get('session') is not None:
            # A sale is a fact: one whose session has closed since (pushed
            # late, or replayed from the quarantine) is booked in the
            # terminal's current session
            cls.check_session(batch, data['payload']['session'],
                closed=handler.closed_session)
        return handler.handle(batch, data, data['payload'], client_time)

    @classmethod
    def check_session(cls, batch, uuid, closed=False):
        """The open session of the terminal named uuid by the device;
        with closed, a closed session is accepted too"""
        Session = Pool().get('sale.point.cash.session')
        if not isinstance(uuid, str) or not 0 < len(uuid) <= 64:
            raise Rejected('invalid_payload',
                "session must be the session's UUID (a string).")
        session = Session.by_uuid(batch.terminal, uuid)
        if session is None:
            raise Rejected('unknown_session',
                f"Terminal {batch.terminal.rec_name} has no cash session "
                f"{uuid}.")
        if session.state != 'open' and not closed:
            raise Rejected('session_closed',
                f"Cash session {uuid} is closed: remove \"session\" from "
                "the payload to record the operation in the current session.")
        return session
