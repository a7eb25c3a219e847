# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""What a terminal receives: the records of each kind registered in
retail.sync.pull (_kinds), serialised for the wire, scoped to the shared
catalog and the terminal's branch; pages of a bootstrap and the changes
after a cursor."""
import base64
import datetime as dt
import gc
import hashlib
import itertools
import json
import threading
import time
import weakref
from collections import OrderedDict, defaultdict
from contextlib import contextmanager

from sql import Literal, Null, Window
from sql.aggregate import Count, Min
from sql.functions import RowNumber
from sql.operators import Or

from trytond import config
from trytond.model import Model, ModelSQL, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from . import deflated, serialise
from .changelog import (
    SETTINGS_ID, BigInteger, format_cursor, in_, parse_cursor)
from .deflated import DeflatedJSON
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
    per_terminal: the data of a record depends on the terminal that pulls
        it, not only on its branch (the terminal record: each till gets its
        own): a delta page holding such a change is made for its terminal
        alone, never shared with the other tills of the branch (PageCache)
    keep: its bootstrap pages may be kept and answered again to the other
        terminals of the branch (BootstrapPage) while no change of a record
        of the page is logged: what a record sends depends only on the
        record, the branch, the modules and the day, and every change to
        it, to whether the branch receives it included, is logged

    The changes a pull sends are logged by the models (changelog.py,
    ChangeLogMixin) under the same name."""

    def __init__(self, name, serialise, model=None, branch_field=None,
            bootstrap=None, single=None, per_terminal=False, keep=False):
        assert model or bootstrap or single, name
        self.name = name
        self.per_terminal = per_terminal
        self.serialise = serialise
        self.model = model
        self.branch_field = branch_field
        self.bootstrap = bootstrap
        self.single = single
        self.keep = keep

    @property
    def keepable(self):
        """Whether its bootstrap pages may be kept and answered again to
        the other terminals of the branch (BootstrapPage)"""
        return self.keep and not (self.single or self.per_terminal)

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

    def bootstrap_ids(self, scope, after, limit, upto=None):
        """The ids a bootstrap sends, after an id (and up to upto, included,
        unless it is None), at most limit of them unless it is None"""
        if self.single:
            id_ = self.single(scope)
            return [id_] if id_ is not None and after < id_ and (
                upto is None or id_ <= upto) else []
        table, column, where, group_by = self.bootstrap_query(scope, after)
        if upto is not None:
            where = (column <= upto) if where is None else (
                where & (column <= upto))
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(column, where=where, group_by=group_by,
                order_by=[column.asc], limit=limit))
        return [i for i, in cursor.fetchall()]

    def bootstrap_bounds(self, scope, first, limit):
        """Return (count, bounds): the number of records a bootstrap sends
        and the ids that end its chunks (the id of the record at positions
        first, first + limit, first + 2 * limit... in id order, the last
        record excepted), in one query"""
        if self.single:
            return int(self.single(scope) is not None), []
        table, column, where, group_by = self.bootstrap_query(scope, 0)
        ids = table.select(column.as_('id'), where=where, group_by=group_by)
        numbered = ids.select(ids.id,
            RowNumber(window=Window([], order_by=[ids.id.asc])).as_('rn'),
            Count(Literal(1), window=Window([])).as_('n'))
        cursor = Transaction().connection.cursor()
        cursor.execute(*numbered.select(
                numbered.id, numbered.rn, numbered.n,
                where=(numbered.rn == numbered.n) | (
                    (numbered.rn >= first)
                    & (((numbered.rn - first) % limit) == 0)),
                order_by=[numbered.rn.asc]))
        count, bounds = 0, []
        for id_, rn, n in cursor.fetchall():
            count = n
            if rn < n:
                bounds.append(id_)
        return count, bounds

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
            single=lambda s: s.terminal.id, per_terminal=True),
        PulledKind('company', ser['company'], single=lambda s: s.company.id),
        PulledKind('uom', ser['uom'], model='product.uom'),
        PulledKind('category', ser['category'], model='product.category'),
        PulledKind('tax', ser['tax'], model='account.tax'),
        PulledKind('payment_method', ser['payment_method'],
            model='sale.point.payment.method'),
        PulledKind('cash_transfer_type', ser['cash_transfer_type'],
            model='sale.point.cash.transfer.type'),
        PulledKind('price_list', ser['price_list'], single=_price_list),
        PulledKind('product', ser['product'], model='product.product',
            keep=True),
        PulledKind('lot', ser['lot'], model='stock.lot', keep=True),
        PulledKind('stock', ser['stock'], bootstrap=_stock, keep=True),
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


