# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from sql.aggregate import Sum
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

from .expiry import BranchStockMixin, notify
from .quantity import warehouse_quantities

# The order point's links to a location that may be another branch's
OTHER_BRANCH_LOCATIONS = {'provisioning_location', 'overflowing_location'}


class OrderPoint(metaclass=PoolMeta):
    __name__ = 'stock.order_point'

    branch = fields.Function(
        fields.Many2One('retail.branch', "Branch"), 'get_branch',
        searcher='search_branch')

    @classmethod
    def read(cls, ids, fields_names):
        """The names of the locations that provision an order point or
        take its overflow are read whatever their branch: a store manager
        opens the order points of their branch provisioned by another one
        (sao reads `provisioning_location.rec_name`), while that branch's
        locations and their stock stay hidden from them"""
        names, rest = set(), []
        for name in fields_names:
            field, _, nested = name.partition('.')
            if field in OTHER_BRANCH_LOCATIONS and nested == 'rec_name':
                names.add(field)
            else:
                rest.append(name)
        if not names:
            return super().read(ids, fields_names)
        rows = super().read(ids, rest + sorted(names - set(rest)))
        Location = Pool().get('stock.location')
        targets = {r[f] for r in rows for f in names if r[f] is not None}
        with without_check_access():
            rec_names = {l.id: l.rec_name
                for l in Location.browse(sorted(targets))}
        for row in rows:
            for field in names:
                target = row[field]
                row[field + '.'] = (
                    {'id': target, 'rec_name': rec_names[target]}
                    if target is not None else None)
                if field not in fields_names:
                    del row[field]
        return rows

    @classmethod
    def get_branch(cls, points, name):
        Branch = Pool().get('retail.branch')
        with without_check_access():
            branches = Branch.search([])
        result = {}
        for point in points:
            warehouse = point.warehouse_location
            result[point.id] = next((b.id for b in branches
                    if warehouse and b.warehouse == warehouse), None)
        return result

    @classmethod
    def search_branch(cls, name, clause):
        _, operator, *value = clause
        nested = clause[0][len(name) + 1:] or 'id'
        Branch = Pool().get('retail.branch')
        with without_check_access():
            branches = Branch.search([(nested, operator, *value)])
        warehouses = [b.warehouse.id for b in branches]
        return [('location', 'child_of', warehouses, 'parent')]


class LowStock(BranchStockMixin, ModelSQL, ModelView):
    """The products a branch holds less of than the minimum of their order
    point (stock_supply's), with what the supply wizard would bring them
    back up to"""
    __name__ = 'retail.stock.low'

    order_point = fields.Many2One('stock.order_point', "Order Point")
    type = fields.Selection([
            ('purchase', "Purchase"),
            ('internal', "Internal"),
            ], "Type")
    min_quantity = fields.Float("Minimal Quantity", digits='unit')
    target_quantity = fields.Float("Target Quantity", digits='unit')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('branch', 'ASC'), ('product', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        OrderPoint = pool.get('stock.order_point')
        Location = pool.get('stock.location')
        Branch = pool.get('retail.branch')
        point = OrderPoint.__table__()
        location = Location.__table__()
        warehouse = Location.__table__()
        branch = Branch.__table__()
        quantities = warehouse_quantities()
        per_product = quantities.select(
            quantities.warehouse, quantities.product,
            Sum(quantities.quantity).as_('quantity'),
            group_by=[quantities.warehouse, quantities.product])
        quantity = Coalesce(per_product.quantity, 0)
        return (point
            .join(location, condition=point.location == location.id)
            .join(warehouse, condition=(location.left >= warehouse.left)
                & (location.right <= warehouse.right)
                & (warehouse.type == 'warehouse'))
            .join(branch, condition=branch.warehouse == warehouse.id)
            .join(per_product, 'LEFT',
                condition=(per_product.warehouse == warehouse.id)
                & (per_product.product == point.product))
            .select(
                point.id.as_('id'),
                point.id.as_('order_point'),
                branch.id.as_('branch'),
                warehouse.id.as_('warehouse'),
                point.product.as_('product'),
                point.type.as_('type'),
                point.min_quantity.as_('min_quantity'),
                point.target_quantity.as_('target_quantity'),
                quantity.as_('quantity'),
                where=(point.min_quantity != None)  # noqa: E711
                & (quantity < point.min_quantity)))

    @classmethod
    def notify_managers(cls):
        """Notify each branch's managers of the products it holds less of
        than their minimum (one notification per branch and run)"""
        Branch = Pool().get('retail.branch')
        with without_check_access():
            rows = cls.search([])
            for branch in Branch.search([]):
                ids = [r.id for r in rows if r.branch == branch]
                if not ids:
                    continue
                notify(branch,
                    gettext('retail_stock.msg_notify_low_stock_label',
                        branch=branch.rec_name),
                    gettext('retail_stock.msg_notify_low_stock_description',
                        count=len(ids)),
                    cls.__name__, ids, 'retail_stock.act_low_stock')


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('retail.stock.lot.expiry|notify_managers',
                    "Notify Branch Managers of Lots Near Expiry"),
                ('retail.stock.low|notify_managers',
                    "Notify Branch Managers of Low Stock"),
                ])
