# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import re

from sql import Literal
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import Unique, fields
from trytond.pool import PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from .exceptions import PaymentMethodTypeError, ReceiptPrefixError

RECEIPT_PREFIX = re.compile(r'^[A-Z0-9]{1,6}$')


class POS(metaclass=PoolMeta):
    "Terminal: a point of sale of a branch"
    __name__ = 'sale.point'

    branch = fields.Many2One(
        'retail.branch', "Branch", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="The shop the terminal stands in.\n"
        "Leave empty for a plain point of sale that no till syncs with.")
    receipt_prefix = fields.Char(
        "Receipt Prefix", size=6,
        states={
            'required': Bool(Eval('branch')),
            },
        help="1 to 6 capital letters or digits that start every receipt "
        "number of this terminal (e.g. BXL1).")

    # Filled by the sync service
    device_state = fields.Selection([
            ('unenrolled', "Not Enrolled"),
            ('enrolled', "Enrolled"),
            ('revoked', "Revoked"),
            ], "Device State", readonly=True)
    device_last_seen = fields.Timestamp("Last Seen", readonly=True)
    device_app_version = fields.Char("App Version", readonly=True)
    device_cursor = fields.Char("Sync Cursor", readonly=True)
    device_pending_operations = fields.Integer(
        "Pending Operations", readonly=True,
        help="Operations waiting on the device, as it last reported.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('receipt_prefix_unique', Unique(t, t.receipt_prefix),
                'retail.msg_pos_receipt_prefix_unique'),
            ]
        # A terminal's stock is its branch's; a point without a branch
        # keeps sale_point's domain
        cls.storage_location.domain = [
            cls.storage_location.domain or (),
            If(Bool(Eval('branch')),
                ('parent', 'child_of', Eval('branch_warehouse', -1)),
                ()),
            ]
        cls.storage_location.depends = (
            set(getattr(cls.storage_location, 'depends', set()))
            | {'branch', 'branch_warehouse'})

    branch_warehouse = fields.Function(
        fields.Many2One('stock.location', "Branch Warehouse"),
        'on_change_with_branch_warehouse')

    @classmethod
    def default_device_state(cls):
        return 'unenrolled'

    @fields.depends('branch', '_parent_branch.warehouse')
    def on_change_with_branch_warehouse(self, name=None):
        return self.branch.warehouse if self.branch else None

    @fields.depends(
        'branch', 'storage_location', '_parent_branch.warehouse')
    def on_change_branch(self):
        if self.branch and self.branch.warehouse:
            warehouse = self.branch.warehouse
            if not self.storage_location:
                self.storage_location = warehouse.storage_location

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('receipt_prefix'):
            values['receipt_prefix'] = values['receipt_prefix'].strip().upper()
        return values

    @classmethod
    def validate_fields(cls, points, field_names):
        super().validate_fields(points, field_names)
        if field_names is None or {'receipt_prefix', 'branch'} & set(
                field_names):
            for point in points:
                if not point.branch and not point.receipt_prefix:
                    continue
                if not RECEIPT_PREFIX.match(point.receipt_prefix or ''):
                    raise ReceiptPrefixError(gettext(
                            'retail.msg_pos_receipt_prefix_invalid',
                            prefix=point.receipt_prefix,
                            terminal=point.rec_name))


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    branch = fields.Function(
        fields.Many2One('retail.branch', "Branch"),
        'get_branch', searcher='search_branch')

    def get_branch(self, name):
        if self.point and self.point.branch:
            return self.point.branch.id

    @classmethod
    def search_branch(cls, name, clause):
        return [('point.branch' + clause[0][len(name):], *clause[1:])]


PAYMENT_METHOD_TYPES = [
    ('cash', "Cash"),
    ('card', "Card"),
    ('wallet', "Wallet"),
    ('card_terminal', "Card Terminal"),
    ('voucher', "Voucher"),
    ('other', "Other"),
    ]


class POSPaymentMethod(metaclass=PoolMeta):
    __name__ = 'sale.point.payment.method'

    type = fields.Selection(
        PAYMENT_METHOD_TYPES, "Type", required=True, sort=False,
        help="How the till takes a payment of this method:\n"
        "Cash: the cash in the drawer (the method marked Cash);\n"
        "Card, Wallet, Voucher, Other: the cashier types the amount the "
        "customer paid with a device or document the till does not drive;\n"
        "Card Terminal: the till sends the amount to the payment terminal "
        "of its hardware proxy and waits for its approval.")

    @classmethod
    def __register__(cls, module_name):
        table_h = cls.__table_handler__(module_name)
        migrate = not table_h.column_exist('type')
        super().__register__(module_name)
        # Methods that existed before the type: the cash method is cash,
        # the others keep the manual entry they had (other)
        if migrate:
            table = cls.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.update(
                    [table.type],
                    [Case((table.cash == Literal(True), 'cash'),
                        else_='other')]))

    @classmethod
    def default_type(cls):
        return 'other'

    # The cash method (sale_point's Cash, one per company) is the method
    # of type Cash: each field follows the other
    @fields.depends('type')
    def on_change_type(self):
        self.cash = self.type == 'cash'

    @fields.depends('cash', 'type')
    def on_change_cash(self):
        if self.cash:
            self.type = 'cash'
        elif self.type == 'cash':
            self.type = 'other'

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if 'type' in values and 'cash' not in values:
            values['cash'] = values['type'] == 'cash'
        elif values.get('cash') and 'type' not in values:
            # sale_point's own code marks the cash method with cash alone
            values['type'] = 'cash'
        return values

    @classmethod
    def validate_fields(cls, methods, field_names):
        super().validate_fields(methods, field_names)
        if field_names is None or {'type', 'cash'} & set(field_names):
            for method in methods:
                if bool(method.cash) != (method.type == 'cash'):
                    raise PaymentMethodTypeError(gettext(
                            'retail.msg_payment_method_type_cash',
                            method=method.rec_name))
