# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The inalterable receipt journal (docs/journal.md): each sale, return,
void and session close a till commits carries, in its operation's
"journal", the SHA-256 of its canonical form chained to the previous entry
of its terminal.  The server checks the chain when the operation arrives
(before it is acknowledged), stores the hashes on the operation, keeps
what breaks the chain and flags it, and walks every chain on demand
(verify_journal, setup/retail verify-journal)."""
import hashlib
import json
import re
from decimal import Decimal, InvalidOperation

from sql import Null

from trytond.model import Index, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

GENESIS = '0' * 64
JOURNAL_TYPES = ('sale', 'return', 'void', 'session_close')
SALE_TYPES = ('sale', 'return')
HASH_RE = re.compile(r'^[0-9a-f]{64}$')


class NotCanonical(ValueError):
    "A value the canonical form cannot carry (a non-integer number)"


def _check(value, path='$'):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise NotCanonical(f"{path} is a non-integer number: amounts and "
            "quantities are decimal strings in the journal.")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f'{path}[{i}]')
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical(f"{path} has a non-string key.")
            _check(item, f'{path}.{key}')
        return
    raise NotCanonical(f"{path} is not a JSON value.")


def canonical(value):
    """The canonical bytes of value: JSON, keys sorted, no whitespace,
    UTF-8 (no \\u escapes beyond the control characters), integers only"""
    _check(value)
    return json.dumps(value, sort_keys=True, separators=(',', ':'),
        ensure_ascii=False, allow_nan=False).encode('utf-8')


def entry(operation, previous):
    """The document an operation's journal hash is made of: the operation
    as pushed without its "journal", with "previous" the hash of the
    terminal's entry before it"""
    document = {k: v for k, v in operation.items() if k != 'journal'}
    document['previous'] = previous
    return document


def entry_hash(operation, previous):
    "The hexadecimal SHA-256 of the canonical entry of operation"
    return hashlib.sha256(canonical(entry(operation, previous))).hexdigest()


def check_entry(operation, previous):
    """Check the journal of an operation against the previous hash of its
    terminal (None when the terminal has no entry yet); return (state,
    break reason or None, hash or None)"""
    journal = operation.get('journal')
    if journal is None:
        if previous is None:
            return 'unchained', None, None
        return 'broken', "The entry has no hash though its terminal's " \
            "journal is chained.", None
    if (not isinstance(journal, dict)
            or not isinstance(journal.get('hash'), str)
            or not isinstance(journal.get('previous'), str)
            or not HASH_RE.match(journal['hash'])
            or not HASH_RE.match(journal['previous'])):
        return 'broken', "The journal is not {hash, previous} of 64 " \
            "lowercase hexadecimal digits.", None
    given = journal['hash']
    try:
        computed = entry_hash(operation, journal['previous'])
    except NotCanonical as e:
        return 'broken', f"The entry is not canonical: {e}", given
    if computed != given:
        return 'broken', f"The hash {given} is not that of the entry " \
            f"({computed}): the entry was changed.", given
    expected = previous or GENESIS
    if journal['previous'] != expected:
        return 'broken', f"The previous hash {journal['previous']} is not " \
            f"the terminal's last ({expected}): an entry is missing or out " \
            "of order.", given
    return 'chained', None, given


