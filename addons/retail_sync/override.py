# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"Manager overrides approved by PIN at a till, as the terminals report them"
import json
from decimal import Decimal, InvalidOperation

from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .changelog import in_
from .push import OperationHandler
from .wire import Rejected, to_int, utc

ACTIONS = [
    ('discount', "Line Discount"),
    ('order_discount', "Order Discount"),
    ('price_override', "Price Override"),
    ('expired_lot', "Expired Lot"),
    ('void_line', "Void Line"),
    ('void_sale', "Void Sale"),
    ('refund', "Refund"),
    ('pin_failed', "Wrong PIN"),
    ('pin_locked', "PIN Lockout"),
    ('pin_unlocked', "PIN Unlocked"),
    ]
# The POS permissions a manager needs to approve each action, on top of
# allow_manager_override (the till asks the same)
ACTION_RIGHTS = {
    'discount': [],
    'order_discount': [],
    'price_override': ['allow_price_override'],
    'expired_lot': [],
    'void_line': ['allow_void'],
    'void_sale': ['allow_void'],
    'refund': ['allow_refund'],
    'pin_unlocked': [],
    }


def missing_rights(permissions, action, detail):
    """Return what the manager with permissions lacks to approve action
    with detail, an empty list when nothing"""
    if action in {'pin_failed', 'pin_locked'}:
        return []
    missing = [r for r in ['allow_manager_override'] + ACTION_RIGHTS[action]
        if not permissions.get(r)]
    if action in {'discount', 'order_discount'} and isinstance(
            detail, dict) and detail.get('discount') is not None:
        value = detail['discount']
        if isinstance(value, (float, bool)):
            missing.append('discount must be a decimal string')
        else:
            try:
                percent = Decimal(str(value))
            except (InvalidOperation, ValueError):
                missing.append(f'discount {value!r} is not a decimal')
            else:
                maximum = Decimal(permissions.get('max_discount') or 0)
                if percent > maximum:
                    missing.append(f'max_discount {maximum} < {percent}')
    return missing


