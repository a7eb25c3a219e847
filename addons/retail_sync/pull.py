# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""What a terminal receives: the records of each kind registered in
retail.sync.pull (_kinds), serialised for the wire, scoped to the shared
catalog and the terminal's branch; pages of a bootstrap and the changes
after a cursor."""
import base64
import json
from collections import defaultdict

from sql import Literal, Null
from sql.aggregate import Count

from trytond.model import Model
from trytond.pool import Pool
from trytond.transaction import Transaction

from . import serialise
from .changelog import SETTINGS_ID, format_cursor, in_, parse_cursor
from .wire import TerminalContext


class Scope(TerminalContext):
    "The terminal a pull serves and what it may see"


class PulledKind:
    """A kind of record the terminals pull.

    name: the kind on the wire ("kind" of a change, key of a bootstrap page)
    serialise: (ids, scope) -> {id: data, or None for a delete}
    model: the model whose ids a bootstrap sends (active ones only when it
        has an active field), unless bootstrap or single is given
    branch_field: with model, the field naming the branch of a record: a
        bootstrap sends the records of the terminal's branch only
    bootstrap: (scope, after) -> (table, id column, where, group_by): the
        query of the ids a bootstrap sends, after an id
    single: scope -> id or None: a kind of one record per terminal

    The changes a pull sends are logged by the models (changelog.py,
    ChangeLogMixin) under the same name."""

    def __init__(self, name, serialise, model=None, branch_field=None,
            bootstrap=None, single=None):
        assert model or bootstrap or single, name
        self.name = name
        self.serialise = serialise
        self.model = model
        self.branch_field = branch_field
        self.bootstrap = bootstrap
        self.single = single

    def bootstrap_query(self, scope, after):
        "Return (table, id column, where, group_by) of the ids to send"
        if self.bootstrap:
            return self.bootstrap(scope, after)
        Model = Pool().get(self.model)
        table = Model.__table__()
        where = table.id > after
        if 'active' in Model._fields:
            where &= table.active == True  # noqa: E712
        if self.branch_field:
            where &= getattr(table, self.branch_field) == scope.branch.id
        return table, table.id, where, None

    def bootstrap_ids(self, scope, after, limit):
        "The ids a bootstrap sends, after an id"
        if self.single:
            id_ = self.single(scope)
            return [id_] if id_ is not None and after < id_ else []
        table, column, where, group_by = self.bootstrap_query(scope, after)
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(column, where=where, group_by=group_by,
                order_by=[column.asc], limit=limit))
        return [i for i, in cursor.fetchall()]

    def bootstrap_count(self, scope):
        "The number of records a bootstrap sends"
        if self.single:
            return int(self.single(scope) is not None)
        table, column, where, group_by = self.bootstrap_query(scope, 0)
        cursor = Transaction().connection.cursor()
        if group_by:
            query = table.select(column, where=where, group_by=group_by)
            cursor.execute(*query.select(Count(Literal(1))))
        else:
            cursor.execute(*table.select(Count(column), where=where))
        return cursor.fetchone()[0]


def _employees(scope, after):
    EmployeeBranch = Pool().get('company.employee-retail.branch')
    table = EmployeeBranch.__table__()
    return table, table.employee, (
        (table.branch == scope.branch.id) & (table.employee > after)), None


def _stock(scope, after):
    Move = Pool().get('stock.move')
    move = Move.__table__()
    locations = scope.locations
    return move, move.product, (
        (move.product > after) & (move.state == 'done')
        & (in_(move.to_location, locations)
            | in_(move.from_location, locations))), [move.product]


def _customers(scope, after):
    "Not the parties of companies and employees (serialise.ser_customer)"
    pool = Pool()
    Party = pool.get('party.party')
    table = Party.__table__()
    where = (table.id > after) & (table.active == True)  # noqa: E712
    for Other in [pool.get('company.company'), pool.get('company.employee')]:
        other = Other.__table__()
        where &= ~table.id.in_(other.select(
                other.party, where=other.party != Null))
    return table, table.id, where, None


def _price_list(scope):
    price_list = scope.branch.price_list
    return price_list.id if price_list else None


def builtin_kinds():
    "The kinds retail_sync sends, in the order a bootstrap sends them"
    ser = serialise.SERIALIZERS
    return [
        PulledKind('branch', ser['branch'], single=lambda s: s.branch.id),
        PulledKind('terminal', ser['terminal'],
            single=lambda s: s.terminal.id),
        PulledKind('company', ser['company'], single=lambda s: s.company.id),
        PulledKind('uom', ser['uom'], model='product.uom'),
        PulledKind('category', ser['category'], model='product.category'),
        PulledKind('tax', ser['tax'], model='account.tax'),
        PulledKind('payment_method', ser['payment_method'],
            model='sale.point.payment.method'),
        PulledKind('cash_transfer_type', ser['cash_transfer_type'],
            model='sale.point.cash.transfer.type'),
        PulledKind('price_list', ser['price_list'], single=_price_list),
        PulledKind('product', ser['product'], model='product.product'),
        PulledKind('lot', ser['lot'], model='stock.lot'),
        PulledKind('stock', ser['stock'], bootstrap=_stock),
        PulledKind('employee', ser['employee'], bootstrap=_employees),
        PulledKind('customer', ser['customer'], bootstrap=_customers),
        PulledKind('settings', ser['settings'],
            single=lambda s: SETTINGS_ID),
        PulledKind('quick_key', ser['quick_key'], model='retail.quick_key',
            branch_field='branch'),
        ]


class Pull(Model):
    "Sync Pull: the kinds of records the terminals receive"
    __name__ = 'retail.sync.pull'

    @classmethod
    def _kinds(cls):
        """Return the kinds the terminals pull: {name: PulledKind}, in the
        order a bootstrap sends them.  Another module adds its kinds with
        super(): a kind that refers to another comes after it."""
        return {k.name: k for k in builtin_kinds()}

    @classmethod
    def kinds(cls):
        "The names of the kinds the terminals pull"
        return list(cls._kinds())

    @classmethod
    def serialise(cls, kind, ids, scope):
        """Return {id: data, or None for a delete} of the records of kind;
        another module adds to the data of a kind with super()"""
        return cls._kinds()[kind].serialise(ids, scope)


def bootstrap_total(scope):
    """The number of records a bootstrap sends, counted when it starts (a
    progress estimate: records may come and go while it runs)"""
    Pull = Pool().get('retail.sync.pull')
    return sum(k.bootstrap_count(scope) for k in Pull._kinds().values())


def encode_token(data):
    raw = json.dumps(data, separators=(',', ':')).encode('utf-8')
    return base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


def decode_token(token):
    try:
        padding = '=' * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + padding))
        if data.get('v') != 1:
            raise ValueError(token)
        parse_cursor(data['c'])
        for name, required in [('k', True), ('a', True), ('t', False)]:
            value = data.get(name)
            if value is None and not required:
                continue
            if (not isinstance(value, int) or isinstance(value, bool)
                    or not 0 <= value < 2 ** 63):
                raise ValueError(token)
        return data
    except (ValueError, TypeError, AttributeError, KeyError):
        raise ValueError(token)


def bootstrap_page(scope, token, limit):
    """Return (records, next_token, cursor, total) of one bootstrap page.
    The token holds the cursor taken when the bootstrap started, the kind,
    the last id sent and the total: a page can be asked again, after any
    cut."""
    pool = Pool()
    Change = pool.get('retail.sync.change')
    Pull = pool.get('retail.sync.pull')
    kinds = list(Pull._kinds().values())
    if token:
        state = decode_token(token)
        cursor, kind_index, after = state['c'], state['k'], state['a']
        total = state.get('t')
        if total is None:
            total = bootstrap_total(scope)
    else:
        cursor, kind_index, after = Change.start_cursor(), 0, 0
        total = bootstrap_total(scope)
    records = {}
    remaining = limit
    while kind_index < len(kinds) and remaining > 0:
        kind = kinds[kind_index]
        ids = kind.bootstrap_ids(scope, after, remaining)
        if ids:
            data = Pull.serialise(kind.name, ids, scope)
            records.setdefault(kind.name, []).extend(
                data[i] for i in ids if data.get(i) is not None)
            after = ids[-1]
        if len(ids) < remaining:
            # This kind is exhausted
            kind_index, after = kind_index + 1, 0
        remaining -= len(ids)
    if kind_index >= len(kinds):
        return records, None, cursor, total
    return records, encode_token(
        {'v': 1, 'c': cursor, 'k': kind_index, 'a': after, 't': total}
        ), None, total


def delta(scope, cursor_value, limit):
    "Return (changes, cursor, has_more) after cursor"
    pool = Pool()
    Change = pool.get('retail.sync.change')
    Pull = pool.get('retail.sync.pull')
    rows, has_more = Change.changes_after(
        cursor_value, scope.branch.id, limit)
    if not rows:
        return [], cursor_value, False
    last = rows[-1]
    new_cursor = format_cursor(last[3], last[0])
    # Each record once, in its state now
    by_kind = defaultdict(dict)
    order = []
    for id_, kind, record, _ in rows:
        if record not in by_kind[kind]:
            by_kind[kind][record] = None
            order.append((kind, record))
    data = {}
    kinds = Pull._kinds()
    for kind, records in by_kind.items():
        if kind in kinds:
            data[kind] = Pull.serialise(kind, list(records), scope)
    changes = []
    for kind, record in order:
        if kind not in data:
            continue
        value = data[kind].get(record)
        changes.append({
                'kind': kind, 'id': record,
                'op': 'upsert' if value is not None else 'delete',
                'data': value})
    return changes, new_cursor, has_more