# The most ranges a page of a bootstrap plan holds: the kinds (a page of
# small kinds holds a range of each)
MAX_RANGES = 64


def _valid_id(value, none=False):
    if value is None and none:
        return True
    return (isinstance(value, int) and not isinstance(value, bool)
        and 0 <= value < 2 ** 63)


def decode_token(token):
    """The state of a page token: version 1 (the pages one after the
    other: {v, c, k, a, t}) or 2 (a page of a plan: {v, c, r, t}, r the
    ranges [kind index, after, up to or None] of the page)"""
    try:
        padding = '=' * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + padding))
        if data.get('v') not in {1, 2}:
            raise ValueError(token)
        parse_cursor(data['c'])
        if not _valid_id(data.get('t'), none=True):
            raise ValueError(token)
        if data['v'] == 1:
            for name in ['k', 'a']:
                if not _valid_id(data.get(name)):
                    raise ValueError(token)
            return data
        ranges = data['r']
        if (not isinstance(ranges, list)
                or not 1 <= len(ranges) <= MAX_RANGES):
            raise ValueError(token)
        for range_ in ranges:
            if (not isinstance(range_, list) or len(range_) != 3
                    or not _valid_id(range_[0]) or range_[0] >= 1024
                    or not _valid_id(range_[1])
                    or not _valid_id(range_[2], none=True)
                    or (range_[2] is not None and range_[2] <= range_[1])):
                raise ValueError(token)
        return data
    except (ValueError, TypeError, AttributeError, KeyError):
        raise ValueError(token)


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a bootstrap page is
    made (in every thread of the process until the last page made at once
    is done).  A page of 20,000 products makes some 400,000 objects, none
    of them in a reference cycle: each few hundred of them started a
    collection that walked the process's objects (the pool's included),
    which took most of the time of making the page; reference
    counting frees the page's objects all the same."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if not _gc_pausers:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if not _gc_pausers and _gc_was_enabled:
                gc.enable()


def bootstrap_page(scope, token, limit):
    "See _bootstrap_page; with the garbage collector paused (gc_paused)"
    with gc_paused():
        return _bootstrap_page(scope, token, limit)


def _bootstrap_page(scope, token, limit):
    """Return (records, next_token, cursor, total) of one bootstrap page.
    The token holds the cursor taken when the bootstrap started, the kind,
    the last id sent and the total: a page can be asked again, after any
    cut.  A token of a plan (bootstrap_plan) answers the records of its
    ranges, without next token nor cursor (the plan has the cursor)."""
    pool = Pool()
    Change = pool.get('retail.sync.change')
    Pull = pool.get('retail.sync.pull')
    kinds = list(Pull._kinds().values())
    if token:
        state = decode_token(token)
        if state['v'] == 2:
            return planned_page(scope, kinds, state), None, None, state['t']
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


