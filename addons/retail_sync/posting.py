# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Posting the POS sales of a push in bulk.

`sale.point.sale.post` builds, for each sale, an account move with its lines
and tax lines and a stock move per line as records, saves them one model at
a time with the validation of every field of every record (domains and
digits through function fields), then does the stock moves and posts the
account moves.  That validation is most of the time of a push, and what it
checks the push has already guaranteed: products, lots, methods, taxes and
amounts come from the server's own records.

Here the same records are computed from the sales as stored: the taxes by
Tryton's own `TaxableMixin._get_taxes`, with the customer taxes,
`Tax.compute` and the tax rounding looked up once per batch
(tax.TaxLookup); the lines, their amounts, accounts and locations, and the
rounding difference of a sale spread over its taxes, as sale_point's
`get_account_move`, `get_tax_move_lines` and `get_stock_move` make them
(building them as records, through those methods, made this posting four
to five times slower, so their rules are kept here and
`tests/test_posting.py` compares every record with
`sale.point.sale.post`'s on generated sales); all inserted with one
statement per model; then what `StockMove.do` and `AccountMove.post`
decide is done the same way: done state with the product's cost price, the
sync change log of branch stock, journal period, balance check, line state,
the post number from the period's strict sequence in the sales' order and
the posted state (`Poster.post_moves`; `AccountMove.post` itself when a
module extends it).  A sale this does not cover exactly (a lot past its
shelf life, a replaced product, a lot required but missing, a date in the
future, a closed stock period, a sale not in state done) is left to
`sale.point.sale.post`.
"""
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sql import Column, Expression
from sql.aggregate import Sum
from sql.functions import Abs, CurrentTimestamp, Round

from trytond.model import fields
from trytond.modules.account.move import Move as AccountMoveBase
from trytond.modules.account.tax import TaxableMixin
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .changelog import branches_of_locations, in_
from .tax import TaxLookup

# The types of values whose SQL format insert keeps for the next rows
MEMO_TYPES = {int, str, bool, type(None), dt.date}
# The most records browsed together
BROWSE_SLICE = 100


class _Taxable(TaxableMixin):
    """The taxable figures of a sale or a line, as TaxableMixin reads them:
    its own _get_taxes computes their taxes (Tax.compute answered by the
    poster's TaxLookup)"""
    taxable_lines = None
    tax_date = None

    def __init__(self, company, currency, taxable_lines, tax_date):
        self.company = company
        self.currency = currency
        self.taxable_lines = taxable_lines
        self.tax_date = tax_date


def sale_taxes(company, currency, taxable, total_tax, date):
    """The taxes of a sale as sale_point's POSSale.get_tax_move_lines
    books them: computed on its taxable lines [(taxes, unit list price,
    quantity, date)], the rounding difference between its total tax (the
    lines' gross less untaxed amounts) and their sum spread over them (kept
    for speed: compared with Sale.post on generated sales by
    test_posting).  Each has its tax, base (as computed), amount and
    account."""
    taxes = list(_Taxable(company, currency, taxable,
            date)._get_taxes().values())
    tax_amount = sum(t.amount for t in taxes)
    difference = total_tax - tax_amount
    if difference:
        remaining = difference
        for tax in taxes:
            if tax.amount:
                if tax_amount:
                    ratio = tax.amount / tax_amount
                else:
                    ratio = 1 / len(taxes)
                value = currency.round(difference * ratio)
                tax.amount += value
                remaining -= value
        if remaining:
            for tax in taxes:
                if tax.amount:
                    tax.amount += remaining
                    break
    return taxes


def _round(currency, amount):
    return currency.round(amount) if currency else amount


def executemany(query, params):
    """Run query (SQL text with its placeholders) once per tuple of
    params: on PostgreSQL psycopg sends them in one pipeline, one round
    trip, the statement converted and prepared once (a statement of many
    rows is converted again each time, in Python)"""
    if params:
        Transaction().connection.cursor().executemany(query, params)


def update(table, columns, rows):
    """Set columns of the rows of table given as [(id, [values])], with
    one statement run for all (executemany); a value that is an SQL
    expression (CurrentTimestamp()) must be the same in every row"""
    if not rows:
        return
    id_, values = rows[0]
    query, params = tuple(table.update(columns, list(values),
            where=table.id == id_))
    plain = [not isinstance(v, Expression) for v in values]
    assert len(params) == sum(plain) + 1, query
    executemany(query, [[v for v, p in zip(values, plain) if p] + [i]
            for i, values in rows])


def insert(Model, vlist, written=False):
    """Insert vlist as ModelSQL.create does (the same default values and
    SQL formats) but without validation and hooks: the caller does what
    they would have done.  With written, the rows have the write stamps a
    write after the creation leaves (StockMove.do's).  Return the ids."""
    transaction = Transaction()
    database = transaction.database
    cursor = transaction.connection.cursor()
    table = Model.__table__()
    if not vlist:
        return []
    names = set().union(*vlist)
    missing = [n for n, f in Model._fields.items()
        if n not in names
        and n not in {'id', 'create_uid', 'create_date', 'write_uid',
            'write_date'}
        and not (isinstance(f, fields.Function) and not f.setter)]
    defaults = Model._clean_defaults(
        Model.default_get(missing, with_rec_name=False)) if missing else {}
    names = sorted((names | set(defaults))
        - {n for n in names | set(defaults)
            if hasattr(Model._fields[n], 'set')})
    stamps = [CurrentTimestamp()]
    if written:
        names = ['write_uid'] + names
        stamps.append(CurrentTimestamp())
    columns = [table.create_uid, table.create_date] + (
        [table.write_date] if written else []) + [
        Column(table, n) for n in names]
    formats = [Model._fields[n].sql_format for n in names]
    if written:
        defaults['write_uid'] = transaction.user
    # sql_format is a function of the field and the value: the same ids,
    # states and dates come again and again (not decimals: 1.0 == 1.00)
    formatted = {}

    def format_(i, value):
        if value.__class__ not in MEMO_TYPES:
            return formats[i](value)
        key = (i, value.__class__, value)
        if key not in formatted:
            formatted[key] = formats[i](value)
        return formatted[key]
    rows = []
    for values in vlist:
        rows.append([transaction.user] + [
                format_(i, values[n] if n in values else defaults.get(n))
                for i, n in enumerate(names)])
    new_ids = database.nextid(
        transaction.connection, Model._table, count=len(rows))
    if new_ids is not None:
        if not isinstance(new_ids, list):
            new_ids = [new_ids]
        query, params = tuple(table.insert(columns + [table.id],
                [[rows[0][0]] + stamps + rows[0][1:] + [new_ids[0]]]))
        if len(params) == len(rows[0]) + 1:
            executemany(query, [r + [i] for r, i in zip(rows, new_ids)])
            ids = new_ids
        else:
            # A value formatted as an SQL expression: one row at a time
            ids = new_ids
            for row, id_ in zip(rows, new_ids):
                cursor.execute(*table.insert(columns + [table.id],
                        [[row[0]] + stamps + row[1:] + [id_]]))
    else:
        # SQLite: the ids as the database gives them, a row at a time
        ids = []
        for row in rows:
            row = [row[0]] + stamps + row[1:]
            if database.has_returning():
                cursor.execute(*table.insert(columns, [row], [table.id]))
                ids.append(cursor.fetchone()[0])
            else:
                cursor.execute(*table.insert(columns, [row]))
                ids.append(database.lastid(cursor))
    # As ModelStorage._after_create keeps them
    if transaction.create_records is not None:
        transaction.create_records[Model.__name__].extend(ids)
    return ids


def _multi_selection(value):
    "The list a multi-selection column stores (JSON text or a list)"
    if value is None:
        return []
    if isinstance(value, str):
        return json.loads(value)
    return list(value)


@dataclass(slots=True, eq=False)
class ProductFacts:
    """What the posting reads of a product, read once with the others of
    its batch (a product answers each field of its template through a
    function field, computed again for each record browsed with it)"""
    record: object
    type: str
    template: object
    sale_uom: object
    default_uom: object
    replaced_by: object
    # The id of the template's accounting category, None for none
    account_category: object = None
    # The template's lot_required as a list, None when not read
    lot_types: object = None
    id: int = field(init=False)

    def __post_init__(self):
        self.id = self.record.id

    @property
    def lot_required(self):
        "The template's lot_required (read with the template's columns)"
        if self.lot_types is not None:
            return self.lot_types
        return self.template.lot_required


class Poster:
    "Posts sales in bulk; keeps what it read for the next call"

    def __init__(self, taxes=None):
        # The tax look-ups of the batch: customer taxes, Tax.compute and
        # the tax rounding
        self.taxes = taxes if taxes is not None else TaxLookup()
        self.products = {}
        self.accounts = {}
        self.cost_prices = {}
        self.points = {}
        self.periods = {}
        self.lots = {}
        self.internal_quantities = {}
        self.lots_required = {}
        self.uoms = {}
        self.line_tax_bases = {}
        self.taxes_of_sales = {}

    def prefetch(self, sales):
        """Read the products of sales together, with their cost price
        (Product.get_multivalue('cost_price', company=...) for all)"""
        pool = Pool()
        Product = pool.get('product.product')
        CostPrice = pool.get('product.cost_price')
        new = {line['product'] for sale in sales for line in sale['lines']}
        self.read_products(new - set(self.products))
        cost_price = CostPrice.__table__()
        cursor = Transaction().connection.cursor()
        for company in {sale['company'] for sale in sales}:
            products = {line['product'] for sale in sales
                for line in sale['lines']
                if (company, line['product']) not in self.cost_prices}
            if not products:
                continue
            found = {}
            for sub in grouped_slice(sorted(products), 1000):
                cursor.execute(*cost_price.select(
                        cost_price.product, cost_price.cost_price,
                        where=in_(cost_price.product, list(sub))
                        & (cost_price.company == company),
                        order_by=[cost_price.id.asc]))
                for product, value in cursor:
                    if value is not None and not isinstance(value, Decimal):
                        value = Decimal(str(value))
                    found.setdefault(product, value)
            with Transaction().set_context(company=company):
                default = Product.default_cost_price(company=company)
            for product in products:
                self.cost_prices[(company, product)] = found.get(
                    product, default)

    def read_products(self, ids):
        """Read the facts of the products of ids (from their template's
        columns, in SQL)"""
        pool = Pool()
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        product, template = Product.__table__(), Template.__table__()
        cursor = Transaction().connection.cursor()
        field = Product._fields.get('replaced_by')
        replaced = (Column(product, 'replaced_by')
            if field is not None and not isinstance(field, fields.Function)
            else None)
        columns = [product.id, product.template, template.type,
            template.sale_uom, template.default_uom,
            template.account_category]
        # The template's lot_required (stock_lot), a stored multi-selection
        lot_field = Template._fields.get('lot_required')
        lots = (lot_field is not None
            and not isinstance(lot_field, fields.Function))
        if lots:
            columns.append(Column(template, 'lot_required'))
        if replaced is not None:
            columns.append(replaced)
        rows = []
        for sub in grouped_slice(sorted(ids), 1000):
            cursor.execute(*product.join(template,
                    condition=product.template == template.id).select(
                    *columns, where=in_(product.id, list(sub))))
            rows.extend(cursor)
        # A record browsed with n others costs O(n) to instantiate
        for sub in grouped_slice(rows, BROWSE_SLICE):
            sub = list(sub)
            records = Product.browse([r[0] for r in sub])
            templates = {t.id: t for t in Template.browse(
                        sorted({r[1] for r in sub}))}
            replaced_by = {}
            if field is not None and replaced is None:
                replaced_by = {v['id']: v['replaced_by']
                    for v in Product.read([r[0] for r in sub],
                        ['replaced_by'])}
            for record, row in zip(records, sub):
                for uom in row[3:5]:
                    if uom not in self.uoms:
                        self.uoms[uom] = Uom(uom)
                lot_types = None
                if lots:
                    lot_types = _multi_selection(row[6])
                self.products[row[0]] = ProductFacts(
                    record=record,
                    type=row[2],
                    template=templates[row[1]],
                    sale_uom=self.uoms[row[3]],
                    default_uom=self.uoms[row[4]],
                    replaced_by=(row[-1] if replaced is not None
                        else replaced_by.get(row[0])),
                    account_category=row[5],
                    lot_types=lot_types)

    def product(self, product_id):
        "The ProductFacts of product_id"
        if product_id not in self.products:
            self.read_products([product_id])
        return self.products[product_id]

    def revenue_account(self, product, company):
        key = (company.id, product.account_category
            if product.account_category is not None
            else ('template', product.record.template.id))
        if key not in self.accounts:
            with Transaction().set_context(company=company.id):
                self.accounts[key] = product.record.account_revenue_used
        return self.accounts[key]

    def customer_taxes(self, product, company):
        "The customer taxes of product (ProductFacts) as TaxLookup's"
        def compute():
            Product = product.record.__class__
            with Transaction().set_context(company=company.id):
                return Product(product.id).customer_taxes_used
        if product.account_category is None:
            return self.taxes.customer_taxes(product, company, compute)
        # TaxLookup.customer_taxes_key without reading the template
        return self.taxes.customer_taxes_of(
            (company.id, product.account_category), compute)

    def cost_price(self, product, company):
        key = (company.id, product.id)
        if key not in self.cost_prices:
            self.cost_prices[key] = product.record.get_multivalue(
                'cost_price', company=company.id)
        return self.cost_prices[key]

    def point(self, point_id):
        if point_id not in self.points:
            Point = Pool().get('sale.point')
            self.points[point_id] = Point(point_id)
        return self.points[point_id]

    def period(self, company, date):
        Period = Pool().get('account.period')
        key = (company.id, date)
        if key not in self.periods:
            period = Period.find(company, date=date)
            if period.state != 'open':
                # The domain of a draft move's period
                raise ValueError(f"Period {period.rec_name} is not open.")
            self.periods[key] = period
        return self.periods[key]

    def read(self, sale_ids):
        "Return the sales, lines and payments of sale_ids as dicts"
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Line = pool.get('sale.point.sale.line')
        Payment = pool.get('sale.point.payment')
        LineLot = pool.get('sale.point.sale.line.lot')
        cursor = Transaction().connection.cursor()
        sale, line, payment = (
            Sale.__table__(), Line.__table__(), Payment.__table__())
        line_lot = LineLot.__table__()
        sales = {}
        for sub in grouped_slice(sale_ids, 1000):
            sub = list(sub)
            cursor.execute(*sale.select(sale.id, sale.company, sale.point,
                    sale.date, sale.state, sale.move,
                    where=in_(sale.id, sub)))
            for id_, company, point, date, state, move in cursor:
                if isinstance(date, str):
                    date = dt.date.fromisoformat(date)
                sales[id_] = {'id': id_, 'company': company, 'point': point,
                    'date': date, 'state': state, 'move': move,
                    'lines': [], 'payments': []}
            cursor.execute(*line.select(line.id, line.sale, line.product,
                    line.quantity, line.unit_list_price,
                    line.unit_gross_price, line.lot,
                    where=in_(line.sale, sub), order_by=[line.id]))
            lines = {}
            for (id_, sale_id, product, quantity, list_price, gross_price,
                    lot) in cursor:
                lines[id_] = {'id': id_,
                    'product': product, 'quantity': quantity,
                    'unit_list_price': Decimal(str(list_price)),
                    'unit_gross_price': Decimal(str(gross_price)),
                    'lot': lot, 'lots': []}
                sales[sale_id]['lines'].append(lines[id_])
            # The lines taken from several lots: a stock move per lot
            cursor.execute(*line.join(line_lot,
                    condition=line_lot.line == line.id).select(
                    line_lot.line, line_lot.lot, line_lot.quantity,
                    where=in_(line.sale, sub),
                    order_by=[line_lot.line, line_lot.id]))
            for line_id, lot, quantity in cursor:
                lines[line_id]['lots'].append((lot, quantity))
            cursor.execute(*payment.select(payment.id, payment.sale,
                    payment.method, payment.amount,
                    where=in_(payment.sale, sub), order_by=[payment.id]))
            for id_, sale_id, method, amount in cursor:
                sales[sale_id]['payments'].append({'id': id_,
                        'method': method, 'amount': Decimal(str(amount))})
        return [sales[i] for i in sale_ids if i in sales]

    def covered(self, sale, today, closed_periods):
        "Whether the bulk posting makes exactly what Sale.post makes"
        pool = Pool()
        Lot = pool.get('stock.lot')
        if sale['state'] != 'done' or sale['move'] is not None:
            return False
        if sale['date'] > today:
            return False
        closed = closed_periods.get(sale['company'])
        if closed and sale['date'] <= closed:
            return False
        point = self.point(sale['point'])
        for line in sale['lines']:
            product = self.product(line['product'])
            if product.type == 'service':
                continue
            if product.replaced_by:
                return False
            from_, to = self.locations(point, line)
            if from_ is None or to is None:
                return False
            if line['lot'] is None and self.lot_is_required(
                    product, from_, to):
                return False
            for lot_id, _ in self.lot_quantities(line):
                if lot_id is None:
                    continue
                if lot_id not in self.lots:
                    self.lots[lot_id] = Lot(lot_id)
                lot = self.lots[lot_id]
                expiration = getattr(lot, 'shelf_life_expiration_date', None)
                if expiration and sale['date'] > expiration:
                    return False
        return True

    def lot_is_required(self, product, from_, to):
        key = (product.id, from_.id, to.id)
        if key not in self.lots_required:
            Product = product.record.__class__
            try:
                # Product.lot_is_required asks the product's lot_required,
                # its template's: read from the template at once
                required = Product.lot_is_required(product, from_, to)
            except AttributeError:
                required = product.record.lot_is_required(from_, to)
            self.lots_required[key] = required
        return self.lots_required[key]

    @staticmethod
    def lot_quantities(line):
        "[(lot id, unsigned quantity)] of a line: POSSaleLine.lot_quantities"
        if line['lots']:
            return [(lot, abs(quantity)) for lot, quantity in line['lots']]
        return [(line['lot'], abs(line['quantity']))]

    @staticmethod
    def locations(point, line):
        "The locations of sale_point's POSSaleLine, retail_sync's included"
        if line['quantity'] >= 0:
            return point.storage_location, point.customer_location
        to = point.return_location or point.storage_location
        return point.customer_location, to

    def post(self, sale_ids):
        """Post the sales of sale_ids that the bulk posting covers; return
        the ids of the others, left to sale.point.sale.post"""
        with self.taxes.active():
            return self._post(sale_ids)

    def _post(self, sale_ids):
        pool = Pool()
        Company = pool.get('company.company')
        Date = pool.get('ir.date')
        StockPeriod = pool.get('stock.period')
        StockMove = pool.get('stock.move')
        AccountMove = pool.get('account.move')
        Line = pool.get('account.move.line')
        TaxLine = pool.get('account.tax.line')
        Sale = pool.get('sale.point.sale')
        Change = pool.get('retail.sync.change')

        sales = self.read(sale_ids)
        self.prefetch(sales)
        companies = {s['company'] for s in sales}
        today, closed_periods = {}, {}
        for company_id in companies:
            with Transaction().set_context(company=company_id):
                today[company_id] = Date.today()
            periods = StockPeriod.search([
                    ('state', '=', 'closed'),
                    ('company', '=', company_id),
                    ], order=[('date', 'DESC')], limit=1)
            if periods:
                closed_periods[company_id] = periods[0].date
        left = [s['id'] for s in sales
            if not self.covered(s, today[s['company']], closed_periods)]
        left_set = set(left)
        left.extend(i for i in sale_ids if i not in
            {s['id'] for s in sales})
        sales = [s for s in sales if s['id'] not in left_set]
        if not sales:
            return left

        stock_values = []
        move_values = []
        line_values = []  # per move: list of (line values, tax lines)
        accounts = set()
        companies = {}
        for sale in sales:
            if sale['company'] not in companies:
                company = Company(sale['company'])
                companies[company.id] = (company, company.currency)
            company, currency = companies[sale['company']]
            point = self.point(sale['point'])
            date = sale['date']
            lines = []
            taxable = []
            total_tax = Decimal(0)
            total = Decimal(0)
            for line in sale['lines']:
                product = self.product(line['product'])
                quantity = line['quantity']
                taxes = self.customer_taxes(product, company)
                untax = _round(currency, Decimal(str(quantity or 0))
                    * (line['unit_list_price'] or Decimal(0)))
                gross = _round(currency, Decimal(str(quantity or 0))
                    * (line['unit_gross_price'] or Decimal(0)))
                total_tax += _round(currency, gross - untax)
                total += gross
                taxable.append(
                    (taxes, line['unit_list_price'], quantity, date))
                if product.type != 'service':
                    from_, to = self.locations(point, line)
                    unit = product.sale_uom
                    for lot_id, lot_quantity in self.lot_quantities(line):
                        stock_values.append({
                            'quantity': lot_quantity,
                            'unit': unit.id,
                            'product': product.id,
                            'from_location': from_.id,
                            'to_location': to.id,
                            'company': company.id,
                            'unit_price': line['unit_list_price'],
                            'currency': currency.id,
                            'effective_date': date,
                            'origin': f'sale.point.sale.line,{line["id"]}',
                            'lot': lot_id,
                            'state': 'done',
                            'internal_quantity': self.internal_quantity(
                                unit, lot_quantity, product),
                            'cost_price': self.cost_price(product, company),
                            })
                account = self.revenue_account(product, company)
                accounts.add(account)
                if quantity >= 0:
                    debit, credit = Decimal(0), untax
                else:
                    debit, credit = -untax, Decimal(0)
                lines.append(({
                            'debit': debit, 'credit': credit,
                            'account': account.id,
                            'origin': f'sale.point.sale.line,{line["id"]}',
                            }, [{'amount': base, 'type': 'base',
                                'tax': tax}
                            for tax, base in self.line_taxes(company,
                                currency, taxes, line['unit_list_price'],
                                quantity, date)]))
            taxes = self.sale_taxes(company, currency, taxable, total_tax,
                date)
            for tax in taxes:
                amount = tax.amount
                if not amount:
                    continue
                if amount >= 0:
                    debit, credit = Decimal(0), amount
                else:
                    debit, credit = -amount, 0
                accounts.add(tax.account)
                lines.append(({
                            'description': tax.tax.description,
                            'debit': debit, 'credit': credit,
                            'account': tax.account.id,
                            }, [{'amount': amount, 'type': 'tax',
                                'tax': tax.tax.id}]))
            for payment in sale['payments']:
                method = self.method(payment['method'])
                if total >= 0:
                    debit, credit = payment['amount'], Decimal(0)
                else:
                    debit, credit = Decimal(0), -payment['amount']
                accounts.add(method.account)
                lines.append(({
                            'debit': debit, 'credit': credit,
                            'account': method.account.id,
                            'origin': f'sale.point.payment,{payment["id"]}',
                            }, []))
            move_values.append({
                    'journal': point.journal.id,
                    'period': self.period(company, date).id,
                    'date': date,
                    'origin': f'sale.point.sale,{sale["id"]}',
                    'company': company.id,
                    })
            line_values.append(lines)
        self.check_accounts(accounts)

        # Stock: the moves done, as StockMove.do leaves them
        insert(StockMove, stock_values, written=True)
        location2branch = branches_of_locations(
            [v['from_location'] for v in stock_values]
            + [v['to_location'] for v in stock_values])
        branches = defaultdict(set)
        for values in stock_values:
            for location in [values['from_location'], values['to_location']]:
                if location2branch.get(location):
                    branches[values['product']].add(
                        location2branch[location])
        if not Transaction().context.get('_retail_sync_nolog'):
            Change.log('stock', list(branches), branches)

        # Accounting: moves, lines and tax lines, then AccountMove.post
        # (or what it does, post_moves)
        plain = self.plain_post(line_values)
        move_ids = insert(AccountMove, move_values)
        lines, tax_lines = [], []
        for move_id, lines_ in zip(move_ids, line_values):
            for values, _ in lines_:
                lines.append(dict(values, move=move_id,
                        **({'state': 'valid'} if plain else {})))
        line_ids = insert(Line, lines)
        ids = iter(line_ids)
        for lines_ in line_values:
            for _, taxes in lines_:
                line_id = next(ids)
                tax_lines.extend(dict(t, move_line=line_id) for t in taxes)
        insert(TaxLine, tax_lines)
        journal_periods = {(v['journal'], v['period']) for v in move_values}
        Journal = pool.get('account.journal')
        Period = pool.get('account.period')
        for journal, period in sorted(journal_periods):
            Line.check_journal_period_modify(Period(period), Journal(journal))
        if plain:
            self.post_moves(move_ids, move_values, companies)
        else:
            moves = AccountMove.browse(move_ids)
            AccountMove.validate_move(moves)
            AccountMove.post(moves)

        # The sales: posted with their move, as Sale.post writes them
        table = Sale.__table__()
        update(table,
            [table.move, table.state, table.write_uid, table.write_date],
            [(sale['id'], [move_id, 'posted', Transaction().user,
                        CurrentTimestamp()])
                for sale, move_id in zip(sales, move_ids)])
        self.invalidate([AccountMove, Line])
        self.invalidate([Sale, StockMove])
        return left

    def line_taxes(self, company, currency, taxes, unit_price, quantity,
            date):
        """[(tax id, base)] of a line as its TaxableMixin._get_taxes
        computes them, kept for the same figures"""
        key = (company.id, currency.id, tuple(t.id for t in taxes),
            str(unit_price), repr(quantity), date)
        if key not in self.line_tax_bases:
            self.line_tax_bases[key] = [(t.tax.id, t.base)
                for t in _Taxable(company, currency,
                    [(taxes, unit_price, quantity, date)],
                    date)._get_taxes().values()]
        return self.line_tax_bases[key]

    def sale_taxes(self, company, currency, taxable, total_tax, date):
        "sale_taxes(), kept for the same figures"
        key = (company.id, currency.id, tuple(
                (tuple(t.id for t in taxes), str(price), repr(quantity),
                    date_)
                for taxes, price, quantity, date_ in taxable),
            str(total_tax), date)
        if key not in self.taxes_of_sales:
            self.taxes_of_sales[key] = sale_taxes(
                company, currency, taxable, total_tax, date)
        return self.taxes_of_sales[key]

    def method(self, method_id):
        Method = Pool().get('sale.point.payment.method')
        key = ('method', method_id)
        if key not in self.points:
            self.points[key] = Method(method_id)
        return self.points[key]

    def internal_quantity(self, unit, quantity, product):
        Uom = Pool().get('product.uom')
        key = (unit.id, quantity, product.default_uom.id)
        if key not in self.internal_quantities:
            self.internal_quantities[key] = Uom.compute_qty(
                unit, quantity, product.default_uom, round=True)
        return self.internal_quantities[key]

    @staticmethod
    def check_accounts(accounts):
        "Line.check_account: the accounts must be open and party free"
        for account in accounts:
            if (not account.type or account.closed
                    or account.party_required):
                raise ValueError(
                    f"Account {account.rec_name} cannot take POS lines.")

    def plain_post(self, line_values):
        """Whether post_moves does all AccountMove.validate_move and post
        do for moves of lines line_values: no module extends them, no
        trigger acts on writing a move, no line of nothing on an account
        to reconcile (post reconciles them)"""
        pool = Pool()
        AccountMove = pool.get('account.move')
        Trigger = pool.get('ir.trigger')
        for name in ['post', 'validate_move']:
            owner = next(c for c in AccountMove.__mro__ if name in vars(c))
            if owner is not AccountMoveBase:
                return False
        if Trigger.get_triggers('account.move', 'write'):
            return False
        Account = pool.get('account.account')
        for lines in line_values:
            for values, _ in lines:
                if not values['debit'] and not values['credit'] and (
                        Account(values['account']).reconcile):
                    return False
        return True

    def post_moves(self, move_ids, move_values, companies):
        """Post the moves of move_ids (with move_values, all made by the
        bulk posting, their lines valid) as AccountMove.post does: each
        balanced (checked in SQL, as post checks it), numbered in their
        order from its period's sequence (the strict sequence gives the
        numbers in a row), posted on the company's today"""
        pool = Pool()
        AccountMove = pool.get('account.move')
        Line = pool.get('account.move.line')
        Date = pool.get('ir.date')
        Period = pool.get('account.period')
        move, line = AccountMove.__table__(), Line.__table__()
        cursor = Transaction().connection.cursor()
        by_company = defaultdict(list)
        for move_id, values in zip(move_ids, move_values):
            by_company[values['company']].append((move_id, values))
        rows = []
        for company_id, c_moves in by_company.items():
            company, currency = companies[company_id]
            with Transaction().set_context(company=company_id):
                today = Date.today()
            for sub in grouped_slice([m for m, _ in c_moves], 1000):
                cursor.execute(*line.select(line.move,
                        where=in_(line.move, list(sub)),
                        group_by=line.move,
                        having=Abs(Round(Sum(line.debit - line.credit),
                                currency.digits)) >= abs(currency.rounding),
                        limit=1))
                unbalanced = cursor.fetchone()
                if unbalanced:
                    raise ValueError(
                        f"Move {unbalanced[0]} is not balanced.")
            sequences = defaultdict(list)
            for move_id, values in c_moves:
                sequence = Period(values['period']).move_sequence_used
                sequences[sequence].append(move_id)
            for sequence, ids in sequences.items():
                with Transaction().set_context(company=company_id):
                    numbers = list(sequence.get_many(len(ids)))
                rows.extend((i, ['posted', n, today, Transaction().user,
                            CurrentTimestamp()])
                    for i, n in zip(ids, numbers))
        rows.sort(key=lambda r: r[0])
        update(move,
            [move.state, move.number, move.post_date, move.write_uid,
                move.write_date], rows)

    @staticmethod
    def invalidate(models):
        transaction = Transaction()
        transaction.counter += 1
        for cache in transaction.cache.values():
            for Model in models:
                if Model.__name__ in cache:
                    cache[Model.__name__].clear()
