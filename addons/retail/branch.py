# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
import zoneinfo

from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import BranchValidationError

TIMEZONES = [(z, z) for z in sorted(zoneinfo.available_timezones())]


class Branch(DeactivableMixin, ModelSQL, ModelView):
    "A shop of the chain: its warehouse, prices, managers and terminals"
    __name__ = 'retail.branch'

    name = fields.Char("Name", required=True, translate=False)
    code = fields.Char(
        "Code", required=True, strip=True,
        help="A short code that identifies the branch (e.g. BXL1).")
    company = fields.Many2One('company.company', "Company", required=True)
    warehouse = fields.Many2One(
        'stock.location', "Warehouse", required=True,
        domain=[('type', '=', 'warehouse')],
        help="The warehouse whose stock this branch sells.")
    address = fields.Many2One(
        'party.address', "Address",
        domain=[('party', '=', Eval('address_party', -1))])
    address_party = fields.Function(
        fields.Many2One('party.party', "Address Party",
            context={'company': Eval('company', -1)}, depends={'company'}),
        'on_change_with_address_party')
    timezone = fields.Selection(
        TIMEZONES, "Time Zone", translate=False, sort=False, required=True,
        help="Used for the business day of sales, receipts and reports.")
    price_list = fields.Many2One(
        'product.price_list', "Price List",
        domain=[('company', 'in', [Eval('company', -1), None])],
        help="The prices the terminals of this branch sell at. "
        "Empty means the products' list prices.")
    lock_after_minutes = fields.Integer(
        "Lock the Till After (minutes)", required=True,
        domain=[('lock_after_minutes', '>=', 0)],
        help="The terminals of this branch lock after this many minutes "
        "without a key, tap or scan; the cashier's PIN opens them again. "
        "0 means never.")
    managers = fields.Many2Many(
        'retail.branch-res.user', 'branch', 'user', "Managers",
        help="The users who manage this branch in the back office.")
    refund_to = fields.Selection([
            ('cash', "Cash"),
            ('original', "Original Method"),
            ], "Refund To", required=True,
        help="Where the tills refund a return: always in cash, or to the "
        "non-cash method (card, wallet) the original sale was paid with, "
        "up to what was paid with it (cash takes the rest).")
    terminals = fields.One2Many('sale.point', 'branch', "Terminals")
    employees = fields.Many2Many(
        'company.employee-retail.branch', 'branch', 'employee', "Employees",
        domain=[('company', '=', Eval('company', -1))])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'retail.msg_branch_code_unique'),
            ('warehouse_unique', Unique(t, t.warehouse),
                'retail.msg_branch_warehouse_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def default_lock_after_minutes(cls):
        return 5

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def default_refund_to(cls):
        return 'original'

    @classmethod
    def default_timezone(cls):
        pool = Pool()
        Company = pool.get('company.company')
        company_id = cls.default_company()
        if company_id is not None and company_id >= 0:
            company = Company(company_id)
            if getattr(company, 'timezone', None):
                return company.timezone
        return 'UTC'

    @fields.depends('company')
    def on_change_with_address_party(self, name=None):
        return self.company.party if self.company else None

    def get_rec_name(self, name):
        return f'[{self.code}] {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('code', operator, operand, *extra),
            ('name', operator, operand, *extra),
            ]

    @classmethod
    def read(cls, ids, fields_names):
        # Every user of the company reads its branches (to pick one, to see
        # a transfer's other side), but the warehouse of another branch is
        # hidden from them (rule on stock.location): its name, as the
        # lists and forms of branches show it, is read without the rule,
        # nothing else of it
        name = 'warehouse.rec_name'
        if (name not in fields_names
                or any(f.startswith('warehouse.') and f != name
                    for f in fields_names)):
            return super().read(ids, fields_names)
        names = [f for f in fields_names if f != name]
        rows = super().read(ids, list(dict.fromkeys(names + ['warehouse'])))
        Location = Pool().get('stock.location')
        with without_check_access():
            warehouses = {w.id: w.rec_name for w in Location.browse(
                    {r['warehouse'] for r in rows if r['warehouse']})}
        for row in rows:
            warehouse = row['warehouse']
            row['warehouse.'] = ({'id': warehouse,
                    'rec_name': warehouses[warehouse]}
                if warehouse is not None else None)
            if 'warehouse' not in fields_names:
                del row['warehouse']
        return rows

    @classmethod
    def validate_fields(cls, branches, field_names):
        super().validate_fields(branches, field_names)
        if field_names & {'timezone', 'warehouse'}:
            for branch in branches:
                if branch.warehouse and branch.warehouse.type != 'warehouse':
                    raise BranchValidationError(gettext(
                            'retail.msg_branch_warehouse_type',
                            location=branch.warehouse.rec_name,
                            branch=branch.rec_name))
                if branch.timezone not in zoneinfo.available_timezones():
                    raise BranchValidationError(gettext(
                            'retail.msg_branch_timezone_invalid',
                            timezone=branch.timezone,
                            branch=branch.rec_name))

    @classmethod
    def write(cls, *args):
        super().write(*args)
        cls._clear_rule_cache()

    @classmethod
    def create(cls, vlist):
        branches = super().create(vlist)
        cls._clear_rule_cache()
        return branches

    @classmethod
    def delete(cls, branches):
        super().delete(branches)
        cls._clear_rule_cache()

    @classmethod
    def _clear_rule_cache(cls):
        # Record rules depend on the branches of a user and on the
        # warehouses of every branch
        pool = Pool()
        pool.get('res.user')._get_branches_cache.clear()
        pool.get('ir.rule')._domain_get_cache.clear()


class BranchManager(ModelSQL):
    "Branch - Manager"
    __name__ = 'retail.branch-res.user'
    branch = fields.Many2One(
        'retail.branch', "Branch", required=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('branch_user_unique', Unique(t, t.branch, t.user),
                'retail.msg_branch_code_unique'),
            ]

    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        Pool().get('retail.branch')._clear_rule_cache()
        return records

    @classmethod
    def delete(cls, records):
        super().delete(records)
        Pool().get('retail.branch')._clear_rule_cache()