def bootstrap_plan(scope, limit):
    """Return (tokens, cursor, total): the pages of a whole bootstrap, that
    a till may fetch in any order and at once, and the cursor to pull the
    changes from once it has them all.

    The cursor is taken first, so that every change committed after it,
    a record of a page served later included, is in the delta pull after
    the bootstrap.  Each page holds at most limit records when the plan is
    made: ranges of ids of one kind (a page of small kinds holds several);
    the last range of each kind has no upper bound, so a record created
    since is sent too.  A kind whose pages are kept (PulledKind.keepable)
    has pages of its own."""
    pool = Pool()
    Change = pool.get('retail.sync.change')
    Pull = pool.get('retail.sync.pull')
    cursor = Change.start_cursor()
    pages, ranges, used, total = [], [], 0, 0

    def close():
        nonlocal ranges, used
        pages.append(ranges)
        ranges, used = [], 0
    for index, kind in enumerate(Pull._kinds().values()):
        keep = kind.keepable
        if keep and ranges:
            # a kind whose pages are kept has pages of its own: a page of
            # one range (BootstrapPage)
            close()
        first = limit - used
        count, bounds = kind.bootstrap_bounds(scope, first, limit)
        total += count
        after = 0
        for bound in bounds:
            ranges.append([index, after, bound])
            close()
            after = bound
        ranges.append([index, after, None])
        used += (count - first - limit * (len(bounds) - 1)) if bounds else (
            count)
        if used >= limit or len(ranges) >= MAX_RANGES or keep:
            close()
    if ranges:
        close()
    return [encode_token({'v': 2, 'c': cursor, 'r': r, 't': total})
        for r in pages], cursor, total


def planned_page(scope, kinds, state):
    """The records of the ranges of a page of a plan: a dict, or RawJSON
    of it when the page is one range of a kind kept made
    (retail.sync.bootstrap.page)"""
    Pull = Pool().get('retail.sync.pull')
    ranges = state['r']
    if len(ranges) == 1 and kinds[ranges[0][0]].keepable:
        index, after, upto = ranges[0]
        kind = kinds[index]
        body, count = Pool().get('retail.sync.bootstrap.page').made(
            scope, kind, after, upto,
            lambda: _range_records(Pull, scope, kind, after, upto))
        return KeptRecords(kind.name, body, count)
    records = {}
    for index, after, upto in ranges:
        kind = kinds[index]
        values = _range_records(Pull, scope, kind, after, upto)
        if values:
            records.setdefault(kind.name, []).extend(values)
    return records


def _range_records(Pull, scope, kind, after, upto):
    ids = kind.bootstrap_ids(scope, after, None, upto=upto)
    if not ids:
        return []
    data = Pull.serialise(kind.name, ids, scope)
    return [data[i] for i in ids if data.get(i) is not None]


def made_key(pool):
    """What the data of a page depends on beside the records: the modules
    activated and their versions (a module updated, added or removed may
    send other fields)"""
    Module = pool.get('ir.module')
    with Transaction().set_context(active_test=False):
        modules = sorted((m.name, m.version or '') for m in Module.search(
                [('state', '=', 'activated')]))
    return hashlib.blake2b(repr(modules).encode(),
        digest_size=12).hexdigest()