class Operation(metaclass=PoolMeta):
    __name__ = 'retail.sync.operation'

    journal_hash = fields.Char("Journal Hash", readonly=True,
        help="The SHA-256 of the entry as the terminal chained it.")
    journal_previous = fields.Char("Previous Journal Hash", readonly=True)
    journal_state = fields.Selection([
            (None, ""),
            ('chained', "Chained"),
            ('unchained', "Unchained"),
            ('broken', "Broken"),
            ], "Journal", readonly=True,
        help="Chained: the entry's hash and its link to the terminal's "
        "previous entry were right when it arrived. Unchained: sent "
        "without a hash by a terminal that never sent any. Broken: see "
        "the journal break.")
    journal_break = fields.Text("Journal Break", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The head of a terminal's journal (journal_head), read by every
        # push: without it, all the terminal's operations were read
        cls._sql_indexes.add(
            Index(t, (t.terminal, Index.Equality()),
                (t.sequence, Index.Range()), (t.id, Index.Range()),
                where=t.journal_hash != Null))

    @classmethod
    def journal_head(cls, terminal):
        "The last journal hash the server holds of terminal, or None"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.journal_hash,
                where=(table.terminal == terminal.id)
                & (table.journal_hash != Null),
                order_by=[table.sequence.desc, table.id.desc], limit=1))
        row = cursor.fetchone()
        return row[0] if row else None

    @classmethod
    def verify_journal(cls, terminals=None):
        """Walk the journal of terminals (all by default) as stored; return
        [{terminal, state, entries, breaks: [{sequence, uuid,
        receipt_number, kind, message}]}] with state chained, unchained,
        empty or broken"""
        pool = Pool()
        Terminal = pool.get('sale.point')
        if terminals is None:
            with Transaction().set_context(active_test=False):
                terminals = Terminal.search([], order=[('id', 'ASC')])
        reports = []
        for terminal in terminals:
            reports.append(cls._verify_terminal(terminal))
        return reports

    @classmethod
    def _verify_terminal(cls, terminal):
        operations = cls.search([
                ('terminal', '=', terminal.id),
                ('type', 'in', JOURNAL_TYPES),
                ], order=[('sequence', 'ASC'), ('id', 'ASC')])
        breaks = []
        head = None
        chained = 0

        def report(op, kind, message):
            breaks.append({'sequence': op.sequence, 'uuid': op.uuid,
                    'receipt_number': op.receipt_number, 'kind': kind,
                    'message': message})
        for op in operations:
            try:
                data = json.loads(op.payload or '')
            except ValueError:
                report(op, 'edited', "The stored operation is not JSON.")
                continue
            if not isinstance(data, dict):
                report(op, 'edited', "The stored operation is not an object.")
                continue
            journal = data.get('journal')
            if journal is None and head is None:
                continue
            state, reason, given = check_entry(data, head)
            if state == 'broken':
                kind = 'gap' if 'missing or out of order' in reason \
                    else 'edited'
                if op.replays:
                    reason += f" (corrected and replayed {op.replays} times)"
                report(op, kind, reason)
            if op.journal_hash and given and op.journal_hash != given:
                report(op, 'edited', f"The stored hash {op.journal_hash} "
                    f"differs from the operation's {given}.")
            if given:
                chained += 1
                head = given
            message = cls._verify_sale(op, data)
            if message:
                report(op, 'sale_changed', message)
        if breaks:
            state = 'broken'
        elif chained:
            state = 'chained'
        elif operations:
            state = 'unchained'
        else:
            state = 'empty'
        return {'terminal': terminal, 'state': state,
            'entries': len(operations), 'chained': chained,
            'breaks': breaks}

    @classmethod
    def _verify_sale(cls, op, data):
        """What differs between the sale recorded of op and its journal
        entry, or None"""
        if op.type not in SALE_TYPES or op.state != 'accepted':
            return None
        try:
            result = json.loads(op.result or '{}')
        except ValueError:
            result = {}
        if not op.sale:
            if isinstance(result, dict) and result.get('sale'):
                return (f"The sale {result['sale']} recorded for receipt "
                    f"{op.receipt_number} was deleted.")
            return None
        sale = op.sale
        payload = data.get('payload') or {}
        sign = -1 if op.type == 'return' else 1
        try:
            lines = sorted((int(line['product']), abs(Decimal(str(
                                line['quantity']))) * sign)
                for line in payload.get('lines') or [])
            payments = sorted((int(p['method']), Decimal(str(p['amount'])))
                for p in payload.get('payments') or [])
        except (KeyError, TypeError, ValueError, InvalidOperation):
            return "The journal entry's lines or payments cannot be read."
        recorded_lines = sorted((line.product.id, Decimal(str(
                        line.quantity)))
            for line in sale.lines)
        recorded_payments = sorted((p.method.id, p.amount)
            for p in sale.payments)
        differences = []
        if sale.receipt_number != payload.get('receipt_number'):
            differences.append(f"receipt number {sale.receipt_number} "
                f"instead of {payload.get('receipt_number')}")
        if recorded_lines != lines:
            differences.append("lines " + _pairs(recorded_lines)
                + " instead of " + _pairs(lines))
        if recorded_payments != payments:
            differences.append("payments " + _pairs(recorded_payments)
                + " instead of " + _pairs(payments))
        if differences:
            return (f"Sale {sale.number} differs from its journal entry: "
                + "; ".join(differences) + ".")
        return None


