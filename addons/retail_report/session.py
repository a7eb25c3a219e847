# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""X and Z reports of cash sessions: the Z number and the perpetual grand
total of each terminal, the report's figures (the sync API's figures of
retail_sync plus what a printed Z shows) and their printing"""
import datetime as dt
import json
import re
from collections import defaultdict
from decimal import Decimal

from sql import Null, Window
from sql.aggregate import Max, Min
from sql.functions import Lag

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.report import Report
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateReport, StateView, Wizard

from .exceptions import ZNumberError
from .pdf import z_pdf


class POS(metaclass=PoolMeta):
    __name__ = 'sale.point'

    def retail_last_z(self):
        """The terminal's last closed session with a Z number (the highest),
        or None"""
        Session = Pool().get('sale.point.cash.session')
        sessions = Session.search([
                ('point', '=', self.id),
                ('retail_z_number', '!=', None),
                ], order=[('retail_z_number', 'DESC')], limit=1)
        return sessions[0] if sessions else None


class CashSession(metaclass=PoolMeta):
    __name__ = 'sale.point.cash.session'

    retail_z_number = fields.Integer(
        "Z Number", readonly=True,
        help="The terminal's Z number of the session: given when it closes, "
        "one more than the terminal's previous one, never reset.")
    retail_grand_total = fields.Numeric(
        "Grand Total", digits=(16, 2), readonly=True,
        help="The terminal's perpetual grand total of net sales up to and "
        "including this session, given when it closes.")
    retail_closed_at = fields.Timestamp("Closed At", readonly=True)

    @classmethod
    def copy(cls, sessions, default=None):
        default = default.copy() if default is not None else {}
        for name in ['retail_z_number', 'retail_grand_total',
                'retail_closed_at']:
            default.setdefault(name, None)
        return super().copy(sessions, default=default)

    @classmethod
    def check_modification(cls, mode, sessions, values=None, external=False):
        super().check_modification(
            mode, sessions, values=values, external=external)
        if (mode == 'write' and external and values
                and {'retail_z_number', 'retail_grand_total',
                    'retail_closed_at'} & set(values)):
            raise ZNumberError(gettext(
                    'retail_report.msg_z_number_readonly',
                    session=sessions[0].rec_name if sessions else ''))

    @classmethod
    def close(cls, sessions):
        super().close(sessions)
        cls.retail_assign_z(sessions)

    @classmethod
    def retail_assign_z(cls, sessions):
        """Give each closed session without one the next Z number of its
        terminal and the terminal's grand total; the terminal's row is
        locked so that two closes of one terminal never take the same
        number"""
        pool = Pool()
        Point = pool.get('sale.point')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        now = dt.datetime.now()
        for session in sorted(sessions, key=lambda s: s.id):
            session = cls(session.id)
            if session.state != 'closed' or session.retail_z_number:
                continue
            Point.lock([session.point])
            cursor.execute(*table.select(Max(table.retail_z_number),
                    where=table.point == session.point.id))
            last_number = cursor.fetchone()[0] or 0
            last = session.point.retail_last_z()
            previous_total = (last.retail_grand_total or Decimal(0)
                if last else Decimal(0))
            net = Decimal(session.figures()['net'])
            with without_check_access():
                cls.write([session], {
                        'retail_z_number': last_number + 1,
                        'retail_grand_total': previous_total + net,
                        'retail_closed_at': now,
                        })

    def retail_operation_bounds(self):
        """(sequence of the session_open, sequence of the session_close) of
        the session's operations, either None when not received, or None
        when the session was not opened by a terminal"""
        Operation = Pool().get('retail.sync.operation')
        if not self.retail_uuid:
            return None
        operation = Operation.__table__()
        cursor = Transaction().connection.cursor()
        where = ((operation.terminal == self.point.id)
            & operation.type.in_(['session_open', 'session_close'])
            & (operation.state != 'rejected'))
        if PLAIN_UUID.fullmatch(self.retail_uuid):
            # The payload names the session: this only narrows the rows
            # whose payload is read
            where &= operation.payload.like(f'%{self.retail_uuid}%')
        cursor.execute(*operation.select(operation.type, operation.sequence,
                operation.payload, where=where,
                order_by=[operation.sequence.asc, operation.id.asc]))
        bounds = {}
        for type_, sequence, payload in cursor:
            if payload_of(payload).get('session') == self.retail_uuid:
                bounds.setdefault(type_, sequence)
        if not bounds:
            return None
        return bounds.get('session_open'), bounds.get('session_close')

    def _operation_where(self, operation, bounds):
        "The condition of the operations of the session (retail_operations)"
        opening, closing = bounds
        where = operation.terminal == self.point.id
        if opening is not None:
            where &= operation.sequence >= opening
        if closing is not None:
            where &= operation.sequence <= closing
        return where

    def retail_operations(self):
        """The terminal's operations pushed between the opening and the
        close of the session (by the device's sequence), or None when the
        session was not opened by a terminal"""
        Operation = Pool().get('retail.sync.operation')
        bounds = self.retail_operation_bounds()
        if bounds is None:
            return None
        domain = [('terminal', '=', self.point.id)]
        if bounds[0] is not None:
            domain.append(('sequence', '>=', bounds[0]))
        if bounds[1] is not None:
            domain.append(('sequence', '<=', bounds[1]))
        return Operation.search(domain, order=[('sequence', 'ASC')])

    def _report_operations(self):
        """What the report shows of the session's operations, read in SQL:
        (void receipt numbers, {employee id}, [journal break operations],
        the session_close's payload or {})"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        bounds = self.retail_operation_bounds()
        if bounds is None:
            return 0, [], set(), [], {}
        operation = Operation.__table__()
        cursor = Transaction().connection.cursor()
        where = (self._operation_where(operation, bounds)
            & (operation.state != 'rejected'))
        cursor.execute(*operation.select(operation.receipt_number,
                where=where & (operation.type == 'void')))
        void_numbers = [n for n, in cursor]
        cursor.execute(*operation.select(operation.employee,
                where=where & (operation.employee != Null)
                & operation.type.in_(list(CASHIER_TYPES)),
                group_by=[operation.employee]))
        employees = {e for e, in cursor}
        cursor.execute(*operation.select(operation.id,
                where=where & (operation.journal_state == 'broken'),
                order_by=[operation.sequence.asc, operation.id.asc]))
        breaks = Operation.browse([i for i, in cursor])
        payload = {}
        if bounds[1] is not None:
            cursor.execute(*operation.select(operation.payload,
                    where=where & (operation.type == 'session_close')
                    & (operation.sequence == bounds[1]),
                    order_by=[operation.id.asc], limit=1))
            row = cursor.fetchone()
            if row:
                payload = payload_of(row[0])
        return len(void_numbers), void_numbers, employees, breaks, payload

    def receipt_gaps(self, first, last):
        """The inclusive ranges of receipt numbers between first and last
        that the terminal never sent (as Operation.receipt_report finds
        them, on that range only)"""
        Operation = Pool().get('retail.sync.operation')
        operation = Operation.__table__()
        cursor = Transaction().connection.cursor()
        received = operation.select(operation.receipt_number.as_('number'),
            where=(operation.terminal == self.point.id)
            & (operation.receipt_number >= first)
            & (operation.receipt_number <= last),
            group_by=[operation.receipt_number])
        # Each number received after a missing one, with the previous one
        # received (LAG over the numbers): the gaps are found in SQL
        numbers = received.select(received.number,
            Lag(received.number, window=Window([],
                    order_by=[received.number.asc])).as_('previous'))
        cursor.execute(*numbers.select(
                numbers.previous + 1, numbers.number - 1,
                where=numbers.number > numbers.previous + 1,
                order_by=[numbers.number.asc]))
        gaps = [[int(a), int(b)] for a, b in cursor]
        # The ends of the range when they were never received
        cursor.execute(*received.select(
                Min(received.number), Max(received.number)))
        low, high = cursor.fetchone()
        if low is None:
            return [[first, last]]
        if low > first:
            gaps.insert(0, [first, low - 1])
        if high < last:
            gaps.append([high + 1, last])
        return gaps

    def report_figures(self, figures=None):
        """The figures of the X (open) or Z (closed) report: those of the
        sync API (retail_sync's figures, unchanged) plus the session's
        terminal, branch, Z number, grand total, discounts, voids, receipt
        number range with its gaps, cashiers and the counted cash by
        denomination when the till sent it"""
        pool = Pool()
        # The receipts' figures as acknowledged: they do not wait for the
        # sales to be recorded and posted
        totals = self.retail_totals()
        if figures is None:
            figures = self.figures(totals=totals)
        round_ = self.currency.round
        discounts = totals['discount']
        cashiers = {}
        numbers = set(totals['receipts'] or [])
        employees = set(totals['employees'])
        voids, void_numbers, operators, breaks, close_payload = (
            self._report_operations())
        numbers.update(n for n in void_numbers if n)
        for employee in pool.get('company.employee').browse(
                sorted(employees | operators)):
            cashiers[employee.id] = employee.rec_name
        denominations = counted_denominations(
            close_payload.get('denominations'), round_)
        gaps = []
        first = last = None
        if numbers:
            first, last = min(numbers), max(numbers)
            gaps = self.receipt_gaps(first, last)
        prefix = self.point.receipt_prefix or ''

        def receipt(number):
            if number is None:
                return None
            return f'{prefix}-{number:06d}' if prefix else str(number)
        figures.update({
                'name': ' '.join(filter(None, [self.point.rec_name,
                            f"Z {self.retail_z_number}"
                            if self.retail_z_number else None,
                            self.create_date.strftime('%Y-%m-%d %H:%M')
                            if self.create_date else None])),
                'terminal_name': self.point.rec_name,
                'branch': self.point.branch.id if self.point.branch else None,
                'branch_name': (self.point.branch.rec_name
                    if self.point.branch else ''),
                'company_name': self.point.company.rec_name,
                'z_number': self.retail_z_number,
                'grand_total': (figures_money(self.retail_grand_total)
                    if self.retail_grand_total is not None else None),
                'opened_at': self.create_date,
                'closed_at': self.retail_closed_at,
                'discounts': figures_money(round_(discounts)),
                'voids': voids,
                'first_receipt': receipt(first),
                'last_receipt': receipt(last),
                'receipt_gaps': [[receipt(a), receipt(b)] for a, b in gaps],
                'cashiers': [cashiers[k] for k in sorted(cashiers)],
                'denominations': denominations,
                'denominations_total': (figures_money(sum(
                            (Decimal(d['amount']) for d in denominations),
                            Decimal(0))) if denominations else None),
                'journal_breaks': [{
                        'sequence': o.sequence,
                        'receipt': receipt(o.receipt_number),
                        'type': o.type,
                        'message': o.journal_break or '',
                        } for o in breaks],
                })
        return figures

    def sync_figures(self):
        """The sync API's answer adds what the printed Z shows, so that
        the till reprints the server's Z"""
        figures = super().sync_figures()
        if Transaction().context.get('_retail_report_push'):
            # Push.push adds them once the push's operations are stored
            return figures
        report = self.report_figures(dict(figures))
        for key in WIRE_KEYS:
            value = report.get(key)
            if isinstance(value, dt.datetime):
                value = value.replace(microsecond=0).isoformat() + 'Z'
            figures[key] = value
        return figures


# The report's keys added to the sync API's session figures
WIRE_KEYS = ['terminal_name', 'branch_name', 'company_name', 'z_number',
    'grand_total', 'opened_at', 'closed_at', 'discounts', 'voids',
    'first_receipt', 'last_receipt', 'receipt_gaps', 'cashiers',
    'denominations', 'denominations_total', 'journal_breaks']


def counted_denominations(items, round_):
    """The counted cash by denomination of a session_close payload: value,
    count and amount (value × count) as sent, largest value first"""
    result = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        try:
            value = Decimal(str(item.get('value')))
            count = int(item.get('count'))
        except (ArithmeticError, TypeError, ValueError):
            continue
        result.append({
                'value': figures_money(value),
                'count': count,
                'amount': figures_money(round_(value * count)),
                })
    result.sort(key=lambda d: Decimal(d['value']), reverse=True)
    return result


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def push(cls, terminal, operations):
        """The figures of a session_close result are those of the Z: they
        are made once the push's operations are stored (its voids,
        journal breaks and the close's own denominations), and stored
        as the operation's answer"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Session = pool.get('sale.point.cash.session')
        with Transaction().set_context(_retail_report_push=True):
            results = super().push(terminal, operations)
        closes = {r['uuid']: r for r in results
            if r.get('status') == 'accepted'
            and isinstance(r.get('result'), dict)
            and isinstance(r['result'].get('figures'), dict)
            and isinstance(r['result'].get('session'), int)}
        if not closes:
            return results
        for operation in Operation.search([
                    ('terminal', '=', terminal.id),
                    ('uuid', 'in', list(closes)),
                    ('type', '=', 'session_close'),
                    ]):
            answer = closes[operation.uuid]
            session = Session(answer['result']['session'])
            answer['result']['figures'] = session.sync_figures()
            result = json.dumps(answer['result'])
            first = json.loads(operation.first_result or '{}')
            first['result'] = answer['result']
            with without_check_access():
                Operation.write([operation], {
                        'result': result,
                        'first_result': json.dumps(first),
                        })
        return results


# A session UUID that appears as such in the JSON of a payload
PLAIN_UUID = re.compile(r'[0-9A-Za-z-]+')
# The operations whose employee is one of the session's cashiers
CASHIER_TYPES = ['sale', 'return', 'void', 'session_open', 'session_close',
    'cash_in', 'cash_out']


def operation_payload(operation):
    "The payload the terminal sent with operation (stored whole)"
    return payload_of(operation.payload)


def payload_of(text):
    "The payload of an operation's stored JSON"
    try:
        data = json.loads(text or '{}')
    except ValueError:
        return {}
    payload = data.get('payload') if isinstance(data, dict) else None
    return payload if isinstance(payload, dict) else {}


def figures_money(value):
    return str(Decimal(value).quantize(Decimal('0.01')))


MONEY_KEYS = ['opening_float', 'sales_total', 'returns_total', 'net',
    'taxes', 'discounts', 'cash_in', 'cash_out', 'expected_cash',
    'counted_cash', 'difference']
COUNT_KEYS = ['sales', 'returns', 'voids']


def merge_figures(all_figures, name):
    """The sum of the figures of several sessions (a terminal's, a
    branch's or a day's)"""
    total = {k: Decimal(0) for k in MONEY_KEYS}
    counts = {k: 0 for k in COUNT_KEYS}
    taxes = {}
    payments = {}
    cashiers = set()
    for figures in all_figures:
        for key in MONEY_KEYS:
            if figures.get(key) is not None:
                total[key] += Decimal(figures[key])
        for key in COUNT_KEYS:
            counts[key] += figures.get(key) or 0
        for line in figures['tax_lines']:
            entry = taxes.setdefault(line['tax'], {'tax': line['tax'],
                    'name': line['name'], 'base': Decimal(0),
                    'amount': Decimal(0)})
            entry['base'] += Decimal(line['base'])
            entry['amount'] += Decimal(line['amount'])
        for line in figures['payments']:
            entry = payments.setdefault(line['method'], {
                    'method': line['method'], 'name': line['name'],
                    'amount': Decimal(0)})
            entry['amount'] += Decimal(line['amount'])
        cashiers.update(figures.get('cashiers') or [])
    result = {k: figures_money(v) for k, v in total.items()}
    result.update(counts)
    result.update({
            'name': name,
            'sessions': len(all_figures),
            'tax_lines': [dict(t, base=figures_money(t['base']),
                    amount=figures_money(t['amount']))
                for _, t in sorted(taxes.items())],
            'payments': [dict(p, amount=figures_money(p['amount']))
                for _, p in sorted(payments.items())],
            'cashiers': sorted(cashiers),
            })
    return result


def session_day(session):
    return (session.create_date or dt.datetime.now()).date()


class ZReport(Report):
    "X/Z report of cash sessions"
    __name__ = 'retail.report.z'

    @classmethod
    def _execute(cls, records, header, data, action):
        pool = Pool()
        Company = pool.get('company.company')
        data = data or {}
        sessions = sorted(records, key=lambda s: (
                s.point.branch.rec_name if s.point.branch else '',
                s.point.rec_name, s.id))
        sections = [s.report_figures() for s in sessions]
        summaries = []
        if data.get('summary') and sections:
            by_branch = defaultdict(list)
            by_day = defaultdict(list)
            by_terminal = defaultdict(list)
            for session, figures in zip(sessions, sections):
                by_branch[figures['branch_name']].append(figures)
                by_terminal[figures['terminal_name']].append(figures)
                by_day[(figures['branch_name'], session_day(session))].append(
                    figures)
            for key in sorted(by_terminal):
                summaries.append(merge_figures(by_terminal[key],
                        f"Terminal {key}"))
            for branch, day in sorted(by_day):
                summaries.append(merge_figures(by_day[(branch, day)],
                        f"{branch} {day.isoformat()}"))
            for key in sorted(by_branch):
                summaries.append(merge_figures(by_branch[key],
                        f"Branch {key}"))
        company = Company(Transaction().context['company']) if (
            Transaction().context.get('company')) else None
        title = data.get('title') or "X/Z report"
        period = data.get('period') or ''
        return 'pdf', z_pdf(title, company.rec_name if company else '',
            period, sections, summaries)


class ZPrintStart(ModelView):
    "Print X/Z Reports"
    __name__ = 'retail.report.z.print.start'

    date_from = fields.Date("From", required=True)
    date_to = fields.Date("To", required=True)
    branches = fields.Many2Many('retail.branch', None, None, "Branches",
        help="Leave empty for all the branches you may see.")
    terminals = fields.Many2Many('sale.point', None, None, "Terminals",
        help="Leave empty for all the terminals of the branches.")

    @classmethod
    def default_date_from(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_date_to(cls):
        return Pool().get('ir.date').today()


class ZPrint(Wizard):
    "Print X/Z Reports per Day and Branch"
    __name__ = 'retail.report.z.print'
    start = StateView('retail.report.z.print.start',
        'retail_report.z_print_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('retail.report.z')

    def sessions(self):
        Session = Pool().get('sale.point.cash.session')
        start = dt.datetime.combine(self.start.date_from, dt.time())
        end = dt.datetime.combine(
            self.start.date_to + dt.timedelta(days=1), dt.time())
        domain = [
            ('create_date', '>=', start),
            ('create_date', '<', end),
            ]
        if self.start.branches:
            domain.append(('point.branch', 'in',
                    [b.id for b in self.start.branches]))
        if self.start.terminals:
            domain.append(('point', 'in',
                    [t.id for t in self.start.terminals]))
        return Session.search(domain, order=[('id', 'ASC')])

    def do_print_(self, action):
        sessions = self.sessions()
        period = self.start.date_from.isoformat()
        if self.start.date_to != self.start.date_from:
            period += ' – ' + self.start.date_to.isoformat()
        return action, {
            'ids': [s.id for s in sessions],
            'model': 'sale.point.cash.session',
            'summary': True,
            'period': period,
            'title': "X/Z report per terminal, branch and day",
            }
