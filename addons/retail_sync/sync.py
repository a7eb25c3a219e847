# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Pushed operations (with their quarantine), request log, flags, counts"
import datetime as dt
import json
import logging
import time
from collections import Counter

from sql import Column, For, Null
from sql.aggregate import Count, Max, Min
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.config import config
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSingleton, ModelSQL, ModelView, Unique, fields)
from trytond.modules.retail.company import PIN_MAX_LENGTH, PIN_MIN_LENGTH
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)

from .changelog import in_
from .exceptions import ReplayError
from .wire import dec, money

logger = logging.getLogger(__name__)

# The first key of the advisory lock that serialises the posting tasks of a
# terminal (the second is the terminal's id)
POSTING_LOCK = 0x52535950
# The first key of the advisory lock that runs the postings of a company
# one at a time (the second is the company's id)
POSTING_COMPANY_LOCK = 0x52535043
# The application name of a push's PostgreSQL session while it is
# acknowledged (Push.mark_acknowledging), which a posting task gives way to
ACKNOWLEDGING = 'retail_sync push'
# Seconds between two looks at the pushes while a posting task gives way
GIVE_WAY_POLL = 0.2
# The most seconds a posting waits for a company's move sequences that a
# numbering other than a posting holds (a back-office posting)
SEQUENCE_WAIT = 60
# When the posting task of a sale cannot have run: the task was lost with
# its process (a trytond-worker killed after it took the task, a trytond
# without worker killed between the commit of a push and the run of its
# task); the terminal's next heartbeat queues the posting again
# (Operation.recover_posting)
POSTING_RECOVERY = config.getint('retail_sync', 'posting_recovery',
    default=60)
# terminal id: time.monotonic() of its last recovery, in this process
_recovered = {}


def posting_limit():
    """The most operations a posting transaction posts ([retail_sync]
    posting_limit)"""
    return max(config.getint('retail_sync', 'posting_limit', default=1000),
        1)


def posting_defer():
    """The most seconds a pending operation's posting gives way to the
    pushes being acknowledged ([retail_sync] posting_defer, 0 never)"""
    return config.getfloat('retail_sync', 'posting_defer', default=30)


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Sync Configuration"
    __name__ = 'retail.sync.configuration'

    cash_difference_type = fields.Many2One(
        'sale.point.cash.transfer.type', "Cash Difference Type",
        help="The cash transfer type that books the difference between "
        "the counted and the expected cash when a session closes.")
    float_transfer_type = fields.Many2One(
        'sale.point.cash.transfer.type', "Float Transfer Type",
        help="The cash transfer type that books the difference between "
        "the opening float counted at the till and the amount the cash "
        "session starts from (the previous session's end amount).")
    adjustment_location = fields.Many2One(
        'stock.location', "Count Adjustment Location",
        domain=[('type', '=', 'lost_found')],
        help="Where stock count adjustments come from and go to. "
        "Empty means the first lost and found location.")
    pos_pin_length = fields.Integer(
        "POS PIN Length", required=True,
        domain=[
            ('pos_pin_length', '>=', PIN_MIN_LENGTH),
            ('pos_pin_length', '<=', PIN_MAX_LENGTH),
            ],
        help="The fewest digits of an employee's POS PIN, checked when a "
        "PIN is set. 6 is recommended: a PIN also protects the data "
        "stored at the till (see docs/security.md).")
    pos_pin_max_attempts = fields.Integer(
        "POS PIN Attempts", required=True,
        domain=[
            ('pos_pin_max_attempts', '>=', 1),
            ('pos_pin_max_attempts', '<=', 100),
            ],
        help="Wrong PINs in a row after which a till locks the employee "
        "out until a manager unlocks them with their PIN.")

    @classmethod
    def default_pos_pin_length(cls):
        return PIN_MIN_LENGTH

    @classmethod
    def default_pos_pin_max_attempts(cls):
        return 5

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        # The PIN settings travel in the tills' settings record
        if mode != 'delete' and (field_names is None or field_names & {
                    'pos_pin_length', 'pos_pin_max_attempts'}):
            from .changelog import SETTINGS_ID
            Pool().get('retail.sync.change').log(
                'settings', [SETTINGS_ID], None)