def _pairs(pairs):
    return '[' + ', '.join(f'{a}: {b}' for a, b in pairs) + ']'


class SaleFlag(metaclass=PoolMeta):
    __name__ = 'retail.sync.sale.flag'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        kind = ('journal_break', "Journal Break")
        if kind not in cls.kind.selection:
            cls.kind.selection.append(kind)


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def push(cls, terminal, operations):
        # Only a push checks the chain on arrival: a replay from the
        # quarantine keeps the hashes stored when the operation arrived
        with Transaction().set_context(_retail_journal_arrival=True):
            return super().push(terminal, operations)

    @classmethod
    def apply(cls, batch, data):
        values, answer = super().apply(batch, data)
        if (Transaction().context.get('_retail_journal_arrival')
                and data.get('type') in JOURNAL_TYPES):
            cls.journal_arrival(batch, data, values, answer)
        return values, answer

    @classmethod
    def journal_arrival(cls, batch, data, values, answer):
        """Check the journal entry of data on arrival against the chain
        of its terminal; store its hashes and state in values, and keep
        the break to flag the sale"""
        Operation = Pool().get('retail.sync.operation')
        if not hasattr(batch, 'journal_head'):
            batch.journal_head = Operation.journal_head(batch.terminal)
            batch.journal_breaks = []
        state, reason, given = check_entry(data, batch.journal_head)
        journal = data.get('journal')
        values['journal_state'] = state
        values['journal_hash'] = given
        if (isinstance(journal, dict)
                and isinstance(journal.get('previous'), str)
                and HASH_RE.match(journal['previous'])):
            # Only a hash is kept: a malformed one is the break's reason
            values['journal_previous'] = journal['previous']
        values['journal_break'] = reason
        if given:
            # The chain goes on from the entry as the terminal made it: one
            # break is reported once
            batch.journal_head = given
        if state == 'broken':
            batch.journal_breaks.append((answer, reason))

    @classmethod
    def finish(cls, batch):
        super().finish(batch)
        breaks = getattr(batch, 'journal_breaks', None)
        if not breaks:
            return
        Flag = Pool().get('retail.sync.sale.flag')
        flags = []
        deferred = {e['values']['uuid']: e
            for e in getattr(batch, 'deferred', [])}
        for answer, reason in breaks:
            result = answer.get('result')
            if answer.get('status') == 'accepted' and (
                    answer.get('uuid') in deferred):
                # Flagged when the posting task records the sale
                deferred[answer['uuid']]['flags'].append({
                        'kind': 'journal_break',
                        'terminal': batch.terminal.id,
                        'branch': batch.branch.id,
                        'actual': reason[:500]})
                continue
            if answer.get('status') != 'accepted' or not isinstance(
                    result, dict) or not isinstance(result.get('sale'), int):
                continue
            sale = result['sale']
            flags.append({'sale': sale, 'kind': 'journal_break',
                    'terminal': batch.terminal.id,
                    'branch': batch.branch.id,
                    'actual': reason[:500]})
            batch.post_flags.setdefault(sale, set()).add('journal_break')
        if flags:
            Flag.create(flags)
        batch.journal_breaks = []
