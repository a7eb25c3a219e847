# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""PDF pages of the reports (reportlab): a header with the shop and the
period and a page number on every page"""
from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle)

STYLES = getSampleStyleSheet()
TABLE_STYLE = TableStyle([
        ('FONT', (0, 0), (-1, -1), 'Helvetica', 8),
        ('FONT', (0, 0), (-1, 0), 'Helvetica-Bold', 8),
        ('LINEBELOW', (0, 0), (-1, 0), 0.5, colors.black),
        ('VALIGN', (0, 0), (-1, -1), 'TOP'),
        ('BOTTOMPADDING', (0, 0), (-1, -1), 1),
        ('TOPPADDING', (0, 0), (-1, -1), 1),
        ])


def _document(buffer, title, shop, period, pagesize):
    def page(canvas, doc):
        canvas.saveState()
        width, height = pagesize
        canvas.setFont('Helvetica-Bold', 10)
        canvas.drawString(12 * mm, height - 10 * mm, title)
        canvas.setFont('Helvetica', 8)
        canvas.drawString(12 * mm, height - 14 * mm,
            f"{shop}    {period}".strip())
        canvas.drawRightString(width - 12 * mm, 8 * mm,
            f"Page {doc.page}")
        canvas.restoreState()
    doc = SimpleDocTemplate(buffer, pagesize=pagesize, title=title,
        leftMargin=12 * mm, rightMargin=12 * mm, topMargin=20 * mm,
        bottomMargin=14 * mm)
    return doc, page


def text(value):
    if value is None:
        return ''
    return str(value)


def table_pdf(title, shop, period, columns, sections):
    """A paginated table per section (branch): columns [(key, title, kind,
    total)], sections [(name, rows, totals)]"""
    buffer = BytesIO()
    doc, page = _document(buffer, title, shop, period, landscape(A4))
    story = []
    cell = STYLES['BodyText'].clone('cell', fontSize=7, leading=8)
    right = [i for i, c in enumerate(columns)
        if c[2] in {'money', 'int', 'quantity'}]
    for n, (name, rows, totals) in enumerate(sections):
        if n:
            story.append(PageBreak())
        story.append(Paragraph(escape(name), STYLES['Heading2']))
        data = [[c[1] for c in columns]]
        for row in rows:
            data.append([Paragraph(escape(text(row.get(c[0]))), cell)
                    if c[2] == 'text' else text(row.get(c[0]))
                    for c in columns])
        data.append([text(totals.get(c[0])) if c[3] else ''
                for c in columns])
        data[-1][0] = "Total"
        table = Table(data, repeatRows=1)
        style = TableStyle(TABLE_STYLE.getCommands() + [
                ('FONT', (0, -1), (-1, -1), 'Helvetica-Bold', 8),
                ('LINEABOVE', (0, -1), (-1, -1), 0.5, colors.black),
                ] + [('ALIGN', (i, 0), (i, -1), 'RIGHT') for i in right])
        table.setStyle(style)
        story.append(table)
    if not sections:
        story.append(Paragraph("Nothing to report.", STYLES['BodyText']))
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()


def _figures_story(figures, story):
    rows = []

    def add(label, value):
        rows.append([label, text(value)])
    if figures.get('z_number') is not None:
        add("Z number", figures['z_number'])
    for label, key in [
            ("Branch", 'branch_name'), ("Terminal", 'terminal_name'),
            ("State", 'state'), ("Opened", 'opened_at'),
            ("Closed", 'closed_at'), ("Sessions", 'sessions'),
            ("Opening float", 'opening_float'),
            ("Sales", 'sales'), ("Sales total", 'sales_total'),
            ("Returns", 'returns'), ("Returns total", 'returns_total'),
            ("Net sales", 'net'), ("Taxes", 'taxes'),
            ("Discounts", 'discounts'), ("Voids", 'voids'),
            ("Cash in", 'cash_in'), ("Cash out", 'cash_out'),
            ("Cash expected", 'expected_cash'),
            ("Cash counted", 'counted_cash'), ("Difference", 'difference'),
            ("Grand total", 'grand_total'),
            ("First receipt", 'first_receipt'),
            ("Last receipt", 'last_receipt'),
            ]:
        if key in figures and figures[key] not in (None, ''):
            value = figures[key]
            if hasattr(value, 'strftime'):
                value = value.strftime('%Y-%m-%d %H:%M:%S')
            add(label, value)
    if 'receipt_gaps' in figures:
        add("Receipt gaps", ', '.join(
                a if a == b else f'{a} – {b}'
                for a, b in figures['receipt_gaps']) or "none")
    if figures.get('cashiers'):
        add("Cashiers", ', '.join(figures['cashiers']))
    table = Table(rows, colWidths=[50 * mm, 90 * mm])
    table.setStyle(TableStyle(TABLE_STYLE.getCommands()[:1] + [
                ('ALIGN', (1, 0), (1, -1), 'RIGHT')]))
    story.append(table)
    for title, header, lines in [
            ("Payments by method", ["Method", "Amount"],
                [[p['name'], p['amount']] for p in figures['payments']]),
            ("Taxes per rate", ["Tax", "Base", "Tax"],
                [[t['name'], t['base'], t['amount']]
                    for t in figures['tax_lines']]),
            ("Cash counted by denomination", ["Value", "Count", "Amount"],
                [[d['value'], text(d['count']), d.get('amount', '')]
                    for d in figures.get('denominations') or []]
                + ([["Total counted", '', figures['denominations_total']],
                        ["Cash expected", '', figures['expected_cash']],
                        ["Difference", '', text(
                                Decimal(figures['denominations_total'])
                                - Decimal(figures['expected_cash']))]]
                    if figures.get('denominations')
                    and figures.get('expected_cash') is not None else [])),
            ("Journal breaks", ["Receipt", "Operation", "Break"],
                [[text(b['receipt']), text(b['sequence']),
                        Paragraph(escape(b['message']), STYLES['BodyText']
                            .clone('break', fontSize=7, leading=8))]
                    for b in figures.get('journal_breaks') or []]),
            ]:
        if not lines:
            continue
        story.append(Paragraph(title, STYLES['Heading4']))
        table = Table([header] + lines,
            colWidths=[50 * mm] + [45 * mm] * (len(header) - 1))
        table.setStyle(TableStyle(TABLE_STYLE.getCommands() + [
                    ('ALIGN', (1, 0), (-1, -1), 'RIGHT')]))
        story.append(table)


def z_pdf(title, shop, period, sections, summaries):
    "The X/Z report of each session, then the summaries"
    buffer = BytesIO()
    doc, page = _document(buffer, title, shop, period, A4)
    story = []
    for n, figures in enumerate(list(sections) + list(summaries)):
        if n:
            story.append(PageBreak())
        if 'sessions' in figures:
            heading = figures['name']
        else:
            kind = "Z" if figures['state'] != 'open' else "X"
            heading = f"{kind} report: {figures['name']}"
        story.append(Paragraph(escape(heading), STYLES['Heading2']))
        story.append(Spacer(0, 2 * mm))
        _figures_story(figures, story)
    if not story:
        story.append(Paragraph("No cash session.", STYLES['BodyText']))
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()