class BootstrapPage(ModelSQL):
    """Sync Bootstrap Page: the records of a range of a bootstrap plan as
    they were sent to a terminal of a branch, answered again to the next
    terminal of the branch that asks for the same range while no change
    to a record of the range was logged since (retail.sync.change) on the
    same day with the same modules.

    The first terminal of a branch pays for making the pages (reading and
    serialising hundreds of thousands of products); the next ones, a till
    enrolled again, a till that lost its storage, get them at the cost of
    reading them.  Kept in the database, so every server process and every
    machine shares them."""
    __name__ = 'retail.sync.bootstrap.page'

    branch = fields.Integer("Branch", required=True)
    company = fields.Integer("Company", required=True)
    kind = fields.Char("Kind", required=True)
    after = BigInteger("After", required=True)
    upto = BigInteger("Up To")
    key = fields.Char("Key", required=True)
    day = fields.Date("Day", required=True)
    made_txid = BigInteger("Made at Transaction", required=True)
    made_id = BigInteger("Made at Change", required=True)
    count = fields.Integer("Records", required=True)
    # the JSON of the records as a raw deflate stream (deflated.py), its
    # CRC-32 and its size: a gzip answer takes it as it is
    body = fields.Binary("JSON", required=True)
    crc = BigInteger("CRC-32")
    size = BigInteger("Size")

    # A change of these kinds, since a page was made, makes every page
    # stale: the data of a product depends on its taxes, categories, units
    _stale_kinds = ['tax', 'category', 'uom']

    @classmethod
    def enabled(cls):
        "[retail_sync] bootstrap_keep (True by default)"
        return config.getboolean('retail_sync', 'bootstrap_keep',
            default=True)

    @classmethod
    def made(cls, scope, kind, after, upto, make):
        """(JSON, count) of the records of a range, the JSON deflated
        (DeflatedJSON): kept, or made by make() and kept"""
        pool = Pool()
        Change = pool.get('retail.sync.change')
        Date = pool.get('ir.date')
        if not cls.enabled():
            values = make()
            return json.dumps(values, separators=(',', ':')).encode(), len(
                values)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        with Transaction().set_context(company=scope.company.id):
            day = Date.today()
        key = _made_key(pool)
        where = ((table.branch == scope.branch.id)
            & (table.company == scope.company.id)
            & (table.kind == kind.name) & (table.after == after)
            & ((table.upto == upto) if upto is not None
                else (table.upto == Null)))
        cursor.execute(*table.select(table.id, table.made_txid,
                table.made_id, table.body, table.count, table.crc,
                table.size,
                where=where & (table.key == key) & (table.day == day)
                # a page kept before its JSON was deflated is none
                & (table.crc != Null),
                order_by=[table.id.desc], limit=1))
        row = cursor.fetchone()
        if row and not cls._changed(scope, kind, after, upto, row[1], row[2]):
            return DeflatedJSON(bytes(row[3]), row[5], row[6]), row[4]
        # the cursor before reading the records: a change committed after
        # it makes the page stale
        txid, id_ = parse_cursor(Change.start_cursor())
        values = make()
        body = DeflatedJSON.deflate(
            json.dumps(values, separators=(',', ':')).encode())
        # it replaces the pages of the branch whose ranges overlap its own
        # (made for a plan before records came or went) and those of
        # other days: a branch keeps one page per range at most
        overlap = table.upto == Null
        if upto is not None:
            overlap |= table.upto > after
            overlap &= table.after < upto
        else:
            overlap |= table.upto > after
        cursor.execute(*table.delete(where=(
                    (table.branch == scope.branch.id)
                    & (table.company == scope.company.id)
                    & (((table.kind == kind.name) & overlap)
                        | (table.day != day)))))
        cursor.execute(*table.insert([table.branch, table.company,
                    table.kind, table.after, table.upto, table.key,
                    table.day, table.made_txid, table.made_id, table.count,
                    table.body, table.crc, table.size, table.create_uid,
                    table.create_date],
                [[scope.branch.id, scope.company.id, kind.name, after, upto,
                        key, day, txid, id_, len(values),
                        body.data, body.crc, body.size,
                        Transaction().user, dt.datetime.now()]]))
        return body, len(values)

    @classmethod
    def warm_limit(cls):
        """[retail_sync] bootstrap_warm_limit: the page size of the plans
        whose pages are made ahead (the reference till's, 20000 by
        default; 0 makes no page ahead)"""
        if not cls.enabled():
            return 0
        return config.getint('retail_sync', 'bootstrap_warm_limit',
            default=20000)

    @classmethod
    def queue_warm(cls, terminals):
        """Queue the making ahead of the kept pages of the branches of
        terminals (warm): one task per branch of the queue
        retail_sync_warm, unless one of the branch waits already; it runs
        after the commit, in trytond-worker when [queue] worker is set,
        else in the request once its transaction is committed"""
        pool = Pool()
        Terminal = pool.get('sale.point')
        Queue = pool.get('ir.queue')
        if cls.warm_limit() <= 0:
            return
        by_branch = {}
        for terminal in terminals:
            if terminal.branch:
                by_branch.setdefault(terminal.branch.id, terminal.id)
        if not by_branch:
            return
        # The terminals of the tasks a worker has not started yet (without
        # a worker a task runs in the request that queued it)
        queue = Queue.__table__()
        cursor = Transaction().connection.cursor()
        waiting = set()
        if config.getboolean('queue', 'worker', default=False):
            cursor.execute(*queue.select(queue.id,
                    where=(queue.name == 'retail_sync_warm')
                    & (queue.dequeued_at == Null)))
            tasks = Queue.browse([i for i, in cursor.fetchall()])
        else:
            tasks = []
        for task in tasks:
            instances = (task.data or {}).get('instances') or []
            waiting.update(instances if isinstance(instances, (list, tuple))
                else [instances])
        waiting_branches = {t.branch.id for t in Terminal.browse(
                list(waiting)) if t.branch} if waiting else set()
        with Transaction().set_context(
                queue_name='retail_sync_warm', _request=None):
            for branch, terminal in sorted(by_branch.items()):
                if branch not in waiting_branches:
                    Terminal.__queue__.retail_sync_warm([terminal])

    @classmethod
    def warm(cls, terminal, limit=None):
        """Make the kept pages of the branch of terminal that a plan of
        limit records a page (warm_limit) holds now, before a till asks
        for them; a page kept and still valid stays as it is.  Return the
        number of pages made."""
        pool = Pool()
        Pull = pool.get('retail.sync.pull')
        if limit is None:
            limit = cls.warm_limit()
        if limit <= 0 or not terminal.branch:
            return 0
        scope = Scope(terminal)
        kinds = list(Pull._kinds().values())
        tokens, _, _ = bootstrap_plan(scope, limit)
        made = 0
        for token in tokens:
            state = decode_token(token)
            ranges = state['r']
            if len(ranges) != 1 or not kinds[ranges[0][0]].keepable:
                continue
            index, after, upto = ranges[0]
            kind = kinds[index]

            def make():
                nonlocal made
                made += 1
                return _range_records(Pull, scope, kind, after, upto)
            with gc_paused():
                cls.made(scope, kind, after, upto, make)
        return made

    @classmethod
    def warm_branches(cls):
        """Cron: make ahead the kept pages of every branch with an enrolled
        terminal (after the day changed, after catalog changes), one
        queue task per branch"""
        Terminal = Pool().get('sale.point')
        cls.queue_warm(Terminal.search([
                    ('branch', '!=', None),
                    ('device_state', '=', 'enrolled'),
                    ], order=[('id', 'ASC')]))

    @classmethod
    def warm_stale(cls):
        """Cron (every few minutes): make ahead again the kept pages of the
        branches that a catalog change made stale (a change of a kind of
        _warm_kinds logged after a page of the branch was made), and those
        of the branches without a page of the day while a till of theirs
        is enrolled or an enrollment code of theirs waits: one queue task
        per branch (queue_warm), which makes only the stale pages"""
        pool = Pool()
        Terminal = pool.get('sale.point')
        Device = pool.get('retail.sync.device')
        if cls.warm_limit() <= 0:
            return
        terminals = Terminal.search([
                ('branch', '!=', None),
                ('device_state', '=', 'enrolled'),
                ], order=[('id', 'ASC')])
        terminals += [d.terminal for d in Device.search([
                    ('state', '=', 'pending'),
                    ('code_expires', '>', dt.datetime.now()),
                    ('terminal.branch', '!=', None),
                    ], order=[('id', 'ASC')])]
        by_branch = {}
        for terminal in terminals:
            by_branch.setdefault(terminal.branch.id, terminal)
        stale = cls.stale_branches(list(by_branch))
        cls.queue_warm([by_branch[b] for b in sorted(stale)])

    # The kinds whose changes make a branch's pages made ahead again within
    # minutes (warm_stale): the catalog; a stale stock page (a sale) is
    # made again by the hourly cron (warm_branches) or the next till
    _warm_kinds = ['product', 'lot']

    @classmethod
    def stale_branches(cls, branch_ids):
        """The branches of branch_ids with no page kept of the day (and the
        modules activated now) or with a kept page that a change of a kind
        of _warm_kinds or _stale_kinds made stale, in two queries"""
        pool = Pool()
        Branch = pool.get('retail.branch')
        Change = pool.get('retail.sync.change')
        Date = pool.get('ir.date')
        if not branch_ids:
            return set()
        page = cls.__table__()
        change = Change.__table__()
        cursor = Transaction().connection.cursor()
        # the day of each company, as made() keeps it
        days = []
        for company in {b.company.id for b in Branch.browse(branch_ids)}:
            with Transaction().set_context(company=company):
                days.append((page.company == company)
                    & (page.day == Date.today()))
        current = (Or(days) & (page.key == _made_key(pool))
            & in_(page.branch, branch_ids))
        cursor.execute(*page.select(page.branch, Min(page.made_txid),
                where=current, group_by=[page.branch]))
        made = dict(cursor.fetchall())
        stale = set(branch_ids) - set(made)
        if not made:
            return stale
        in_range = ((change.kind == page.kind)
            & change.kind.in_(cls._warm_kinds)
            & (change.record > page.after)
            & ((page.upto == Null) | (change.record <= page.upto)))
        query = page.join(change, condition=(
                # the index of the change log on (txid, id)
                (change.txid >= min(made.values()))
                & ((change.txid > page.made_txid)
                    | ((change.txid == page.made_txid)
                        & (change.id > page.made_id)))
                & ((change.branch == Null) | (change.branch == page.branch))
                & (in_range | change.kind.in_(cls._stale_kinds)))
            ).select(page.branch,
                where=current & in_(page.branch, list(made)),
                group_by=[page.branch])
        cursor.execute(*query)
        stale.update(b for b, in cursor.fetchall())
        return stale

    @classmethod
    def _changed(cls, scope, kind, after, upto, txid, id_):
        "Whether a record of the range was logged after (txid, id_)"
        Change = Pool().get('retail.sync.change')
        change = Change.__table__()
        in_range = (change.kind == kind.name) & (change.record > after)
        if upto is not None:
            in_range &= change.record <= upto
        where = ((in_range | change.kind.in_(cls._stale_kinds))
            & ((change.txid > txid)
                | ((change.txid == txid) & (change.id > id_)))
            & Or([change.branch == Null,
                    change.branch == scope.branch.id]))
        cursor = Transaction().connection.cursor()
        cursor.execute(*change.select(Literal(1), where=where, limit=1))
        return cursor.fetchone() is not None


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('retail.sync.bootstrap.page|warm_branches',
                    "Make the Branches' Bootstrap Pages Ahead"),
                ('retail.sync.bootstrap.page|warm_stale',
                    "Make the Branches' Stale Bootstrap Pages Again"),
                ])


