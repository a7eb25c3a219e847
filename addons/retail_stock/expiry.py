# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import csv
import datetime as dt
import io

from sql import Null
from sql.conditionals import Case, Coalesce

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.product import price_digits
from trytond.modules.retail.stock import sell_by
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateView, Wizard

from .exceptions import MarkdownValidationError
from .quantity import warehouse_quantities


class Lot(metaclass=PoolMeta):
    __name__ = 'stock.lot'

    near_expiry_date = fields.Date(
        "Near Expiry Date", readonly=True,
        help="From this date the lot is near expiry: its sell-by date less "
        "its product's near expiry lead time.")
    markdowns = fields.One2Many(
        'retail.stock.lot.markdown', 'lot', "Markdowns")

    @classmethod
    def create(cls, vlist):
        lots = super().create(vlist)
        cls.update_near_expiry_date(lots)
        # Fresh instances: the ones above read the date before it was set
        return cls.browse([l.id for l in lots])

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        lots = []
        for records, values in zip(actions, actions):
            if values.keys() - {'near_expiry_date'}:
                lots.extend(records)
        if lots:
            cls.update_near_expiry_date(lots)

    @classmethod
    def update_near_expiry_date(cls, lots=None):
        """Store the near expiry date of the lots (all lots with a sell-by
        date when None) from their sell-by date and product's lead time"""
        if lots is None:
            with without_check_access():
                lots = cls.search(['OR',
                        ('shelf_life_expiration_date', '!=', None),
                        ('expiration_date', '!=', None),
                        ], order=[])
        by_date = {}
        for lot in lots:
            date = sell_by(lot)
            if date:
                days = lot.product.template.get_near_expiry_days()
                date -= dt.timedelta(days=days)
            if date != lot.near_expiry_date:
                by_date.setdefault(date, []).append(lot)
        args = []
        for date, records in by_date.items():
            args.extend([records, {'near_expiry_date': date}])
        if args:
            with without_check_access():
                cls.write(*args)

    def markdown_price(self, branch, date):
        "The markdown unit price of the lot in branch on date, else None"
        Markdown = Pool().get('retail.stock.lot.markdown')
        return Markdown.price(self, branch, date)


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        templates = []
        for records, values in zip(actions, actions):
            if {'near_expiry_days', 'categories'} & values.keys():
                templates.extend(records)
        if templates:
            Lot = Pool().get('stock.lot')
            with without_check_access():
                Lot.update_near_expiry_date(Lot.search([
                            ('product.template', 'in',
                                [t.id for t in templates]),
                            ]))


class Category(metaclass=PoolMeta):
    __name__ = 'product.category'

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        for records, values in zip(actions, actions):
            if {'near_expiry_days', 'parent'} & values.keys():
                Pool().get('stock.lot').update_near_expiry_date()
                break


class BranchStockMixin:
    "A row of a branch's stock list, scoped to the user's branches"
    __slots__ = ()
    branch = fields.Many2One('retail.branch', "Branch")
    warehouse = fields.Many2One('stock.location', "Warehouse")
    product = fields.Many2One('product.product', "Product")
    quantity = fields.Float("Quantity", digits='unit')
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'get_unit')

    def get_unit(self, name):
        return self.product.default_uom.id if self.product else None

    @classmethod
    def _today(cls):
        Date = Pool().get('ir.date')
        return Transaction().context.get('date') or Date.today()


