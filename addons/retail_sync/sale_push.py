# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The sale, return and void operations: a pushed sale is checked against
what the server knows (prices, lots, payments, refunds), created with the
other sales of its push in one create call per model, then posted (stock
and account moves, posting.py) and flagged where it differs."""
import datetime as dt
import json
import logging
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

from sql.aggregate import Sum

from trytond import backend
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import ValidationError
from trytond.modules.product import round_price
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, TransactionError

from .changelog import in_
from .posting import BROWSE_SLICE, sale_taxes
from .price_check import price_list_product
from .push import OperationHandler, savepoint
from .serialise import (
    fefo_key, gross_price_used, product_prices, sell_by, stock_quantities)
from .stock import StockCountHandler
from .wire import Rejected, dec, money, to_decimal, to_int, utc

logger = logging.getLogger(__name__)
POST_CHUNK = 25
BULK_POST_CHUNK = 500
# The most sales recorded with one insert per model
BULK_RECORD_CHUNK = 500


class SaleHandler(OperationHandler):
    "A sale made at the till, paid, to record and post"
    string = 'retail_sync.msg_operation_type_sale'
    payload_schema = 'SalePayload'
    session = True
    # A sale is a fact: booked even when its session has closed since
    closed_session = True
    receipt = True
    # Sales in a row are created together
    batched = True
    # What handle checks waits in the batch until flush creates it (or
    # the posting task records it); only the opening of a cash session
    # writes, in a savepoint of its own (sale_session)
    writes = False
    sign = 1

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        return cls.handle_sale(batch, data, payload, client_time,
            sign=cls.sign)

    @classmethod
    def handle_sale(cls, batch, data, payload, client_time, sign=1):
        terminal = batch.terminal
        receipt_number = to_int(payload.get('receipt_number'),
            'receipt_number')
        lines = payload.get('lines')
        if not isinstance(lines, list) or not lines:
            raise Rejected('invalid_payload', "A sale needs lines.")
        date = cls.business_date(batch, client_time)
        currency = batch.currency
        # currency.round without reading the currency for each amount
        factor = batch.currency_rounding

        def round_(amount):
            return currency._round(amount, factor, ROUND_HALF_EVEN)
        flags = []
        line_values = []
        total = Decimal(0)
        # The figures of the sale for its session's X/Z (summary)
        total_tax = discounts = Decimal(0)
        taxable = []
        with Transaction().set_context(company=batch.company.id):
            for i, line in enumerate(lines):
                if not isinstance(line, dict):
                    raise Rejected('invalid_payload', f"Line {i} is bad.")
                # Read with the push's other products (ProductInfo)
                product = cls.get_product_info(line.get('product'), batch)
                quantity = to_decimal(line.get('quantity'), 'quantity')
                if sign < 0 and quantity > 0:
                    quantity = -quantity
                # A quantity is in the product's sale unit, with its digits
                # (a kilogram of 3 digits: grams)
                unit = product.unit
                if unit.digits is not None and quantity != round(
                        quantity, unit.digits):
                    raise Rejected('invalid_payload',
                        f"Line {i}: quantity {quantity} of "
                        f"{product.record.rec_name} has more decimals than "
                        f"its unit {unit.symbol} allows ({unit.digits}).")
                price = to_decimal(line.get('price'), 'price')
                base = to_decimal(line.get('unit_price', line.get('price')),
                    'unit_price')
                taxes = batch.customer_taxes(product)
                list_price, gross = cls.batch_unit_prices(
                    batch, price, taxes, date, batch.tax_included)
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
                gross_amount = round_(quantity * gross)
                total += gross_amount
                total_tax += gross_amount - round_(
                    quantity * list_price)
                taxable.append((taxes, list_price, float(quantity), date))
                # What the line would have cost without its discount
                full = base if batch.tax_included else (
                    cls.batch_unit_prices(batch, base, taxes, date, False)[1])
                discounts += round_(quantity * full) - gross_amount
                # The product and its template active
                if not product.active:
                    flags.append(cls.flag(None, 'archived_product', product,
                            batch=batch))
                # A lot sold at its own price (a markdown) is not a drift
                expected = None
                if allocations:
                    expected = Pool().get('retail.sync.push').lot_unit_price(
                        batch, cls.get_product(product.id, batch), quantity,
                        date, allocations)
                if expected is None:
                    expected = cls.server_price(
                        batch, product, quantity, date)
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
        number = f'{batch.receipt_prefix}-{receipt_number:06d}'
        result = {'sale': None, 'number': number,
            'flags': sorted({f['kind'] for f in flags})}
        summary = json.dumps({
                'total': dec(total),
                'tax': dec(total_tax),
                'taxes': cls.summary_taxes(
                    batch, taxable, total_tax, date),
                'payments': [[p['method'], dec(p['amount'])]
                    for p in payment_values],
                'discount': dec(discounts),
                }, separators=(',', ':'))
        # Last: nothing rejects the sale once its session is opened
        session = cls.sale_session(batch, payment_values)
        batch.values['session'] = session
        batch.values['summary'] = summary
        # The device's receipt number is the sale's number: no sequence
        batch.pending.append({
                'sale': {
                    'company': batch.company.id,
                    'point': terminal.id,
                    'employee': data.get('employee'),
                    'date': date,
                    'number': number,
                    'receipt_number': receipt_number,
                    'client_time': utc(client_time),
                    'original_receipt': payload.get('original_receipt'),
                    'customer': customer,
                    'cash_session': session,
                    'state': 'done',
                    },
                'lines': line_values,
                'payments': payment_values,
                'flags': flags,
                'client_time': utc(client_time),
                'result': result,
                'values': batch.values,
                'receipt_number': receipt_number,
                })
        batch.receipts.add(receipt_number)
        for method_id, amount in refunds.items():
            batch.refunded[payload['original_receipt']][method_id] += amount
        return result

    @classmethod
    def summary_taxes(cls, batch, taxable, total_tax, date):
        """The taxes of a sale in its summary, [[tax id, base, amount]]:
        those posting.sale_taxes computes from its taxable lines [(taxes,
        unit list price, quantity, date)] and total tax, once per batch
        for the same ones (a function of them within a push)"""
        key = (tuple((tuple(t.id for t in taxes), str(price), repr(qty),
                    line_date) for taxes, price, qty, line_date in taxable),
            str(total_tax), date)
        if key not in batch.sale_taxes:
            def compute():
                with batch.tax_lookup.active():
                    return [
                        [t.tax.id, dec(t.base), dec(t.amount)]
                        for t in sale_taxes(batch.company, batch.currency,
                            taxable, total_tax, date)]
            batch.sale_taxes[key] = batch.shared_figure(
                ('summary_taxes', batch.company.id, batch.currency.id)
                + key, compute)
        return batch.sale_taxes[key]

    @classmethod
    def sale_session(cls, batch, payments):
        """The id of the cash session a sale joins: the terminal's open
        one, opened for a sale paid in cash if there is none (as sale_point
        does for a cash payment); None for a sale not paid in cash when
        none is open, or at a terminal without a branch.  The same for the
        sales handled in a row (batch.current_session, reset by flush)."""
        Session = Pool().get('sale.point.cash.session')
        cash_methods = batch.cash_methods
        cash = any(p['method'] in cash_methods for p in payments)
        if batch.current_session is None:
            sessions = Session.search([
                    ('point', '=', batch.terminal.id),
                    ('state', '=', 'open'),
                    ], limit=1)
            batch.current_session = sessions[0].id if sessions else False
        if not batch.current_session and cash:
            # The one write of the handler (see writes): undone if it fails
            with savepoint():
                batch.current_session = Session.get_current(
                    batch.terminal).id
        if not cash and not batch.terminal.branch:
            return None
        return batch.current_session or None

    @classmethod
    def line_lots(cls, batch, product, line, quantity, date):
        """The lots of a pushed line as [(lot id, quantity)], quantities
        signed as the line's: the till's "lots" (a line it split over
        lots) or its "lot", else first expiring first out for a sold
        product with lots"""
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
        Lot = Pool().get('stock.lot')
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
    def lot_stock(cls, batch, product):
        """The lots of product as [sell-by date, id, branch quantity],
        first expiring first out (sell-by date, then the oldest lot); None
        without lots.  Kept for the batch: what its sales take is taken
        off."""
        Lot = Pool().get('stock.lot')
        if product.id in batch.product_info and (
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
        # A price list may have quantity breaks: the price depends on it
        key = (product.id, quantity)
        if key not in batch.prices:
            included = batch.tax_included
            taxes = batch.customer_taxes(product)
            price_list = batch.price_list
            if product.id not in batch.price_data:
                batch.price_data.update(
                    product_prices([product.id], batch.company.id))
            prices = batch.price_data.get(product.id, {})
            if price_list:
                # Tryton's compute on the product's fields read with the
                # push's other products (price_check.py)
                record = price_list_product(batch, product.id)
                with Transaction().set_context(company=batch.company.id):
                    price = price_list.compute(
                        record, quantity, record.sale_uom)
                list_included = bool(price_list.tax_included)
            elif included:
                price = gross_price_used(prices.get('list_price'),
                    prices.get('gross_price'), taxes, date)
                list_included = True
            else:
                price = prices.get('list_price')
                list_included = False
            if price is not None and list_included != included:
                # As gross_price_used(price, None, ...) and reverse_compute
                # do, kept across pushes (unit_prices): at a branch with a
                # price list most prices are new ones
                if included:
                    price = cls.batch_unit_prices(
                        batch, price, taxes, date, False)[1]
                else:
                    price = cls.batch_unit_prices(
                        batch, price, taxes, date, True)[0]
            batch.prices[key] = price
        return batch.prices[key]

    @classmethod
    def batch_unit_prices(cls, batch, price, taxes, date, tax_included):
        "unit_prices, computed once per batch for the same arguments"
        key = (tuple(t.id for t in taxes), str(price), date,
            bool(tax_included))
        if key not in batch.unit_prices:
            batch.unit_prices[key] = batch.shared_figure(
                ('unit_prices',) + key,
                lambda: cls.unit_prices(price, taxes, date, tax_included))
        return batch.unit_prices[key]

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
        refunds = defaultdict(Decimal)
        for payment in payments:
            if payment['amount'] >= 0:
                continue
            method = batch.method(payment['method'])
            if method.type != 'cash':
                refunds[method.id] -= payment['amount']
        if not refunds:
            return refunds
        Sale = Pool().get('sale.point.sale')
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
    def flush(cls, batch):
        """Create the pending sales of the batch together; if that fails,
        one by one, each in its savepoint: a sale that cannot be created
        is rejected"""
        entries, batch.pending = batch.pending, []
        # What follows (a session opened or closed) may change it
        batch.current_session = None
        if batch.defer_records:
            # Recorded after the commit by the posting task (record)
            batch.deferred.extend(entries)
            return
        cls.create_entries(batch, entries)

    @classmethod
    def create_entries(cls, batch, entries):
        """Create the sales of entries, in their order: in bulk those the
        recorder covers (recording.py), BULK_RECORD_CHUNK at a time, the
        others with create_sales, POST_CHUNK at a time; an entry whose sale
        cannot be created gets "rejected" {code, message}"""
        recorder = batch.recorder
        if not entries:
            return
        if recorder.triggers():
            runs = [(False, entries)]
        else:
            recorder.prefetch(entries)
            runs = []
            for entry in entries:
                covered = recorder.covered(batch, entry)
                if runs and runs[-1][0] == covered:
                    runs[-1][1].append(entry)
                else:
                    runs.append((covered, [entry]))
        for covered, run in runs:
            if covered:
                for i in range(0, len(run), BULK_RECORD_CHUNK):
                    cls._record_chunk(batch, run[i:i + BULK_RECORD_CHUNK])
            else:
                # Records created together are validated together, and
                # instantiating each costs O(len(records)) in trytond:
                # chunks keep the whole linear
                for i in range(0, len(run), POST_CHUNK):
                    cls._flush_chunk(batch, run[i:i + POST_CHUNK])

    @classmethod
    def _record_chunk(cls, batch, entries):
        "Record entries in bulk; through create_sales if that fails"
        Sale = Pool().get('sale.point.sale')
        try:
            with savepoint():
                ids = batch.recorder.record(batch, entries)
                sales = []
                for sub in grouped_slice(ids, BROWSE_SLICE):
                    sales.extend(Sale.browse(list(sub)))
                cls.count_corrections(batch, sales, entries)
        except (backend.DatabaseOperationalError, TransactionError):
            raise
        except Exception:
            logger.info("bulk recording failed, recording by create",
                exc_info=True)
            for i in range(0, len(entries), POST_CHUNK):
                cls._flush_chunk(batch, entries[i:i + POST_CHUNK])
            return
        for entry, sale_id in zip(entries, ids):
            entry['result']['sale'] = sale_id
        batch.sales.extend(sales)

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

    @staticmethod
    def encode(entry):
        "The sale of a checked entry as stored with its operation (JSON)"
        sale = dict(entry['sale'],
            date=entry['sale']['date'].isoformat(),
            client_time=entry['sale']['client_time'].isoformat())
        lines = []
        for line in entry['lines']:
            lots = line['lots'][0][1] if line['lots'] else []
            lines.append(dict(line,
                    unit_list_price=dec(line['unit_list_price']),
                    unit_gross_price=dec(line['unit_gross_price']),
                    base_price=dec(line['base_price']),
                    lots=[[v['lot'], v['quantity']] for v in lots]))
        return json.dumps({
                'sale': sale,
                'lines': lines,
                'payments': [dict(p, amount=dec(p['amount']))
                    for p in entry['payments']],
                'flags': entry['flags'],
                }, separators=(',', ':'))

    @staticmethod
    def decode(text):
        "The entry of a sale stored by encode, to create"
        data = json.loads(text)
        sale = data['sale']
        sale['date'] = dt.date.fromisoformat(sale['date'])
        sale['client_time'] = dt.datetime.fromisoformat(sale['client_time'])
        lines = []
        for line in data['lines']:
            lots = line['lots']
            lines.append(dict(line,
                    unit_list_price=Decimal(line['unit_list_price']),
                    unit_gross_price=Decimal(line['unit_gross_price']),
                    base_price=Decimal(line['base_price']),
                    lots=[('create', [{'lot': lot, 'quantity': quantity}
                                for lot, quantity in lots])]
                    if lots else []))
        return {
            'sale': sale,
            'lines': lines,
            'payments': [dict(p, amount=Decimal(p['amount']))
                for p in data['payments']],
            'flags': data['flags'],
            'client_time': sale['client_time'],
            'result': {},
            'values': {},
            }

    @classmethod
    def record(cls, batch, operations):
        """Create the sales of operations (of batch's terminal, in their
        order) from what was checked when they were acknowledged
        (sale_values), together as a push did; return {operation: sale id}
        and {operation: reason} for those whose sale could not be
        created"""
        entries = [cls.decode(o.sale_values) for o in operations]
        for entry, operation in zip(entries, operations):
            entry['values']['uuid'] = operation.uuid
        cls.create_entries(batch, entries)
        recorded, failed = {}, {}
        for entry, operation in zip(entries, operations):
            if entry.get('rejected'):
                failed[operation] = entry['rejected']['message']
            else:
                recorded[operation] = entry['result']['sale']
        return recorded, failed

    @classmethod
    def record_now(cls, batch, terminal=None):
        """Create now, in the request, the sales still to record of
        terminal (batch's by default): those of its operations waiting for
        the posting task, then those batch deferred: what follows reads
        them (a session's close and its balance, a refund and the original
        sale)"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Push = pool.get('retail.sync.push')
        if terminal is None or terminal == batch.terminal:
            terminal = batch.terminal
            Push.flush(batch)
            entries, batch.deferred = batch.deferred, []
        else:
            entries = []
        Operation.lock_posting(terminal.id)
        Push.record_operations(terminal, Operation.search([
                    ('terminal', '=', terminal.id),
                    ('posting', '=', 'pending'),
                    ('sale', '=', None),
                    ('sale_values', '!=', None),
                    ], order=[('sequence', 'ASC NULLS FIRST'),
                    ('id', 'ASC')]))
        if entries:
            cls.create_entries(batch, entries)

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
                    StockCountHandler.adjust(batch, line.product,
                        Decimal(str(line.quantity)), count.counted_at.date(),
                        count)

    @classmethod
    def finish(cls, batch):
        """Flag the oversold sales of the batch and post their stock and
        account moves, or with batch.defer_posting leave them to the
        posting task (retail.sync.operation post_pending) and flag them
        against the stock their branch will have once every recorded sale
        is posted"""
        if not batch.sales:
            return
        ids = [s.id for s in batch.sales]
        if batch.defer_posting:
            cls.flag_oversell(batch, ids, unposted=True)
            return
        cls.post_sales(batch, ids)
        cls.flag_oversell(batch, ids)

    @classmethod
    def flag_recorded(cls, batch, ids):
        """Flag the sales ids that the posting task recorded and posted
        against the stock they leave (oversell, lot_oversell)"""
        cls.flag_oversell(batch, ids, unposted=True)

    @classmethod
    def post_sales(cls, batch, ids):
        """Post the stock and account moves of the sales ids, all at once;
        a sale that cannot be posted stays recorded and is flagged
        posting_error"""
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

    @classmethod
    def _post_chunk(cls, batch, ids):
        Sale = Pool().get('sale.point.sale')
        # Records browsed together read together, but instantiating each
        # costs O(len(ids)) in trytond: chunks keep that linear
        sales = Sale.browse(ids)
        # The lines' taxes and their computation looked up once per batch
        with batch.tax_lookup.active():
            cls._post_sales(batch, sales)

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
    def flag_oversell(cls, batch, sale_ids, unposted=False):
        """Flag the sales of sale_ids whose products' branch stock went
        negative (oversell), and whose lots' branch stock went negative
        (lot_oversell); with unposted, the stock is what the done moves
        leave less what the branch's recorded but not yet posted sales
        take"""
        Flag = Pool().get('retail.sync.sale.flag')
        poster = batch.poster
        # The sales' lines as stored, read in SQL
        sales = poster.read(sale_ids)
        poster.prefetch(sales)
        products = {line['product'] for s in sales for line in s['lines']
            if line['quantity'] > 0
            and poster.product(line['product']).type != 'service'}
        quantities = stock_quantities(list(products), batch.locations)
        lot_products = {line['product'] for s in sales
            for line in s['lines']
            if line['product'] in products and line['lot']}
        lot_quantities = stock_quantities(
            list(lot_products), batch.locations, by_lot=True)
        if unposted and products:
            cls.subtract_unposted(batch, products, lot_products,
                quantities, lot_quantities)
        flags = []
        for sale in sales:
            for line in sale['lines']:
                product = line['product']
                if product not in products:
                    continue
                if quantities.get(product, 0) < 0:
                    flags.append(cls.flag(sale['id'], 'oversell',
                            poster.product(product),
                            actual=dec(quantities[product]), batch=batch))
                if not line['lot']:
                    continue
                for lot, _ in poster.lot_quantities(line):
                    quantity = lot_quantities.get((product, lot), 0)
                    if quantity < 0:
                        flags.append(cls.flag(sale['id'], 'lot_oversell',
                                poster.product(product),
                                actual=dec(quantity), batch=batch, lot=lot))
        if flags:
            Flag.create(flags)
        batch.sales = []
        for flag in flags:
            batch.post_flags.setdefault(flag['sale'], set()).add(flag['kind'])

    @classmethod
    def subtract_unposted(cls, batch, products, lot_products, quantities,
            lot_quantities):
        """Take from quantities (by product, in its default unit) and
        lot_quantities (by (product, lot)) what the recorded sales of the
        branch not posted yet will move"""
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Line = pool.get('sale.point.sale.line')
        LineLot = pool.get('sale.point.sale.line.lot')
        Point = pool.get('sale.point')
        Uom = pool.get('product.uom')
        points = [p.id for p in Point.search([
                    ('storage_location', 'in', list(batch.locations)),
                    ])]
        if not points:
            return
        sale = Sale.__table__()
        line = Line.__table__()
        line_lot = LineLot.__table__()
        cursor = Transaction().connection.cursor()
        poster = batch.poster

        def default_unit(product_id, quantity):
            product = poster.product(product_id)
            return Decimal(str(Uom.compute_qty(product.sale_uom,
                        float(quantity or 0), product.default_uom,
                        round=False)))
        for sub in grouped_slice(sorted(products), 1000):
            cursor.execute(*line.join(sale,
                    condition=line.sale == sale.id).select(
                    line.product, Sum(line.quantity),
                    where=in_(line.product, list(sub))
                    & in_(sale.point, points)
                    & sale.state.in_(['open', 'done']),
                    group_by=[line.product]))
            for product_id, quantity in cursor.fetchall():
                quantities[product_id] -= default_unit(product_id, quantity)
        # The lines of lot products by lot: from their lots (a line taken
        # from several) or their lot (POSSaleLine.lot_quantities)
        for sub in grouped_slice(sorted(lot_products), 1000):
            cursor.execute(*line.join(sale,
                    condition=line.sale == sale.id).join(line_lot, 'LEFT',
                    condition=line_lot.line == line.id).select(
                    line.product, line.quantity, line.lot, line_lot.lot,
                    line_lot.quantity,
                    where=in_(line.product, list(sub))
                    & in_(sale.point, points)
                    & sale.state.in_(['open', 'done'])))
            for product_id, quantity, lot, split_lot, split in (
                    cursor.fetchall()):
                sign = 1 if quantity > 0 else -1
                if split_lot is not None:
                    lot, quantity = split_lot, split
                if lot is None:
                    continue
                lot_quantities[(product_id, lot)] -= (
                    sign * default_unit(product_id, abs(quantity)))


class ReturnHandler(SaleHandler):
    "Goods brought back and refunded: a sale of negative quantities"
    string = 'retail_sync.msg_operation_type_return'
    batched = False
    sign = -1

    @classmethod
    def prepare(cls, batch, data):
        """A refund to another method than cash is checked against the
        original sale and the refunds made before: record them first if
        they wait for the posting task (this terminal's and the original
        terminal's)"""
        pool = Pool()
        Point = pool.get('sale.point')
        payload = data.get('payload')
        if not isinstance(payload, dict):
            return
        original = payload.get('original_receipt')
        payments = payload.get('payments')
        if not isinstance(original, str) or not isinstance(payments, list):
            return
        def card_refund(payment):
            if not isinstance(payment, dict):
                return False
            amount, method = payment.get('amount'), payment.get('method')
            if (not isinstance(amount, str) or not isinstance(method, int)
                    or not amount.strip().startswith('-')):
                return False
            method = batch.method(method)
            return method is not None and method.type != 'cash'
        if not any(card_refund(p) for p in payments):
            return
        cls.record_now(batch)
        prefix = original.rsplit('-', 1)[0]
        for point in Point.search([
                    ('company', '=', batch.company.id),
                    ('receipt_prefix', '=', prefix),
                    ('id', '!=', batch.terminal.id),
                    ]):
            cls.record_now(batch, point)


class VoidHandler(OperationHandler):
    "A receipt number the till voided before the sale was paid"
    string = 'retail_sync.msg_operation_type_void'
    payload_schema = 'VoidPayload'
    receipt = True
    writes = False

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        receipt_number = to_int(payload.get('receipt_number'),
            'receipt_number')
        return {'receipt_number': receipt_number, 'voided': True}


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def _operation_handlers(cls):
        handlers = super()._operation_handlers()
        handlers.update({
                'sale': SaleHandler,
                'return': ReturnHandler,
                'void': VoidHandler,
                })
        return handlers