_made_keys = weakref.WeakKeyDictionary()


def _made_key(pool):
    "made_key, once per pool (a pool is loaded again when modules change)"
    Pull = pool.get('retail.sync.pull')
    key = _made_keys.get(Pull)
    if key is None:
        key = _made_keys[Pull] = made_key(pool)
    return key


class RawJSON(bytes):
    "A value already encoded as JSON (routes.json_response inserts it)"


class KeptRecords:
    """The records of a kept page ({kind: [records]}) as parts of JSON,
    the records' deflated (deflated.DeflatedJSON), and their number"""

    def __init__(self, kind, body, count):
        self.parts = [b'{' + json.dumps(kind).encode() + b':', body, b'}']
        self.count = count

    def json(self):
        "The JSON of the records"
        return deflated.join(self.parts)


class PageCache:
    """Delta pages made once and served to every till that asks for the
    same page, in this process.

    The change log of the shared catalog and of a branch is the same for
    all its tills: after a price change every till of the branch pulls the
    same pages.  A page is keyed by what the tills pulling it share (the
    database and the pool loaded for it, the branch, and the terminal when
    the page holds a kind that is per_terminal) and by the change rows it
    holds (their ids): a page
    made from other rows (a change logged since, in the range of the page)
    is another key.  The data of a page is the records' state when it was
    made; a record changed since then has a later change row, which the
    till pulls after that page.  An entry lives `ttl` seconds at most; the
    least recently used go first beyond `max_bytes` (the JSON held)."""

    def __init__(self, max_bytes, ttl):
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._pages = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        "The (JSON of the changes, count) of the page, or None"
        now = time.monotonic()
        with self._lock:
            entry = self._pages.get(key)
            if entry is not None and now - entry[0] > self.ttl:
                self._drop(key)
                entry = None
            if entry is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key, value):
        body, _ = value
        if len(body) > self.max_bytes:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (time.monotonic(), value)
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def _drop(self, key):
        _, (body, _) = self._pages.pop(key)
        self._bytes -= len(body)

    def clear(self):
        with self._lock:
            self._pages.clear()
            self._bytes = 0