class LotExpiry(BranchStockMixin, ModelSQL, ModelView):
    """The lots near or past their sell-by date that a branch holds, with
    their on-hand quantity in the branch's warehouse"""
    __name__ = 'retail.stock.lot.expiry'

    lot = fields.Many2One('stock.lot', "Lot")
    sell_by = fields.Date("Sell By")
    near_expiry_date = fields.Date("Near Expiry Date")
    state = fields.Selection([
            ('near', "Near Expiry"),
            ('expired', "Expired"),
            ], "State")
    markdown_price = fields.Function(fields.Numeric(
            "Markdown Price", digits=price_digits),
        'get_markdown_price')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('sell_by', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Lot = pool.get('stock.lot')
        Branch = pool.get('retail.branch')
        lot = Lot.__table__()
        branch = Branch.__table__()
        quantities = warehouse_quantities()
        today = cls._today()
        sell_by_ = Coalesce(lot.shelf_life_expiration_date,
            lot.expiration_date)
        return (quantities
            .join(lot, condition=quantities.lot == lot.id)
            .join(branch, condition=branch.warehouse == quantities.warehouse)
            .select(
                # one row per lot and branch
                (lot.id * 10000 + branch.id).as_('id'),
                branch.id.as_('branch'),
                quantities.warehouse.as_('warehouse'),
                lot.product.as_('product'),
                lot.id.as_('lot'),
                sell_by_.as_('sell_by'),
                lot.near_expiry_date.as_('near_expiry_date'),
                Case((sell_by_ < today, 'expired'),
                    else_='near').as_('state'),
                quantities.quantity.as_('quantity'),
                where=(quantities.quantity > 0)
                & (lot.near_expiry_date != Null)
                & (lot.near_expiry_date <= today)))

    @classmethod
    def get_markdown_price(cls, rows, name):
        Markdown = Pool().get('retail.stock.lot.markdown')
        today = cls._today()
        return {r.id: Markdown.price(r.lot, r.branch, today) for r in rows}

    @classmethod
    def notify_managers(cls):
        """Notify each branch's managers of the lots near or past expiry
        that the branch holds (one notification per branch and run)"""
        pool = Pool()
        Branch = pool.get('retail.branch')
        Lot = pool.get('stock.lot')
        with without_check_access():
            Lot.update_near_expiry_date()
            rows = cls.search([])
            counts = {}
            for row in rows:
                near, expired = counts.setdefault(row.branch, [0, 0])
                counts[row.branch][row.state == 'expired'] += 1
            for branch in Branch.search([]):
                near, expired = counts.get(branch, (0, 0))
                if not (near or expired):
                    continue
                notify(branch,
                    gettext('retail_stock.msg_notify_expiry_label',
                        branch=branch.rec_name),
                    gettext('retail_stock.msg_notify_expiry_description',
                        near=near, expired=expired),
                    cls.__name__,
                    [r.id for r in rows if r.branch == branch],
                    'retail_stock.act_lot_expiry')


def notify(branch, label, description, model, record_ids, action_xml_id):
    """A notification to each manager of branch that opens the records of
    model (Tryton's res.notification, shown in the web client's bell)"""
    pool = Pool()
    Notification = pool.get('res.notification')
    ModelData = pool.get('ir.model.data')
    action = ModelData.get_id(action_xml_id)
    Notification.create([{
                'user': user.id,
                'label': label,
                'description': description,
                'icon': 'tryton-notification',
                'model': model,
                'records': ','.join(map(str, record_ids))
                if record_ids else None,
                'action': action,
                'unread': True,
                } for user in branch.managers])


class LotMarkdown(ModelSQL, ModelView):
    """A reduced unit price at which a branch sells a lot, for a while: the
    server's posting of a till's sale takes it as the lot's price"""
    __name__ = 'retail.stock.lot.markdown'

    company = fields.Many2One('company.company', "Company", required=True)
    branch = fields.Many2One('retail.branch', "Branch", required=True,
        domain=[('company', '=', Eval('company', -1))])
    lot = fields.Many2One('stock.lot', "Lot", required=True,
        ondelete='CASCADE')
    product = fields.Function(
        fields.Many2One('product.product', "Product",
            context={'company': Eval('company', -1)},
            depends={'company'}),
        'on_change_with_product')
    unit_price = fields.Numeric(
        "Unit Price", digits=price_digits, required=True,
        help="The price of one unit of the lot, in the terms of the "
        "branch's tills (tax included when they sell tax included).")
    start_date = fields.Date("Start Date", required=True,
        domain=[If(Eval('end_date'),
                ('start_date', '<=', Eval('end_date')),
                ())])
    end_date = fields.Date("End Date",
        help="The last day of the markdown; empty until the lot is gone.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @staticmethod
    def default_start_date():
        return Pool().get('ir.date').today()

    @fields.depends('lot', '_parent_lot.product')
    def on_change_with_product(self, name=None):
        return self.lot.product.id if self.lot else None

    def get_rec_name(self, name):
        return f"{self.lot.rec_name} @ {self.branch.rec_name}"

    @classmethod
    def validate_fields(cls, markdowns, field_names):
        super().validate_fields(markdowns, field_names)
        for markdown in markdowns:
            if markdown.unit_price is not None and markdown.unit_price < 0:
                raise MarkdownValidationError(gettext(
                        'retail_stock.msg_markdown_negative_price',
                        markdown=markdown.rec_name))
            if (markdown.end_date and markdown.start_date
                    and markdown.end_date < markdown.start_date):
                raise MarkdownValidationError(gettext(
                        'retail_stock.msg_markdown_dates',
                        markdown=markdown.rec_name))

    @classmethod
    def price(cls, lot, branch, date):
        """The unit price of the latest markdown of lot in branch valid on
        date, else None"""
        if lot is None or branch is None:
            return None
        with without_check_access():
            markdowns = cls.search([
                    ('lot', '=', int(lot)),
                    ('branch', '=', int(branch)),
                    ('start_date', '<=', date),
                    ['OR',
                        ('end_date', '=', None),
                        ('end_date', '>=', date),
                        ],
                    ], order=[('start_date', 'DESC'), ('id', 'DESC')],
                limit=1)
        return markdowns[0].unit_price if markdowns else None


class LotRecallStart(ModelView):
    "Which lot to trace for a recall"
    __name__ = 'retail.stock.lot.recall.start'
    lot = fields.Many2One('stock.lot', "Lot", required=True)


class LotRecallLine(ModelView):
    "A movement of a recalled lot: a receipt, a sale, a shipment, a transfer"
    __name__ = 'retail.stock.lot.recall.line'
    date = fields.Date("Date", readonly=True)
    kind = fields.Selection([
            ('receipt', "Receipt"),
            ('sale', "Sale"),
            ('return', "Return"),
            ('shipment', "Customer Shipment"),
            ('transfer', "Transfer"),
            ('inventory', "Inventory"),
            ('other', "Other"),
            ], "Kind", readonly=True)
    document = fields.Char("Document", readonly=True)
    party = fields.Many2One('party.party', "Party", readonly=True)
    from_location = fields.Many2One(
        'stock.location', "From Location", readonly=True)
    to_location = fields.Many2One(
        'stock.location', "To Location", readonly=True)
    quantity = fields.Float("Quantity", readonly=True)
    unit = fields.Many2One('product.uom', "Unit", readonly=True)


class LotRecallResult(ModelView):
    "Where a lot went and came from, with the file to send for a recall"
    __name__ = 'retail.stock.lot.recall.result'
    lot = fields.Many2One('stock.lot', "Lot", readonly=True)
    lines = fields.One2Many(
        'retail.stock.lot.recall.line', None, "Movements", readonly=True)
    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)


class LotRecall(Wizard):
    """Trace a lot for a recall: every receipt, sale, shipment and transfer
    of it (Tryton's lot trace), the customers and suppliers, as CSV"""
    __name__ = 'retail.stock.lot.recall'
    start = StateView('retail.stock.lot.recall.start',
        'retail_stock.lot_recall_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Trace", 'result', 'tryton-ok', default=True),
            ])
    result = StateView('retail.stock.lot.recall.result',
        'retail_stock.lot_recall_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        context = Transaction().context
        if context.get('active_model') == 'stock.lot' and context.get(
                'active_id'):
            return {'lot': context['active_id']}
        return {}

    def default_result(self, fields):
        lot = self.start.lot
        lines = recall_lines(lot)
        return {
            'lot': lot.id,
            'lines': lines,
            'file': recall_csv(lot, lines).encode('utf-8'),
            'filename': f'recall-{lot.number}.csv',
            }


def move_party(move):
    "The kind of a move of a lot and the party it went to or came from"
    pool = Pool()
    Inventory = pool.get('stock.inventory')
    origin = move.origin
    shipment = move.shipment
    name = origin.__name__ if origin else None
    if name == 'sale.point.sale.line':
        sale = origin.sale
        kind = 'return' if move.to_location.type == 'storage' else 'sale'
        return kind, sale.rec_name, getattr(sale, 'party', None)
    if name == 'sale.line':
        kind = 'return' if move.to_location.type == 'storage' else 'shipment'
        return kind, origin.sale.rec_name, origin.sale.party
    if name == 'purchase.line':
        return 'receipt', origin.purchase.rec_name, origin.purchase.party
    if shipment:
        party = getattr(shipment, 'customer', None) or getattr(
            shipment, 'supplier', None)
        kinds = {
            'stock.shipment.in': 'receipt',
            'stock.shipment.out': 'shipment',
            'stock.shipment.out.return': 'return',
            'stock.shipment.in.return': 'other',
            'stock.shipment.internal': 'transfer',
            }
        return (kinds.get(shipment.__name__, 'other'), shipment.rec_name,
            party)
    if name == 'stock.inventory.line' or (origin and isinstance(
                origin, Inventory)):
        return 'inventory', origin.rec_name, None
    if move.from_location.type == 'supplier':
        return 'receipt', origin.rec_name if origin else '', None
    if move.to_location.type == 'customer':
        return 'sale', origin.rec_name if origin else '', None
    return 'other', origin.rec_name if origin else '', None


def recall_lines(lot):
    """The done moves of lot (stock.lot.trace) as recall lines, oldest
    first"""
    pool = Pool()
    Trace = pool.get('stock.lot.trace')
    Move = pool.get('stock.move')
    traces = Trace.search([('lot', '=', lot.id)],
        order=[('date', 'ASC'), ('id', 'ASC')])
    moves = Move.browse([t.id for t in traces])
    lines = []
    for move in moves:
        kind, document, party = move_party(move)
        lines.append({
                'date': move.effective_date,
                'kind': kind,
                'document': document,
                'party': party.id if party else None,
                'from_location': move.from_location.id,
                'to_location': move.to_location.id,
                'quantity': move.quantity,
                'unit': move.unit.id,
                })
    return lines


def recall_csv(lot, lines):
    """The recall file: one row per movement of the lot (date, kind,
    document, party, its code, from, to, quantity, unit)"""
    pool = Pool()
    Party = pool.get('party.party')
    Location = pool.get('stock.location')
    Uom = pool.get('product.uom')
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(['lot', 'product', 'sell_by', 'date', 'kind', 'document',
            'party', 'party_code', 'from_location', 'to_location',
            'quantity', 'unit'])
    date = sell_by(lot)
    for line in lines:
        party = Party(line['party']) if line['party'] else None
        writer.writerow([lot.number, lot.product.rec_name,
                date.isoformat() if date else '',
                line['date'].isoformat() if line['date'] else '',
                line['kind'], line['document'] or '',
                party.rec_name if party else '',
                party.code if party else '',
                Location(line['from_location']).rec_name,
                Location(line['to_location']).rec_name,
                line['quantity'], Uom(line['unit']).symbol])
    return out.getvalue()


def recall_summary(lines):
    "Quantities per kind of the recall lines"
    summary = {}
    for line in lines:
        summary[line['kind']] = summary.get(line['kind'], 0) + line[
            'quantity']
    return summary

