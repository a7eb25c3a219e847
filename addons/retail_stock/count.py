# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Stock counts of a branch on counting phones.

A count is a Tryton inventory (stock.inventory) of a storage location of the
branch, taken at a time (count_time).  Counting phones push entries (one per
scan or typed quantity, from several phones at once); the entries of a
product and lot add up to the inventory line's counted quantity.  The
expected quantity of a line is the ledger at the count's time, so the
adjustments that the validation posts are differences at that time: a sale
made after the count, synced before or after the validation, still takes its
quantity from the stock; a sale made before the count and posted after its
validation gets a correction move back from the count's lost-and-found, so it
is not taken twice (correct_late_sales, run after each posting of sales)."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from .exceptions import CountError, CountTillsWarning


class Device(metaclass=PoolMeta):
    __name__ = 'retail.sync.device'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.kind.selection.append(('counter', "Counting Phone"))

    def enrollment_answer(self):
        answer = super().enrollment_answer()
        if self.kind == 'counter':
            answer['endpoints'] = {
                'bootstrap': 'count/bootstrap',
                'push': 'count/push',
                'receive': 'count/receive',
                }
        return answer


class Inventory(metaclass=PoolMeta):
    __name__ = 'stock.inventory'

    retail_branch = fields.Many2One(
        'retail.branch', "Branch", ondelete='RESTRICT',
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The branch whose counting phones count this inventory.")
    counting = fields.Boolean(
        "Open to Counting Phones",
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': ~Eval('retail_branch'),
            },
        help="The counting phones of the branch receive the count and "
        "push their lines to it.")
    blind = fields.Boolean(
        "Blind Count",
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': ~Eval('retail_branch'),
            },
        help="The counting phones do not show the expected quantities.")
    count_time = fields.Timestamp(
        "Counted At",
        states={
            'readonly': Eval('state') != 'draft',
            'required': Bool(Eval('retail_branch')),
            },
        help="When the shelves were counted (UTC): the expected quantities "
        "are the ledger at that time, and the adjustments are posted at it.")
    count_entries = fields.One2Many(
        'retail.stock.count.entry', 'inventory', "Count Entries",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'apply_count_entries': {
                    'invisible': ((Eval('state') != 'draft')
                        | ~Eval('retail_branch')),
                    'depends': ['state', 'retail_branch'],
                    },
                })

    @classmethod
    def now(cls):
        return dt.datetime.now().replace(microsecond=0)

    @classmethod
    def default_blind(cls):
        return True

    @classmethod
    def default_counting(cls):
        return True

    @fields.depends('location', 'retail_branch', 'count_time', 'date')
    def on_change_location(self):
        Branch = Pool().get('retail.branch')
        if self.location and not self.retail_branch:
            warehouse = self.location.warehouse
            if warehouse:
                branches = Branch.search(
                    [('warehouse', '=', warehouse.id)], limit=1)
                if branches:
                    self.retail_branch, = branches
        if self.retail_branch and not self.count_time:
            self.count_time = self.now()
            self.date = self.count_date()

    @fields.depends('count_time', 'date', 'retail_branch')
    def on_change_retail_branch(self):
        if self.retail_branch and not self.count_time:
            self.count_time = self.now()
        self.on_change_count_time()

    @fields.depends('count_time', 'date', 'retail_branch')
    def on_change_count_time(self):
        if self.count_time and self.retail_branch:
            self.date = self.count_date()

    def count_date(self):
        "The business date of the count time in the branch's time zone"
        import zoneinfo
        moment = self.count_time.replace(tzinfo=dt.timezone.utc)
        try:
            zone = zoneinfo.ZoneInfo(self.retail_branch.timezone)
        except Exception:
            zone = dt.timezone.utc
        return moment.astimezone(zone).date()

    @classmethod
    def validate_fields(cls, inventories, field_names):
        super().validate_fields(inventories, field_names)
        for inventory in inventories:
            if not inventory.retail_branch:
                continue
            warehouse = inventory.location.warehouse
            if not warehouse or warehouse != inventory.retail_branch.warehouse:
                raise CountError(gettext(
                        'retail_stock.msg_count_location_branch',
                        inventory=inventory.rec_name,
                        branch=inventory.retail_branch.rec_name))
            if inventory.count_time and inventory.date != (
                    inventory.count_date()):
                raise CountError(gettext(
                        'retail_stock.msg_count_date',
                        inventory=inventory.rec_name))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('retail_branch') and not (
                values.get('count_time')):
            values['count_time'] = cls.now()
        if values.get('retail_branch') and values.get('count_time') and (
                'date' not in values or mode == 'create'):
            Branch = Pool().get('retail.branch')
            record = cls(
                retail_branch=Branch(values['retail_branch']),
                count_time=values['count_time'])
            values['date'] = record.count_date()
        return values

    @classmethod
    def complete_lines(cls, inventories, fill=True):
        super().complete_lines(inventories, fill=fill)
        cls._expected_at_count_time(
            [i for i in inventories
                if i.state == 'draft' and i.retail_branch and i.count_time])

    @classmethod
    def _expected_at_count_time(cls, inventories):
        """Put back in the expected quantities the moves of the count's day
        that happened after the count (Tryton's expected quantity is the
        ledger at the end of the inventory's date)"""
        Line = Pool().get('stock.inventory.line')
        to_save = []
        for inventory in inventories:
            after = cls._moves_after_count(inventory)
            if not after:
                continue
            for line in inventory.lines:
                delta = after.get(line.unique_key)
                if delta:
                    line.expected_quantity = line.unit.round(
                        (line.expected_quantity or 0) - delta)
                    to_save.append(line)
        if to_save:
            Line.save(to_save)

    @classmethod
    def move_time(cls, move):
        """When a done move happened: a till's sale at its client time,
        another move when it was last written (done)"""
        origin = move.origin
        sale = getattr(origin, 'sale', None)
        client_time = getattr(sale, 'client_time', None)
        if client_time:
            return client_time
        return move.write_date or move.create_date

    @classmethod
    def _moves_after_count(cls, inventory):
        """{line key: net quantity into the location} of the done moves of
        the count's date at its location that happened after count_time"""
        pool = Pool()
        Move = pool.get('stock.move')
        location = inventory.location
        moves = Move.search([
                ('effective_date', '=', inventory.date),
                ('state', '=', 'done'),
                ['OR',
                    ('from_location', '=', location.id),
                    ('to_location', '=', location.id),
                    ],
                ('product', 'in', list({l.product.id
                            for l in inventory.lines})),
                # Not the count's own adjustments
                ('id', 'not in', [m.id for l in inventory.lines
                        for m in (l.moves or [])]),
                ])
        result = defaultdict(float)
        grouping = cls.grouping()
        for move in moves:
            if cls.move_time(move) <= inventory.count_time:
                continue
            key = tuple(
                getattr(getattr(move, f), 'id', getattr(move, f))
                for f in grouping)
            quantity = move.internal_quantity
            if move.from_location == location:
                quantity = -quantity
            result[key] += quantity
        return result

    @classmethod
    @ModelView.button
    def apply_count_entries(cls, inventories):
        """Set each line's counted quantity to the sum of the entries of
        its product (and lot), creating the lines that are missing"""
        pool = Pool()
        Line = pool.get('stock.inventory.line')
        Product = pool.get('product.product')
        grouping = cls.grouping()
        to_save = []
        for inventory in inventories:
            if inventory.state != 'draft':
                continue
            totals = defaultdict(float)
            for entry in inventory.count_entries:
                key = tuple(
                    getattr(getattr(entry, f), 'id', None)
                    if f != 'product' else entry.product.id
                    for f in grouping)
                totals[key] += entry.quantity
            lines = {l.unique_key: l for l in inventory.lines}
            for key, quantity in totals.items():
                line = lines.get(key)
                if line is None:
                    line = Line(inventory=inventory, expected_quantity=0,
                        **dict(zip(grouping, key)))
                    line.on_change_product()
                unit = Product(key[0]).default_uom
                line.quantity = unit.round(quantity)
                to_save.append(line)
        if to_save:
            Line.save(to_save)
        cls.complete_lines(inventories, fill=False)

    @classmethod
    def correct_late_sales(cls, sale_ids):
        """Give back to the stock what a validated count already took for
        the POS sales of sale_ids that were made before the count's time but
        posted after its validation: the count found them gone, so its
        adjustment took them and their own moves take them again.  The
        correction is a done move between the count's lost-and-found and its
        location (the reverse of the sale's or return's move), on the count's
        date, its origin the count's line of the product (and lot)."""
        pool = Pool()
        Move = pool.get('stock.move')
        Date = pool.get('ir.date')
        Period = pool.get('stock.period')
        if not sale_ids:
            return []
        moves = Move.search([
                ('origin.sale', 'in', list(sale_ids),
                    'sale.point.sale.line'),
                ('state', '=', 'done'),
                ])
        by_location = defaultdict(list)
        for move in moves:
            client_time = getattr(move.origin.sale, 'client_time', None)
            if not client_time:
                continue
            for location in [move.from_location, move.to_location]:
                if location.type == 'storage':
                    by_location[location].append((move, client_time))
        grouping = cls.grouping()
        to_do = []
        for location, items in by_location.items():
            counts = cls.search([
                    ('location', '=', location.id),
                    ('state', '=', 'done'),
                    ('retail_branch', '!=', None),
                    ('count_time', '>=', min(t for _, t in items)),
                    ], order=[('count_time', 'ASC'), ('id', 'ASC')])
            if not counts:
                continue
            for move, client_time in items:
                key = tuple(getattr(getattr(move, f), 'id', getattr(move, f))
                    for f in grouping)
                for count in counts:
                    if count.count_time < client_time:
                        continue
                    lines = [l for l in count.lines if l.unique_key == key]
                    if not lines:
                        continue
                    line, = lines
                    date = count.date
                    if Period.search([
                                ('company', '=', count.company.id),
                                ('date', '>=', date),
                                ('state', '=', 'closed'),
                                ], limit=1):
                        date = Date.today()
                    lost_found = location.lost_found_used
                    if not lost_found:
                        break
                    out = move.from_location == location
                    correction = Move(
                        product=move.product, lot=getattr(move, 'lot', None),
                        unit=move.unit, quantity=move.quantity,
                        from_location=lost_found if out else location,
                        to_location=location if out else lost_found,
                        effective_date=date, planned_date=date,
                        company=count.company, origin=line)
                    to_do.append(correction)
                    # Only the first count after the sale took it
                    break
        if to_do:
            Move.save(to_do)
            with Transaction().set_context(_skip_warnings=True):
                Move.do(to_do)
        return to_do

    @classmethod
    def confirm(cls, inventories):
        pool = Pool()
        Warning = pool.get('res.user.warning')
        Terminal = pool.get('sale.point')
        counts = [i for i in inventories if i.retail_branch]
        if counts:
            cls.apply_count_entries(counts)
        for inventory in counts:
            # A till that has not synced since the count may hold sales made
            # before it: they would be taken from the stock again
            late = Terminal.search([
                    ('branch', '=', inventory.retail_branch.id),
                    ('device_state', '=', 'enrolled'),
                    ['OR',
                        ('device_last_seen', '=', None),
                        ('device_last_seen', '<', inventory.count_time),
                        ],
                    ])
            if late:
                key = Warning.format('count_tills_late', [inventory])
                if Warning.check(key):
                    raise CountTillsWarning(key, gettext(
                            'retail_stock.msg_count_tills_late',
                            inventory=inventory.rec_name,
                            terminals=', '.join(t.rec_name for t in late)))
        super().confirm(inventories)