_page_cache = None
_pool_epochs = itertools.count(1)
# {the pool's retail.sync.pull class: a number}: each pool (each load of a
# database) builds its own classes
_pool_epoch_of = weakref.WeakKeyDictionary()


def _pool_epoch(pool):
    """A number for this pool of the database: a database dropped and
    created again under its name (tests, tenants) gets a new pool, so its
    pages never answer from the pages of the database it replaced"""
    Pull = pool.get('retail.sync.pull')
    epoch = _pool_epoch_of.get(Pull)
    if epoch is None:
        epoch = _pool_epoch_of.setdefault(Pull, next(_pool_epochs))
    return epoch


def page_cache():
    """The process's PageCache, sized by [retail_sync] delta_cache_size
    (bytes of JSON, 0 for none) and delta_cache_ttl (seconds)"""
    global _page_cache
    size = config.getint('retail_sync', 'delta_cache_size',
        default=64 * 1024 * 1024)
    if size <= 0:
        return None
    if _page_cache is None:
        _page_cache = PageCache(size, config.getint(
                'retail_sync', 'delta_cache_ttl', default=300))
    return _page_cache


def _delta_rows(scope, cursor_value, limit):
    Change = Pool().get('retail.sync.change')
    rows, has_more = Change.changes_after(
        cursor_value, scope.branch.id, limit)
    if not rows:
        return rows, cursor_value, False
    last = rows[-1]
    return rows, format_cursor(last[3], last[0]), has_more


