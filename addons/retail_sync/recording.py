# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Recording the checked sales of a push in bulk.

`SaleHandler.create_sales` records the sales of a push with one create call
per model (`sale.point.sale`, its lines, their lots, its payments, its
flags): trytond's create then validates every field of every record and
computes the sales' totals through their function fields to check that
they are paid, which is most of the time a posting task spends recording.
What it checks the push has already checked: the products, lots, methods,
prices and payments come from the server's own records and the payments
add up to the total.

Here the same rows are inserted with one statement per model
(posting.insert) after the checks that the push does not make itself (the
employee and the lots of the sale's company and products, the payments
equal to the total as Sale.validate computes it), with what sale_point's
and this module's create add: the cash session of the sale (the terminal's
current one for a sale paid in cash, which sale_point opens if there is
none, else its open one) and of its cash payments.  Then
`sale.point.sale.retail_sales_inserted` lets the modules that extend the
sale's create do what they do for them (retail_report's summaries).  A sale
this does not cover (other values, a trigger on the sale's models, a check
that fails) is left to create_sales, which rejects it with the reason
trytond gives.  `tests/test_posting.py` compares the rows of both on the
same sales.
"""
import math
from decimal import Decimal

from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .changelog import in_
from .posting import insert

# The values of a checked sale that the bulk recording inserts
SALE_FIELDS = {'company', 'point', 'employee', 'date', 'number',
    'receipt_number', 'client_time', 'original_receipt', 'customer',
    'cash_session', 'state'}
LINE_FIELDS = {'product', 'quantity', 'unit_list_price', 'unit_gross_price',
    'base_price', 'discount', 'lot', 'lots'}
PAYMENT_FIELDS = {'method', 'amount'}
MODELS = ['sale.point.sale', 'sale.point.sale.line',
    'sale.point.sale.line.lot', 'sale.point.payment',
    'retail.sync.sale.flag']


class Recorder:
    "Records checked sales in bulk; keeps what it read for the next call"

    def __init__(self):
        self.employees = {}
        self.lots = {}
        self.unit_digits = {}
        self.points = {}
        self.currencies = {}
        # The open cash session of a terminal: its id, None for none
        self.open_sessions = {}
        self._triggers = None

    def triggers(self):
        "Whether a trigger acts on the creation of the models recorded"
        if self._triggers is None:
            Trigger = Pool().get('ir.trigger')
            self._triggers = any(Trigger.get_triggers(name, 'create')
                for name in MODELS)
        return self._triggers

    def prefetch(self, entries):
        """Read the companies of the employees, the products of the lots
        and the digits of the products' sale units"""
        pool = Pool()
        Employee = pool.get('company.employee')
        Lot = pool.get('stock.lot')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        cursor = Transaction().connection.cursor()
        employees = {e['sale'].get('employee') for e in entries} - {None}
        lots = {lot for e in entries for line in e['lines']
            for lot in self.line_lots(line)} - {None}
        products = {line.get('product') for e in entries
            for line in e['lines']} - {None}
        employee, lot = Employee.__table__(), Lot.__table__()
        product, template, uom = (
            Product.__table__(), Template.__table__(), Uom.__table__())
        for query, ids, found in [
                (lambda sub: employee.select(employee.id, employee.company,
                        where=in_(employee.id, sub)),
                    employees, self.employees),
                (lambda sub: lot.select(lot.id, lot.product,
                        where=in_(lot.id, sub)),
                    lots, self.lots),
                (lambda sub: product.join(template,
                        condition=product.template == template.id).join(
                        uom, condition=template.sale_uom == uom.id).select(
                        product.id, uom.digits,
                        where=in_(product.id, sub)),
                    products, self.unit_digits),
                ]:
            ids = sorted(ids - set(found))
            for sub in grouped_slice(ids, 1000):
                sub = list(sub)
                cursor.execute(*query(sub))
                found.update(cursor)
                for id_ in sub:
                    found.setdefault(id_, False)

    @staticmethod
    def line_lots(line):
        "The lot ids of a line's values"
        lots = [line.get('lot')]
        for action in line.get('lots') or []:
            if action[0] == 'create':
                lots.extend(v.get('lot') for v in action[1])
        return lots

    def point(self, point_id):
        if point_id not in self.points:
            Point = Pool().get('sale.point')
            self.points[point_id] = Point(point_id)
        return self.points[point_id]

    def currency(self, company_id):
        if company_id not in self.currencies:
            Company = Pool().get('company.company')
            self.currencies[company_id] = Company(company_id).currency
        return self.currencies[company_id]

    def covered(self, batch, entry):
        """Whether the bulk recording inserts exactly what create_sales
        creates for entry: the values it knows, valid as trytond's
        validation of each record checks them, paid in full"""
        sale = entry['sale']
        if set(sale) - SALE_FIELDS or sale.get('state') != 'done':
            return False
        company = sale.get('company')
        point = self.point(sale['point'])
        if (point.company.id != company or not sale.get('number')
                or sale.get('date') is None):
            return False
        employee = sale.get('employee')
        if employee is not None and self.employees.get(employee) != company:
            return False
        currency = self.currency(company)
        total = Decimal(0)
        for line in entry['lines']:
            if set(line) - LINE_FIELDS:
                return False
            product = line.get('product')
            quantity = line.get('quantity')
            if product is None or quantity is None:
                return False
            digits = self.unit_digits.get(product)
            if digits is False or (digits is not None
                    and round(quantity, digits) != quantity):
                return False
            for name in ['unit_list_price', 'unit_gross_price',
                    'base_price']:
                if not digits_valid(line.get(name), price_digits):
                    return False
            if line['unit_list_price'] is None or (
                    line['unit_gross_price'] is None):
                return False
            for action in line.get('lots') or []:
                if action[0] != 'create' or any(
                        v.get('quantity') is None for v in action[1]):
                    return False
            for lot in self.line_lots(line):
                if lot is not None and self.lots.get(lot) != product:
                    return False
            # As POSSaleLine.gross_amount from the stored quantity
            total += currency.round(Decimal(str(float(quantity)))
                * line['unit_gross_price'])
        paid = Decimal(0)
        for payment in entry['payments']:
            if set(payment) - PAYMENT_FIELDS:
                return False
            method = batch.method(payment.get('method'))
            amount = payment.get('amount')
            if method is None or amount is None:
                return False
            if not digits_valid(amount, (16, currency.digits)):
                return False
            if amount < 0 and not method.cash:
                # The refund methods of the payment's domain: left to
                # create_sales
                return False
            paid += amount
        # Sale.validate: a done sale has nothing left to pay
        return total == paid

    def open_session(self, point):
        """The terminal's open cash session as POSSale.create
        (session.py) looks it up for a sale, None without a branch"""
        Session = Pool().get('sale.point.cash.session')
        if point.id not in self.open_sessions:
            session = None
            if point.branch:
                sessions = Session.search([
                        ('point', '=', point.id),
                        ('state', '=', 'open'),
                        ], limit=1)
                if sessions:
                    session = sessions[0].id
            self.open_sessions[point.id] = session
        return self.open_sessions[point.id]

    def current_session(self, point):
        """The terminal's current cash session as sale_point gives it to a
        cash payment (Session.get_current, which opens one if none is)"""
        Session = Pool().get('sale.point.cash.session')
        session = self.open_session(point)
        if session is None:
            session = Session.get_current(point).id
            self.open_sessions[point.id] = session
        return session

    def record(self, batch, entries):
        """Insert the sales of entries (all covered) with their lines,
        lots, payments and flags; return their ids in the same order"""
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Line = pool.get('sale.point.sale.line')
        LineLot = pool.get('sale.point.sale.line.lot')
        Payment = pool.get('sale.point.payment')
        Flag = pool.get('retail.sync.sale.flag')
        # Looked up again: a sale recorded by create_sales since, or a
        # savepoint rolled back, may have opened or undone a session
        self.open_sessions.clear()
        sales = []
        cash = {}
        for entry in entries:
            values = dict(entry['sale'])
            point = self.point(values['point'])
            cash[id(entry)] = any(batch.method(p['method']).cash
                for p in entry['payments'])
            if not values.get('cash_session'):
                # create_sales for a sale paid in cash, else POSSale.create
                if cash[id(entry)]:
                    values['cash_session'] = self.current_session(point)
                else:
                    values['cash_session'] = self.open_session(point)
            sales.append(values)
        sale_ids = insert(Sale, sales)
        lines, lots, payments, flags = [], [], [], []
        for entry, sale_id in zip(entries, sale_ids):
            point = self.point(entry['sale']['point'])
            for line in entry['lines']:
                lines.append(dict(
                        {k: v for k, v in line.items() if k != 'lots'},
                        sale=sale_id))
                lots.append([v for action in line.get('lots') or []
                        for v in action[1]])
            for payment in entry['payments']:
                values = dict(payment, sale=sale_id)
                if batch.method(payment['method']).cash:
                    # POSPayment.preprocess_values
                    values['session'] = self.current_session(point)
                payments.append(values)
            flags.extend(dict(f, sale=sale_id) for f in entry['flags'])
        line_ids = insert(Line, lines)
        insert(LineLot, [dict(v, line=line_id)
                for line_id, values in zip(line_ids, lots) for v in values])
        insert(Payment, payments)
        if flags:
            insert(Flag, flags)
        Sale.retail_sales_inserted(sale_ids)
        return sale_ids


def digits_valid(value, digits):
    "Whether value passes trytond's digits test (ModelStorage._validate)"
    if value is None or not digits:
        return True
    int_size, dec_size = digits
    if int_size is not None and value:
        if math.ceil(math.log10(abs(value))) > int_size:
            return False
    if dec_size is not None:
        if isinstance(value, Decimal):
            return value.as_tuple().exponent >= -dec_size
        return round(value, dec_size) == value
    return True
