# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from sql import Null, Union

from trytond.cache import Cache
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    managed_branches = fields.Many2Many(
        'retail.branch-res.user', 'user', 'branch', "Managed Branches",
        help="The branches this user manages in the back office.")
    _get_branches_cache = Cache(__name__ + '.get_branches', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._context_fields.insert(0, 'managed_branches')

    @classmethod
    def get_branches(cls):
        """Return the ids of the branches of the current user: those they
        manage and those of their employees"""
        pool = Pool()
        BranchManager = pool.get('retail.branch-res.user')
        EmployeeBranch = pool.get('company.employee-retail.branch')
        UserEmployee = pool.get('res.user-company.employee')
        user_id = Transaction().user
        branches = cls._get_branches_cache.get(user_id)
        if branches is not None:
            return branches
        manager = BranchManager.__table__()
        employee_branch = EmployeeBranch.__table__()
        user_employee = UserEmployee.__table__()
        query = Union(
            manager.select(
                manager.branch, where=manager.user == user_id),
            employee_branch.join(user_employee,
                condition=user_employee.employee == employee_branch.employee
                ).select(employee_branch.branch,
                where=user_employee.user == user_id))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        branches = sorted({b for b, in cursor})
        cls._get_branches_cache.set(user_id, branches)
        return branches

    @classmethod
    def get_branch_warehouses(cls):
        "Return the ids of the warehouses of the current user's branches"
        pool = Pool()
        Branch = pool.get('retail.branch')
        branch = Branch.__table__()
        branch_ids = cls.get_branches()
        if not branch_ids:
            return []
        cursor = Transaction().connection.cursor()
        cursor.execute(*branch.select(
                branch.warehouse, where=branch.id.in_(branch_ids)))
        return sorted({w for w, in cursor})

    @classmethod
    def get_other_branch_warehouses(cls):
        """Return the ids of the warehouses of the branches that are not the
        current user's (a warehouse shared with one of theirs excluded)"""
        pool = Pool()
        Branch = pool.get('retail.branch')
        branch = Branch.__table__()
        own = set(cls.get_branch_warehouses())
        cursor = Transaction().connection.cursor()
        cursor.execute(*branch.select(branch.warehouse,
                where=branch.warehouse != Null))
        return sorted({w for w, in cursor} - own)

    @classmethod
    def write(cls, *args):
        super().write(*args)
        cls._get_branches_cache.clear()
