# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "branches" as list of ids of the branches of the user'
            '\n- "branch_warehouses" as list of ids of their warehouses'
            '\n- "other_branch_warehouses" as list of ids of the warehouses '
            'of the other branches')

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        return (*key, tuple(User.get_branches()))

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        context['branches'] = User.get_branches()
        context['branch_warehouses'] = User.get_branch_warehouses()
        context['other_branch_warehouses'] = (
            User.get_other_branch_warehouses())
        return context
