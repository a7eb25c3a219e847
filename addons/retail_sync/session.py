# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Cash sessions named by the device, with their float and the server's X/Z
figures"""
import json
from collections import defaultdict
from decimal import Decimal

from sql import For, Null
from sql.aggregate import Count
from sql.operators import Exists

from trytond import backend
from trytond.model import Index, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .push import OperationHandler
from .wire import Rejected, money, to_decimal, to_int


class CashSession(metaclass=PoolMeta):
    __name__ = 'sale.point.cash.session'

    retail_uuid = fields.Char(
        "Device UUID", readonly=True, strip=False,
        help="The UUID the terminal gave the session.")
    retail_float_transfer = fields.Many2One(
        'sale.point.cash.transfer', "Float Transfer", readonly=True,
        ondelete='SET NULL',
        help="The transfer that brought the session's start amount to the "
        "opening float counted at the till.")
    retail_difference_transfer = fields.Many2One(
        'sale.point.cash.transfer', "Difference Transfer", readonly=True,
        ondelete='SET NULL',
        help="The transfer that booked the difference between the counted "
        "and the expected cash at the close.")
    retail_sales = fields.One2Many(
        'sale.point.sale', 'cash_session', "Sales", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('point_retail_uuid_unique', Unique(t, t.point, t.retail_uuid),
                'retail_sync.msg_session_uuid_unique'),
            ]

    @classmethod
    def copy(cls, sessions, default=None):
        default = default.copy() if default is not None else {}
        for name in ['retail_uuid', 'retail_float_transfer',
                'retail_difference_transfer']:
            default.setdefault(name, None)
        return super().copy(sessions, default=default)

    @classmethod
    def get_current(cls, point):
        """The open session of point, opened when there is none.

        Tryton locks the whole session table to open one, which the sync
        API then took from the start of every push of every terminal once
        a session had opened in its process (the lock is asked for by
        starting the transaction again), so the pushes of all terminals ran
        one at a time.  Opening a session of a point only needs the other
        openings of the same point to wait: the point's row is locked
        instead (the sync API holds it already for the push)."""
        sessions = cls.search([
                ('point', '=', point.id),
                ('state', '=', 'open'),
                ], limit=1)
        if sessions:
            return sessions[0]
        cls.lock_point(point)
        with Transaction().set_context(_retail_session_point=point.id):
            return super().get_current(point)

    @classmethod
    def lock_point(cls, point):
        """Wait for the transactions that write the row of point (a push
        of its terminal, the opening of one of its sessions) and hold it
        until the transaction ends (SQLite has one writer)"""
        if backend.name != 'postgresql':
            return
        Point = Pool().get('sale.point')
        table = Point.__table__()
        Transaction().connection.cursor().execute(*table.select(table.id,
                where=table.id == point.id, for_=For('UPDATE')))

    @classmethod
    def lock(cls, records=None):
        # get_current locked the point's row: no table lock
        if (records is None
                and Transaction().context.get('_retail_session_point')):
            return
        super().lock(records)

    @classmethod
    def by_uuid(cls, terminal, uuid):
        "The session of terminal with the device's uuid, or None"
        sessions = cls.search([
                ('point', '=', terminal.id),
                ('retail_uuid', '=', uuid),
                ], limit=1)
        return sessions[0] if sessions else None

    def retail_sales_of(self):
        """The receipts of the session: the sales made while it was the
        terminal's current session, and those paid in cash into it; not
        the sales still open or cancelled"""
        Sale = Pool().get('sale.point.sale')
        return Sale.search([
                ['OR',
                    ('cash_session', '=', self.id),
                    ('payments.session', '=', self.id),
                    ],
                ('state', 'in', ['done', 'posted']),
                ], order=[('id', 'ASC')])

    def retail_summaries(self):
        """The figures of each receipt of the session, money as Decimal:
        those of the sale and return operations acknowledged into it (their
        summary, stored at the push: whether their sale is recorded and
        posted yet or not), then those of its other sales (made in the back
        office, or pushed before the operations kept a summary) from their
        records.  Each: sale (its id, None while not recorded), kind (sale,
        return or None), total, tax, taxes [[tax id, base, amount]],
        payments [[method id, amount]], discount, employee,
        receipt_number, posting."""
        Operation = Pool().get('retail.sync.operation')
        operation = Operation.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*operation.select(operation.sale, operation.type,
                operation.summary, operation.employee,
                operation.receipt_number, operation.posting,
                where=(operation.session == self.id)
                & (operation.state == 'accepted')
                & (operation.summary != Null),
                order_by=[operation.sequence.asc, operation.id.asc]))
        summaries = []
        for sale, type_, summary, employee, receipt, posting in cursor:
            values = json.loads(summary)
            summaries.append({
                    'sale': sale,
                    'kind': type_,
                    'total': Decimal(values['total']),
                    'tax': Decimal(values['tax']),
                    'taxes': [[t, Decimal(b), Decimal(a)]
                        for t, b, a in values['taxes']],
                    'payments': [[m, Decimal(a)]
                        for m, a in values['payments']],
                    'discount': Decimal(values['discount']),
                    'employee': employee,
                    'receipt_number': receipt,
                    'posting': posting,
                    })
        return summaries + self._retail_unsummarised()

    def _retail_unsummarised(self):
        """The summaries (retail_summaries) of the session's sales that no
        acknowledged operation summarises, from their records"""
        pool = Pool()
        Operation = pool.get('retail.sync.operation')
        Sale = pool.get('sale.point.sale')
        Payment = pool.get('sale.point.payment')
        operation = Operation.__table__()
        cursor = Transaction().connection.cursor()
        summaries = []
        sale = Sale.__table__()
        payment = Payment.__table__()
        # Each query is answered by an index (a large session's sales are
        # all summarised: this finds none of them quickly)
        unsummarised = (sale.state.in_(['done', 'posted'])
            & ~Exists(operation.select(operation.id,
                    where=(operation.sale == sale.id)
                    & (operation.summary != Null))))
        cursor.execute(*sale.select(sale.id,
                where=(sale.cash_session == self.id) & unsummarised))
        ids = {i for i, in cursor}
        cursor.execute(*payment.join(sale,
                condition=payment.sale == sale.id).select(sale.id,
                where=(payment.session == self.id) & unsummarised))
        ids.update(i for i, in cursor)
        ids = sorted(ids)
        for sub in [ids[i:i + 1000] for i in range(0, len(ids), 1000)]:
            summaries.extend(s.retail_summary() for s in Sale.browse(sub))
        return summaries

    def retail_totals(self):
        """The receipts of the session (retail_summaries) added up, money
        as Decimal: counts and totals per kind (sale, return), tax, tax
        bases and amounts per tax id, payments per method id, discount,
        employees (ids), receipts ([first, last] receipt number or None).
        On PostgreSQL the acknowledged summaries are added up in SQL
        (exact numeric sums of their decimal strings: the same figures,
        without reading 10,000 summaries into Python)."""
        totals = {
            'counts': {'sale': 0, 'return': 0},
            'totals': {'sale': Decimal(0), 'return': Decimal(0)},
            'tax': Decimal(0),
            'tax_bases': defaultdict(Decimal),
            'tax_amounts': defaultdict(Decimal),
            'payments': defaultdict(Decimal),
            'discount': Decimal(0),
            'employees': set(),
            'receipts': None,
            }
        if backend.name == 'postgresql':
            self._retail_totals_sql(totals)
            summaries = self._retail_unsummarised()
        else:
            summaries = self.retail_summaries()
        for summary in summaries:
            total = summary['total']
            kind = summary['kind']
            if kind not in totals['counts']:
                kind = 'return' if total < 0 else 'sale'
            totals['counts'][kind] += 1
            totals['totals'][kind] += total
            totals['tax'] += summary['tax']
            for tax, base, amount in summary['taxes']:
                totals['tax_bases'][tax] += base
                totals['tax_amounts'][tax] += amount
            for method, amount in summary['payments']:
                totals['payments'][method] += amount
            totals['discount'] += summary['discount']
            if summary['employee']:
                totals['employees'].add(summary['employee'])
            add_receipts(totals, summary['receipt_number'],
                summary['receipt_number'])
        return totals

    def _retail_totals_sql(self, totals):
        "Add the acknowledged summaries of the session to totals in SQL"
        Operation = Pool().get('retail.sync.operation')
        cursor = Transaction().connection.cursor()
        table = Operation._table
        # One statement: each summary is parsed once (JSONB), then added
        # up per kind, per tax, per payment method and per employee
        cursor.execute(
            'WITH o AS MATERIALIZED (SELECT o.type, o.receipt_number, '
            'o.employee, CAST(o.summary AS JSONB) AS j '
            f'FROM "{table}" AS o WHERE o.session = %s '
            'AND o.state = \'accepted\' AND o.summary IS NOT NULL) '
            'SELECT CASE WHEN o.type IN (\'sale\', \'return\') '
            'THEN o.type WHEN CAST(o.j->>\'total\' AS NUMERIC) < 0 '
            'THEN \'return\' ELSE \'sale\' END, NULL, COUNT(*), '
            'SUM(CAST(o.j->>\'total\' AS NUMERIC)), '
            'SUM(CAST(o.j->>\'tax\' AS NUMERIC)), '
            'SUM(CAST(o.j->>\'discount\' AS NUMERIC)), '
            'MIN(o.receipt_number), MAX(o.receipt_number) '
            'FROM o GROUP BY 1 '
            'UNION ALL SELECT \'tax\', CAST(t.v->>0 AS INTEGER), NULL, '
            'SUM(CAST(t.v->>1 AS NUMERIC)), SUM(CAST(t.v->>2 AS NUMERIC)), '
            'NULL, NULL, NULL '
            'FROM o, jsonb_array_elements(o.j->\'taxes\') AS t(v) '
            'GROUP BY 2 '
            'UNION ALL SELECT \'payment\', CAST(p.v->>0 AS INTEGER), NULL, '
            'SUM(CAST(p.v->>1 AS NUMERIC)), NULL, NULL, NULL, NULL '
            'FROM o, jsonb_array_elements(o.j->\'payments\') AS p(v) '
            'GROUP BY 2 '
            'UNION ALL SELECT \'employee\', o.employee, NULL, NULL, NULL, '
            'NULL, NULL, NULL FROM o WHERE o.employee IS NOT NULL '
            'GROUP BY 2', (self.id,))
        for kind, id_, count, first, second, third, low, high in cursor:
            if kind == 'tax':
                totals['tax_bases'][id_] += first or 0
                totals['tax_amounts'][id_] += second or 0
            elif kind == 'payment':
                totals['payments'][id_] += first or 0
            elif kind == 'employee':
                totals['employees'].add(id_)
            else:
                totals['counts'][kind] += count
                totals['totals'][kind] += first or 0
                totals['tax'] += second or 0
                totals['discount'] += third or 0
                add_receipts(totals, low, high)

    def posting_counts(self):
        """{'posted': n, 'pending': n, 'failed': n}: the posting of the
        session's sales acknowledged from pushed operations"""
        Operation = Pool().get('retail.sync.operation')
        operation = Operation.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*operation.select(operation.posting,
                Count(operation.id),
                where=(operation.session == self.id)
                & (operation.state == 'accepted')
                & (operation.summary != Null),
                group_by=[operation.posting]))
        counts = {'posted': 0, 'pending': 0, 'failed': 0}
        for posting, count in cursor:
            counts[posting or 'posted'] += count
        return counts

    def sync_figures(self):
        """The session's figures as the sync API answers them (GET
        sessions/<uuid>, the session_close result): figures(), to which
        other modules add keys"""
        return self.figures()

    def figures(self, totals=None):
        """The X (open) or Z (closed) figures of the session, money as
        decimal strings: the same computation whatever its state, from the
        acknowledged operations (retail_totals, or totals when given):
        they do not wait for the sales to be recorded and posted"""
        pool = Pool()
        Method = pool.get('sale.point.payment.method')
        Tax = pool.get('account.tax')
        currency = self.currency
        round_ = currency.round
        if totals is None:
            totals = self.retail_totals()
        counts = totals['counts']
        taxes = totals['tax']
        tax_bases = totals['tax_bases']
        tax_amounts = totals['tax_amounts']
        by_method = totals['payments']
        totals = totals['totals']
        methods = {m.id: m for m in Method.browse(sorted(by_method))}
        tax_names = {t.id: t.name for t in Tax.browse(sorted(tax_bases))}
        # The cash paid into the drawer by the session's receipts
        cash_payments = sum((a for m, a in by_method.items()
                if methods[m].cash), Decimal(0))
        excluded = {t.id for t in [self.retail_float_transfer,
                self.retail_difference_transfer] if t}
        cash_in = cash_out = Decimal(0)
        for transfer in self.transfers:
            if transfer.id in excluded:
                continue
            if transfer.amount >= 0:
                cash_in += transfer.amount
            else:
                cash_out -= transfer.amount
        opening = self.start_amount or Decimal(0)
        if self.retail_float_transfer:
            opening += self.retail_float_transfer.amount
        expected = opening + cash_payments + cash_in - cash_out
        counted = difference = None
        if self.state != 'open':
            counted = self.end_amount
            difference = counted - expected

        def amount(value):
            return money(round_(value)) if value is not None else None
        return {
            'id': self.id,
            'uuid': self.retail_uuid,
            'terminal': self.point.id,
            'state': self.state,
            'opening_float': amount(opening),
            'sales': counts['sale'],
            'sales_total': amount(totals['sale']),
            'returns': counts['return'],
            'returns_total': amount(totals['return']),
            'net': amount(totals['sale'] + totals['return']),
            'taxes': amount(taxes),
            'tax_lines': [{
                    'tax': tax,
                    'name': tax_names[tax],
                    'base': amount(tax_bases[tax]),
                    'amount': amount(tax_amounts[tax]),
                    } for tax in sorted(tax_bases)],
            'payments': [{
                    'method': method_id,
                    'name': methods[method_id].name,
                    'amount': amount(by_method[method_id]),
                    } for method_id in sorted(by_method)],
            'cash_in': amount(cash_in),
            'cash_out': amount(cash_out),
            'expected_cash': amount(expected),
            'counted_cash': amount(counted),
            'difference': amount(difference),
            }


