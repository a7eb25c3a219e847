# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The shelf note of a product, sent to the tills with the product"
from trytond.model import fields
from trytond.pool import Pool, PoolMeta


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    shelf_note = fields.Char(
        "Shelf Note",
        help="A short note the tills show with the product.")


class Pull(metaclass=PoolMeta):
    __name__ = 'retail.sync.pull'

    @classmethod
    def serialise(cls, kind, ids, scope):
        result = super().serialise(kind, ids, scope)
        if kind == 'product':
            Product = Pool().get('product.product')
            for product in Product.browse(
                    [i for i, data in result.items() if data]):
                result[product.id]['shelf_note'] = (
                    product.template.shelf_note or None)
        return result
