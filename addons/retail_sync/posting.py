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
and `AccountMove.post` itself for the post number.  A sale this does not
cover exactly (a lot past its shelf life, a replaced product, a lot
required but missing, a date in the future, a closed stock period, a sale
not in state done) is left to `sale.point.sale.post`.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Column, Null
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import fields
from trytond.modules.account.tax import TaxableMixin
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .changelog import branches_of_locations, in_
from .tax import TaxLookup


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


def insert(Model, vlist):
    """Insert vlist as ModelSQL.create does (the same default values and
    SQL formats, as many rows per statement) but without validation and
    hooks: the caller does what they would have done.  Return the ids."""
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
    columns = [table.create_uid, table.create_date] + [
        Column(table, n) for n in names]
    rows = []
    for values in vlist:
        rows.append([transaction.user, CurrentTimestamp()] + [
                Model._fields[n].sql_format(
                    values[n] if n in values else defaults.get(n))
                for n in names])
    ids = []
    for sub in grouped_slice(
            rows, max(1, backend.MAX_QUERY_PARAMS // (len(columns) + 1))):
        sub = list(sub)
        new_ids = database.nextid(
            transaction.connection, Model._table, count=len(sub))
        if new_ids is not None:
            if len(sub) == 1 and not isinstance(new_ids, list):
                new_ids = [new_ids]
            cursor.execute(*table.insert(columns + [table.id],
                    [r + [i] for r, i in zip(sub, new_ids)]))
            ids.extend(new_ids)
        else:
            for row in sub:
                if database.has_returning():
                    cursor.execute(*table.insert(columns, [row], [table.id]))
                    ids.append(cursor.fetchone()[0])
                else:
                    cursor.execute(*table.insert(columns, [row]))
                    ids.append(database.lastid(cursor))
    return ids


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

    def prefetch(self, sales):
        """Read the products of sales together, with their cost price
        (Product.get_multivalue('cost_price', company=...) for all)"""
        pool = Pool()
        Product = pool.get('product.product')
        CostPrice = pool.get('product.cost_price')
        new = {line['product'] for sale in sales for line in sale['lines']}
        new -= set(self.products)
        with Transaction().set_context(active_test=False):
            for product in Product.browse(sorted(new)):
                self.products[product.id] = product
        for company in {sale['company'] for sale in sales}:
            products = {line['product'] for sale in sales
                for line in sale['lines']
                if (company, line['product']) not in self.cost_prices}
            if not products:
                continue
            found = {}
            for sub in grouped_slice(sorted(products), 1000):
                for value in CostPrice.search([
                            ('product', 'in', list(sub)),
                            ('company', '=', company),
                            ], order=[('id', 'ASC')]):
                    found.setdefault(value.product.id, value.cost_price)
            with Transaction().set_context(company=company):
                default = Product.default_cost_price(company=company)
            for product in products:
                self.cost_prices[(company, product)] = found.get(
                    product, default)

    def product(self, product_id):
        if product_id not in self.products:
            Product = Pool().get('product.product')
            self.products[product_id] = Product(product_id)
        return self.products[product_id]

    def revenue_account(self, product, company):
        template = product.template
        key = (company.id, template.account_category.id
            if template.account_category else ('template', template.id))
        if key not in self.accounts:
            with Transaction().set_context(company=company.id):
                self.accounts[key] = product.account_revenue_used
        return self.accounts[key]

    def customer_taxes(self, product, company):
        return self.taxes.customer_taxes(product, company)

    def cost_price(self, product, company):
        key = (company.id, product.id)
        if key not in self.cost_prices:
            self.cost_prices[key] = product.get_multivalue(
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
            if getattr(product, 'replaced_by', None):
                return False
            from_, to = self.locations(point, line)
            if from_ is None or to is None:
                return False
            if line['lot'] is None and product.lot_is_required(from_, to):
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
        for sale in sales:
            company = Company(sale['company'])
            currency = company.currency
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
                line_taxes = _Taxable(company, currency,
                    [(taxes, line['unit_list_price'], quantity, date)],
                    date)._get_taxes().values()
                lines.append(({
                            'debit': debit, 'credit': credit,
                            'account': account.id,
                            'origin': f'sale.point.sale.line,{line["id"]}',
                            }, [{'amount': t.base, 'type': 'base',
                                'tax': t.tax.id}
                            for t in line_taxes]))
            taxes = sale_taxes(company, currency, taxable, total_tax, date)
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
        stock_ids = insert(StockMove, stock_values)
        self.stamp_written(StockMove, stock_ids)
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
        move_ids = insert(AccountMove, move_values)
        lines, tax_lines = [], []
        for move_id, lines_ in zip(move_ids, line_values):
            for values, _ in lines_:
                lines.append(dict(values, move=move_id))
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
        moves = AccountMove.browse(move_ids)
        AccountMove.validate_move(moves)
        AccountMove.post(moves)

        # The sales: posted with their move, as Sale.post writes them
        table = Sale.__table__()
        cursor = Transaction().connection.cursor()
        user = Transaction().user
        for sale, move_id in zip(sales, move_ids):
            cursor.execute(*table.update(
                    [table.move, table.state, table.write_uid,
                        table.write_date],
                    [move_id, 'posted', user, CurrentTimestamp()],
                    where=table.id == sale['id']))
        self.invalidate([Sale, StockMove])
        return left

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

    @staticmethod
    def stamp_written(Model, ids):
        "The write stamps the do transition leaves"
        table = Model.__table__()
        cursor = Transaction().connection.cursor()
        for sub in grouped_slice(ids, 1000):
            cursor.execute(*table.update(
                    [table.write_uid, table.write_date],
                    [Transaction().user, CurrentTimestamp()],
                    where=in_(table.id, sub) & (table.write_uid == Null)))

    @staticmethod
    def invalidate(models):
        transaction = Transaction()
        transaction.counter += 1
        for cache in transaction.cache.values():
            for Model in models:
                if Model.__name__ in cache:
                    cache[Model.__name__].clear()