class InventoryLine(metaclass=PoolMeta):
    __name__ = 'stock.inventory.line'

    counted_entries = fields.Function(fields.Integer(
            "Entries", help="How many entries of the phones add up to the "
            "counted quantity."), 'get_counted_entries')
    difference = fields.Function(fields.Float(
            "Difference", digits='unit',
            help="Counted minus expected."), 'get_difference')
    cost_price = fields.Function(fields.Numeric(
            "Cost Price", digits=(16, 4)), 'get_cost_price')
    difference_value = fields.Function(fields.Numeric(
            "Difference Value", digits=(16, 2),
            help="The difference at the product's cost price."),
        'get_difference_value')
    branch = fields.Function(fields.Many2One(
            'retail.branch', "Branch"), 'get_branch',
        searcher='search_branch')

    def get_counted_entries(self, name):
        return len([e for e in self.inventory.count_entries
                if e.product == self.product
                and getattr(e, 'lot', None) == getattr(self, 'lot', None)])

    def get_difference(self, name):
        if self.quantity is None:
            return None
        return self.unit.round(
            self.quantity - (self.expected_quantity or 0))

    def get_cost_price(self, name):
        with Transaction().set_context(
                company=self.inventory.company.id):
            return self.product.cost_price

    def get_difference_value(self, name):
        difference = self.get_difference(name)
        if difference is None:
            return None
        cost = self.get_cost_price(name) or Decimal(0)
        return (Decimal(str(difference)) * cost).quantize(Decimal('0.01'))

    def get_branch(self, name):
        branch = self.inventory.retail_branch
        return branch.id if branch else None

    @classmethod
    def search_branch(cls, name, clause):
        return [('inventory.retail_branch',) + tuple(clause[1:])]


