# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The change log: every modification of data a terminal needs appends, in
the same transaction, a row (kind, record, branch) that pulls read with a
cursor.  Models are extended through the pool and log in on_modification."""
from sql import Literal, Null
from sql.operators import Exists, Or

from trytond import backend
from trytond.model import Index, ModelSQL, fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

# A cursor is "v1.<transaction>.<id>": the last change row delivered, in
# (transaction, id) order.  See docs/sync-protocol.md.
CURSOR_MAX_ID = 2 ** 62
# The tills' settings are one record of kind 'settings'
SETTINGS_ID = 1


def format_cursor(txid, id_):
    return f'v1.{int(txid)}.{int(id_)}'


def parse_cursor(cursor):
    try:
        version, txid, id_ = cursor.split('.')
        if version != 'v1' or not (txid.isdigit() and id_.isdigit()):
            raise ValueError(cursor)
        txid, id_ = int(txid), int(id_)
        # Both are 64-bit in the database
        if txid >= 2 ** 63 or id_ >= 2 ** 63:
            raise ValueError(cursor)
        return txid, id_
    except (AttributeError, ValueError):
        raise ValueError(cursor)


def in_(column, ids):
    return fields.SQL_OPERATORS['in'](column, list(ids))


class BigInteger(fields.Integer):
    "A 64-bit integer (transaction ids grow past 2**31)"
    _sql_type = 'BIGINT'


def is_postgresql():
    return backend.name == 'postgresql'


class Change(ModelSQL):
    "Sync Change: a record of a kind changed, for a branch or for all"
    __name__ = 'retail.sync.change'

    kind = fields.Char("Kind", required=True)
    record = fields.Integer("Record", required=True)
    branch = fields.Many2One(
        'retail.branch', "Branch", ondelete='CASCADE',
        help="Empty for data shared by all branches.")
    txid = BigInteger(
        "Transaction", required=True,
        help="The database transaction that logged the change "
        "(0 on SQLite where writers are serialised).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.txid, Index.Range()), (t.id, Index.Range())),
                # A later change of the same record in the same
                # transaction (changes_after sends the last one only)
                Index(t, (t.txid, Index.Equality()),
                    (t.record, Index.Equality()),
                    (t.kind, Index.Equality()), (t.id, Index.Range())),
                })

    @classmethod
    def current_txid(cls):
        "The id of the writing transaction, as a 64-bit integer"
        if not is_postgresql():
            return 0
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT pg_current_xact_id()::text::bigint')
        return cursor.fetchone()[0]

    @classmethod
    def horizon(cls):
        """Return the transaction id below which every transaction that may
        have written to this database has finished (committed or rolled
        back), or None when all writes are serialised (SQLite).

        Transaction ids are cluster-wide: the snapshot's xmin alone would
        let a long transaction in another tenant's database hold back every
        pull.  A transaction still running at the snapshot is left out only
        when pg_stat_activity shows it in another database; one it does not
        show (finished since, prepared, or hidden from this role) still
        counts, so the horizon is never later than is safe."""
        if not is_postgresql():
            return None
        cursor = Transaction().connection.cursor()
        cursor.execute(
            'SELECT COALESCE(('
                'SELECT MIN(xip.x::text::bigint) '
                'FROM pg_snapshot_xip(snapshot.s) AS xip(x) '
                'WHERE NOT EXISTS ('
                    'SELECT 1 FROM pg_stat_activity AS a '
                    'WHERE a.datname <> current_database() '
                    'AND a.backend_xid::text '
                    '= MOD(xip.x::text::bigint, 4294967296)::text)), '
                'pg_snapshot_xmax(snapshot.s)::text::bigint) '
            'FROM (SELECT pg_current_snapshot() AS s) AS snapshot')
        return cursor.fetchone()[0]

    @classmethod
    def start_cursor(cls):
        """The cursor that follows a snapshot read now: every change of a
        transaction not finished yet comes after it."""
        horizon = cls.horizon()
        if horizon is not None:
            return format_cursor(horizon - 1, CURSOR_MAX_ID)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, order_by=[table.id.desc], limit=1))
        row = cursor.fetchone()
        return format_cursor(0, row[0] if row else 0)

    @classmethod
    def log(cls, kind, ids, branches=None):
        """Append changes of records of kind.
        branches: None for shared data, or a dict {record id: [branch ids]}
        """
        if not ids:
            return
        transaction = Transaction()
        txid = cls.current_txid()
        table = cls.__table__()
        user = transaction.user
        values = []
        for id_ in sorted(set(ids)):
            if branches is None:
                values.append([kind, id_, Null, txid, user])
            else:
                for branch in sorted(set(branches.get(id_) or [])):
                    values.append([kind, id_, branch, txid, user])
        if not values:
            return
        cursor = transaction.connection.cursor()
        columns = [table.kind, table.record, table.branch, table.txid,
            table.create_uid]
        query, params = tuple(table.insert(columns, [values[0]]))
        if len(values) > 1 and len(params) == len(columns):
            # One statement run for all rows (psycopg sends them in one
            # pipeline); a statement of many rows costs more to convert
            cursor.executemany(query, values)
            return
        for sub in grouped_slice(values, 1000):
            cursor.execute(*table.insert(columns, [list(v) for v in sub]))

    @classmethod
    def changes_after(cls, cursor_value, branch, limit):
        """Return up to limit change rows (id, kind, record, txid) after the
        cursor, visible to branch, and whether more may follow.

        A record logged several times by one transaction (a price change
        logs a variant for its list price and again for the gross price
        computed from it) comes once: its last row in that transaction; the
        rows before it are passed over.  The state sent is the record's
        state now anyway, and the row kept is never before the cursor when
        one passed over is after it."""
        txid, last_id = parse_cursor(cursor_value)
        table = cls.__table__()
        later = cls.__table__()
        where = (
            (table.txid > txid)
            | ((table.txid == txid) & (table.id > last_id)))
        horizon = cls.horizon()
        if horizon is not None:
            # Never pass a transaction that may still commit rows below
            where &= table.txid < horizon
        where &= Or([table.branch == Null, table.branch == branch])
        where &= ~Exists(later.select(Literal(1),
                where=(later.txid == table.txid)
                & (later.record == table.record)
                & (later.kind == table.kind)
                & (later.id > table.id)
                & Or([later.branch == Null, later.branch == branch])))
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, table.kind, table.record, table.txid,
                where=where, order_by=[table.txid.asc, table.id.asc],
                limit=limit + 1))
        rows = cursor.fetchall()
        return rows[:limit], len(rows) > limit


def branches_of_locations(location_ids):
    "Return {location id: branch id} for locations inside a branch warehouse"
    pool = Pool()
    Location = pool.get('stock.location')
    Branch = pool.get('retail.branch')
    location_ids = [i for i in set(location_ids) if i is not None]
    if not location_ids:
        return {}
    location = Location.__table__()
    warehouse = Location.__table__()
    branch = Branch.__table__()
    cursor = Transaction().connection.cursor()
    result = {}
    for sub in grouped_slice(location_ids, 1000):
        cursor.execute(*location
            .join(warehouse, condition=(
                    (location.left >= warehouse.left)
                    & (location.right <= warehouse.right)))
            .join(branch, condition=branch.warehouse == warehouse.id)
            .select(location.id, branch.id,
                where=in_(location.id, sub)))
        result.update(cursor)
    return result


def branch_locations(branch):
    "Return the ids of the locations of the branch's warehouse"
    pool = Pool()
    Location = pool.get('stock.location')
    location = Location.__table__()
    warehouse = Location.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*location.join(warehouse, condition=(
                (location.left >= warehouse.left)
                & (location.right <= warehouse.right))).select(
            location.id, where=warehouse.id == branch.warehouse.id))
    return [i for i, in cursor]


class ChangeLogMixin:
    "Log create, write and delete of the model in the sync change log"
    __slots__ = ()
    # (kind, method name returning {kind: ids} or {kind: {id: branches}})
    _sync_kind = None

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        """Return a list of (kind, ids, branches) to log; branches is None
        for shared data or a dict {id: [branch ids]}"""
        return [(cls._sync_kind, [r.id for r in records], None)]

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        if Transaction().context.get('_retail_sync_nolog'):
            return
        Change = Pool().get('retail.sync.change')
        for kind, ids, branches in cls._sync_changes(
                records, mode, field_names):
            Change.log(kind, ids, branches)


def _template_products(template_ids):
    pool = Pool()
    Product = pool.get('product.product')
    product = Product.__table__()
    cursor = Transaction().connection.cursor()
    ids = []
    for sub in grouped_slice(template_ids, 1000):
        cursor.execute(*product.select(
                product.id, where=in_(product.template, sub)))
        ids.extend(i for i, in cursor)
    return ids


class Template(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'product.template'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        if mode == 'create':
            return []  # its products log themselves
        return [('product', _template_products([r.id for r in records]),
                None)]


class Product(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'product.product'
    _sync_kind = 'product'


class _ProductValueMixin(ChangeLogMixin):
    "A price stored per product or per template"
    __slots__ = ()

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        products = [r.product.id for r in records if r.product]
        templates = [
            r.template.id for r in records if r.template and not r.product]
        return [('product', products + _template_products(templates), None)]


class ProductListPrice(_ProductValueMixin, metaclass=PoolMeta):
    __name__ = 'product.list_price'


class ProductGrossPrice(_ProductValueMixin, metaclass=PoolMeta):
    __name__ = 'product.gross_price'


class ProductIdentifier(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'product.identifier'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        return [('product', [r.product.id for r in records], None)]


class Category(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'product.category'
    _sync_kind = 'category'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        changes = super()._sync_changes(records, mode, field_names)
        if mode == 'write' and field_names and (
                field_names & {'customer_taxes', 'taxes_parent', 'parent'}):
            # The taxes of the products of an accounting category
            Template = Pool().get('product.template')
            templates = Template.search([
                    ('account_category', 'in', [r.id for r in records]),
                    ])
            changes.append(('product', _template_products(
                        [t.id for t in templates]), None))
        return changes


class Uom(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'product.uom'
    _sync_kind = 'uom'


class Tax(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'account.tax'
    _sync_kind = 'tax'
    # What a tax-included price depends on (serialise.product_prices)
    _sync_price_fields = {'rate', 'amount', 'type', 'childs', 'parent',
        'active', 'start_date', 'end_date', 'sequence', 'update_unit_price'}

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        changes = super()._sync_changes(records, mode, field_names)
        if mode == 'write' and field_names and (
                field_names & cls._sync_price_fields):
            # The tax-included prices of the products the taxes (or a tax
            # they are a child of) apply to through their accounting
            # category, or a category taking its parent's taxes
            pool = Pool()
            Category = pool.get('product.category')
            Template = pool.get('product.template')
            with Transaction().set_context(active_test=False):
                taxes, parents = list(records), list(records)
                while parents:
                    parents = [t.parent for t in parents
                        if t.parent and t.parent not in taxes]
                    taxes.extend(parents)
                categories = Category.search([
                        ('customer_taxes', 'in', [t.id for t in taxes]),
                        ])
                children = categories
                while children:
                    children = Category.search([
                            ('parent', 'in', [c.id for c in children]),
                            ('taxes_parent', '=', True),
                            ])
                    children = [c for c in children if c not in categories]
                    categories.extend(children)
                templates = Template.search([
                        ('account_category', 'in',
                            [c.id for c in categories]),
                        ]) if categories else []
            if templates:
                changes.append(('product', _template_products(
                            [t.id for t in templates]), None))
        return changes


def _price_list_branches(price_list_ids):
    Branch = Pool().get('retail.branch')
    result = {}
    with Transaction().set_context(active_test=False):
        for branch in Branch.search(
                [('price_list', 'in', list(price_list_ids))]):
            result.setdefault(branch.price_list.id, []).append(branch.id)
    return result


class PriceList(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'product.price_list'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        ids = [r.id for r in records]
        return [('price_list', ids, _price_list_branches(ids))]


class PriceListLine(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'product.price_list.line'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        ids = list({r.price_list.id for r in records})
        return [('price_list', ids, _price_list_branches(ids))]


class BarcodeLayout(ChangeLogMixin, metaclass=PoolMeta):
    "The chain's barcode layouts travel in the tills' settings record"
    __name__ = 'retail.barcode.layout'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        return [('settings', [SETTINGS_ID], None)]


class PaymentMethod(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.payment.method'
    _sync_kind = 'payment_method'


class CashTransferType(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.cash.transfer.type'
    _sync_kind = 'cash_transfer_type'


class Lot(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'stock.lot'
    _sync_kind = 'lot'


class Move(ChangeLogMixin, metaclass=PoolMeta):
    "Stock levels per branch follow the done moves"
    __name__ = 'stock.move'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The done moves of a range of products: a stock page of a
        # bootstrap (pull._stock, serialise.stock_quantities) reads those
        # of 20,000 products; without it each page scanned every move
        cls._sql_indexes.add(
            Index(t, (t.product, Index.Range()), where=t.state == 'done'))

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        if mode == 'write' and field_names is not None:
            relevant = {'state', 'quantity', 'internal_quantity', 'product',
                'from_location', 'to_location', 'lot', 'unit'}
            if not (field_names & relevant):
                return []
        records = [r for r in records
            if r.state == 'done' or mode == 'write']
        if not records:
            return []
        location2branch = branches_of_locations(
            [r.from_location.id for r in records]
            + [r.to_location.id for r in records])
        branches = {}
        for move in records:
            for location in [move.from_location, move.to_location]:
                branch = location2branch.get(location.id)
                if branch:
                    branches.setdefault(move.product.id, set()).add(branch)
        return [('stock', list(branches), branches)]


class Party(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'party.party'
    _sync_kind = 'customer'


class ContactMechanism(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'party.contact_mechanism'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        return [('customer', [r.party.id for r in records], None)]


def _employee_branches(employee_ids):
    EmployeeBranch = Pool().get('company.employee-retail.branch')
    table = EmployeeBranch.__table__()
    cursor = Transaction().connection.cursor()
    result = {}
    for sub in grouped_slice(employee_ids, 1000):
        cursor.execute(*table.select(table.employee, table.branch,
                where=in_(table.employee, sub)))
        for employee, branch in cursor:
            result.setdefault(employee, []).append(branch)
    return result


class Employee(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'company.employee'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        ids = [r.id for r in records]
        changes = [('employee', ids, _employee_branches(ids))]
        if mode == 'create' or (mode == 'write' and (
                    field_names is None or 'party' in field_names)):
            # An employee's party is no customer of the tills: they drop it
            changes.append(
                ('customer', [r.party.id for r in records if r.party], None))
        return changes


class EmployeeBranch(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'company.employee-retail.branch'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        # Also log the branch it leaves: the employee then arrives there as
        # a delete
        branches = {}
        for record in records:
            branches.setdefault(record.employee.id, []).append(
                record.branch.id)
        return [('employee', list(branches), branches)]


class PosRole(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'retail.pos.role'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        Employee = Pool().get('company.employee')
        with Transaction().set_context(active_test=False):
            employees = Employee.search(
                [('pos_role', 'in', [r.id for r in records])])
        ids = [e.id for e in employees]
        return [('employee', ids, _employee_branches(ids))]


class Branch(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'retail.branch'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        changes = [('branch', [r.id for r in records],
                {r.id: [r.id] for r in records})]
        if mode != 'delete' and (
                field_names is None or 'price_list' in field_names):
            lists = {}
            for record in records:
                if record.price_list:
                    lists.setdefault(record.price_list.id, []).append(
                        record.id)
            changes.append(('price_list', list(lists), lists))
        return changes


class QuickKey(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'retail.quick_key'
    # Logged for every branch: a key moved to another branch then reaches
    # the tills of the branch it left as a delete
    _sync_kind = 'quick_key'


class Terminal(ChangeLogMixin, metaclass=PoolMeta):
    __name__ = 'sale.point'

    @classmethod
    def _sync_changes(cls, records, mode, field_names=None):
        if mode == 'write' and field_names is not None and field_names <= {
                'device_state', 'device_last_seen', 'device_app_version',
                'device_cursor', 'device_pending_operations'}:
            return []
        return [('terminal', [r.id for r in records],
                {r.id: [r.branch.id] for r in records if r.branch})]
