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

Here the records are sale_point's own, computed by its methods
(`POSSale.get_account_move`, `POSSaleLine.get_stock_move` through
retail_sync's `get_lot_moves`) with the taxes looked up once per batch
(tax.TaxLookup), and inserted with one statement per model; then what
`StockMove.do` and `AccountMove.post` decide is done the same way: done
state with the product's cost price, the sync change log of branch stock,
journal period, balance check, line state, and `AccountMove.post` itself
for the post number.  A sale this does not cover exactly (a lot past its
shelf life, a replaced product, a lot required but missing, a date in the
future, a closed stock period, a sale not in state done) is left to
`sale.point.sale.post`.
"""
from collections import defaultdict

from sql import Column, Null
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .changelog import branches_of_locations, in_
from .tax import TaxLookup


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
    """Posts sales in bulk; keeps what it read for the next call.

    The records are those of sale_point itself: each sale's account move
    from `POSSale.get_account_move` (its lines' revenue and base tax lines,
    the tax lines with the rounding difference spread, the payments) and
    each line's stock moves from `POSSaleLine.get_lot_moves` (sale_point's
    `get_stock_move`, one per lot), all computed with the taxes of the
    batch's TaxLookup.  Only their saving differs: one insert per model, and
    what StockMove.do and AccountMove.post would write, written directly."""

    def __init__(self, taxes=None):
        self.taxes = taxes if taxes is not None else TaxLookup()
        self.cost_prices = {}
        self.open_periods = set()
        self.checked_accounts = set()
        self.internal_quantities = {}

    def prefetch(self, sales):
        """Read the cost prices of the products of sales together
        (Product.get_multivalue('cost_price', company=...) for all)"""
        pool = Pool()
        Product = pool.get('product.product')
        CostPrice = pool.get('product.cost_price')
        by_company = defaultdict(set)
        for sale in sales:
            for line in sale.lines:
                key = (sale.company.id, line.product.id)
                if key not in self.cost_prices:
                    by_company[sale.company.id].add(line.product.id)
        for company, products in by_company.items():
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

    def cost_price(self, product, company):
        key = (company.id, product.id)
        if key not in self.cost_prices:
            self.cost_prices[key] = product.get_multivalue(
                'cost_price', company=company.id)
        return self.cost_prices[key]

    @staticmethod
    def existing(sale_ids):
        "The ids of sale_ids that are sales"
        Sale = Pool().get('sale.point.sale')
        table = Sale.__table__()
        cursor = Transaction().connection.cursor()
        found = set()
        for sub in grouped_slice(sale_ids, 1000):
            cursor.execute(*table.select(table.id,
                    where=in_(table.id, list(sub))))
            found.update(i for i, in cursor)
        return [i for i in sale_ids if i in found]

    def covered(self, sale, today, closed_periods):
        "Whether the bulk posting makes exactly what Sale.post makes"
        if sale.state != 'done' or sale.move is not None:
            return False
        if sale.date > today:
            return False
        closed = closed_periods.get(sale.company.id)
        if closed and sale.date <= closed:
            return False
        for line in sale.lines:
            product = line.product
            if product.type == 'service':
                continue
            if getattr(product, 'replaced_by', None):
                return False
            from_, to = line.from_location, line.to_location
            if from_ is None or to is None:
                return False
            if line.lot is None and product.lot_is_required(from_, to):
                return False
            for lot, _ in line.lot_quantities():
                if lot is None:
                    continue
                expiration = getattr(lot, 'shelf_life_expiration_date', None)
                if expiration and sale.date > expiration:
                    return False
        return True

    def post(self, sale_ids):
        """Post the sales of sale_ids that the bulk posting covers; return
        the ids of the others, left to sale.point.sale.post"""
        with self.taxes.active():
            return self._post(sale_ids)

    def _post(self, sale_ids):
        pool = Pool()
        Date = pool.get('ir.date')
        StockPeriod = pool.get('stock.period')
        StockMove = pool.get('stock.move')
        AccountMove = pool.get('account.move')
        Line = pool.get('account.move.line')
        TaxLine = pool.get('account.tax.line')
        Sale = pool.get('sale.point.sale')
        Change = pool.get('retail.sync.change')

        sales = Sale.browse(self.existing(sale_ids))
        companies = {s.company for s in sales}
        today, closed_periods = {}, {}
        for company in companies:
            with Transaction().set_context(company=company.id):
                today[company.id] = Date.today()
            periods = StockPeriod.search([
                    ('state', '=', 'closed'),
                    ('company', '=', company.id),
                    ], order=[('date', 'DESC')], limit=1)
            if periods:
                closed_periods[company.id] = periods[0].date
        left = [s.id for s in sales
            if not self.covered(s, today[s.company.id], closed_periods)]
        left_set = set(left)
        left.extend(i for i in sale_ids if i not in {s.id for s in sales})
        sales = [s for s in sales if s.id not in left_set]
        if not sales:
            return left
        self.prefetch(sales)

        stock_values = []
        move_values = []
        line_values = []  # per move: list of (line values, tax lines)
        accounts = set()
        for sale in sales:
            company = sale.company
            for line in sale.lines:
                for move in line.get_lot_moves():
                    values = move._save_values()
                    # What StockMove.do writes
                    values.update({
                            'state': 'done',
                            'internal_quantity': self.internal_quantity(
                                move.unit, move.quantity, move.product),
                            'cost_price': self.cost_price(
                                move.product, company),
                            })
                    stock_values.append(values)
            move = sale.get_account_move()
            self.check_period(move.period)
            values = move._save_values()
            lines = []
            for _, created in values.pop('lines', []):
                for line in created:
                    taxes = [t for _, c in line.pop('tax_lines', [])
                        for t in c]
                    accounts.add(line['account'])
                    lines.append((line, taxes))
            move_values.append(values)
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
                    where=table.id == sale.id))
        self.invalidate([Sale, StockMove])
        return left

    def check_period(self, period):
        "The domain of a draft move's period: open"
        if period.id not in self.open_periods:
            if period.state != 'open':
                raise ValueError(f"Period {period.rec_name} is not open.")
            self.open_periods.add(period.id)

    def internal_quantity(self, unit, quantity, product):
        Uom = Pool().get('product.uom')
        key = (unit.id, quantity, product.default_uom.id)
        if key not in self.internal_quantities:
            self.internal_quantities[key] = Uom.compute_qty(
                unit, quantity, product.default_uom, round=True)
        return self.internal_quantities[key]

    def check_accounts(self, account_ids):
        "Line.check_account: the accounts must be open and party free"
        Account = Pool().get('account.account')
        new = sorted(set(account_ids) - self.checked_accounts)
        for account in Account.browse(new):
            if (not account.type or account.closed
                    or account.party_required):
                raise ValueError(
                    f"Account {account.rec_name} cannot take POS lines.")
        self.checked_accounts.update(new)

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