class Override(ModelSQL, ModelView):
    """Manager Override: an action a manager approved by PIN at a till, or
    what a till reports about PINs (wrong PIN, lockout, unlock)"""
    __name__ = 'retail.sync.override'

    terminal = fields.Many2One(
        'sale.point', "Terminal", required=True, readonly=True,
        ondelete='RESTRICT')
    branch = fields.Many2One(
        'retail.branch', "Branch", required=True, readonly=True,
        ondelete='RESTRICT')
    operation_uuid = fields.Char(
        "Operation UUID", required=True, readonly=True, strip=False)
    action = fields.Selection(ACTIONS, "Action", required=True, readonly=True)
    manager = fields.Many2One(
        'company.employee', "Manager", readonly=True, ondelete='RESTRICT',
        states={
            'required': ~Eval('action').in_(['pin_failed', 'pin_locked']),
            })
    cashier = fields.Many2One(
        'company.employee', "Cashier", required=True, readonly=True,
        ondelete='RESTRICT')
    receipt = fields.Char("Receipt", readonly=True)
    sale = fields.Many2One(
        'sale.point.sale', "Sale", readonly=True, ondelete='SET NULL')
    product = fields.Many2One(
        'product.product', "Product", readonly=True, ondelete='RESTRICT')
    lot = fields.Many2One(
        'stock.lot', "Lot", readonly=True, ondelete='RESTRICT')
    client_time = fields.Timestamp("Time", readonly=True)
    date = fields.Date(
        "Date", required=True, readonly=True,
        help="The business date at the branch.")
    detail = fields.Text(
        "Detail", readonly=True,
        help="What the till sent about the override (JSON).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('terminal_operation_unique',
                Unique(t, t.terminal, t.operation_uuid),
                'retail_sync.msg_override_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.branch, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.manager, Index.Equality()),
                    (t.date, Index.Range())),
                })
        cls._order = [('client_time', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return f'{self.terminal.rec_name} {self.action} {self.date}'

    @classmethod
    def record(cls, batch, data, payload, client_time, date):
        """Record the override of an audit operation of batch's terminal;
        raise Rejected for what cannot be recorded as sent"""
        pool = Pool()
        Employee = pool.get('company.employee')
        Lot = pool.get('stock.lot')
        Sale = pool.get('sale.point.sale')
        action = payload.get('action')
        if not isinstance(action, str) or action not in dict(ACTIONS):
            raise Rejected('unknown_action',
                f"Unknown override action {action!r}: expected one of "
                f"{', '.join(a for a, _ in ACTIONS)}.")
        employees = {}
        for name in ['manager', 'cashier']:
            employee_id = payload.get(name)
            if name == 'manager' and action in {'pin_failed', 'pin_locked'}:
                if employee_id is not None:
                    raise Rejected('invalid_payload',
                        f"manager must be null for {action}.")
                employees[name] = None
                continue
            if name == 'cashier' and employee_id is None:
                # The employee logged in at the till
                employee_id = data.get('employee')
            employee_id = to_int(employee_id, name)
            with Transaction().set_context(active_test=False):
                found = Employee.search([
                        ('id', '=', employee_id),
                        ('company', '=', batch.company.id),
                        ])
            if not found:
                raise Rejected('unknown_employee',
                    f"The {name} {employee_id} is not an employee of the "
                    "company.")
            employees[name], = found
        detail = payload.get('detail')
        if detail is None:
            detail = {}
        if not isinstance(detail, dict):
            raise Rejected('invalid_payload', "detail must be an object.")
        manager = employees['manager']
        missing = missing_rights(
            manager.get_pos_permissions() if manager else {}, action, detail)
        if missing:
            raise Rejected('not_allowed',
                f"Manager {manager.rec_name} may not approve {action}: "
                f"{', '.join(missing)}.")
        receipt = payload.get('receipt')
        if isinstance(receipt, int) and not isinstance(receipt, bool):
            receipt = f'{batch.terminal.receipt_prefix}-{receipt:06d}'
        if receipt is not None and (
                not isinstance(receipt, str) or len(receipt) > 64):
            raise Rejected('invalid_payload',
                "receipt must be a receipt number or null.")
        product = payload.get('product')
        if product is not None:
            product = OperationHandler.get_product(product, batch).id
        lot = to_int(payload.get('lot'), 'lot', required=False)
        if lot is not None:
            domain = [('id', '=', lot)]
            if product is not None:
                domain.append(('product', '=', product))
            if not Lot.search(domain):
                raise Rejected('unknown_lot', f"Lot {lot} does not exist.")
        sale = None
        if receipt:
            sales = Sale.search([
                    ('number', '=', receipt),
                    ('company', '=', batch.company.id),
                    ], order=[('id', 'ASC')], limit=1)
            sale = sales[0].id if sales else None
        override, = cls.create([{
                    'terminal': batch.terminal.id,
                    'branch': batch.branch.id,
                    'operation_uuid': data['uuid'],
                    'action': action,
                    'manager': manager.id if manager else None,
                    'cashier': employees['cashier'].id,
                    'receipt': receipt,
                    'sale': sale,
                    'product': product,
                    'lot': lot,
                    'client_time': client_time,
                    'date': date,
                    'detail': json.dumps(detail, sort_keys=True),
                    }])
        return override


class AuditHandler(OperationHandler):
    "A manager override (or a PIN failure) recorded at the till"
    string = 'retail_sync.msg_operation_type_audit'
    payload_schema = 'AuditPayload'

    @classmethod
    def handle(cls, batch, data, payload, client_time):
        Override = Pool().get('retail.sync.override')
        override = Override.record(batch, data, payload,
            utc(client_time), cls.business_date(batch, client_time))
        return {'override': override.id}


class Push(metaclass=PoolMeta):
    __name__ = 'retail.sync.push'

    @classmethod
    def _operation_handlers(cls):
        handlers = super()._operation_handlers()
        handlers['audit'] = AuditHandler
        return handlers

    @classmethod
    def record_operations(cls, terminal, operations, batch=None):
        # An override of a sale acknowledged but not recorded yet links it
        # once the posting task records it
        pool = Pool()
        Override = pool.get('retail.sync.override')
        Sale = pool.get('sale.point.sale')
        recorded, failed = super().record_operations(
            terminal, operations, batch=batch)
        if recorded and Override.search([
                    ('terminal', '=', terminal.id),
                    ('sale', '=', None),
                    ], limit=1):
            sale = Sale.__table__()
            cursor = Transaction().connection.cursor()
            numbers = {}
            for sub in grouped_slice(list(recorded.values()), 1000):
                cursor.execute(*sale.select(sale.number, sale.id,
                        where=in_(sale.id, list(sub))))
                numbers.update(cursor)
            overrides = []
            for sub in grouped_slice(sorted(numbers), 1000):
                overrides.extend(Override.search([
                            ('terminal', '=', terminal.id),
                            ('sale', '=', None),
                            ('receipt', 'in', list(sub)),
                            ]))
            for override in overrides:
                override.sale = numbers[override.receipt]
            Override.save(overrides)
        return recorded, failed