class CountEntry(ModelSQL, ModelView):
    """Count Entry: a quantity of a product (and lot) that a counting phone
    counted for a count; the entries of a line add up"""
    __name__ = 'retail.stock.count.entry'

    inventory = fields.Many2One(
        'stock.inventory', "Count", required=True, ondelete='CASCADE',
        readonly=True)
    uuid = fields.Char("UUID", required=True, readonly=True, strip=False)
    device = fields.Many2One(
        'retail.sync.device', "Device", readonly=True, ondelete='RESTRICT')
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='RESTRICT')
    lot = fields.Many2One(
        'stock.lot', "Lot", readonly=True, ondelete='RESTRICT',
        domain=[If(Eval('lot'), ('product', '=', Eval('product', -1)), ())])
    quantity = fields.Float("Quantity", required=True, readonly=True)
    scanned = fields.Boolean("Scanned", readonly=True,
        help="Counted by scanning (otherwise typed).")
    client_time = fields.Timestamp("Counted At", readonly=True)
    branch = fields.Function(fields.Many2One(
            'retail.branch', "Branch"), 'get_branch',
        searcher='search_branch')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('uuid_unique', Unique(t, t.uuid),
                'retail_stock.msg_count_entry_uuid_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.inventory, Index.Range()),
                (t.product, Index.Range())))
        cls._order.insert(0, ('id', 'DESC'))

    def get_branch(self, name):
        branch = self.inventory.retail_branch
        return branch.id if branch else None

    @classmethod
    def search_branch(cls, name, clause):
        return [('inventory.retail_branch',) + tuple(clause[1:])]

    @classmethod
    def check_modification(cls, mode, entries, values=None, external=False):
        super().check_modification(
            mode, entries, values=values, external=external)
        if mode in {'write', 'delete'}:
            for entry in entries:
                if entry.inventory.state != 'draft':
                    raise AccessError(gettext(
                            'retail_stock.msg_count_entry_done',
                            inventory=entry.inventory.rec_name))
