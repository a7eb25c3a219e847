# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The summary tables the owner's dashboard reads: the recorded sales per
terminal, day and hour, and the products sold per terminal and day, kept up
to date when a sale is recorded (enters the states done or posted) or
leaves them, and rebuilt from the sales by `rebuild` (docs/reports.md,
"Owner's dashboard")"""
from collections import defaultdict
from decimal import Decimal

from sql import Conflict, Literal, Null, Table
from sql.aggregate import Count, Max, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import CurrentTimestamp, Extract, Round

from trytond import backend
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

# The sales that count: recorded, whether posted or not
SALE_STATES = ('done', 'posted')


def numeric_type():
    "The SQL type the amounts are computed in (that of the line's prices)"
    Line = Pool().get('sale.point.sale.line')
    return Line.unit_gross_price.sql_type().base


def per_sale_query(sale_where=None):
    """The query of one row per recorded sale: sale, point, date, hour
    (UTC, of the till's time else the record's), amount (the sum of the
    lines' rounded quantity × gross unit price) and discount (what the
    lines' base prices would have made more)"""
    pool = Pool()
    Sale = pool.get('sale.point.sale')
    Line = pool.get('sale.point.sale.line')
    Point = pool.get('sale.point')
    sale = Sale.__table__()
    line = Line.__table__()
    point = Point.__table__()
    quantity = line.quantity.cast(numeric_type())
    amount = Round(quantity * line.unit_gross_price, 2)
    unit_price = Case((point.tax_included,
            line.unit_gross_price), else_=line.unit_list_price)
    discount = Case(
        ((line.base_price != Null) & (line.base_price > unit_price),
            Round(quantity * line.base_price, 2)
            - Round(quantity * unit_price, 2)),
        else_=0)
    at = Coalesce(sale.client_time, sale.create_date)
    where = sale.state.in_(list(SALE_STATES))
    if sale_where is not None:
        where &= sale_where(sale)
    return (sale
        .join(point, condition=sale.point == point.id)
        .join(line, condition=line.sale == sale.id)
        .select(
            sale.id.as_('sale'),
            sale.point.as_('point'),
            sale.date.as_('date'),
            Max(Extract('HOUR', at)).as_('hour'),
            Sum(amount).as_('amount'),
            Sum(discount).as_('discount'),
            where=where,
            group_by=[sale.id, sale.point, sale.date]))


def per_product_query(sale_where=None):
    """The query of the lines of recorded sales per point, date and product:
    quantity and amount"""
    pool = Pool()
    Sale = pool.get('sale.point.sale')
    Line = pool.get('sale.point.sale.line')
    sale = Sale.__table__()
    line = Line.__table__()
    quantity = line.quantity.cast(numeric_type())
    where = sale.state.in_(list(SALE_STATES))
    if sale_where is not None:
        where &= sale_where(sale)
    return (line
        .join(sale, condition=line.sale == sale.id)
        .select(
            sale.point.as_('point'),
            sale.date.as_('date'),
            line.product.as_('product'),
            Sum(line.quantity).as_('quantity'),
            Sum(Round(quantity * line.unit_gross_price, 2)).as_('amount'),
            where=where,
            group_by=[sale.point, sale.date, line.product]))


class _Excluded(Table):
    """The row proposed for insertion in ON CONFLICT DO UPDATE, named in
    lower case: python-sql's Excluded is quoted upper case ("EXCLUDED"),
    which PostgreSQL does not find"""

    def __init__(self):
        super().__init__('excluded')

    @property
    def alias(self):
        return 'excluded'

    @property
    def has_alias(self):
        return False


Excluded = _Excluded()


def in_(column, ids):
    return fields.SQL_OPERATORS['in'](column, ids)


def decimal(value):
    if value is None:
        return Decimal(0)
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value


class _PendingSales:
    """The sales of a transaction that entered the recorded states: their
    figures are added to the summaries when the transaction commits (once
    their lines and payments are there), or by `SalesSummary.flush`"""

    def __init__(self):
        self.sales = set()

    def __eq__(self, other):
        return isinstance(other, _PendingSales)

    def __hash__(self):
        return hash(_PendingSales)

    def abort(self, trans):
        self.sales.clear()

    def tpc_begin(self, trans):
        pass

    def commit(self, trans):
        if self.sales:
            Pool().get('retail.report.sales_summary').flush()

    def tpc_vote(self, trans):
        pass

    def tpc_finish(self, trans):
        pass

    def tpc_abort(self, trans):
        self.sales.clear()


class SalesSummary(ModelSQL):
    "Sales Summary per terminal, day and hour"
    __name__ = 'retail.report.sales_summary'

    point = fields.Many2One(
        'sale.point', "Terminal", required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    hour = fields.Integer("Hour", required=True, help="In UTC.")
    sales = fields.Integer("Sales")
    sales_total = fields.Numeric("Sales Total", digits=(16, 2))
    returns = fields.Integer("Returns")
    returns_total = fields.Numeric("Returns Total", digits=(16, 2))
    discounts = fields.Numeric("Discounts", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('point_date_hour_unique', Unique(t, t.point, t.date, t.hour),
                'retail_report.msg_summary_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.date, Index.Range()), (t.point, Index.Range())))

    @classmethod
    def __register__(cls, module_name):
        exist = backend.TableHandler.table_exist(cls._table)
        super().__register__(module_name)
        if not exist:
            # The summaries of the sales already recorded
            cls.rebuild()

    @classmethod
    def _pending(cls):
        return Transaction().join(_PendingSales())

    @classmethod
    def sales_recorded(cls, sale_ids):
        """sale_ids entered the recorded states: they count from the
        transaction's commit (or the next flush)"""
        if sale_ids:
            cls._pending().sales.update(sale_ids)

    @classmethod
    def sales_unrecorded(cls, sale_ids):
        """sale_ids leave the recorded states (reopened, deleted): their
        figures are taken out now, while their lines are there"""
        pending = cls._pending().sales
        counted = [i for i in sale_ids if i not in pending]
        pending.difference_update(sale_ids)
        cls._apply(counted, -1)

    @classmethod
    def flush(cls):
        "Add the pending sales of the transaction to the summaries"
        transaction = Transaction()
        for datamanager in transaction._datamanagers:
            if isinstance(datamanager, _PendingSales):
                sale_ids, datamanager.sales = sorted(datamanager.sales), set()
                cls._apply(sale_ids, 1)

    @classmethod
    def _apply(cls, sale_ids, sign):
        """Add (sign 1) or take out (-1) the figures of the recorded sales
        of sale_ids"""
        ProductSummary = Pool().get('retail.report.product_summary')
        if not sale_ids:
            return
        cursor = Transaction().connection.cursor()
        hours = defaultdict(lambda: [0, Decimal(0), 0, Decimal(0),
                Decimal(0)])
        products = defaultdict(lambda: [0, Decimal(0)])
        for sub in grouped_slice(sale_ids, 1000):
            sub = list(sub)
            cursor.execute(*per_sale_query(
                    lambda sale: in_(sale.id, sub)))
            for _, point, date, hour, amount, discount in cursor:
                amount, discount = decimal(amount), decimal(discount)
                values = hours[(point, date, int(hour or 0))]
                if amount < 0:
                    values[2] += sign
                    values[3] += sign * amount
                else:
                    values[0] += sign
                    values[1] += sign * amount
                values[4] += sign * discount
            cursor.execute(*per_product_query(
                    lambda sale: in_(sale.id, sub)))
            for point, date, product, quantity, amount in cursor:
                values = products[(point, date, product)]
                values[0] += sign * (quantity or 0)
                values[1] += sign * decimal(amount)
        cls._upsert(hours)
        ProductSummary._upsert(products)

    @classmethod
    def _upsert(cls, hours):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [table.point, table.date, table.hour, table.sales,
            table.sales_total, table.returns, table.returns_total,
            table.discounts]
        added = [table.sales, table.sales_total, table.returns,
            table.returns_total, table.discounts]
        for (point, date, hour), values in sorted(hours.items()):
            cursor.execute(*table.insert(
                    columns + [table.create_uid, table.create_date],
                    [[point, date, hour, *values,
                            Transaction().user, CurrentTimestamp()]],
                    on_conflict=Conflict(table,
                        indexed_columns=[table.point, table.date, table.hour],
                        columns=added,
                        values=[c + getattr(Excluded, c.name)
                            for c in added])))

    @classmethod
    def rebuild(cls, dates=None):
        """Make the summaries again from the recorded sales: all of them,
        or those of dates"""
        ProductSummary = Pool().get('retail.report.product_summary')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()

        def sale_where(sale):
            return sale.date.in_(list(dates)) if dates else None
        if dates:
            cursor.execute(*table.delete(
                    where=table.date.in_(list(dates))))
        else:
            cursor.execute(*table.delete())
        per_sale = per_sale_query(sale_where if dates else None)
        is_return = per_sale.amount < 0
        # Counts of CASE without ELSE (NULL is not counted): PostgreSQL
        # cannot type a CASE of parameters only
        query = per_sale.select(
            per_sale.point, per_sale.date, per_sale.hour,
            Count(Case((~is_return, per_sale.sale))),
            Coalesce(Sum(Case((~is_return, per_sale.amount))), 0),
            Count(Case((is_return, per_sale.sale))),
            Coalesce(Sum(Case((is_return, per_sale.amount))), 0),
            Sum(per_sale.discount),
            Literal(Transaction().user), CurrentTimestamp(),
            group_by=[per_sale.point, per_sale.date, per_sale.hour])
        cursor.execute(*table.insert([table.point, table.date, table.hour,
                    table.sales, table.sales_total, table.returns,
                    table.returns_total, table.discounts,
                    table.create_uid, table.create_date], query))
        ProductSummary.rebuild(dates)
        # Sales recorded in this transaction are in
        for datamanager in Transaction()._datamanagers:
            if isinstance(datamanager, _PendingSales):
                datamanager.sales.clear()


class ProductSummary(ModelSQL):
    "Products Sold per terminal and day"
    __name__ = 'retail.report.product_summary'

    point = fields.Many2One(
        'sale.point', "Terminal", required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')
    quantity = fields.Float("Quantity")
    amount = fields.Numeric("Amount", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('point_date_product_unique',
                Unique(t, t.point, t.date, t.product),
                'retail_report.msg_summary_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.date, Index.Range()), (t.point, Index.Range())))

    @classmethod
    def _upsert(cls, products):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        added = [table.quantity, table.amount]
        for (point, date, product), values in sorted(products.items()):
            cursor.execute(*table.insert(
                    [table.point, table.date, table.product, *added,
                        table.create_uid, table.create_date],
                    [[point, date, product, *values,
                            Transaction().user, CurrentTimestamp()]],
                    on_conflict=Conflict(table,
                        indexed_columns=[
                            table.point, table.date, table.product],
                        columns=added,
                        values=[c + getattr(Excluded, c.name)
                            for c in added])))

    @classmethod
    def rebuild(cls, dates=None):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        if dates:
            cursor.execute(*table.delete(
                    where=table.date.in_(list(dates))))
            query = per_product_query(
                lambda sale: sale.date.in_(list(dates)))
        else:
            cursor.execute(*table.delete())
            query = per_product_query()
        query = query.select(query.point, query.date, query.product,
            query.quantity, query.amount,
            Literal(Transaction().user), CurrentTimestamp())
        cursor.execute(*table.insert([table.point, table.date,
                    table.product, table.quantity, table.amount,
                    table.create_uid, table.create_date], query))


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    @classmethod
    def _retail_recorded(cls, sale_ids):
        "The ids of sale_ids in the recorded states, as stored"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        ids = []
        for sub in grouped_slice(sale_ids, 1000):
            cursor.execute(*table.select(table.id,
                    where=in_(table.id, list(sub))
                    & table.state.in_(list(SALE_STATES))))
            ids.extend(i for i, in cursor)
        return ids

    @classmethod
    def create(cls, vlist):
        sales = super().create(vlist)
        Summary = Pool().get('retail.report.sales_summary')
        Summary.sales_recorded(
            [s.id for s in sales if s.state in SALE_STATES])
        return sales

    @classmethod
    def retail_sales_inserted(cls, sale_ids):
        super().retail_sales_inserted(sale_ids)
        Summary = Pool().get('retail.report.sales_summary')
        Summary.sales_recorded(cls._retail_recorded(sale_ids))

    @classmethod
    def write(cls, *args):
        Summary = Pool().get('retail.report.sales_summary')
        actions = iter(args)
        leaving, entering = [], []
        for records, values in zip(actions, actions):
            if 'state' not in values:
                continue
            ids = [r.id for r in records]
            recorded = set(cls._retail_recorded(ids))
            if values['state'] in SALE_STATES:
                entering.extend(i for i in ids if i not in recorded)
            else:
                leaving.extend(i for i in ids if i in recorded)
        Summary.sales_unrecorded(leaving)
        super().write(*args)
        Summary.sales_recorded(entering)

    @classmethod
    def delete(cls, sales):
        Summary = Pool().get('retail.report.sales_summary')
        Summary.sales_unrecorded(cls._retail_recorded([s.id for s in sales]))
        super().delete(sales)
