# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from collections import defaultdict
from decimal import Decimal

from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.product import price_digits
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If

from .tax import TaxLookup


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    receipt_number = fields.Integer(
        "Receipt Number", readonly=True,
        help="The number the terminal gave the receipt.")
    client_time = fields.Timestamp(
        "Client Time", readonly=True,
        help="When the terminal made the sale.")
    original_receipt = fields.Char(
        "Original Receipt", readonly=True,
        help="The receipt a return refers to.")
    customer = fields.Many2One(
        'party.party', "Customer", ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        states={
            'readonly': Eval('state') != 'open',
            },
        depends={'company'},
        help="The customer the terminal attached to the sale.")
    flags = fields.One2Many(
        'retail.sync.sale.flag', 'sale', "Flags", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.point, Index.Equality()),
                    (t.client_time, Index.Range())),
                Index(t, (t.customer, Index.Range())),
                })

    @classmethod
    def retail_sales_inserted(cls, sale_ids):
        """sale_ids were recorded in bulk (recording.py: their rows
        inserted in the done state with their lines, lots and payments,
        without create): extend it with super() to do for them what an
        extension of create does"""

    @classmethod
    def refundable_methods(cls, company, branch, original_receipt):
        """Return {method id: amount} that a return of original_receipt may
        refund to each non-cash method: what the original sale was paid with
        by that method, when the branch refunds to the original method"""
        Sale = Pool().get('sale.point.sale')
        if (not original_receipt or branch is None
                or getattr(branch, 'refund_to', 'cash') != 'original'):
            return {}
        sales = Sale.search([
                ('number', '=', original_receipt),
                ('company', '=', company.id if company else None),
                ('receipt_number', '!=', None),
                ], order=[('id', 'ASC')], limit=1)
        if not sales:
            return {}
        sale, = sales
        paid = defaultdict(Decimal)
        for payment in sale.payments:
            if payment.method.type != 'cash' and payment.amount > 0:
                paid[payment.method.id] += payment.amount
        return dict(paid)

    @classmethod
    def refunded_amounts(cls, company, original_receipt):
        "Return {method id: amount} already refunded against original_receipt"
        Sale = Pool().get('sale.point.sale')
        refunded = defaultdict(Decimal)
        if not original_receipt:
            return refunded
        for sale in Sale.search([
                    ('original_receipt', '=', original_receipt),
                    ('company', '=', company.id if company else None),
                    ]):
            for payment in sale.payments:
                if payment.amount < 0:
                    refunded[payment.method.id] -= payment.amount
        return refunded

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, sales):
        pool = Pool()
        Move = pool.get('stock.move')
        super().post(sales)
        # A line taken from several lots: sale_point made the move of its
        # first lot, the others are made here
        moves = []
        for sale in sales:
            for line in sale.lines:
                moves.extend(line.get_lot_moves()[1:])
        if moves:
            Move.save(moves)
            Move.do(moves)


    def retail_tax_lines(self):
        """The sale's taxes as it is posted, per tax: {tax: (base,
        amount)}; amount from sale_point's tax move lines (the computed
        taxes with the company's tax rounding, the sale's rounding
        difference spread over them), base the lines' taxed amounts"""
        result = defaultdict(lambda: [Decimal(0), Decimal(0)])
        # The bases rounded per line, as each line's base tax lines
        for tax_line in self._get_taxes().values():
            result[tax_line.tax][0] += tax_line.base
        for move_line in self.get_tax_move_lines():
            for tax_line in move_line.tax_lines:
                result[tax_line.tax][1] += tax_line.amount
        return {tax: tuple(values) for tax, values in result.items()}


class POSSaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    lot = fields.Many2One(
        'stock.lot', "Lot", readonly=True, ondelete='RESTRICT',
        domain=[('product', '=', Eval('product', -1))],
        help="The lot the line is taken from "
        "(the first one when it is taken from several).")
    lots = fields.One2Many(
        'sale.point.sale.line.lot', 'line', "Lots", readonly=True,
        help="The lots a line is taken from when it is more than one: "
        "one stock move each.")
    base_price = fields.Numeric(
        "Unit Price before Discount", digits=price_digits, readonly=True)
    discount = fields.Char("Discount", readonly=True)

    @property
    def taxes(self):
        # While a push posts, the taxes of a product are looked up once per
        # accounting category (tax.TaxLookup)
        lookup = TaxLookup.current()
        if lookup is None:
            return super().taxes
        parent = super()
        return lookup.customer_taxes(self.product, self.company,
            lambda: parent.taxes)

    @property
    def to_location(self):
        location = super().to_location
        if location is None and self.quantity < 0:
            # A terminal without return location takes returns back in its
            # storage
            return self.sale.point.storage_location
        return location

    def lot_quantities(self):
        "[(lot, quantity)] the line is taken from, quantities unsigned"
        if self.lots:
            return [(a.lot, abs(a.quantity)) for a in self.lots]
        return [(self.lot, abs(self.quantity))]

    def get_lot_moves(self):
        "The stock moves of the line: one per lot"
        move = super().get_stock_move()
        if not move:
            return []
        moves = []
        for lot, quantity in self.lot_quantities():
            lot_move = move if not moves else super().get_stock_move()
            lot_move.lot = lot
            lot_move.quantity = quantity
            moves.append(lot_move)
        return moves

    def get_stock_move(self):
        moves = self.get_lot_moves()
        return moves[0] if moves else None


class POSSaleLineLot(ModelSQL, ModelView):
    "POS Sale Line Lot: the quantity of a line taken from one lot"
    __name__ = 'sale.point.sale.line.lot'

    line = fields.Many2One(
        'sale.point.sale.line', "Line", required=True, ondelete='CASCADE')
    lot = fields.Many2One(
        'stock.lot', "Lot", required=True, ondelete='RESTRICT')
    quantity = fields.Float(
        "Quantity", required=True,
        help="In the line's unit, signed as the line.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('line')
        cls._order.insert(0, ('line', 'ASC'))


class POSPayment(metaclass=PoolMeta):
    __name__ = 'sale.point.payment'

    refund_methods = fields.Function(fields.Many2Many(
            'sale.point.payment.method', None, None, "Refund Methods"),
        'get_refund_methods')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # sale_point refunds in cash only; a return also refunds to the
        # non-cash methods its original sale was paid with when its branch
        # says so (retail.branch refund_to)
        cls.method.domain = [
            ('company', '=', Eval('company', -1)),
            If(Eval('amount', 0) < 0,
                ['OR',
                    ('type', '=', 'cash'),
                    ('id', 'in', Eval('refund_methods', [])),
                    ],
                ()),
            ]

    @classmethod
    def get_refund_methods(cls, payments, name):
        Sale = Pool().get('sale.point.sale')
        result = {}
        cache = {}
        for payment in payments:
            sale = payment.sale
            original = getattr(sale, 'original_receipt', None)
            if not original or payment.amount is None or payment.amount >= 0:
                result[payment.id] = []
                continue
            branch = sale.point.branch if sale.point else None
            key = (sale.company.id, branch.id if branch else None, original)
            if key not in cache:
                cache[key] = sorted(Sale.refundable_methods(
                        sale.company, branch, original))
            result[payment.id] = cache[key]
        return result


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['retail.sync.stock.count']