class Operation(ModelSQL, ModelView):
    "Sync Operation: one operation pushed by a terminal"
    __name__ = 'retail.sync.operation'
    _rec_name = 'uuid'

    terminal = fields.Many2One(
        'sale.point', "Terminal", required=True, readonly=True,
        ondelete='RESTRICT')
    uuid = fields.Char("UUID", required=True, readonly=True)
    sequence = fields.Integer("Sequence", readonly=True)
    type = fields.Selection('get_types', "Type", readonly=True)
    client_time = fields.Timestamp("Client Time", readonly=True)
    employee = fields.Many2One(
        'company.employee', "Employee", readonly=True, ondelete='SET NULL')
    receipt_number = fields.Integer("Receipt Number", readonly=True)
    payload = fields.Text(
        "Payload", states={
            'readonly': Eval('state') != 'rejected',
            },
        help="The operation as the terminal sent it (JSON). "
        "It can be corrected before a replay.")
    state = fields.Selection([
            ('accepted', "Accepted"),
            ('rejected', "Rejected"),
            ], "State", readonly=True, required=True)
    reason_code = fields.Char("Reason Code", readonly=True)
    reason = fields.Text("Reason", readonly=True)
    result = fields.Text("Result", readonly=True)
    first_result = fields.Text(
        "First Result", readonly=True,
        help="The answer given to the terminal the first time.")
    first_state = fields.Selection([
            ('accepted', "Accepted"),
            ('rejected', "Rejected"),
            ], "First State", readonly=True)
    replays = fields.Integer("Replays", readonly=True)
    sale = fields.Many2One(
        'sale.point.sale', "Sale", readonly=True, ondelete='SET NULL')
    posting = fields.Selection([
            (None, ""),
            ('pending', "Pending"),
            ('posted', "Posted"),
            ('failed', "Failed"),
            ], "Posting", readonly=True,
        help="The posting of the operation's sale (its stock and account "
        "moves), done after the push was answered.")
    session = fields.Many2One(
        'sale.point.cash.session', "Cash Session", readonly=True,
        ondelete='SET NULL',
        help="The cash session whose figures count the operation's sale.")
    sale_values = fields.Text(
        "Sale to Record", readonly=True,
        help="The sale as checked when the operation was acknowledged "
        "(JSON), until the posting task records it.")
    summary = fields.Text(
        "Summary", readonly=True,
        help="The sale's figures computed when it was acknowledged (JSON): "
        "the session figures add them up.")
    posting_reason = fields.Text(
        "Posting Failure", readonly=True,
        states={
            'invisible': Eval('posting') != 'failed',
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('terminal_uuid_unique', Unique(t, t.terminal, t.uuid),
                'retail_sync.msg_operation_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.terminal, Index.Range()),
                    (t.receipt_number, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'rejected'),
                Index(t, (t.session, Index.Equality()),
                    where=t.session != Null),
                Index(t, (t.sale, Index.Equality()),
                    where=t.sale != Null),
                Index(t, (t.terminal, Index.Equality()),
                    (t.posting, Index.Equality(cardinality='low')),
                    where=t.posting.in_(['pending', 'failed'])),
                })
        cls._order = [('id', 'DESC')]
        cls._buttons.update({
                'replay': {
                    'invisible': Eval('state') != 'rejected',
                    'depends': ['state'],
                    },
                'repost': {
                    'invisible': Eval('posting') != 'failed',
                    'depends': ['posting'],
                    },
                })

    @classmethod
    def default_replays(cls):
        return 0

    @classmethod
    def insert_pushed(cls, vlist):
        """Create the operations a push applied (vlist: their values, as
        create takes them) with one INSERT statement run for each, and
        return them in the order of vlist.

        The push makes the values (retail.sync.push), within the bounds of
        the protocol and of the fields, so the validation of each row that
        create runs is left out; what other modules hook on the creation
        of an operation runs as after create, for all of them at once
        (check_modification, on_modification, computed fields, triggers).
        A (terminal, uuid) stored already raises
        backend.DatabaseIntegrityError (a concurrent push committed it)."""
        pool = Pool()
        Trigger = pool.get('ir.trigger')
        transaction = Transaction()
        database = transaction.database
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        if not vlist:
            return []
        audit = {'id', 'create_uid', 'create_date', 'write_uid',
            'write_date'}
        given = set().union(*vlist) - audit
        names = sorted(n for n, f in cls._fields.items()
            if n not in audit and not hasattr(f, 'set')
            and not isinstance(f, fields.Function))
        unknown = given - set(names)
        if unknown:
            # Values this insert cannot store (a field with a setter)
            return cls.create(vlist)
        defaults = cls._clean_defaults(cls.default_get(
                [n for n in names], with_rec_name=False))
        # The columns given or with a default, as create would store them
        names = [n for n in names if n in given or defaults.get(n)
            is not None]
        formats = [cls._fields[n].sql_format for n in names]
        rows = [[format_(values[n] if n in values else defaults.get(n))
                for n, format_ in zip(names, formats)]
            for values in vlist]
        columns = [table.create_uid, table.create_date] + [
            Column(table, n) for n in names]
        # One statement for all: prepared once and run for each row (a
        # pipeline of psycopg), as a statement of as many rows costs the
        # driver's parsing of every parameter
        returning = [table.id] if database.has_returning() else None
        query, _ = tuple(table.insert(columns,
                [[transaction.user, CurrentTimestamp()] + rows[0]],
                returning=returning))
        params = [[transaction.user] + r for r in rows]
        ids = None
        if returning and hasattr(cursor, 'results'):
            # psycopg: the id of each row, in their order
            cursor.executemany(query, params, returning=True)
            ids = [r.fetchone()[0] for r in cursor.results()]
        else:
            if returning:
                query, _ = tuple(table.insert(columns,
                        [[transaction.user, CurrentTimestamp()] + rows[0]]))
            cursor.executemany(query, params)
        if ids is None:
            found = {}
            keys = {(v['terminal'], v['uuid']) for v in vlist}
            for terminal in {t for t, _ in keys}:
                uuids = sorted(u for t, u in keys if t == terminal)
                for sub in grouped_slice(uuids, 1000):
                    cursor.execute(*table.select(
                            table.id, table.terminal, table.uuid,
                            where=(table.terminal == terminal)
                            & in_(table.uuid, list(sub))))
                    found.update(((t, u), i) for i, t, u in cursor)
            ids = [found[(v['terminal'], v['uuid'])] for v in vlist]
        cls._insert_history(ids)
        records = cls.browse(ids)
        with without_check_access():
            cls.check_modification('create', records)
            cls._compute_fields(records)
            cls.on_modification('create', records)
            for trigger in Trigger.get_triggers(cls.__name__, 'create'):
                trigger.queue_trigger_action(records)
        transaction.create_records[cls.__name__].extend(ids)
        return records

    @classmethod
    def get_types(cls):
        Push = Pool().get('retail.sync.push')
        return [(None, "")] + Push.operation_types()

    def answer(self):
        "The first answer, as given again to a replay of the terminal"
        answer = {'uuid': self.uuid, 'status': 'duplicate',
            'first_status': self.first_state}
        first = json.loads(self.first_result or '{}')
        answer.update(first)
        if self.state == 'accepted':
            answer['posted'] = self.posting != 'pending'
        return answer

    @classmethod
    def post_pending(cls, operations):
        """The posting task (queue retail_sync_post): post the pending
        operations of the terminals of operations, one terminal at a time,
        in the order of their sequence.

        On PostgreSQL the postings of a company run one at a time, each in
        a transaction of its own started once the company's posting lock
        is held (posting_transaction): its snapshot is never older than
        the last posting's commit, so the tasks of two queue workers never
        fail each other (serialisation failures on the move sequence and
        the operations).  That transaction also posts the company's other
        terminals with pending operations, at most [retail_sync]
        posting_limit operations in all; a task of its own posts the rest.
        In trytond-worker the task first gives way to the pushes being
        acknowledged (give_way)."""
        pool = Pool()
        Terminal = pool.get('sale.point')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        terminals = set()
        for sub in grouped_slice([o.id for o in operations], 1000):
            cursor.execute(*table.select(table.terminal,
                    where=table.id.in_(list(sub)),
                    group_by=[table.terminal]))
            terminals.update(t for t, in cursor)
        if not terminals:
            return
        if backend.name != 'postgresql':
            # One writer at a time: the task's own transaction
            cls.post_terminals(sorted(terminals))
            return
        cls.give_way(sorted(terminals))
        companies = {}
        for terminal in Terminal.browse(sorted(terminals)):
            companies.setdefault(terminal.company.id, []).append(terminal.id)
        for company in sorted(companies):
            cls.lock_company_posting(company)
            if cls.wrote():
                # The transaction wrote what the posting must see (a
                # request or a test running the task in its own
                # transaction): post in it, the move sequences waited for
                cls.lock_move_sequences(company)
                cls.post_terminals(companies[company], company)
            else:
                cls.posting_transaction(company, companies[company])

    @classmethod
    def wrote(cls):
        "Whether the current transaction has written (PostgreSQL)"
        cursor = Transaction().connection.cursor()
        cursor.execute(
            'SELECT pg_current_xact_id_if_assigned() IS NOT NULL')
        return cursor.fetchone()[0]

    @classmethod
    def lock_move_sequences(cls, company):
        """Wait for the account move sequences of the company's open
        periods, then take them for the current transaction (trytond's
        strict sequence locks them NOWAIT from the start of the
        transaction, after a first attempt that runs until the numbering
        and starts again)"""
        Sequence = Pool().get('ir.sequence.strict')
        sequences = cls.move_sequences(company)
        if not sequences:
            return
        table = Sequence.__table__()
        # Blocks until the numbering holding them commits
        Transaction().connection.cursor().execute(*table.select(table.id,
                where=table.id.in_(sequences), for_=For('UPDATE')))
        # Not taken at the start of this transaction: trytond starts it
        # again with them locked (TransactionError)
        Sequence.lock(Sequence.browse(sequences))

    @classmethod
    def lock_company_posting(cls, company):
        """Wait for the posting of company that another task runs, then
        hold the company's posting lock until this task's transaction ends
        (a PostgreSQL advisory lock; taken in the order of the companies)"""
        Transaction().connection.cursor().execute(
            'SELECT pg_advisory_xact_lock(%s, %s)',
            (POSTING_COMPANY_LOCK, company))

    @classmethod
    def posting_transaction(cls, company, terminals):
        """Post, in a transaction started now (under the company's posting
        lock, so that its snapshot follows the last posting's commit), the
        pending operations of terminals then of the company's other
        terminals, with the company's open move sequences locked from its
        start (what trytond's strict sequence asks for)"""
        extras = {}
        sequences = cls.move_sequences(company)
        if sequences:
            extras['_lock_records'] = {'ir_sequence_strict': sequences}
        transaction = Transaction()
        started = time.monotonic()
        while True:
            try:
                with transaction.new_transaction(**extras) as inner:
                    try:
                        cls.post_terminals(terminals, company)
                    except TransactionError as e:
                        inner.rollback()
                        e.fix(extras)
                        continue
                return
            except backend.DatabaseOperationalError:
                # The sequences held by a numbering that is not a posting
                # (a back-office posting; trytond's NOWAIT lock at the
                # start of the transaction failed its retries): wait
                if time.monotonic() - started > SEQUENCE_WAIT:
                    raise
                logger.info("posting of company %s: the database failed "
                    "it, again", company, exc_info=True)
                time.sleep(0.1)

    @classmethod
    def post_terminals(cls, terminals, company=None):
        """Post the pending operations of terminals, each in the order of
        its sequence, then (with company) those of the company's other
        terminals, at most posting_limit operations; queue the posting of
        the rest"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        limit = posting_limit()
        order = list(terminals)
        if company is not None:
            order.extend(t for t in cls.pending_terminals(company)
                if t not in set(terminals))
        left = []
        for terminal in order:
            if limit <= 0:
                left.extend(cls.search([
                            ('terminal', '=', terminal),
                            ('posting', '=', 'pending'),
                            ], limit=1))
                continue
            cls.lock_posting(terminal)
            pending = cls.search([
                    ('terminal', '=', terminal),
                    ('posting', '=', 'pending'),
                    ], order=[('sequence', 'ASC NULLS FIRST'), ('id', 'ASC')],
                limit=limit + 1)
            if not pending:
                continue
            pending, rest = pending[:limit], pending[limit:]
            limit -= len(pending)
            # The queue skips the warnings of its tasks; posting a sale
            # stops at them as it did inside the push (an expired lot),
            # and the sale is flagged
            with Transaction().set_context(_skip_warnings=False):
                Push.post(Terminal(terminal), pending)
            left.extend(rest[:1])
        if left:
            # A transaction posts at most posting_limit operations: a task
            # of its own posts the next ones
            Push.enqueue_posting(left)

    @classmethod
    def pending_terminals(cls, company):
        "The ids of the terminals of company with pending operations"
        Terminal = Pool().get('sale.point')
        table, terminal = cls.__table__(), Terminal.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.join(terminal,
                condition=table.terminal == terminal.id).select(
                table.terminal,
                where=(table.posting == 'pending')
                & (terminal.company == company),
                group_by=[table.terminal],
                order_by=[table.terminal.asc]))
        return [t for t, in cursor]

    @classmethod
    def move_sequences(cls, company):
        """The ids of the strict sequences of company's open periods,
        which the posting numbers account moves from"""
        Period = Pool().get('account.period')
        periods = Period.search([
                ('fiscalyear.company', '=', company),
                ('state', '=', 'open'),
                ('type', '=', 'standard'),
                ])
        return sorted({p.move_sequence_used.id for p in periods
                if p.move_sequence_used})

    @classmethod
    def give_way(cls, terminals, clock=time.monotonic, sleep=time.sleep):
        """In trytond-worker, wait while pushes are being acknowledged
        (acknowledging) as long as the oldest pending operation of
        terminals is younger than [retail_sync] posting_defer seconds: the
        posting's CPU and PostgreSQL backends would slow the pushes of a
        reconnect storm.  Return the seconds waited."""
        defer = posting_defer()
        if (backend.name != 'postgresql' or defer <= 0
                or not config.getboolean('queue', 'worker', default=False)
                or not cls.acknowledging()):
            return 0
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(Min(table.create_date),
                where=(table.posting == 'pending')
                & table.terminal.in_(list(terminals))))
        oldest, = cursor.fetchone()
        if oldest is None:
            return 0
        # create_date is the database's time (of the push's transaction)
        cursor.execute('SELECT LOCALTIMESTAMP')
        database_now, = cursor.fetchone()
        started = clock()
        deadline = started + defer - max(
            (database_now - oldest).total_seconds(), 0)
        while clock() < deadline and cls.acknowledging():
            sleep(min(GIVE_WAY_POLL, max(deadline - clock(), 0)))
        waited = clock() - started
        logger.info("posting of terminals %s gave way to the pushes for "
            "%.1f s", terminals, waited)
        return waited

    @staticmethod
    def acknowledging_name():
        "The application name of the session of a push being acknowledged"
        return ACKNOWLEDGING

    @classmethod
    def acknowledging(cls):
        """Whether a push is being acknowledged now in another transaction
        of the database (Push.mark_acknowledging names its PostgreSQL
        session)"""
        if backend.name != 'postgresql':
            return False
        cursor = Transaction().connection.cursor()
        # Else pg_stat_activity is read once per transaction
        cursor.execute('SELECT pg_stat_clear_snapshot()')
        cursor.execute('SELECT 1 FROM pg_stat_activity '
            'WHERE datname = current_database() '
            'AND application_name = %s AND pid <> pg_backend_pid() '
            'AND xact_start IS NOT NULL LIMIT 1', (ACKNOWLEDGING,))
        return cursor.fetchone() is not None

    @classmethod
    def recover_posting(cls, terminal, now=None):
        """Queue again the posting of the terminal's operations still
        pending POSTING_RECOVERY seconds after they were recorded (their
        task lost with a killed process), at most once per that delay and
        process; a task too many finds nothing left to post.  Return the
        operations queued."""
        Push = Pool().get('retail.sync.push')
        delay = POSTING_RECOVERY
        clock = time.monotonic() if now is None else now
        last = _recovered.get(terminal.id)
        if last is not None and clock - last < delay:
            return []
        stale = cls.search([
                ('terminal', '=', terminal.id),
                ('posting', '=', 'pending'),
                ('create_date', '<',
                    dt.datetime.now() - dt.timedelta(seconds=delay)),
                ], order=[('sequence', 'ASC NULLS FIRST'), ('id', 'ASC')],
            limit=1)
        if not stale:
            return []
        _recovered[terminal.id] = clock
        Push.enqueue_posting(stale)
        return stale

    @classmethod
    def lock_posting(cls, terminal):
        """Serialise the posting tasks of terminal until the transaction
        ends (a PostgreSQL advisory lock; SQLite has one writer)"""
        transaction = Transaction()
        if backend.name != 'postgresql':
            return
        cursor = transaction.connection.cursor()
        # The key: the table's name hashed with the terminal id
        cursor.execute('SELECT pg_advisory_xact_lock(%s, %s)',
            (POSTING_LOCK, terminal))

    @classmethod
    def pending_counts(cls, terminal):
        "Return {posting state: count} of the operations of terminal"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.posting, Count(table.id),
                where=(table.terminal == terminal.id)
                & table.posting.in_(['pending', 'failed']),
                group_by=[table.posting]))
        return dict(cursor)

    @classmethod
    @ModelView.button
    def repost(cls, operations):
        "Post again the sales whose posting failed (after the fix)"
        Push = Pool().get('retail.sync.push')
        operations = [o for o in operations if o.posting == 'failed']
        cls.write(operations, {'posting': 'pending', 'posting_reason': None})
        Push.enqueue_posting(operations)

    @classmethod
    @ModelView.button
    def replay(cls, operations):
        "Apply again rejected operations (after their cause was fixed)"
        pool = Pool()
        Push = pool.get('retail.sync.push')
        for operation in operations:
            if operation.state != 'rejected':
                continue
            try:
                data = json.loads(operation.payload)
            except ValueError:
                raise ReplayError(gettext(
                        'retail_sync.msg_replay_invalid_json',
                        operation=operation.rec_name))
            Push.replay(operation, data)

    @classmethod
    def last_numbers(cls, terminal):
        """Return (last receipt number, last operation sequence) received
        from terminal, None when nothing was received"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                Max(table.receipt_number), Max(table.sequence),
                where=table.terminal == terminal.id))
        receipt, sequence = cursor.fetchone() or (None, None)
        if terminal.sync_sequence:
            sequence = max(sequence or 0, terminal.sync_sequence)
        return receipt, sequence

    @classmethod
    def lookup_receipt(cls, terminal, number):
        """Return the sale of receipt number (prefix-number) made at any
        terminal of the company of terminal, with its lines, payments and
        the returns already made against it; None if there is none"""
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        Push = pool.get('retail.sync.push')
        Point = pool.get('sale.point')

        def search():
            return Sale.search([
                    ('number', '=', number),
                    ('company', '=', terminal.company.id),
                    ('receipt_number', '!=', None),
                    ], order=[('id', 'ASC')], limit=1)
        sales = search()
        if not sales and '-' in number:
            # Acknowledged, not recorded yet by the posting task: record
            # the sales of its terminal now
            prefix, _, receipt = number.rpartition('-')
            for point in Point.search([
                        ('company', '=', terminal.company.id),
                        ('receipt_prefix', '=', prefix),
                        ]):
                if receipt.isdigit() and cls.search([
                            ('terminal', '=', point.id),
                            ('receipt_number', '=', int(receipt)),
                            ('sale', '=', None),
                            ('sale_values', '!=', None),
                            ], limit=1):
                    cls.lock_posting(point.id)
                    with Transaction().set_context(
                            company=point.company.id):
                        Push.record_operations(point, cls.search([
                                    ('terminal', '=', point.id),
                                    ('posting', '=', 'pending'),
                                    ('sale', '=', None),
                                    ('sale_values', '!=', None),
                                    ], order=[
                                    ('sequence', 'ASC NULLS FIRST'),
                                    ('id', 'ASC')]))
            sales = search()
        if not sales:
            return None
        sale, = sales
        operations = cls.search([('sale', '=', sale.id)], limit=1)
        payload = {}
        if operations:
            try:
                payload = json.loads(operations[0].payload).get(
                    'payload') or {}
            except (ValueError, AttributeError):
                payload = {}
        returns = Sale.search([
                ('original_receipt', '=', sale.number),
                ('company', '=', terminal.company.id),
                ], order=[('id', 'ASC')])

        def lines(sale):
            return [{
                    'product': line.product.id,
                    'quantity': dec(line.quantity),
                    'unit_price': money(line.base_price
                        if line.base_price is not None
                        else line.unit_gross_price),
                    'price': money(line.unit_gross_price),
                    'discount': (json.loads(line.discount)
                        if line.discount else None),
                    'lot': line.lot.id if line.lot else None,
                    'lots': [{'lot': a.lot.id, 'quantity': dec(a.quantity)}
                        for a in line.lots],
                    } for line in sale.lines]

        def payments(sale):
            return [{'method': p.method.id, 'amount': money(p.amount)}
                for p in sale.payments]
        return {
            'receipt': {
                'sale': sale.id,
                'number': sale.number,
                'receipt_number': sale.receipt_number,
                'terminal': sale.point.id,
                'branch': sale.point.branch.id if sale.point.branch else None,
                'date': sale.date.isoformat() if sale.date else None,
                'client_time': (sale.client_time.isoformat()
                    if sale.client_time else None),
                'state': sale.state,
                'original_receipt': sale.original_receipt,
                'employee': sale.employee.id if sale.employee else None,
                'customer': (sale.customer.id if sale.customer
                    else payload.get('customer')),
                'total': money(sale.total),
                'lines': lines(sale),
                'payments': payments(sale),
                },
            'returns': [{'number': r.number, 'lines': lines(r),
                    'payments': payments(r)}
                for r in returns],
            }

    @classmethod
    def receipt_report(cls, terminal):
        """Return the receipt numbers received from terminal: first, last,
        count, gaps (inclusive ranges) and duplicates"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.receipt_number, Count(table.id),
                where=(table.terminal == terminal.id)
                & (table.receipt_number != None),  # noqa: E711
                group_by=[table.receipt_number],
                order_by=[table.receipt_number]))
        counts = dict(cursor)
        report = {
            'terminal': terminal.id,
            'receipt_prefix': terminal.receipt_prefix,
            'first': None, 'last': None, 'count': 0,
            'gaps': [], 'duplicates': [],
            }
        if not counts:
            return report
        numbers = sorted(counts)
        # Receipt numbers start at 1: a missing first receipt is a gap too
        first, last = 1, numbers[-1]
        report.update(first=numbers[0], last=last,
            count=sum(counts.values()))
        expected = first
        for number in numbers:
            if number > expected:
                report['gaps'].append([expected, number - 1])
            expected = max(expected, number + 1)
        report['duplicates'] = [
            {'number': n, 'count': c} for n, c in sorted(counts.items())
            if c > 1]
        return report


class Request(ModelSQL, ModelView):
    "Sync Request: the audit log of the sync API"
    __name__ = 'retail.sync.request'

    terminal = fields.Many2One(
        'sale.point', "Terminal", readonly=True, ondelete='CASCADE')
    endpoint = fields.Char("Endpoint", readonly=True)
    status = fields.Integer("HTTP Status", readonly=True)
    operations = fields.Integer("Operations", readonly=True)
    accepted = fields.Integer("Accepted", readonly=True)
    duplicates = fields.Integer("Duplicates", readonly=True)
    rejected = fields.Integer("Rejected", readonly=True)
    records = fields.Integer("Records Sent", readonly=True)
    bytes_in = fields.Integer("Bytes In", readonly=True)
    bytes_out = fields.Integer("Bytes Out", readonly=True)
    duration = fields.Integer("Duration (ms)", readonly=True)
    app_version = fields.Char("App Version", readonly=True)
    cursor = fields.Char("Cursor", readonly=True)
    remote_addr = fields.Char("Remote Address", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]

    @classmethod
    def log(cls, values):
        """Record the request of values (the API's own, of the fields'
        types) with one INSERT, without create's reading back and
        validation of the row: every request of a till writes one"""
        transaction = Transaction()
        table = cls.__table__()
        names = sorted(values)
        transaction.connection.cursor().execute(*table.insert(
                [table.create_uid, table.create_date]
                + [Column(table, n) for n in names],
                [[transaction.user, CurrentTimestamp()]
                    + [cls._fields[n].sql_format(values[n])
                        for n in names]]))


class SaleFlag(ModelSQL, ModelView):
    "Sale Flag: a synced sale that differs from what the server expected"
    __name__ = 'retail.sync.sale.flag'

    sale = fields.Many2One(
        'sale.point.sale', "Sale", readonly=True, ondelete='CASCADE')
    terminal = fields.Many2One('sale.point', "Terminal", readonly=True)
    branch = fields.Many2One('retail.branch', "Branch", readonly=True)
    kind = fields.Selection([
            ('price_drift', "Price Drift"),
            ('oversell', "Oversell"),
            ('archived_product', "Archived Product"),
            ('duplicate_receipt', "Duplicate Receipt Number"),
            ('posting_error', "Posting Error"),
            ('lot_oversell', "Lot Oversell"),
            ('unknown_customer', "Unknown Customer"),
            ], "Kind", readonly=True, required=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    lot = fields.Many2One('stock.lot', "Lot", readonly=True)
    expected = fields.Char("Expected", readonly=True)
    actual = fields.Char("Actual", readonly=True)
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]

    @staticmethod
    def kinds(flags):
        return sorted(Counter(f.kind for f in flags))


class StockCount(ModelSQL, ModelView):
    "Stock Count: a count made at a terminal and its adjustment"
    __name__ = 'retail.sync.stock.count'

    operation = fields.Many2One(
        'retail.sync.operation', "Operation", readonly=True,
        ondelete='CASCADE')
    branch = fields.Many2One('retail.branch', "Branch", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    lot = fields.Many2One('stock.lot', "Lot", readonly=True)
    counted_at = fields.Timestamp("Counted At", readonly=True)
    quantity = fields.Float("Counted Quantity", readonly=True)
    expected = fields.Float(
        "Expected Quantity", readonly=True,
        help="The ledger at the time of the count.")
    moves = fields.One2Many(
        'stock.move', 'origin', "Adjustment Moves", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.branch, Index.Equality()),
                (t.product, Index.Equality()),
                (t.counted_at, Index.Range())))
        cls._order = [('counted_at', 'DESC'), ('id', 'DESC')]
