# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Shelf labels: PDF sheets drawn with reportlab (A4 grids, 58×40 mm and
2.25×1.25 in rolls) with the product's name, variant, price, unit price,
EAN-13 barcode and, for lots, the lot number and expiry date; printed from
products, from shipments, and for the prices changed since the last print
of a branch (the price of each print is recorded per product and branch)."""
import datetime as dt
import os
from decimal import Decimal
from io import BytesIO

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.product import price_digits
from trytond.pool import Pool
from trytond.report import Report
from trytond.rpc import RPC
from trytond.transaction import Transaction
from trytond.wizard import Button, StateReport, StateView, Wizard

from .exceptions import LabelError

MM = 72 / 25.4
INCH = 72
# name: (page width, page height, columns, rows, label width, label height)
# in points; a roll prints one label per page
LAYOUTS = {
    'a4': (210 * MM, 297 * MM, 3, 8, 70 * MM, 37 * MM),
    'roll_58x40': (58 * MM, 40 * MM, 1, 1, 58 * MM, 40 * MM),
    'roll_2.25x1.25': (2.25 * INCH, 1.25 * INCH, 1, 1,
        2.25 * INCH, 1.25 * INCH),
    }
LAYOUT_SELECTION = [
    ('a4', "A4 sheet, 3 × 8 labels of 70 × 37 mm"),
    ('roll_58x40', "Roll, 58 × 40 mm"),
    ('roll_2.25x1.25', "Roll, 2.25 × 1.25 in"),
    ]
FONT_FILES = [
    ('DejaVuSans', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'),
    ('DejaVuSans-Bold',
        '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'),
    ]


def _fonts():
    "(regular, bold) font names: DejaVu Sans when installed, else Helvetica"
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    if all(os.path.exists(p) for _, p in FONT_FILES):
        for name, path in FONT_FILES:
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, path))
        return 'DejaVuSans', 'DejaVuSans-Bold'
    return 'Helvetica', 'Helvetica-Bold'


def _fit(canvas, text, font, size, width):
    "text cut with an ellipsis to fit width at size"
    from reportlab.pdfbase.pdfmetrics import stringWidth
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + '…', font, size) > width:
        text = text[:-1]
    return text + '…'


def render_labels(labels, layout='a4'):
    """The PDF (bytes) of labels, dicts with: name, variant, price (text),
    unit_price (text), barcode (an EAN-13 or None), lot, expiry (texts or
    None)"""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.eanbc import Ean13BarcodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.pdfgen.canvas import Canvas

    if layout not in LAYOUTS:
        raise ValueError(layout)
    page_w, page_h, columns, rows, label_w, label_h = LAYOUTS[layout]
    regular, bold = _fonts()
    out = BytesIO()
    canvas = Canvas(out, pagesize=(page_w, page_h), pageCompression=1)
    canvas.setTitle("Labels")
    margin_x = (page_w - columns * label_w) / 2
    margin_y = (page_h - rows * label_h) / 2
    per_page = columns * rows
    pad = 2 * MM
    for index, label in enumerate(labels):
        if index and index % per_page == 0:
            canvas.showPage()
        slot = index % per_page
        col, row = slot % columns, slot // columns
        x = margin_x + col * label_w
        top = page_h - margin_y - row * label_h
        width = label_w - 2 * pad
        y = top - pad - 8
        canvas.setFont(bold, 8)
        canvas.drawString(x + pad, y, _fit(canvas, label['name'], bold, 8,
                width))
        if label.get('variant'):
            y -= 9
            canvas.setFont(regular, 7)
            canvas.drawString(x + pad, y, _fit(canvas, label['variant'],
                    regular, 7, width))
        lot = []
        if label.get('lot'):
            lot.append(gettext('retail_product.msg_label_lot',
                    lot=label['lot']))
        if label.get('expiry'):
            lot.append(gettext('retail_product.msg_label_expiry',
                    date=label['expiry']))
        if lot:
            y -= 8
            canvas.setFont(regular, 6)
            canvas.drawString(x + pad, y, _fit(canvas, '  '.join(lot),
                    regular, 6, width))
        # price, large, right; unit price below it
        canvas.setFont(bold, 14)
        canvas.drawRightString(x + label_w - pad, top - label_h / 2 - 2,
            label['price'])
        if label.get('unit_price'):
            canvas.setFont(regular, 6)
            canvas.drawRightString(x + label_w - pad,
                top - label_h / 2 - 10, label['unit_price'])
        code = label.get('barcode')
        if code:
            widget = Ean13BarcodeWidget(code)
            widget.barHeight = min(12 * MM, label_h * 0.32)
            widget.barWidth = 0.26 * MM
            widget.fontSize = 6
            x0, y0, x1, y1 = widget.getBounds()
            drawing = Drawing(x1 - x0, y1 - y0)
            drawing.add(widget)
            renderPDF.draw(drawing, canvas, x + pad - x0,
                top - label_h + pad - y0)
    if not labels:
        canvas.setFont(regular, 8)
        canvas.drawString(10, page_h - 20, "")
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def label_price(product, branch=None, date=None):
    """The price a customer pays for one unit of product (tax included) at
    branch: its branch's price list when it has one, else the product's
    gross price, else its list price with its taxes"""
    pool = Pool()
    Tax = pool.get('account.tax')
    Date = pool.get('ir.date')
    date = date or Date.today()
    taxes = (product.customer_taxes_used
        if getattr(product, 'account_category', None) else [])
    if branch and branch.price_list:
        price_list = branch.price_list
        net = price_list.compute(product, 1, product.default_uom)
        if net is None:
            return None
        if getattr(price_list, 'tax_included', False):
            return Decimal(net).quantize(Decimal('0.01'))
        return _with_taxes(Tax, taxes, Decimal(net), date)
    gross = getattr(product, 'gross_price_used', None)
    if gross is not None:
        return gross.quantize(Decimal('0.01'))
    net = product.list_price_used
    if net is None:
        return None
    return _with_taxes(Tax, taxes, net, date)


def _with_taxes(Tax, taxes, net, date):
    amount = sum((t['amount'] for t in Tax.compute(taxes, net, 1, date)),
        Decimal(0))
    return (net + amount).quantize(Decimal('0.01'))


class LabelPrinted(ModelSQL, ModelView):
    "Label Printed"
    __name__ = 'product.label.printed'
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')
    branch = fields.Many2One(
        'retail.branch', "Branch", required=True, ondelete='CASCADE')
    price = fields.Numeric("Price", digits=price_digits)
    printed_at = fields.DateTime("Printed At", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('product_branch_unique', Unique(t, t.product, t.branch),
                'retail_product.msg_label_printed_unique'),
            ]
        cls._order.insert(0, ('printed_at', 'DESC'))
        cls.__rpc__.update({
                'label_job': RPC(readonly=True),
                })

    @classmethod
    def label_job(cls, items, branch=None):
        """The hardware proxy's label job of items ([{product, lot?,
        copies?}]) priced for branch (id or None)"""
        pool = Pool()
        Product = pool.get('product.product')
        Branch = pool.get('retail.branch')
        Company = pool.get('company.company')
        try:
            Lot = pool.get('stock.lot')
        except KeyError:
            Lot = None
        branch = Branch(branch) if branch else None
        labels = []
        for item in items:
            product = Product(int(item['product']))
            lot = (Lot(int(item['lot']))
                if item.get('lot') and Lot else None)
            label = label_values(product, branch, lot)
            label['copies'] = item.get('copies') or 1
            labels.append(label)
        company_id = Transaction().context.get('company')
        symbol = Company(company_id).currency.symbol if company_id else None
        return proxy_label_job(labels, symbol)

    @classmethod
    def record(cls, branch, prices):
        """Record that the labels of prices ({product: price}) were printed
        for branch now"""
        now = dt.datetime.now()
        existing = {p.product.id: p for p in cls.search([
                    ('branch', '=', branch.id),
                    ('product', 'in', [p.id for p in prices]),
                    ])}
        to_save = []
        for product, price in prices.items():
            printed = existing.get(product.id) or cls(
                product=product, branch=branch)
            printed.price = price
            printed.printed_at = now
            to_save.append(printed)
        cls.save(to_save)


class LabelReport(Report):
    "Labels"
    __name__ = 'product.label'

    @classmethod
    def _execute(cls, records, header, data, action):
        pool = Pool()
        Product = pool.get('product.product')
        try:
            Lot = pool.get('stock.lot')
        except KeyError:
            Lot = None
        Branch = pool.get('retail.branch')
        items = data.get('items')
        if items is None:
            items = [{'product': r.id} for r in records]
        branch = Branch(data['branch']) if data.get('branch') else None
        products = {p.id: p for p in Product.browse(
                list({i['product'] for i in items}))}
        labels = []
        for item in items:
            product = products[item['product']]
            lot = Lot(item['lot']) if item.get('lot') and Lot else None
            label = label_values(product, branch, lot)
            labels.extend([label] * max(1, int(item.get('copies') or 1)))
        return 'pdf', render_labels(labels, data.get('layout') or 'a4')


def proxy_label_job(labels, currency_symbol=None):
    """The hardware proxy's label job (POST /printers/{name}/jobs, see
    iot_proxy/README.md "Labels") of labels (label_values dicts with
    'copies'): printed by the proxy on an ESC/POS printer, or as ZPL on a
    label printer"""
    items = []
    for label in labels:
        name = label['name']
        if label.get('variant'):
            name = f"{name} — {label['variant']}"
        lines = [t for t in [label.get('unit_price'),
                ' '.join(filter(None, [
                            gettext('retail_product.msg_label_lot',
                                lot=label['lot']) if label.get('lot')
                            else None,
                            gettext('retail_product.msg_label_expiry',
                                date=label['expiry'])
                            if label.get('expiry') else None]))] if t]
        item = {
            'name': name[:100],
            'lines': [l[:200] for l in lines][:5],
            'copies': max(1, min(100, int(label.get('copies') or 1))),
            }
        if label.get('price_value') is not None:
            item['price'] = str(Decimal(label['price_value']).quantize(
                    Decimal('0.01')))
        if label.get('barcode'):
            item['barcode'] = {'type': 'EAN13', 'data': label['barcode']}
        if currency_symbol:
            item['currency'] = currency_symbol
        items.append(item)
    return {'type': 'label', 'labels': items}


def label_values(product, branch=None, lot=None):
    "The texts of product's label at branch, for lot"
    pool = Pool()
    Company = pool.get('company.company')
    Lang = pool.get('ir.lang')
    lang = Lang.get()
    company_id = Transaction().context.get('company')
    currency = Company(company_id).currency if company_id else None
    price = label_price(product, branch)
    uom = product.default_uom

    def money(amount):
        if amount is None:
            return ''
        if currency:
            return lang.currency(amount, currency)
        return lang.format('%.2f', amount)
    barcode = next((i.code for i in product.identifiers
            if i.type == 'ean' and len(i.code or '') == 13
            and i.code.isdigit()), None)
    expiry = None
    if lot is not None:
        date = (getattr(lot, 'shelf_life_expiration_date', None)
            or getattr(lot, 'expiration_date', None))
        expiry = lang.strftime(date) if date else None
    return {
        'name': product.template.name,
        'variant': product.variant_values_text(),
        'price': money(price),
        'unit_price': (gettext('retail_product.msg_label_unit_price',
                price=money(price), unit=uom.symbol or uom.name)
            if price is not None else ''),
        'barcode': barcode,
        'lot': lot.number if lot is not None else None,
        'expiry': expiry,
        'price_value': price,
        }


class LabelPrintStart(ModelView):
    "Print Labels"
    __name__ = 'product.label.print.start'
    layout = fields.Selection(LAYOUT_SELECTION, "Layout", required=True,
        sort=False)
    branch = fields.Many2One('retail.branch', "Branch",
        help="Its price list gives the prices; the prices printed are "
        "recorded for it (Re-label Changed Prices).")
    copies = fields.Integer("Copies", required=True,
        domain=[('copies', '>=', 1), ('copies', '<=', 1000)],
        help="Labels per product (per lot from a shipment).")
    count = fields.Integer("Products", readonly=True)

    @classmethod
    def default_layout(cls):
        return 'a4'

    @classmethod
    def default_copies(cls):
        return 1

    @classmethod
    def default_branch(cls):
        from .product import visible_branches
        branches = visible_branches()
        if len(branches) == 1:
            return branches[0].id


class _LabelWizard(Wizard):
    print_ = StateReport('product.label')

    def _items(self):
        raise NotImplementedError

    def do_print_(self, action):
        pool = Pool()
        Product = pool.get('product.product')
        LabelPrinted = pool.get('product.label.printed')
        items = self._items()
        if not items:
            raise LabelError(gettext('retail_product.msg_label_nothing'))
        branch = self.start.branch
        if branch:
            prices = {}
            for product in Product.browse(list({i['product'] for i in items})):
                prices[product] = label_price(product, branch)
            LabelPrinted.record(branch, prices)
        return action, {
            'items': items,
            'layout': self.start.layout,
            'branch': branch.id if branch else None,
            'model': 'product.product',
            'ids': sorted({i['product'] for i in items}),
            }


class LabelPrint(_LabelWizard):
    """Print labels of the selected products (templates: their variants), or
    of the products and lots of the selected shipments' moves"""
    __name__ = 'product.label.print'
    start = StateView('product.label.print.start',
        'retail_product.label_print_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])

    def default_start(self, fields):
        return {'count': len({i['product'] for i in self._items(1)})}

    def _moves(self):
        records = self.records
        moves = []
        for shipment in records:
            for name in ['incoming_moves', 'moves', 'outgoing_moves']:
                if hasattr(shipment, name):
                    moves = list(getattr(shipment, name))
                    break
            yield from moves

    def _items(self, copies=None):
        copies = copies or self.start.copies
        model = self.model.__name__
        if model == 'product.product':
            return [{'product': r.id, 'copies': copies}
                for r in self.records]
        if model == 'product.template':
            return [{'product': p.id, 'copies': copies}
                for t in self.records for p in t.products]
        items = []
        for move in self._moves():
            lot = getattr(move, 'lot', None)
            items.append({'product': move.product.id,
                    'lot': lot.id if lot else None, 'copies': copies})
        return items


class LabelRelabelStart(ModelView):
    "Re-label Changed Prices"
    __name__ = 'product.label.relabel.start'
    branch = fields.Many2One('retail.branch', "Branch", required=True)
    layout = fields.Selection(LAYOUT_SELECTION, "Layout", required=True,
        sort=False)
    copies = fields.Integer("Copies", required=True,
        domain=[('copies', '>=', 1), ('copies', '<=', 1000)])
    products = fields.Many2Many('product.product', None, None,
        "Changed Prices", readonly=True,
        help="The products whose price differs from the one on their "
        "last label printed for the branch.")

    @classmethod
    def default_layout(cls):
        return 'a4'

    @classmethod
    def default_copies(cls):
        return 1

    @classmethod
    def default_branch(cls):
        return LabelPrintStart.default_branch()

    @fields.depends('branch')
    def on_change_with_products(self):
        if not self.branch:
            return []
        return [p.id for p in changed_since_print(self.branch)]


def changed_since_print(branch):
    """The active products that have a label printed for branch and whose
    price now differs from the printed one"""
    pool = Pool()
    LabelPrinted = pool.get('product.label.printed')
    changed = []
    for printed in LabelPrinted.search([('branch', '=', branch.id)],
            order=[('product', 'ASC')]):
        product = printed.product
        if not product.active:
            continue
        if label_price(product, branch) != printed.price:
            changed.append(product)
    return changed


class LabelRelabel(_LabelWizard):
    "Print the labels of the prices changed since the branch's last print"
    __name__ = 'product.label.relabel'
    start = StateView('product.label.relabel.start',
        'retail_product.label_relabel_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])

    def _items(self):
        return [{'product': p.id, 'copies': self.start.copies}
            for p in changed_since_print(self.start.branch)]
