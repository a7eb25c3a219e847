# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import base64
import hashlib
import hmac
import secrets
from decimal import Decimal

from trytond import config
from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import PinAccessError, PinValidationError, PosPermissionError

# PBKDF2-HMAC-SHA256, the KDF that both Python (hashlib) and the browser
# (WebCrypto) implement natively, so the POS verifies PINs offline with the
# same hash.  600,000 iterations is OWASP's 2023 figure for PBKDF2-SHA256.
PIN_ALGORITHM = 'pbkdf2_sha256'
PIN_ITERATIONS = config.getint('retail', 'pin_iterations', default=600_000)
PIN_SALT_BYTES = 16
PIN_MIN_LENGTH = 4
PIN_MAX_LENGTH = 8

PERMISSION_FLAGS = [
    'allow_refund', 'allow_void', 'allow_price_override',
    'allow_open_drawer', 'allow_close_session', 'allow_manager_override',
    ]


def hash_pin(pin, iterations=None, salt=None):
    "Return the storable hash of a PIN: algorithm$iterations$salt$hash"
    iterations = iterations or PIN_ITERATIONS
    salt = salt or secrets.token_bytes(PIN_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac(
        'sha256', pin.encode('utf-8'), salt, iterations)
    return '$'.join([
            PIN_ALGORITHM, str(iterations),
            base64.b64encode(salt).decode('ascii'),
            base64.b64encode(digest).decode('ascii')])


def check_pin(pin, pin_hash):
    "Check a PIN against a hash made by hash_pin in constant time"
    if not pin or not pin_hash:
        return False
    try:
        algorithm, iterations, salt, digest = pin_hash.split('$')
        iterations = int(iterations)
        salt = base64.b64decode(salt)
        digest = base64.b64decode(digest)
    except ValueError:
        return False
    if algorithm != PIN_ALGORITHM:
        return False
    candidate = hashlib.pbkdf2_hmac(
        'sha256', pin.encode('utf-8'), salt, iterations)
    return hmac.compare_digest(candidate, digest)


def pin_is_trivial(pin):
    "A PIN of one repeated digit or a run of consecutive digits"
    if len(set(pin)) == 1:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:])}
    return steps in ({1}, {9})


# The fields that make an employee's POS permissions
POS_FIELDS = {'pos_role', 'pos_max_discount'} | {
    'pos_' + flag for flag in PERMISSION_FLAGS}

_PERMISSION_HELP = {
    'allow_refund': "Can refund a sale.",
    'allow_void': "Can void a line or a whole sale.",
    'allow_price_override': "Can change the price of a line.",
    'allow_open_drawer': "Can open the cash drawer without a sale.",
    'allow_close_session': "Can close a cash session.",
    'allow_manager_override': (
        "Can authorize, with their PIN, what a cashier is not allowed to do."),
    }


class PosRole(DeactivableMixin, ModelSQL, ModelView):
    "POS Role: what an employee may do at the terminal"
    __name__ = 'retail.pos.role'
    name = fields.Char("Name", required=True, translate=True)
    max_discount = fields.Numeric(
        "Max Discount %", digits=(5, 2), required=True,
        domain=[('max_discount', '>=', 0), ('max_discount', '<=', 100)],
        help="The largest discount, in percent, this role may give.")
    allow_refund = fields.Boolean("Refund", help=_PERMISSION_HELP[
            'allow_refund'])
    allow_void = fields.Boolean("Void", help=_PERMISSION_HELP['allow_void'])
    allow_price_override = fields.Boolean(
        "Price Override", help=_PERMISSION_HELP['allow_price_override'])
    allow_open_drawer = fields.Boolean(
        "Open Drawer without Sale",
        help=_PERMISSION_HELP['allow_open_drawer'])
    allow_close_session = fields.Boolean(
        "Close Session", help=_PERMISSION_HELP['allow_close_session'])
    allow_manager_override = fields.Boolean(
        "Manager Override", help=_PERMISSION_HELP['allow_manager_override'])

    @classmethod
    def default_max_discount(cls):
        return Decimal(0)