def add_receipts(totals, first, last):
    "Widen the receipt number range of totals to first and last"
    if first is None:
        return
    if totals['receipts'] is None:
        totals['receipts'] = [first, last]
    else:
        totals['receipts'] = [min(totals['receipts'][0], first),
            max(totals['receipts'][1], last)]


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    def retail_summary(self):
        """The figures of the sale as retail_summaries gives them, from
        its records"""
        pool = Pool()
        Push = pool.get('retail.sync.push')
        SaleHandler = Push._operation_handlers()['sale']
        round_ = self.currency.round
        discount = Decimal(0)
        for line in self.lines:
            if line.base_price is None or line.unit_gross_price is None:
                continue
            if self.point.tax_included:
                full = line.base_price
            else:
                taxes = [t for t in line.product.customer_taxes_used]
                full = SaleHandler.unit_prices(line.base_price, taxes,
                    self.date, False)[1]
            quantity = Decimal(str(line.quantity))
            discount += (round_(quantity * full)
                - round_(quantity * line.unit_gross_price))
        return {
            'sale': self.id,
            'kind': None,
            'total': self.total or Decimal(0),
            'tax': self.total_tax or Decimal(0),
            'taxes': [[tax.id, base, amount] for tax, (base, amount)
                in sorted(self.retail_tax_lines().items(),
                    key=lambda i: i[0].id)],
            'payments': [[p.method.id, p.amount or Decimal(0)]
                for p in self.payments],
            'discount': discount,
            'employee': self.employee.id if self.employee else None,
            'receipt_number': getattr(self, 'receipt_number', None),
            'posting': None,
            }

    cash_session = fields.Many2One(
        'sale.point.cash.session', "Cash Session", readonly=True,
        ondelete='RESTRICT',
        domain=[('point', '=', Eval('point', -1))],
        help="The terminal's cash session when the sale was recorded.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.cash_session, Index.Range())))

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Point = pool.get('sale.point')
        current = {}
        vlist = [v.copy() for v in vlist]
        # The session is the terminal's open one, whoever records the sale
        # (as for the session of a cash payment).  A sale opens no session:
        # sale_point opens one for a cash payment only, and a point of sale
        # without a branch is left as sale_point makes it.
        with without_check_access():
            for values in vlist:
                point = values.get('point')
                if point is None or values.get('cash_session'):
                    continue
                if point not in current:
                    current[point] = None
                    if Point(point).branch:
                        sessions = Session.search([
                                ('point', '=', point),
                                ('state', '=', 'open'),
                                ], limit=1)
                        if sessions:
                            current[point] = sessions[0].id
                if current[point]:
                    values['cash_session'] = current[point]
        return super().create(vlist)

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('cash_session', None)
        return super().copy(sales, default=default)


class CashHandler(OperationHandler):
    "Cash put into the drawer (or taken out of it, sign -1)"
    string = 'retail_sync.msg_operation_type_cash_in'
    payload_schema = 'CashPayload'
    session = True
    sign = 1

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        amount = to_decimal(payload.get('amount'), 'amount')
        if amount <= 0:
            raise Rejected('invalid_payload', "amount must be positive.")
        transfer = cls.transfer(
            batch, payload, client_time, cls.sign * amount)
        return {'transfer': transfer.id, 'session': transfer.session.id,
            'session_uuid': transfer.session.retail_uuid}

    @classmethod
    def transfer(cls, batch, payload, client_time, amount, type_id=None):
        pool = Pool()
        Transfer = pool.get('sale.point.cash.transfer')
        TransferType = pool.get('sale.point.cash.transfer.type')
        type_id = type_id or to_int(payload.get('transfer_type'),
            'transfer_type')
        if not TransferType.search([('id', '=', type_id)]):
            raise Rejected('invalid_payload',
                f"Cash transfer type {type_id} does not exist.")
        transfer, = Transfer.create([{
                    'point': batch.terminal.id,
                    'type': type_id,
                    'amount': amount,
                    'date': cls.business_date(batch, client_time),
                    }])
        Transfer.post([transfer])
        return transfer


class CashOutHandler(CashHandler):
    string = 'retail_sync.msg_operation_type_cash_out'
    sign = -1


class SessionOpenHandler(OperationHandler):
    "The till's cash session opened, with the float counted"
    string = 'retail_sync.msg_operation_type_session_open'
    payload_schema = 'SessionOpenPayload'

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Configuration = pool.get('retail.sync.configuration')
        uuid = payload.get('session')
        if uuid is not None:
            if not isinstance(uuid, str) or not 0 < len(uuid) <= 64:
                raise Rejected('invalid_payload',
                    "session must be the session's UUID (a string).")
            if Session.by_uuid(batch.terminal, uuid):
                raise Rejected('invalid_payload',
                    f"Cash session {uuid} was already opened.")
        opening = payload.get('opening_amount')
        if opening is not None:
            opening = to_decimal(opening, 'opening_amount')
            if opening < 0:
                raise Rejected('invalid_payload',
                    "opening_amount cannot be negative.")
        session = Session.get_current(batch.terminal)
        if uuid is not None and session.retail_uuid not in {None, uuid}:
            raise Rejected('session_still_open',
                f"Cash session {session.retail_uuid} of the terminal is "
                "still open: its close must be recorded first.")
        start = session.start_amount
        if opening is not None and not session.retail_float_transfer:
            difference = opening - start
            if difference:
                config = Configuration(1)
                if not config.float_transfer_type:
                    raise Rejected('not_configured',
                        "No float transfer type is configured "
                        "(Retail › Configuration › Sync).")
                session.retail_float_transfer = CashHandler.transfer(
                    batch, payload, client_time, difference,
                    type_id=config.float_transfer_type.id)
        if uuid is not None:
            session.retail_uuid = uuid
        session.save()
        opening = start
        if session.retail_float_transfer:
            opening += session.retail_float_transfer.amount
        transfer = session.retail_float_transfer
        round_ = session.currency.round
        return {'session': session.id, 'uuid': session.retail_uuid,
            'start_amount': money(round_(start)),
            'opening_amount': money(round_(opening)),
            'float_transfer': transfer.id if transfer else None}


class SessionCloseHandler(OperationHandler):
    "The till's cash session closed, with the cash counted"
    string = 'retail_sync.msg_operation_type_session_close'
    payload_schema = 'SessionClosePayload'
    session = True

    @classmethod
    def prepare(cls, batch, data):
        # The session's balance counts the cash of its sales: record those
        # still waiting for the posting task first
        Pool().get('retail.sync.push')._operation_handlers()[
            'sale'].record_now(batch)

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Configuration = pool.get('retail.sync.configuration')
        counted = to_decimal(payload.get('counted_cash'), 'counted_cash')
        sessions = Session.search([
                ('point', '=', batch.terminal.id),
                ('state', '=', 'open'),
                ], limit=1)
        if not sessions:
            raise Rejected('no_open_session',
                "The terminal has no open cash session.")
        session, = sessions
        expected = session.start_amount + session.balance
        difference = counted - expected
        transfer = None
        if difference:
            config = Configuration(1)
            if not config.cash_difference_type:
                raise Rejected('not_configured',
                    "No cash difference type is configured "
                    "(Retail › Configuration › Sync).")
            transfer = CashHandler.transfer(batch, payload, client_time,
                difference, type_id=config.cash_difference_type.id)
            session = Session(session.id)
        session.end_amount = counted
        session.retail_difference_transfer = transfer
        session.save()
        Session.close([session])
        session = Session(session.id)
        return {'session': session.id, 'expected': money(expected),
            'counted': money(counted), 'difference': money(difference),
            'figures': session.sync_figures()}


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def _operation_handlers(cls):
        handlers = super()._operation_handlers()
        handlers.update({
                'cash_in': CashHandler,
                'cash_out': CashOutHandler,
                'session_open': SessionOpenHandler,
                'session_close': SessionCloseHandler,
                })
        return handlers
