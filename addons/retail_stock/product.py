# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta

NEAR_EXPIRY_HELP = (
    "How many days before a lot's sell-by date it counts as near expiry: "
    "it is listed among the lots near expiry and its branch's managers are "
    "notified.")


class Category(metaclass=PoolMeta):
    __name__ = 'product.category'

    near_expiry_days = fields.Integer(
        "Near Expiry (days)",
        domain=['OR',
            ('near_expiry_days', '=', None),
            ('near_expiry_days', '>=', 0),
            ],
        help=NEAR_EXPIRY_HELP + " For the products of the category (and "
        "of its subcategories) that set none.")

    def get_near_expiry_days(self):
        "The lead time of the category, else of its nearest parent's"
        category = self
        while category:
            if category.near_expiry_days is not None:
                return category.near_expiry_days
            category = category.parent


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    near_expiry_days = fields.Integer(
        "Near Expiry (days)",
        domain=['OR',
            ('near_expiry_days', '=', None),
            ('near_expiry_days', '>=', 0),
            ],
        help=NEAR_EXPIRY_HELP + " Empty takes the longest of its "
        "categories' lead times (0 without any).")

    def get_near_expiry_days(self):
        "The product's own lead time, else its categories' longest, else 0"
        if self.near_expiry_days is not None:
            return self.near_expiry_days
        days = [c.get_near_expiry_days() for c in self.categories]
        days = [d for d in days if d is not None]
        return max(days) if days else 0
