# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""One-click exports behind the print button of a list: the report action's
output format (CSV, Excel or PDF) chooses the file; the columns of each
export are listed in doc/usage.rst and docs/reports.md"""
import csv
import datetime as dt
import io
import re
from collections import defaultdict
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction
from trytond.wizard import Button, StateReport, StateView, Wizard

from .exceptions import ExportPeriodError
from .pdf import table_pdf
from .session import figures_money

NO_BRANCH = "No branch"
FORMATS = {
    'money': '#,##0.00',
    'quantity': '#,##0.###',
    'int': '0',
    'date': 'yyyy-mm-dd',
    'datetime': 'yyyy-mm-dd hh:mm:ss',
    }


def col(key, title, kind='text', total=False):
    return (key, title, kind, total)


def csv_value(value, kind):
    if value is None:
        return ''
    if kind == 'money':
        return figures_money(value)
    if kind == 'datetime':
        return value.strftime('%Y-%m-%d %H:%M:%S')
    if kind == 'date':
        return value.isoformat()
    if kind == 'quantity':
        return format(Decimal(str(value)).normalize(), 'f')
    return str(value)


def pdf_value(value, kind):
    return csv_value(value, kind)


def sheet_title(name, used):
    title = ' '.join(re.sub(r'[\[\]:*?/\\]', ' ', name).split())[:31]
    title = title or "Sheet"
    base, n = title, 2
    while title in used:
        suffix = f' ({n})'
        title = base[:31 - len(suffix)] + suffix
        n += 1
    used.add(title)
    return title


class ExportMixin:
    "A table per branch, written as CSV, Excel or PDF"

    @classmethod
    def export_title(cls):
        raise NotImplementedError

    @classmethod
    def export_columns(cls):
        "[(key, title, kind, total)] in the files' order"
        raise NotImplementedError

    @classmethod
    def export_rows(cls, records, data):
        "Return [(branch name, row dict)] in the files' order"
        raise NotImplementedError

    @classmethod
    def export_period(cls, records, rows):
        return ''

    @classmethod
    def sections(cls, rows):
        columns = cls.export_columns()
        branches = defaultdict(list)
        for branch, row in rows:
            branches[branch or NO_BRANCH].append(row)
        sections = []
        for branch in sorted(branches):
            totals = {}
            for key, _, kind, total in columns:
                if total:
                    values = [r.get(key) for r in branches[branch]
                        if r.get(key) is not None]
                    if kind == 'int':
                        totals[key] = sum(values)
                    else:
                        totals[key] = sum((Decimal(str(v)) for v in values),
                            Decimal(0))
            sections.append((branch, branches[branch], totals))
        return sections

    @classmethod
    def _execute(cls, records, header, data, action):
        pool = Pool()
        Company = pool.get('company.company')
        extension = action.extension or 'pdf'
        rows = cls.export_rows(records, data or {})
        sections = cls.sections(rows)
        columns = cls.export_columns()
        if extension == 'csv':
            return 'csv', cls.to_csv(columns, sections)
        if extension == 'xlsx':
            return 'xlsx', cls.to_xlsx(columns, sections)
        company_id = Transaction().context.get('company')
        shop = Company(company_id).rec_name if company_id else ''
        period = (data or {}).get('period') or cls.export_period(
            records, rows)
        pdf_sections = [(name,
                [{c[0]: pdf_value(r.get(c[0]), c[2]) for c in columns}
                    for r in rows_],
                {k: pdf_value(v, {c[0]: c[2] for c in columns}[k])
                    for k, v in totals.items()})
            for name, rows_, totals in sections]
        return 'pdf', table_pdf(cls.export_title(), shop, period,
            columns, pdf_sections)

    @classmethod
    def to_csv(cls, columns, sections):
        "UTF-8, comma separated, a header of column keys, branch first"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator='\r\n')
        writer.writerow(['branch'] + [c[0] for c in columns])
        for branch, rows, _ in sections:
            for row in rows:
                writer.writerow([branch] + [csv_value(row.get(c[0]), c[2])
                        for c in columns])
        return buffer.getvalue().encode('utf-8')

    @classmethod
    def to_xlsx(cls, columns, sections):
        "One sheet per branch, typed cells, frozen header, a totals row"
        workbook = Workbook()
        workbook.remove(workbook.active)
        used = set()
        bold = Font(bold=True)
        if not sections:
            sections = [(NO_BRANCH, [], {})]
        for branch, rows, totals in sections:
            sheet = workbook.create_sheet(sheet_title(branch, used))
            sheet.append([c[1] for c in columns])
            for cell in sheet[1]:
                cell.font = bold
            sheet.freeze_panes = 'A2'
            for row in rows:
                values = []
                for key, _, kind, _ in columns:
                    value = row.get(key)
                    if kind == 'money' and value is not None:
                        value = Decimal(str(value))
                    elif kind == 'quantity' and value is not None:
                        value = float(value)
                    elif kind == 'datetime' and value is not None:
                        value = value.replace(tzinfo=None)
                    values.append(value)
                sheet.append(values)
                for cell, (_, _, kind, _) in zip(sheet[sheet.max_row],
                        columns):
                    if kind in FORMATS:
                        cell.number_format = FORMATS[kind]
            total_row = ["Total"] + [None] * (len(columns) - 1)
            for i, (key, _, kind, total) in enumerate(columns):
                if total:
                    total_row[i] = totals.get(key)
            sheet.append(total_row)
            for cell, (_, _, kind, _) in zip(sheet[sheet.max_row], columns):
                cell.font = bold
                if kind in FORMATS:
                    cell.number_format = FORMATS[kind]
            for i, (_, title, kind, _) in enumerate(columns, 1):
                letter = sheet.cell(row=1, column=i).column_letter
                sheet.column_dimensions[letter].width = max(
                    10, min(50, len(title) + 4 if kind != 'text' else 30))
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def branch_name(point):
    return point.branch.rec_name if point and point.branch else NO_BRANCH


def date_period(dates):
    dates = sorted(d for d in dates if d)
    if not dates:
        return ''
    first, last = dates[0], dates[-1]
    if isinstance(first, dt.datetime):
        first, last = first.date(), last.date()
    if first == last:
        return first.isoformat()
    return f'{first.isoformat()} – {last.isoformat()}'


class SalesJournal(ExportMixin, Report):
    "Sales Journal"
    __name__ = 'retail.report.sales_journal'

    @classmethod
    def export_title(cls):
        return "Sales journal"

    @classmethod
    def export_columns(cls):
        return [
            col('terminal', "Terminal"),
            col('receipt', "Receipt"),
            col('date', "Date", 'date'),
            col('time', "Time", 'datetime'),
            col('cashier', "Cashier"),
            col('customer', "Customer"),
            col('lines', "Lines"),
            col('untaxed', "Untaxed", 'money', True),
            col('tax', "Tax", 'money', True),
            col('total', "Total", 'money', True),
            col('taxes', "Taxes per rate"),
            col('payments', "Payments"),
            ]

    @classmethod
    def export_rows(cls, sales, data):
        rows = []
        for sale in sorted(sales, key=lambda s: (
                    branch_name(s.point), s.date or dt.date.min,
                    s.number or '', s.id)):
            total = sale.total or Decimal(0)
            tax = sale.total_tax or Decimal(0)
            taxes = sale.retail_tax_lines()
            customer = getattr(sale, 'customer', None)
            rows.append((branch_name(sale.point), {
                        'terminal': sale.point.rec_name,
                        'receipt': sale.number,
                        'date': sale.date,
                        'time': (getattr(sale, 'client_time', None)
                            or sale.create_date),
                        'cashier': (sale.employee.rec_name
                            if sale.employee else ''),
                        'customer': customer.rec_name if customer else '',
                        'lines': '; '.join(
                            f"{csv_value(line.quantity, 'quantity')}"
                            f" x {line.product.rec_name}"
                            f" @ {figures_money(line.unit_gross_price)}"
                            f" = {figures_money(line.amount)}"
                            for line in sale.lines),
                        'untaxed': total - tax,
                        'tax': tax,
                        'total': total,
                        'taxes': '; '.join(
                            f"{t.name}: {figures_money(base)}"
                            f" + {figures_money(amount)}"
                            for t, (base, amount) in sorted(
                                taxes.items(), key=lambda i: i[0].id)),
                        'payments': '; '.join(
                            f"{p.method.name} {figures_money(p.amount)}"
                            for p in sale.payments),
                        }))
        return rows

    @classmethod
    def export_period(cls, records, rows):
        return date_period([r['date'] for _, r in rows])


class ZReports(ExportMixin, Report):
    "Z Reports"
    __name__ = 'retail.report.z_list'

    @classmethod
    def export_title(cls):
        return "Z reports"

    @classmethod
    def export_columns(cls):
        return [
            col('terminal', "Terminal"),
            col('z_number', "Z number", 'int'),
            col('state', "State"),
            col('opened_at', "Opened", 'datetime'),
            col('closed_at', "Closed", 'datetime'),
            col('opening_float', "Opening float", 'money'),
            col('sales', "Sales", 'int', True),
            col('sales_total', "Sales total", 'money', True),
            col('returns', "Returns", 'int', True),
            col('returns_total', "Returns total", 'money', True),
            col('net', "Net sales", 'money', True),
            col('taxes', "Taxes", 'money', True),
            col('discounts', "Discounts", 'money', True),
            col('voids', "Voids", 'int', True),
            col('cash_in', "Cash in", 'money', True),
            col('cash_out', "Cash out", 'money', True),
            col('expected_cash', "Cash expected", 'money', True),
            col('counted_cash', "Cash counted", 'money', True),
            col('difference', "Difference", 'money', True),
            col('grand_total', "Grand total", 'money'),
            col('first_receipt', "First receipt"),
            col('last_receipt', "Last receipt"),
            col('receipt_gaps', "Receipt gaps"),
            col('cashiers', "Cashiers"),
            ]

    @classmethod
    def export_rows(cls, sessions, data):
        rows = []
        for session in sorted(sessions, key=lambda s: (
                    branch_name(s.point), s.point.rec_name,
                    s.retail_z_number or 0, s.id)):
            f = session.report_figures()
            row = {k: f.get(k) for k, *_ in cls.export_columns()}
            for key, _, kind, _ in cls.export_columns():
                if kind == 'money' and row[key] is not None:
                    row[key] = Decimal(row[key])
            row['terminal'] = f['terminal_name']
            row['receipt_gaps'] = ', '.join(
                a if a == b else f'{a}-{b}' for a, b in f['receipt_gaps'])
            row['cashiers'] = ', '.join(f['cashiers'])
            rows.append((branch_name(session.point), row))
        return rows

    @classmethod
    def export_period(cls, records, rows):
        return date_period([r['opened_at'] for _, r in rows])


class TaxesPerRate(ExportMixin, Report):
    "Taxes per Rate per Branch"
    __name__ = 'retail.report.taxes'

    @classmethod
    def export_title(cls):
        return "Taxes per rate"

    @classmethod
    def export_columns(cls):
        return [
            col('tax', "Tax"),
            col('rate', "Rate"),
            col('sales', "Sales", 'int'),
            col('base', "Base", 'money', True),
            col('amount', "Tax amount", 'money', True),
            ]

    @classmethod
    def export_rows(cls, sales, data):
        totals = {}
        for sale in sales:
            branch = branch_name(sale.point)
            for tax, (base, amount) in sale.retail_tax_lines().items():
                entry = totals.setdefault((branch, tax.id), {
                        'tax': tax.name,
                        'rate': (format(tax.rate * 100, 'f').rstrip('0')
                            .rstrip('.') + ' %'
                            if tax.type == 'percentage' and tax.rate
                            is not None else tax.type),
                        'sales': 0, 'base': Decimal(0),
                        'amount': Decimal(0)})
                entry['sales'] += 1
                entry['base'] += base
                entry['amount'] += amount
        return [(branch, totals[(branch, tax)])
            for branch, tax in sorted(totals)]

    @classmethod
    def export_period(cls, records, rows):
        return date_period([s.date for s in records])


class Conflicts(ExportMixin, Report):
    "Sync Conflicts"
    __name__ = 'retail.report.conflicts'

    @classmethod
    def export_title(cls):
        return "Sync conflicts"

    @classmethod
    def export_columns(cls):
        return [
            col('terminal', "Terminal"),
            col('uuid', "Operation"),
            col('type', "Type"),
            col('state', "State"),
            col('receipt_number', "Receipt number", 'int'),
            col('client_time', "Client time", 'datetime'),
            col('employee', "Employee"),
            col('reason_code', "Reason code"),
            col('reason', "Reason"),
            col('replays', "Replays", 'int', True),
            ]

    @classmethod
    def export_rows(cls, operations, data):
        rows = []
        for op in sorted(operations, key=lambda o: (
                    branch_name(o.terminal), o.terminal.rec_name
                    if o.terminal else '', o.sequence or 0, o.id)):
            rows.append((branch_name(op.terminal), {
                        'terminal': op.terminal.rec_name if op.terminal
                        else '',
                        'uuid': op.uuid,
                        'type': op.type or '',
                        'state': op.state,
                        'receipt_number': op.receipt_number,
                        'client_time': op.client_time,
                        'employee': op.employee.rec_name if op.employee
                        else '',
                        'reason_code': op.reason_code or '',
                        'reason': op.reason or '',
                        'replays': op.replays or 0,
                        }))
        return rows

    @classmethod
    def export_period(cls, records, rows):
        return date_period([r['client_time'] for _, r in rows])


class ExportStart(ModelView):
    "Export by Period and Branch"
    __name__ = 'retail.report.export.start'

    report = fields.Selection([
            ('retail.report.sales_journal', "Sales Journal"),
            ('retail.report.taxes', "Taxes per Rate"),
            ('retail.report.z_list', "Z Reports"),
            ], "Export", required=True)
    format = fields.Selection([
            ('csv', "CSV"),
            ('xlsx', "Excel"),
            ('pdf', "PDF"),
            ], "Format", required=True)
    date_from = fields.Date("From", required=True)
    date_to = fields.Date("To", required=True)
    branches = fields.Many2Many('retail.branch', None, None, "Branches",
        help="Leave empty for all the branches you may see.")

    @classmethod
    def default_report(cls):
        return 'retail.report.sales_journal'

    @classmethod
    def default_format(cls):
        return 'xlsx'

    @classmethod
    def default_date_from(cls):
        return Pool().get('ir.date').today().replace(day=1)

    @classmethod
    def default_date_to(cls):
        return Pool().get('ir.date').today()


class Export(Wizard):
    """Export the sales journal, the taxes per rate or the Z reports of a
    period and branches, as CSV, Excel or PDF"""
    __name__ = 'retail.report.export'
    start = StateView('retail.report.export.start',
        'retail_report.export_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'export', 'tryton-print', default=True),
            ])
    # The report action is chosen by do_export from the start's export and
    # format
    export = StateReport('retail.report.sales_journal')

    def records(self):
        "The model and ids of the export's records in the period and branches"
        pool = Pool()
        start = self.start
        branches = [b.id for b in start.branches]
        if self.start.report == 'retail.report.z_list':
            Session = pool.get('sale.point.cash.session')
            domain = [
                ('create_date', '>=',
                    dt.datetime.combine(start.date_from, dt.time())),
                ('create_date', '<', dt.datetime.combine(
                        start.date_to + dt.timedelta(days=1), dt.time())),
                ]
            if branches:
                domain.append(('point.branch', 'in', branches))
            return Session.__name__, Session.search(
                domain, order=[('id', 'ASC')])
        Sale = pool.get('sale.point.sale')
        domain = [
            ('date', '>=', start.date_from),
            ('date', '<=', start.date_to),
            ]
        if branches:
            domain.append(('point.branch', 'in', branches))
        return Sale.__name__, Sale.search(domain, order=[('id', 'ASC')])

    def do_export(self, action):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        if self.start.date_from > self.start.date_to:
            raise ExportPeriodError(gettext(
                    'retail_report.msg_export_period',
                    date_from=self.start.date_from,
                    date_to=self.start.date_to))
        report, = ActionReport.search([
                ('report_name', '=', self.start.report),
                ('extension', '=', self.start.format),
                ], limit=1)
        model, records = self.records()
        period = self.start.date_from.isoformat()
        if self.start.date_to != self.start.date_from:
            period += ' – ' + self.start.date_to.isoformat()
        names = ', '.join(b.rec_name for b in self.start.branches)
        if names:
            period += ' · ' + names
        return report.action.get_action_value(), {
            'ids': [r.id for r in records],
            'model': model,
            'period': period,
            }