_OVERRIDE = [
    (None, "As Role"),
    ('allow', "Allow"),
    ('deny', "Deny"),
    ]


class Employee(metaclass=PoolMeta):
    __name__ = 'company.employee'

    branches = fields.Many2Many(
        'company.employee-retail.branch', 'employee', 'branch', "Branches",
        domain=[('company', '=', Eval('company', -1))],
        help="The branches where the employee may work at a terminal.")
    pos_role = fields.Many2One(
        'retail.pos.role', "POS Role", ondelete='RESTRICT',
        help="What the employee may do at a terminal.")
    pos_max_discount = fields.Numeric(
        "Max Discount %", digits=(5, 2),
        domain=['OR',
            ('pos_max_discount', '=', None),
            [('pos_max_discount', '>=', 0),
                ('pos_max_discount', '<=', 100)]],
        help="Leave empty to use the role's.")
    pos_allow_refund = fields.Selection(_OVERRIDE, "Refund")
    pos_allow_void = fields.Selection(_OVERRIDE, "Void")
    pos_allow_price_override = fields.Selection(_OVERRIDE, "Price Override")
    pos_allow_open_drawer = fields.Selection(
        _OVERRIDE, "Open Drawer without Sale")
    pos_allow_close_session = fields.Selection(_OVERRIDE, "Close Session")
    pos_allow_manager_override = fields.Selection(
        _OVERRIDE, "Manager Override")

    pos_pin_hash = fields.Char("POS PIN Hash", strip=False, readonly=True)
    pos_pin = fields.Function(fields.Char(
            "POS PIN", strip=False,
            help="Type a new PIN of %s to %s digits to set it; "
            "it is stored only as a salted slow hash." % (
                PIN_MIN_LENGTH, PIN_MAX_LENGTH)),
        'get_pos_pin', setter='set_pos_pin')
    pos_pin_set = fields.Function(
        fields.Boolean("POS PIN Set"), 'get_pos_pin_set')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'verify_pos_pin': RPC(readonly=True),
                'get_pos_permissions_rpc': RPC(readonly=True, instantiate=0),
                })

    def get_pos_pin(self, name):
        return None

    @classmethod
    def get_pos_pin_set(cls, employees, name):
        result = {}
        with without_check_access():
            for sub in grouped_slice(employees, 1000):
                for employee in cls.browse(sub):
                    result[employee.id] = bool(employee.pos_pin_hash)
        return result

    @classmethod
    def set_pos_pin(cls, employees, name, value):
        if not value:
            return
        cls.check_pos_pin_value(value, employees)
        to_write = []
        for employee in employees:
            # Each employee gets their own salt
            to_write.extend([[employee], {'pos_pin_hash': hash_pin(value)}])
        with without_check_access():
            cls.write(*to_write)

    @classmethod
    def check_pos_pin_value(cls, pin, employees):
        name = ', '.join(e.rec_name for e in employees)
        if (not pin.isdigit() or not pin.isascii()
                or not PIN_MIN_LENGTH <= len(pin) <= PIN_MAX_LENGTH):
            raise PinValidationError(gettext(
                    'retail.msg_pin_invalid', employee=name,
                    min=PIN_MIN_LENGTH, max=PIN_MAX_LENGTH))
        if pin_is_trivial(pin):
            raise PinValidationError(gettext(
                    'retail.msg_pin_too_simple', employee=name))

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        # The hash never leaves the server through the API, whatever the
        # field access says
        if Transaction().check_access and 'pos_pin_hash' in fields_names:
            for values in result:
                values['pos_pin_hash'] = None
        return result

    def check_pos_pin(self, pin):
        "Return True if pin is this employee's PIN"
        with without_check_access():
            employee = self.__class__(self.id)
            return check_pin(pin, employee.pos_pin_hash)

    @classmethod
    def verify_pos_pin(cls, employee_id, pin):
        """Verify a PIN for a manager in the back office

        Only store managers and super admins may, so the API is no oracle
        for cashiers."""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        allowed = {
            ModelData.get_id('retail', 'group_store_manager'),
            ModelData.get_id('retail', 'group_super_admin'),
            }
        if Transaction().user and not (allowed & set(User.get_groups())):
            raise PinAccessError(gettext('retail.msg_pin_verify_forbidden'))
        employee = cls(employee_id)
        return employee.check_pos_pin(pin)

    def get_pos_permissions(self):
        "Return the effective POS permissions of the employee"
        role = self.pos_role
        permissions = {
            'role': role.name if role else None,
            'max_discount': str((
                    self.pos_max_discount
                    if self.pos_max_discount is not None
                    else (role.max_discount if role else Decimal(0))
                    ).quantize(Decimal('0.01'))),
            }
        for flag in PERMISSION_FLAGS:
            override = getattr(self, 'pos_' + flag)
            if override:
                permissions[flag] = override == 'allow'
            else:
                permissions[flag] = bool(role and getattr(role, flag))
        return permissions

    @classmethod
    def get_pos_permissions_rpc(cls, employees):
        return {e.id: e.get_pos_permissions() for e in employees}

    @classmethod
    def copy(cls, employees, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('pos_pin_hash', None)
        return super().copy(employees, default=default)

    @classmethod
    def create(cls, vlist):
        granting = any(POS_FIELDS & values.keys() for values in vlist)
        own = cls._granter_pos_permissions() if granting else None
        employees = super().create(vlist)
        if granting:
            cls.check_pos_grant(employees, own)
        return employees

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        granted = []
        for records, values in zip(actions, actions):
            if POS_FIELDS & values.keys():
                granted.extend(records)
        # The user's own permissions as they were before this write
        own = cls._granter_pos_permissions() if granted else None
        super().write(*args)
        Pool().get('res.user')._get_branches_cache.clear()
        if granted:
            cls.check_pos_grant(granted, own)

    @classmethod
    def _granter_pos_permissions(cls):
        """Return the POS permissions the current user may give: None for
        no limit (the server itself and super admins), else those of the
        user's employee (empty if the user has none)"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        transaction = Transaction()
        if not transaction.user or not transaction.check_access:
            return None
        if ModelData.get_id('retail', 'group_super_admin') in set(
                User.get_groups()):
            return None
        with without_check_access():
            user = User(transaction.user)
            if not user.employee:
                return {'max_discount': '0'}
            return cls(user.employee.id).get_pos_permissions()

    @classmethod
    def check_pos_grant(cls, employees, own):
        """Check that employees have no POS permission beyond own (the
        permissions of the user who gives them, see
        _granter_pos_permissions)"""
        if own is None:
            return
        with without_check_access():
            for employee in cls.browse(employees):
                granted = employee.get_pos_permissions()
                if (Decimal(granted['max_discount'])
                        > Decimal(own['max_discount'])):
                    raise PosPermissionError(gettext(
                            'retail.msg_pos_grant_max_discount',
                            employee=employee.rec_name,
                            discount=granted['max_discount'],
                            own=own['max_discount']))
                for flag in PERMISSION_FLAGS:
                    if granted[flag] and not own.get(flag):
                        raise PosPermissionError(gettext(
                                'retail.msg_pos_grant_permission',
                                employee=employee.rec_name,
                                permission=cls.fields_get(
                                    ['pos_' + flag])['pos_' + flag][
                                    'string']))


class EmployeeBranch(ModelSQL):
    "Employee - Branch"
    __name__ = 'company.employee-retail.branch'
    employee = fields.Many2One(
        'company.employee', "Employee", required=True, ondelete='CASCADE')
    branch = fields.Many2One(
        'retail.branch', "Branch", required=True, ondelete='CASCADE')