def _delta_changes(scope, rows):
    "The changes of the rows: each record once, in its state now"
    Pull = Pool().get('retail.sync.pull')
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
    return changes


def delta(scope, cursor_value, limit):
    "Return (changes, cursor, has_more) after cursor"
    rows, new_cursor, has_more = _delta_rows(scope, cursor_value, limit)
    if not rows:
        return [], new_cursor, False
    return _delta_changes(scope, rows), new_cursor, has_more


def delta_page(scope, cursor_value, limit, cache=None):
    """Return (changes as RawJSON, count, cursor, has_more) after cursor;
    the page is taken from cache (a PageCache) when another till of the
    branch asked for the same change rows, and put in it otherwise"""
    rows, new_cursor, has_more = _delta_rows(scope, cursor_value, limit)
    if not rows:
        return RawJSON(b'[]'), 0, new_cursor, False
    key = None
    if cache is not None:
        pool = Pool()
        kinds = pool.get('retail.sync.pull')._kinds()
        per_terminal = any(kinds[k].per_terminal
            for k in {r[1] for r in rows} if k in kinds)
        key = (Transaction().database.name, _pool_epoch(pool),
            scope.company.id,
            scope.branch.id, scope.terminal.id if per_terminal else None,
            hashlib.blake2b(repr(rows).encode(), digest_size=16).digest())
        value = cache.get(key)
        if value is not None:
            return RawJSON(value[0]), value[1], new_cursor, has_more
    changes = _delta_changes(scope, rows)
    body = json.dumps(changes, separators=(',', ':')).encode('utf-8')
    if key is not None:
        cache.put(key, (body, len(changes)))
    return RawJSON(body), len(changes), new_cursor, has_more
