# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The exports of retail_stock's lists (near-expiry lots, low stock, lot
traceability) in CSV, Excel and PDF, with the same rules as the other
exports (export.py ExportMixin). They live here, on top of retail_stock,
as every export does: retail_report is the reporting layer and depends on
the modules whose records it reports"""
import datetime as dt
from decimal import Decimal

from trytond.modules.retail.stock import sell_by
from trytond.modules.retail_stock.expiry import recall_lines
from trytond.pool import Pool
from trytond.report import Report

from .export import NO_BRANCH, ExportMixin, col, date_period


def today():
    return Pool().get('ir.date').today()


def quantity(value):
    return Decimal(str(value)) if value is not None else None


def stock_value(product, qty, company):
    cost = product.cost_price or Decimal(0)
    return company.currency.round(qty * cost)


class NearExpiry(ExportMixin, Report):
    "Near-Expiry Lots"
    __name__ = 'retail.report.near_expiry'

    @classmethod
    def export_title(cls):
        return "Near-expiry lots"

    @classmethod
    def export_columns(cls):
        return [
            col('sell_by', "Sell by", 'date'),
            col('near_expiry_date', "Near expiry from", 'date'),
            col('state', "State"),
            col('code', "Code"),
            col('product', "Product"),
            col('lot', "Lot"),
            col('quantity', "Quantity", 'quantity', True),
            col('unit', "Unit"),
            col('markdown_price', "Markdown price", 'money'),
            col('value', "Value at cost", 'money', True),
            ]

    @classmethod
    def export_rows(cls, records, data):
        states = {'near': "Near expiry", 'expired': "Expired"}
        rows = []
        for row in sorted(records, key=lambda r: (
                    r.branch.rec_name if r.branch else '',
                    r.sell_by or dt.date.max, r.product.rec_name,
                    r.lot.number or '', r.id)):
            qty = quantity(row.quantity)
            rows.append((row.branch.rec_name if row.branch else NO_BRANCH, {
                        'sell_by': row.sell_by,
                        'near_expiry_date': row.near_expiry_date,
                        'state': states.get(row.state, row.state or ''),
                        'code': row.product.code or '',
                        'product': row.product.rec_name,
                        'lot': row.lot.number,
                        'quantity': qty,
                        'unit': row.product.default_uom.symbol,
                        'markdown_price': row.markdown_price,
                        'value': stock_value(row.product, qty,
                            row.branch.company),
                        }))
        return rows

    @classmethod
    def export_period(cls, records, rows):
        return today().isoformat()


class LowStock(ExportMixin, Report):
    "Low Stock"
    __name__ = 'retail.report.low_stock'

    @classmethod
    def export_title(cls):
        return "Low stock"

    @classmethod
    def export_columns(cls):
        return [
            col('code', "Code"),
            col('product', "Product"),
            col('type', "Supply"),
            col('quantity', "Quantity", 'quantity'),
            col('min_quantity', "Minimum", 'quantity'),
            col('target_quantity', "Target", 'quantity'),
            col('to_order', "To order", 'quantity', True),
            col('unit', "Unit"),
            col('value', "Value at cost", 'money', True),
            ]

    @classmethod
    def export_rows(cls, records, data):
        types = {'purchase': "Purchase", 'internal': "Internal"}
        rows = []
        for row in sorted(records, key=lambda r: (
                    r.branch.rec_name if r.branch else '',
                    r.product.code or '', r.product.rec_name, r.id)):
            qty = quantity(row.quantity)
            target = quantity(row.target_quantity)
            to_order = max(target - qty, Decimal(0)) if target is not None \
                else None
            rows.append((row.branch.rec_name if row.branch else NO_BRANCH, {
                        'code': row.product.code or '',
                        'product': row.product.rec_name,
                        'type': types.get(row.type, row.type or ''),
                        'quantity': qty,
                        'min_quantity': quantity(row.min_quantity),
                        'target_quantity': target,
                        'to_order': to_order,
                        'unit': row.product.default_uom.symbol,
                        'value': (stock_value(row.product, to_order,
                                row.branch.company)
                            if to_order is not None else None),
                        }))
        return rows

    @classmethod
    def export_period(cls, records, rows):
        return today().isoformat()


class LotTrace(ExportMixin, Report):
    "Lot Traceability"
    __name__ = 'retail.report.lot_trace'

    @classmethod
    def export_title(cls):
        return "Lot traceability"

    @classmethod
    def export_columns(cls):
        return [
            col('lot', "Lot"),
            col('product', "Product"),
            col('sell_by', "Sell by", 'date'),
            col('date', "Date", 'date'),
            col('kind', "Kind"),
            col('document', "Document"),
            col('party', "Party"),
            col('party_code', "Party code"),
            col('from_location', "From"),
            col('to_location', "To"),
            col('quantity', "Quantity", 'quantity', True),
            col('unit', "Unit"),
            ]

    @classmethod
    def export_rows(cls, lots, data):
        pool = Pool()
        Branch = pool.get('retail.branch')
        Party = pool.get('party.party')
        Location = pool.get('stock.location')
        Uom = pool.get('product.uom')
        Line = pool.get('retail.stock.lot.recall.line')
        kinds = dict(Line.kind.selection)
        branches = {b.warehouse.id: b.rec_name
            for b in Branch.search([('warehouse', '!=', None)])}

        def branch_of(*locations):
            # The branch whose warehouse holds one side of the move
            for location in locations:
                warehouse = location.warehouse
                if warehouse and warehouse.id in branches:
                    return branches[warehouse.id]
            return NO_BRANCH
        rows = []
        for lot in sorted(lots, key=lambda l: (l.number or '', l.id)):
            date = sell_by(lot)
            for line in recall_lines(lot):
                party = Party(line['party']) if line['party'] else None
                from_ = Location(line['from_location'])
                to = Location(line['to_location'])
                rows.append((branch_of(from_, to), {
                            'lot': lot.number,
                            'product': lot.product.rec_name,
                            'sell_by': date,
                            'date': line['date'],
                            'kind': kinds.get(line['kind'], line['kind']),
                            'document': line['document'] or '',
                            'party': party.rec_name if party else '',
                            'party_code': party.code if party else '',
                            'from_location': from_.rec_name,
                            'to_location': to.rec_name,
                            'quantity': quantity(line['quantity']),
                            'unit': Uom(line['unit']).symbol,
                            }))
        return rows

    @classmethod
    def export_period(cls, records, rows):
        return date_period([r['date'] for _, r in rows])
