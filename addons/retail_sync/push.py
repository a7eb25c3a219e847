# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Applying pushed operations: each in its own savepoint, once per
(terminal, uuid), recorded as Tryton POS sales, payments, cash transfers,
sessions, customers and stock moves."""
import datetime as dt
import json
import logging
import zoneinfo
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from itertools import count

from trytond import backend
from trytond.exceptions import UserError, UserWarning
from trytond.model import Model
from trytond.model.exceptions import SQLConstraintError, ValidationError
from trytond.modules.product import round_price
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, TransactionError

from . import schema
from .changelog import in_
from .posting import Poster
from .pull import (
    dec, fefo_key, gross_price_used, money, product_prices, sell_by,
    ser_customer,
    stock_quantities)
from .sync import OPERATION_TYPES

logger = logging.getLogger(__name__)
MAX_OPERATIONS = schema.MAX_OPERATIONS
# Operations that may name the device's cash session
SESSION_TYPES = {'sale', 'return', 'cash_in', 'cash_out', 'session_close'}
# The operations booked even when their session has closed since
SALE_TYPES = {'sale', 'return'}
POST_CHUNK = 25
BULK_POST_CHUNK = 500
_savepoints = count()


class ConcurrentPush(Exception):
    """A concurrent push of the same terminal committed some of these
    operations first: the request starts again and answers them as
    duplicates with their first result"""


class Rejected(Exception):
    "An operation the server cannot apply: it goes to the quarantine"

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


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
        yield
    except BaseException:
        cursor.execute(f'ROLLBACK TO SAVEPOINT {name}')
        cursor.execute(f'RELEASE SAVEPOINT {name}')
        # Records read or made inside the savepoint are gone
        transaction.cache.clear()
        raise
    else:
        cursor.execute(f'RELEASE SAVEPOINT {name}')


def to_decimal(value, name):
    if isinstance(value, float) or isinstance(value, bool):
        raise Rejected('invalid_payload',
            f"{name} must be a decimal string, not a binary float.")
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError):
        raise Rejected('invalid_payload', f"{name} is not a decimal: {value!r}")


def to_int(value, name, required=True):
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejected('invalid_payload', f"{name} must be an integer.")
    return value


def parse_time(value):
    "The client time: ISO 8601 with an offset, within the protocol's window"
    try:
        return schema.parse_time(value)
    except schema.Invalid as e:
        raise Rejected('invalid_payload', e.message)


class Batch:
    "What the operations of one push share"

    def __init__(self, terminal):
        self.terminal = terminal
        self.branch = terminal.branch
        self.company = terminal.company
        self.sales = []
        self.lot_stock = {}
        self.prices = {}
        self.oversold = set()
        # Flags found when posting: {sale id: set of kinds}
        self.post_flags = {}
        # Refunded per original receipt: {number: {method id: amount}}
        self.refunded = {}
        self._locations = None
        # Sales checked but not created yet: created together by
        # Push.flush_sales, one create call per model for the batch
        self.pending = []
        self.rejected_sales = []
        self.values = None
        self.products = {}
        self.price_data = {}
        self.lot_products = set()
        self.employees = set()
        self.methods = None
        self.receipts = set()
        self.taxes = {}
        self.poster = Poster()

    def preload(self, operations):
        """Read at once what the operations refer to: products with their
        prices and lots, employees, payment methods, receipt numbers"""
        pool = Pool()
        Product = pool.get('product.product')
        Employee = pool.get('company.employee')
        Lot = pool.get('stock.lot')
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
        new_products = [i for i in product_ids if i not in self.products]
        if new_products:
            with Transaction().set_context(active_test=False):
                for product in Product.search(
                        [('id', 'in', new_products)]):
                    self.products[product.id] = product
            self.price_data.update(product_prices(
                    list(self.products), self.company.id))
            lot = Lot.__table__()
            cursor = Transaction().connection.cursor()
            for sub in grouped_slice(new_products, 1000):
                cursor.execute(*lot.select(lot.product,
                        where=in_(lot.product, sub), group_by=[lot.product]))
                self.lot_products.update(p for p, in cursor)
        if employee_ids - self.employees:
            with Transaction().set_context(active_test=False):
                self.employees.update(e.id for e in Employee.search(
                        [('id', 'in', list(employee_ids))]))
        if receipts:
            table = Operation.__table__()
            cursor = Transaction().connection.cursor()
            for sub in grouped_slice(sorted(receipts), 1000):
                cursor.execute(*table.select(table.receipt_number,
                        where=(table.terminal == self.terminal.id)
                        & in_(table.receipt_number, sub)))
                self.receipts.update(n for n, in cursor)

    def method(self, method_id):
        if self.methods is None:
            Method = Pool().get('sale.point.payment.method')
            self.methods = {m.id: m for m in Method.search([
                        ('company', '=', self.company.id)])}
        return self.methods.get(method_id)

    def customer_taxes(self, product):
        key = product.template.account_category
        key = key.id if key else ('template', product.template.id)
        if key not in self.taxes:
            self.taxes[key] = product.customer_taxes_used
        return self.taxes[key]

    @property
    def locations(self):
        if self._locations is None:
            from .changelog import branch_locations
            self._locations = branch_locations(self.branch)
        return self._locations


class Push(Model):
    "Sync Push: applies the operations pushed by terminals"
    __name__ = 'retail.sync.push'

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
    def push(cls, terminal, operations):
        "Apply operations of terminal; return the result of each"
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        batch = Batch(terminal)

        uuids = [o['uuid'] for o in operations]
        known = {}
        for sub in [uuids[i:i + 500] for i in range(0, len(uuids), 500)]:
            for operation in Operation.search([
                        ('terminal', '=', terminal.id),
                        ('uuid', 'in', sub),
                        ]):
                known[operation.uuid] = operation

        batch.preload([o for o in operations if o['uuid'] not in known])
        results = {}
        to_create = []
        repeated = []
        for data in sorted(operations,
                key=lambda o: schema.valid_int(o.get('sequence')) or 0):
            uuid = data['uuid']
            if uuid in known:
                results[uuid] = known[uuid].answer()
                continue
            if uuid in results:
                repeated.append(uuid)
                continue
            if not isinstance(data.get('type'), str) or data['type'] != 'sale':
                # What follows may depend on the sales before it (a return
                # on the payments of its original sale)
                cls.flush_sales(batch)
            values, answer = cls.apply(batch, data)
            to_create.append(values)
            results[uuid] = answer
        cls.flush_sales(batch)
        for entry in batch.rejected_sales:
            uuid = entry['values']['uuid']
            results[uuid] = {
                'uuid': uuid, 'status': 'rejected', 'reason': entry['rejected']}
        for uuid in repeated:
            # The same uuid twice in a batch
            results[uuid] = dict(results[uuid], status='duplicate',
                first_status=results[uuid]['status'])
        cls.post_batch(batch)
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
            answer_first = {k: v for k, v in answer.items()
                if k in {'result', 'reason'}}
            values['first_result'] = json.dumps(answer_first)
            values['result'] = (json.dumps(answer['result'])
                if 'result' in answer else None)
        if to_create:
            try:
                with savepoint():
                    Operation.create(to_create)
            except (backend.DatabaseIntegrityError, SQLConstraintError) as e:
                raise ConcurrentPush(str(e)) from e
        sequences = [schema.valid_int(o.get('sequence'))
            for o in operations]
        sequences = [s for s in sequences if s is not None]
        if sequences and max(sequences) > (terminal.sync_sequence or 0):
            cls.lock_terminal(terminal, {'sync_sequence': max(sequences)})
        return [results[o['uuid']] for o in operations]

    @classmethod
    def operation_values(cls, terminal, data, employees):
        "What is stored of an operation, valid or not"
        type_ = data.get('type')
        if not isinstance(type_, str) or type_ not in {
                t for t, _ in OPERATION_TYPES if t}:
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
            values['client_time'] = parse_time(
                data.get('client_time')).astimezone(
                dt.timezone.utc).replace(tzinfo=None)
        except Rejected:
            pass
        employee = schema.valid_int(data.get('employee'))
        if employee in employees:
            values['employee'] = employee
        payload = data.get('payload')
        if type_ in {'sale', 'return', 'void'} and isinstance(payload, dict):
            number = schema.valid_int(payload.get('receipt_number'))
            if number is not None:
                values['receipt_number'] = number
        return values

    @classmethod
    def apply(cls, batch, data):
        "Apply one operation; return (operation values, answer)"
        values = cls.operation_values(batch.terminal, data, batch.employees)
        batch.values = values
        try:
            # Nothing is written for an operation that does not fit the
            # protocol's bounds
            cls.check(batch, data)
            with savepoint():
                result = cls.handle(batch, data)
        except (backend.DatabaseOperationalError, TransactionError):
            raise
        except Rejected as e:
            reason = {'code': e.code, 'message': e.message}
        except (UserError, UserWarning, ValidationError) as e:
            reason = {'code': 'error', 'message': str(e.message)
                if hasattr(e, 'message') else str(e)}
        except Exception as e:
            logger.exception("sync operation %s failed", data.get('uuid'))
            reason = {'code': 'error', 'message': f"{type(e).__name__}: {e}"}
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
        values, answer = cls.apply(batch, data)
        cls.flush_sales(batch)
        if batch.rejected_sales:
            answer = {'uuid': data['uuid'], 'status': 'rejected',
                'reason': batch.rejected_sales[0]['rejected']}
        cls.post_batch(batch)
        write = {'replays': (operation.replays or 0) + 1,
            'payload': json.dumps(data, sort_keys=True)}
        if answer['status'] == 'accepted':
            write.update(state='accepted', reason_code=None, reason=None,
                result=json.dumps(answer['result']),
                sale=answer['result'].get('sale'))
            if 'receipt_number' in values:
                write['receipt_number'] = values['receipt_number']
        else:
            write.update(reason_code=answer['reason']['code'],
                reason=answer['reason']['message'])
        Operation.write([operation], write)
        return answer

    @classmethod
    def check(cls, batch, data):
        """Check data against the schema of its type (schema.py); raise
        Rejected invalid_payload naming the first field that does not fit"""
        try:
            schema.check_operation(data, context={
                    'currency_digits': batch.company.currency.digits})
        except schema.Invalid as e:
            raise Rejected('invalid_payload', e.message)

    @classmethod
    def handle(cls, batch, data):
        type_ = data.get('type')
        if not isinstance(data.get('payload'), dict):
            raise Rejected('invalid_payload', "payload must be an object.")
        handler = getattr(cls, f'handle_{type_}', None)
        if handler is None:
            raise Rejected('invalid_payload', f"Unknown type {type_!r}.")
        client_time = parse_time(data.get('client_time'))
        employee = data.get('employee')
        if employee is not None:
            if (not isinstance(employee, int) or isinstance(employee, bool)
                    or employee not in batch.employees):
                raise Rejected('unknown_employee',
                    f"Employee {employee!r} does not exist.")
        if type_ in SESSION_TYPES and data['payload'].get(
                'session') is not None:
            # A sale is a fact: one whose session has closed since (pushed
            # late, or replayed from the quarantine) is booked in the
            # terminal's current session
            cls.check_session(batch, data['payload']['session'],
                closed=type_ in SALE_TYPES)
        return handler(batch, data, data['payload'], client_time)

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

    # Helpers

    @classmethod
    def business_date(cls, batch, client_time):
        """The branch's local date at the client time, but never after the
        company's today: a done stock move cannot be dated in the future,
        so a branch whose time zone is ahead of the company's (after its
        midnight) or a till whose clock runs fast books on that today"""
        zone = zoneinfo.ZoneInfo(batch.branch.timezone or 'UTC')
        local = client_time.astimezone(zone).date()
        today = getattr(batch, 'company_today', None)
        if today is None:
            Date = Pool().get('ir.date')
            with Transaction().set_context(company=batch.company.id):
                today = batch.company_today = Date.today()
        return min(local, today)

    @classmethod
    def utc(cls, client_time):
        return client_time.astimezone(dt.timezone.utc).replace(tzinfo=None)

    @classmethod
    def get_product(cls, product_id, batch=None):
        Product = Pool().get('product.product')
        to_int(product_id, 'product')
        if batch is not None and product_id in batch.products:
            return batch.products[product_id]
        with Transaction().set_context(active_test=False):
            products = Product.search([('id', '=', product_id)])
        if not products:
            raise Rejected('unknown_product',
                f"Product {product_id} does not exist.")
        return products[0]

    @classmethod
    def lot_stock(cls, batch, product):
        """The lots of product as [sell-by date, id, branch quantity],
        first expiring first out (sell-by date, then the oldest lot); None
        without lots.  Kept for the batch: what its sales take is taken
        off."""
        Lot = Pool().get('stock.lot')
        if product.id in batch.products and (
                product.id not in batch.lot_products):
            return None
        if product.id not in batch.lot_stock:
            lots = sorted(Lot.search([('product', '=', product.id)]),
                key=fefo_key)
            if not lots:
                batch.lot_stock[product.id] = None
            else:
                quantities = stock_quantities(
                    [product.id], batch.locations, by_lot=True)
                batch.lot_stock[product.id] = [
                    [sell_by(lot), lot.id,
                        quantities.get((product.id, lot.id), Decimal(0))]
                    for lot in lots]
        return batch.lot_stock[product.id]

    @classmethod
    def take_lots(cls, batch, product, allocations):
        "Take the allocations [(lot id, quantity)] off the batch's lot stock"
        lots = cls.lot_stock(batch, product)
        for lot_id, quantity in allocations:
            for entry in lots or []:
                if entry[1] == lot_id:
                    entry[2] -= quantity

    @classmethod
    def fefo_lots(cls, batch, product, quantity, date):
        """The lots a sold quantity is taken from: [(lot id, quantity)].
        First expiring first out over the lots with stock in the branch
        that are not past their sell-by date (all lots when every lot is);
        what exceeds their stock is taken from the last lot used (the
        first one when none has stock), which then goes negative and is
        flagged (lot_oversell).  Empty without lots."""
        lots = cls.lot_stock(batch, product)
        if not lots:
            return []
        candidates = [e for e in lots if e[0] is None or e[0] >= date]
        candidates = candidates or lots
        allocations = []
        remaining = quantity
        for entry in candidates:
            if remaining <= 0:
                break
            if entry[2] <= 0:
                continue
            take = min(entry[2], remaining)
            allocations.append([entry[1], take])
            remaining -= take
        if remaining > 0:
            if allocations:
                allocations[-1][1] += remaining
            else:
                allocations.append([candidates[0][1], remaining])
        allocations = [(lot, qty) for lot, qty in allocations]
        cls.take_lots(batch, product, allocations)
        return allocations

    @classmethod
    def server_price(cls, batch, product, quantity, date):
        """Return the unit price the server would charge, in the terminal's
        terms (tax included when its tax_included is set): the branch price
        list's, else the product's own as sale_point prices a line (its
        gross price, or its list price with its taxes)"""
        pool = Pool()
        Tax = pool.get('account.tax')
        # A price list may have quantity breaks: the price depends on it
        key = (product.id, quantity)
        if key not in batch.prices:
            included = bool(batch.terminal.tax_included)
            taxes = batch.customer_taxes(product)
            price_list = batch.branch.price_list
            if product.id not in batch.price_data:
                batch.price_data.update(
                    product_prices([product.id], batch.company.id))
            prices = batch.price_data.get(product.id, {})
            if price_list:
                with Transaction().set_context(company=batch.company.id):
                    price = price_list.compute(
                        product, quantity, product.sale_uom)
                list_included = bool(price_list.tax_included)
            elif included:
                price = gross_price_used(prices.get('list_price'),
                    prices.get('gross_price'), taxes, date)
                list_included = True
            else:
                price = prices.get('list_price')
                list_included = False
            if price is not None and list_included != included:
                if included:
                    price = gross_price_used(price, None, taxes, date)
                else:
                    price = round_price(Tax.reverse_compute(
                            price, taxes, date=date))
            batch.prices[key] = price
        return batch.prices[key]

    @classmethod
    def unit_prices(cls, price, taxes, date, tax_included):
        """Return (unit list price, unit gross price) of a line sold at
        price, as sale_point prices a line: with tax included, the list
        price is round_price(Tax.reverse_compute(price)); without, the gross
        price is round_price(price + the taxes of one unit)"""
        Tax = Pool().get('account.tax')
        if tax_included:
            return round_price(Tax.reverse_compute(
                    price, taxes, date=date)), price
        tax_amount = sum((t['amount'] for t in Tax.compute(
                        taxes, price, 1, date=date)), Decimal(0))
        return price, round_price(price + tax_amount)

    @classmethod
    def flag(cls, sale, kind, product=None, expected=None, actual=None,
            batch=None, lot=None):
        return {
            'sale': sale, 'kind': kind,
            'product': product.id if product else None,
            'lot': lot,
            'expected': expected, 'actual': actual,
            'terminal': batch.terminal.id if batch else None,
            'branch': batch.branch.id if batch else None,
            }

    # Operations

    @classmethod
    def handle_sale(cls, batch, data, payload, client_time, sign=1):
        terminal = batch.terminal
        receipt_number = to_int(payload.get('receipt_number'),
            'receipt_number')
        lines = payload.get('lines')
        if not isinstance(lines, list) or not lines:
            raise Rejected('invalid_payload', "A sale needs lines.")
        date = cls.business_date(batch, client_time)
        currency = batch.company.currency
        flags = []
        line_values = []
        total = Decimal(0)
        with Transaction().set_context(company=batch.company.id):
            for i, line in enumerate(lines):
                if not isinstance(line, dict):
                    raise Rejected('invalid_payload', f"Line {i} is bad.")
                product = cls.get_product(line.get('product'), batch)
                quantity = to_decimal(line.get('quantity'), 'quantity')
                if sign < 0 and quantity > 0:
                    quantity = -quantity
                # A quantity is in the product's sale unit, with its digits
                # (a kilogram of 3 digits: grams)
                unit = product.sale_uom
                if unit.digits is not None and quantity != round(
                        quantity, unit.digits):
                    raise Rejected('invalid_payload',
                        f"Line {i}: quantity {quantity} of "
                        f"{product.rec_name} has more decimals than its "
                        f"unit {unit.symbol} allows ({unit.digits}).")
                price = to_decimal(line.get('price'), 'price')
                base = to_decimal(line.get('unit_price', line.get('price')),
                    'unit_price')
                taxes = batch.customer_taxes(product)
                list_price, gross = cls.unit_prices(
                    price, taxes, date, terminal.tax_included)
                allocations = cls.line_lots(
                    batch, product, line, quantity, date)
                lot = allocations[0][0] if allocations else None
                discount = line.get('discount')
                line_values.append({
                        'product': product.id,
                        'quantity': float(quantity),
                        'unit_list_price': list_price,
                        'unit_gross_price': gross,
                        'base_price': base,
                        'discount': (json.dumps(discount, sort_keys=True)
                            if discount else None),
                        'lot': lot,
                        'lots': [('create', [
                                        {'lot': lot_id,
                                            'quantity': float(qty)}
                                        for lot_id, qty in allocations])]
                        if len(allocations) > 1 else [],
                        })
                total += currency.round(quantity * gross)
                if not (product.active and product.template.active):
                    flags.append(cls.flag(None, 'archived_product', product,
                            batch=batch))
                expected = cls.server_price(batch, product, quantity, date)
                compared = base
                if expected is not None and abs(
                        expected - compared) >= Decimal('0.005'):
                    flags.append(cls.flag(None, 'price_drift', product,
                            expected=dec(expected), actual=dec(compared),
                            batch=batch))
        payments = payload.get('payments')
        if not isinstance(payments, list):
            raise Rejected('invalid_payload', "payments must be a list.")
        payment_values = []
        paid = Decimal(0)
        for payment in payments:
            if not isinstance(payment, dict):
                raise Rejected('invalid_payload', "A payment is bad.")
            method_id = to_int(payment.get('method'), 'method')
            if batch.method(method_id) is None:
                raise Rejected('unknown_method',
                    f"Payment method {method_id} does not exist.")
            amount = to_decimal(payment.get('amount'), 'amount')
            paid += amount
            payment_values.append({'method': method_id, 'amount': amount})
        if paid != total:
            raise Rejected('unbalanced_payment',
                f"Payments {money(paid)} do not match the total "
                f"{money(total)}.")
        refunds = cls.check_refund(batch, payload, payment_values)
        customer = cls.sale_customer(batch, payload, flags)
        if receipt_number in batch.receipts:
            flags.append(cls.flag(None, 'duplicate_receipt',
                    actual=str(receipt_number), batch=batch))
        number = f'{terminal.receipt_prefix}-{receipt_number:06d}'
        result = {'sale': None, 'number': number,
            'flags': sorted({f['kind'] for f in flags})}
        # The device's receipt number is the sale's number: no sequence
        batch.pending.append({
                'sale': {
                    'company': batch.company.id,
                    'point': terminal.id,
                    'employee': data.get('employee'),
                    'date': date,
                    'number': number,
                    'receipt_number': receipt_number,
                    'client_time': cls.utc(client_time),
                    'original_receipt': payload.get('original_receipt'),
                    'customer': customer,
                    'state': 'done',
                    },
                'lines': line_values,
                'payments': payment_values,
                'flags': flags,
                'client_time': cls.utc(client_time),
                'result': result,
                'values': batch.values,
                'receipt_number': receipt_number,
                })
        batch.receipts.add(receipt_number)
        for method_id, amount in refunds.items():
            batch.refunded[payload['original_receipt']][method_id] += amount
        return result

    @classmethod
    def line_lots(cls, batch, product, line, quantity, date):
        """The lots of a pushed line as [(lot id, quantity)], quantities
        signed as the line's: the till's "lots" (a line it split over
        lots) or its "lot", else first expiring first out for a sold
        product with lots"""
        Lot = Pool().get('stock.lot')
        given = line.get('lots')
        if given is not None:
            if not isinstance(given, list) or not given:
                raise Rejected('invalid_payload',
                    "lots must be a non-empty list of {lot, quantity}.")
            allocations = []
            for entry in given:
                if not isinstance(entry, dict):
                    raise Rejected('invalid_payload',
                        "lots must be a non-empty list of {lot, quantity}.")
                allocations.append((to_int(entry.get('lot'), 'lot'),
                        to_decimal(entry.get('quantity'), 'lots quantity')))
            if sum(abs(q) for _, q in allocations) != abs(quantity):
                raise Rejected('invalid_payload',
                    f"The quantities of the lots of product {product.id} "
                    f"do not add up to the line's {dec(quantity)}.")
            sign = -1 if quantity < 0 else 1
            allocations = [(lot, sign * abs(q)) for lot, q in allocations]
        elif line.get('lot') is not None:
            allocations = [(to_int(line['lot'], 'lot'), quantity)]
        elif quantity > 0 and product.type != 'service':
            return cls.fefo_lots(batch, product, quantity, date)
        else:
            return []
        ids = {lot for lot, _ in allocations}
        if len(ids) != len(allocations):
            raise Rejected('invalid_payload',
                f"A lot is given twice for product {product.id}.")
        found = {lot.id for lot in Lot.search([
                    ('id', 'in', list(ids)),
                    ('product', '=', product.id),
                    ])}
        for lot, _ in allocations:
            if lot not in found:
                raise Rejected('unknown_lot',
                    f"Lot {lot} of product {product.id} does not exist.")
        if product.id in batch.lot_stock:
            cls.take_lots(batch, product, allocations)
        return allocations

    @classmethod
    def sale_customer(cls, batch, payload, flags):
        """The party of the sale's customer: "customer" (a server id) or
        "customer_uuid" (the id the till gave a customer it created, pushed
        by an earlier customer operation); a customer the server does not
        know flags the sale (unknown_customer), it does not reject it"""
        Party = Pool().get('party.party')
        customer = payload.get('customer')
        uuid = payload.get('customer_uuid')
        if customer is None and not uuid:
            return None
        with Transaction().set_context(active_test=False):
            if customer is not None:
                parties = Party.search(
                    [('id', '=', to_int(customer, 'customer'))])
                if parties:
                    return parties[0].id
            if uuid:
                if not isinstance(uuid, str) or len(uuid) > 64:
                    raise Rejected('invalid_payload',
                        "customer_uuid must be a string.")
                parties = Party.search([('retail_uuid', '=', uuid)])
                if parties:
                    return parties[0].id
        flags.append(cls.flag(None, 'unknown_customer',
                actual=str(customer if customer is not None else uuid),
                batch=batch))
        return None

    @classmethod
    def check_refund(cls, batch, payload, payments):
        """A refund to a non-cash method: only when the branch refunds to
        the original method, to a method the original sale was paid with,
        and never more than was paid with it (all refunds of the receipt
        together).  Return {method id: amount} refunded to non-cash
        methods."""
        Sale = Pool().get('sale.point.sale')
        refunds = defaultdict(Decimal)
        for payment in payments:
            method = batch.method(payment['method'])
            if payment['amount'] < 0 and method.type != 'cash':
                refunds[method.id] -= payment['amount']
        if not refunds:
            return refunds
        original = payload.get('original_receipt')
        if original is not None and not isinstance(original, str):
            raise Rejected('invalid_payload',
                "original_receipt must be a receipt number (a string).")
        branch = batch.branch
        if getattr(branch, 'refund_to', 'cash') != 'original':
            raise Rejected('refund_method',
                f"Branch {branch.code} refunds in cash only.")
        if not original:
            raise Rejected('refund_method',
                "A refund to a non-cash method needs the original receipt "
                "(original_receipt).")
        allowed = Sale.refundable_methods(batch.company, branch, original)
        if original not in batch.refunded:
            batch.refunded[original] = Sale.refunded_amounts(
                batch.company, original)
        refunded = batch.refunded[original]
        for method_id, amount in sorted(refunds.items()):
            method = batch.method(method_id)
            if method_id not in allowed:
                raise Rejected('refund_method',
                    f"Receipt {original} was not paid with {method.name}: "
                    "refund it in cash.")
            if refunded.get(method_id, 0) + amount > allowed[method_id]:
                left = allowed[method_id] - refunded.get(method_id, 0)
                raise Rejected('refund_exceeds_payment',
                    f"A refund of {money(amount)} to {method.name} exceeds "
                    f"what is left of the {money(allowed[method_id])} paid "
                    f"with it on receipt {original}: {money(max(left, 0))}.")
        return refunds

    @classmethod
    def create_sales(cls, batch, entries):
        "Create the sales of entries with one create call per model"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Line = pool.get('sale.point.sale.line')
        Payment = pool.get('sale.point.payment')
        Flag = pool.get('retail.sync.sale.flag')
        Method = pool.get('sale.point.payment.method')
        Point = pool.get('sale.point')
        Session = pool.get('sale.point.cash.session')
        # A cash payment goes to the terminal's current session, which
        # sale_point opens if there is none: the sale joins that session
        # (a card-only sale opens none)
        cash = {m.id for m in Method.search([('cash', '=', True)])}
        current = {}
        for entry in entries:
            values = entry['sale']
            if values.get('cash_session') or not any(
                    p['method'] in cash for p in entry['payments']):
                continue
            point = values['point']
            if point not in current:
                current[point] = Session.get_current(Point(point)).id
            values['cash_session'] = current[point]
        sales = Sale.create([e['sale'] for e in entries])
        lines, payments, flags = [], [], []
        for entry, sale in zip(entries, sales):
            lines.extend(dict(v, sale=sale.id) for v in entry['lines'])
            payments.extend(dict(v, sale=sale.id) for v in entry['payments'])
            flags.extend(dict(f, sale=sale.id) for f in entry['flags'])
        Line.create(lines)
        Payment.create(payments)
        if flags:
            Flag.create(flags)
        sales = Sale.browse([s.id for s in sales])
        # The checks Sale.create would have made with lines and payments
        Sale.validate(sales)
        cls.count_corrections(batch, sales, entries)
        return sales

    @classmethod
    def flush_sales(cls, batch):
        """Create the pending sales of the batch together; if that fails,
        one by one, each in its savepoint: a sale that cannot be created
        is rejected"""
        entries, batch.pending = batch.pending, []
        # Records created together are validated together, and
        # instantiating each costs O(len(records)) in trytond: chunks keep
        # the whole linear
        for i in range(0, len(entries), POST_CHUNK):
            cls._flush_chunk(batch, entries[i:i + POST_CHUNK])

    @classmethod
    def _flush_chunk(cls, batch, entries):
        try:
            with savepoint():
                sales = cls.create_sales(batch, entries)
        except (backend.DatabaseOperationalError, TransactionError):
            raise
        except Exception:
            sales = []
            for entry in entries:
                try:
                    with savepoint():
                        sale, = cls.create_sales(batch, [entry])
                except (backend.DatabaseOperationalError, TransactionError):
                    raise
                except Exception as e:
                    if not isinstance(e, (UserError, UserWarning,
                                ValidationError)):
                        logger.exception("sync sale %s failed",
                            entry['values']['uuid'])
                    message = str(getattr(e, 'message', e))
                    entry['values'].update(state='rejected',
                        first_state='rejected', reason_code='error',
                        reason=message)
                    entry['rejected'] = {'code': 'error', 'message': message}
                    continue
                sales.append(sale)
        else:
            entries = list(entries)
        created = iter(sales)
        for entry in entries:
            if entry.get('rejected'):
                continue
            entry['result']['sale'] = next(created).id
        batch.sales.extend(sales)
        batch.rejected_sales.extend(e for e in entries if e.get('rejected'))

    @classmethod
    def handle_return(cls, batch, data, payload, client_time):
        return cls.handle_sale(batch, data, payload, client_time, sign=-1)

    @classmethod
    def handle_void(cls, batch, data, payload, client_time):
        receipt_number = to_int(payload.get('receipt_number'),
            'receipt_number')
        return {'receipt_number': receipt_number, 'voided': True}

    @classmethod
    def _transfer(cls, batch, payload, client_time, amount, type_id=None):
        pool = Pool()
        Transfer = pool.get('sale.point.cash.transfer')
        TransferType = pool.get('sale.point.cash.transfer.type')
        type_id = type_id or to_int(payload.get('transfer_type'),
            'transfer_type')
        if not TransferType.search([('id', '=', type_id)]):
            raise Rejected('invalid_payload',
                f"Cash transfer type {type_id} does not exist.")
        transfer, = Transfer.create([{
                    'point': batch.terminal.id,
                    'type': type_id,
                    'amount': amount,
                    'date': cls.business_date(batch, client_time),
                    }])
        Transfer.post([transfer])
        return transfer

    @classmethod
    def handle_cash_in(cls, batch, data, payload, client_time, sign=1):
        amount = to_decimal(payload.get('amount'), 'amount')
        if amount <= 0:
            raise Rejected('invalid_payload', "amount must be positive.")
        transfer = cls._transfer(batch, payload, client_time, sign * amount)
        return {'transfer': transfer.id, 'session': transfer.session.id,
            'session_uuid': transfer.session.retail_uuid}

    @classmethod
    def handle_cash_out(cls, batch, data, payload, client_time):
        return cls.handle_cash_in(batch, data, payload, client_time, sign=-1)

    @classmethod
    def handle_session_open(cls, batch, data, payload, client_time):
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Configuration = pool.get('retail.sync.configuration')
        uuid = payload.get('session')
        if uuid is not None:
            if not isinstance(uuid, str) or not 0 < len(uuid) <= 64:
                raise Rejected('invalid_payload',
                    "session must be the session's UUID (a string).")
            if Session.by_uuid(batch.terminal, uuid):
                raise Rejected('invalid_payload',
                    f"Cash session {uuid} was already opened.")
        opening = payload.get('opening_amount')
        if opening is not None:
            opening = to_decimal(opening, 'opening_amount')
            if opening < 0:
                raise Rejected('invalid_payload',
                    "opening_amount cannot be negative.")
        session = Session.get_current(batch.terminal)
        if uuid is not None and session.retail_uuid not in {None, uuid}:
            raise Rejected('session_still_open',
                f"Cash session {session.retail_uuid} of the terminal is "
                "still open: its close must be recorded first.")
        start = session.start_amount
        if opening is not None and not session.retail_float_transfer:
            difference = opening - start
            if difference:
                config = Configuration(1)
                if not config.float_transfer_type:
                    raise Rejected('not_configured',
                        "No float transfer type is configured "
                        "(Retail › Configuration › Sync).")
                session.retail_float_transfer = cls._transfer(
                    batch, payload, client_time, difference,
                    type_id=config.float_transfer_type.id)
        if uuid is not None:
            session.retail_uuid = uuid
        session.save()
        opening = start
        if session.retail_float_transfer:
            opening += session.retail_float_transfer.amount
        transfer = session.retail_float_transfer
        round_ = session.currency.round
        return {'session': session.id, 'uuid': session.retail_uuid,
            'start_amount': money(round_(start)),
            'opening_amount': money(round_(opening)),
            'float_transfer': transfer.id if transfer else None}

    @classmethod
    def handle_session_close(cls, batch, data, payload, client_time):
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Configuration = pool.get('retail.sync.configuration')
        counted = to_decimal(payload.get('counted_cash'), 'counted_cash')
        sessions = Session.search([
                ('point', '=', batch.terminal.id),
                ('state', '=', 'open'),
                ], limit=1)
        if not sessions:
            raise Rejected('no_open_session',
                "The terminal has no open cash session.")
        session, = sessions
        expected = session.start_amount + session.balance
        difference = counted - expected
        transfer = None
        if difference:
            config = Configuration(1)
            if not config.cash_difference_type:
                raise Rejected('not_configured',
                    "No cash difference type is configured "
                    "(Retail › Configuration › Sync).")
            transfer = cls._transfer(batch, payload, client_time, difference,
                type_id=config.cash_difference_type.id)
            session = Session(session.id)
        session.end_amount = counted
        session.retail_difference_transfer = transfer
        session.save()
        Session.close([session])
        session = Session(session.id)
        return {'session': session.id, 'expected': money(expected),
            'counted': money(counted), 'difference': money(difference),
            'figures': session.figures()}

    @classmethod
    def handle_audit(cls, batch, data, payload, client_time):
        Override = Pool().get('retail.sync.override')
        override = Override.record(batch, data, payload,
            cls.utc(client_time), cls.business_date(batch, client_time))
        return {'override': override.id}

    @classmethod
    def handle_customer(cls, batch, data, payload, client_time):
        pool = Pool()
        Party = pool.get('party.party')
        Mechanism = pool.get('party.contact_mechanism')
        fields_ = payload.get('fields')
        if not isinstance(fields_, dict):
            raise Rejected('invalid_payload', "fields must be an object.")
        allowed = {'name', 'email', 'phone'}
        if set(fields_) - allowed:
            raise Rejected('invalid_payload',
                f"Unknown fields: {sorted(set(fields_) - allowed)}")
        party = None
        with Transaction().set_context(active_test=False):
            if payload.get('customer') is not None:
                parties = Party.search(
                    [('id', '=', to_int(payload['customer'], 'customer'))])
                if not parties:
                    raise Rejected('unknown_customer',
                        f"Customer {payload['customer']} does not exist.")
                party, = parties
            elif payload.get('customer_uuid'):
                parties = Party.search(
                    [('retail_uuid', '=', str(payload['customer_uuid']))])
                if parties:
                    party, = parties
        stamp = cls.utc(client_time).isoformat()
        if party is None:
            if not fields_.get('name'):
                raise Rejected('invalid_payload', "A customer needs a name.")
            party = Party(name=fields_['name'],
                retail_uuid=payload.get('customer_uuid'), retail_version=0,
                retail_field_times='{}')
            party.save()
        times = json.loads(party.retail_field_times or '{}')
        applied, ignored = [], []
        for name, value in sorted(fields_.items()):
            if times.get(name) and times[name] > stamp:
                ignored.append(name)
                continue
            times[name] = stamp
            applied.append(name)
            if name == 'name':
                party.name = value
            else:
                types = ['email'] if name == 'email' else ['phone', 'mobile']
                mechanisms = [m for m in party.contact_mechanisms
                    if m.type in types]
                if mechanisms:
                    if value:
                        Mechanism.write(mechanisms[:1], {'value': value})
                    else:
                        Mechanism.delete(mechanisms[:1])
                elif value:
                    Mechanism.create([{'party': party.id,
                                'type': types[0], 'value': value}])
        party.retail_field_times = json.dumps(times, sort_keys=True)
        party.retail_version = (party.retail_version or 0) + 1
        party.save()
        record = ser_customer([party.id], None)[party.id]
        return {'customer': party.id, 'version': party.retail_version,
            'data': record, 'ignored_fields': ignored}

    @classmethod
    def adjustment_location(cls):
        pool = Pool()
        Configuration = pool.get('retail.sync.configuration')
        Location = pool.get('stock.location')
        config = Configuration(1)
        if config.adjustment_location:
            return config.adjustment_location
        locations = Location.search([('type', '=', 'lost_found')], limit=1)
        if not locations:
            raise Rejected('not_configured',
                "No lost and found location for count adjustments.")
        return locations[0]

    @classmethod
    def adjust(cls, batch, product, quantity, date, origin, lot=None):
        "Book quantity (signed, positive = more stock) for the branch"
        Move = Pool().get('stock.move')
        if not quantity:
            return None
        storage = batch.terminal.storage_location
        other = cls.adjustment_location()
        from_, to = (other, storage) if quantity > 0 else (storage, other)
        move, = Move.create([{
                    'product': product.id,
                    'unit': product.default_uom.id,
                    'quantity': float(abs(quantity)),
                    'from_location': from_.id,
                    'to_location': to.id,
                    'effective_date': date,
                    'company': batch.company.id,
                    'origin': str(origin),
                    'lot': lot,
                    }])
        Move.do([move])
        return move

    @classmethod
    def handle_stock_count(cls, batch, data, payload, client_time):
        pool = Pool()
        Count = pool.get('retail.sync.stock.count')
        SaleLine = pool.get('sale.point.sale.line')
        lines = payload.get('lines')
        if not isinstance(lines, list) or not lines:
            raise Rejected('invalid_payload', "A count needs lines.")
        counted_at = cls.utc(client_time)
        date = cls.business_date(batch, client_time)
        adjustments = []
        for line in lines:
            product = cls.get_product(line.get('product'))
            counted = to_decimal(line.get('quantity'), 'quantity')
            lot = to_int(line.get('lot'), 'lot', required=False)
            ledger = stock_quantities(
                [product.id], batch.locations).get(product.id, Decimal(0))
            # Sales recorded with a time after the count are not in what
            # was counted: put them back to get the ledger at count time
            later = SaleLine.search([
                    ('product', '=', product.id),
                    ('sale.point.branch', '=', batch.branch.id),
                    ('sale.client_time', '>', counted_at),
                    ('sale.state', '=', 'posted'),
                    ])
            expected = ledger + sum(
                (Decimal(str(line_.quantity)) for line_ in later), Decimal(0))
            count, = Count.create([{
                        'branch': batch.branch.id,
                        'product': product.id,
                        'lot': lot,
                        'counted_at': counted_at,
                        'quantity': float(counted),
                        'expected': float(expected),
                        }])
            difference = counted - expected
            cls.adjust(batch, product, difference, date, count, lot=lot)
            adjustments.append({'product': product.id,
                    'quantity': dec(difference), 'count': count.id})
        return {'adjustments': adjustments}

    @classmethod
    def count_corrections(cls, batch, sales, entries):
        """A sale made before a count but recorded after it was already in
        what was counted: the count's adjustment absorbs it"""
        Count = Pool().get('retail.sync.stock.count')
        earliest = min(e['client_time'] for e in entries)
        table = Count.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id, where=(
                    table.branch == batch.branch.id)
                & (table.counted_at > earliest), limit=1))
        if not cursor.fetchone():
            return
        for sale, entry in zip(sales, entries):
            for line in sale.lines:
                if line.product.type == 'service':
                    continue
                counts = Count.search([
                        ('branch', '=', batch.branch.id),
                        ('product', '=', line.product.id),
                        ('counted_at', '>', entry['client_time']),
                        ], order=[('counted_at', 'ASC'), ('id', 'ASC')],
                    limit=1)
                if counts:
                    count, = counts
                    cls.adjust(batch, line.product,
                        Decimal(str(line.quantity)), count.counted_at.date(),
                        count)

    @classmethod
    def post_batch(cls, batch):
        """Post the stock and account moves of the sales of the batch, all at
        once; a sale that cannot be posted stays recorded and is flagged"""
        Sale = Pool().get('sale.point.sale')
        if not batch.sales:
            return
        ids = [s.id for s in batch.sales]
        sales = Sale.browse(ids)
        for chunk in grouped_slice(ids, BULK_POST_CHUNK):
            chunk = list(chunk)
            # What sale.point.sale.post would make, one insert per model
            # (posting.py); the sales it does not cover and a chunk it
            # fails on go through sale.point.sale.post
            try:
                with savepoint():
                    left = batch.poster.post(chunk)
            except (backend.DatabaseOperationalError, TransactionError):
                raise
            except Exception:
                logger.info("bulk posting failed, posting one by one",
                    exc_info=True)
                left = chunk
            for sub in grouped_slice(left, POST_CHUNK):
                cls._post_chunk(batch, list(sub))
        cls.flag_oversell(batch, sales)

    @classmethod
    def _post_chunk(cls, batch, ids):
        Sale = Pool().get('sale.point.sale')
        # Records browsed together read together, but instantiating each
        # costs O(len(ids)) in trytond: chunks keep that linear
        sales = Sale.browse(ids)
        transaction = Transaction()
        # POSSaleLine.taxes keeps the taxes of a product while it is set
        transaction._retail_sync_taxes = {}
        try:
            cls._post_sales(batch, sales)
        finally:
            del transaction._retail_sync_taxes

    @classmethod
    def _post_sales(cls, batch, sales):
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Flag = pool.get('retail.sync.sale.flag')
        try:
            with savepoint():
                Sale.post(sales)
        except (backend.DatabaseOperationalError, TransactionError):
            raise
        except Exception:
            for sale in sales:
                try:
                    with savepoint():
                        Sale.post([Sale(sale.id)])
                except (backend.DatabaseOperationalError, TransactionError):
                    raise
                except Exception as e:
                    Flag.create([cls.flag(sale.id, 'posting_error',
                                actual=str(getattr(e, 'message', e))[:500],
                                batch=batch)])

    @classmethod
    def flag_oversell(cls, batch, sales):
        """Flag the sales of products whose branch stock went negative
        (oversell), and of lots whose branch stock went negative
        (lot_oversell)"""
        Flag = Pool().get('retail.sync.sale.flag')
        products = {line_.product.id for s in sales for line_ in s.lines
            if line_.quantity > 0 and line_.product.type != 'service'}
        quantities = stock_quantities(list(products), batch.locations)
        lot_products = {line_.product.id for s in sales for line_ in s.lines
            if line_.product.id in products and line_.lot}
        lot_quantities = stock_quantities(
            list(lot_products), batch.locations, by_lot=True)
        flags = []
        for sale in sales:
            for line in sale.lines:
                if line.product.id not in products:
                    continue
                if quantities.get(line.product.id, 0) < 0:
                    flags.append(cls.flag(sale.id, 'oversell', line.product,
                            actual=dec(quantities[line.product.id]),
                            batch=batch))
                if not line.lot:
                    continue
                for lot, _ in line.lot_quantities():
                    quantity = lot_quantities.get(
                        (line.product.id, lot.id), 0)
                    if quantity < 0:
                        flags.append(cls.flag(sale.id, 'lot_oversell',
                                line.product, actual=dec(quantity),
                                batch=batch, lot=lot.id))
        if flags:
            Flag.create(flags)
        batch.sales = []
        for flag in flags:
            batch.post_flags.setdefault(flag['sale'], set()).add(flag['kind'])
