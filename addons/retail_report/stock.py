# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The stock exports (stock valuation per branch, and retail_stock's lists:
near-expiry lots, low stock, lot traceability) in CSV, Excel and PDF, with
the same rules as the other exports (export.py ExportMixin). They live
here, on top of retail_stock, as every export does: retail_report is the
reporting layer and depends on the modules whose records it reports"""
import datetime as dt
from decimal import Decimal

from trytond.modules.retail.stock import sell_by
from trytond.modules.retail_stock.expiry import recall_lines
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

from .export import NO_BRANCH, ExportMixin, col, date_period


def today():
    return Pool().get('ir.date').today()


def quantity(value):
    return Decimal(str(value)) if value is not None else None


def stock_value(product, qty, company):
    cost = product.cost_price or Decimal(0)
    return company.currency.round(qty * cost)


class StockListExport(ExportMixin):
    """An export of a stock list as of today: a row per line of a branch
    (a lot, a product), with the product's code, name and unit and a value
    at cost"""

    @classmethod
    def stock_lines(cls, records, data):
        "Return [(branch, line)] in the files' order"
        raise NotImplementedError

    @classmethod
    def stock_row(cls, branch, line):
        "The row of line (of branch) but for the product's columns"
        raise NotImplementedError

    @classmethod
    def stock_product(cls, line):
        "(product, quantity valued at cost or None) of line"
        return line.product, quantity(line.quantity)

    @classmethod
    def export_rows(cls, records, data):
        rows = []
        for branch, line in cls.stock_lines(records, data):
            product, valued = cls.stock_product(line)
            row = {
                'code': product.code or '',
                'product': product.rec_name,
                'unit': product.default_uom.symbol,
                'value': (stock_value(product, valued, branch.company)
                    if valued is not None else None),
                }
            row.update(cls.stock_row(branch, line))
            rows.append((branch.rec_name if branch else NO_BRANCH, row))
        return rows

    @classmethod
    def export_period(cls, records, rows):
        return today().isoformat()


class StockListLines(StockListExport):
    "A stock export of the lines of a list per branch (table_query models)"

    @classmethod
    def stock_sort_key(cls, line):
        "The order of the lines in their branch"
        raise NotImplementedError

    @classmethod
    def stock_lines(cls, records, data):
        return [(r.branch, r) for r in sorted(records, key=lambda r: (
                    r.branch.rec_name if r.branch else '',
                    *cls.stock_sort_key(r), r.id))]


class StockValuation(StockListExport, Report):
    "Stock Valuation per Branch"
    __name__ = 'retail.report.stock_valuation'

    @classmethod
    def export_title(cls):
        return "Stock valuation"

    @classmethod
    def export_columns(cls):
        return [
            col('code', "Code"),
            col('product', "Product"),
            col('quantity', "Quantity", 'quantity'),
            col('unit', "Unit"),
            col('cost_price', "Cost price", 'money'),
            col('value', "Value", 'money', True),
            ]

    @classmethod
    def stock_lines(cls, branches, data):
        "The goods in stock in each branch's warehouse, by code"
        pool = Pool()
        Product = pool.get('product.product')
        date = today()
        lines = []
        for branch in sorted(branches, key=lambda b: b.rec_name):
            if not branch.warehouse:
                continue
            with Transaction().set_context(
                    locations=[branch.warehouse.id], stock_date_end=date,
                    with_childs=True, company=branch.company.id):
                products = Product.search([
                        ('type', '=', 'goods'),
                        ('quantity', '!=', 0),
                        ], order=[('code', 'ASC'), ('id', 'ASC')])
                lines.extend((branch, p) for p in products)
        return lines

    @classmethod
    def stock_product(cls, product):
        return product, Decimal(str(product.quantity))

    @classmethod
    def stock_row(cls, branch, product):
        return {
            'quantity': Decimal(str(product.quantity)),
            'cost_price': product.cost_price or Decimal(0),
            }


class NearExpiry(StockListLines, Report):
    "Near-Expiry Lots"
    __name__ = 'retail.report.near_expiry'
    states = {'near': "Near expiry", 'expired': "Expired"}

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
    def stock_sort_key(cls, row):
        return (row.sell_by or dt.date.max, row.product.rec_name,
            row.lot.number or '')

    @classmethod
    def stock_row(cls, branch, row):
        return {
            'sell_by': row.sell_by,
            'near_expiry_date': row.near_expiry_date,
            'state': cls.states.get(row.state, row.state or ''),
            'lot': row.lot.number,
            'quantity': quantity(row.quantity),
            'markdown_price': row.markdown_price,
            }


class LowStock(StockListLines, Report):
    "Low Stock"
    __name__ = 'retail.report.low_stock'
    types = {'purchase': "Purchase", 'internal': "Internal"}

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

    @staticmethod
    def to_order(row):
        "The quantity to order up to the target, None without target"
        target = quantity(row.target_quantity)
        if target is None:
            return None
        return max(target - quantity(row.quantity), Decimal(0))

    @classmethod
    def stock_sort_key(cls, row):
        return (row.product.code or '', row.product.rec_name)

    @classmethod
    def stock_product(cls, row):
        return row.product, cls.to_order(row)

    @classmethod
    def stock_row(cls, branch, row):
        return {
            'type': cls.types.get(row.type, row.type or ''),
            'quantity': quantity(row.quantity),
            'min_quantity': quantity(row.min_quantity),
            'target_quantity': quantity(row.target_quantity),
            'to_order': cls.to_order(row),
            }


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
