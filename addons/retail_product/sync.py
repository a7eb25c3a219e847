# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The variants at the tills, through retail_sync's hooks (registered only
when retail_sync is activated): a variant has the name the back office
gives it, and its attribute values in the order of its template's axes"""
from trytond.pool import Pool, PoolMeta

from .product import NAME_SEPARATOR


def attribute_order(template):
    """The names of the attributes of template in the order its variants
    are named and picked: its variant axes, else its attribute set's"""
    AttributeSet = Pool().get('product.attribute-product.attribute-set')
    if template.variant_axes:
        return [a.attribute.name for a in template.variant_axes]
    if template.attribute_set:
        return [a.name for a in AttributeSet.ordered(template.attribute_set)]
    return []


class Pull(metaclass=PoolMeta):
    __name__ = 'retail.sync.pull'

    @classmethod
    def serialise(cls, kind, ids, scope):
        """A variant's "name" is its template's name and its attribute
        values, as its name in the back office ("Oxford Shirt — M / Light
        Blue"); its "attributes" follow its template's variant axes (size,
        then colour), the order the till asks for them"""
        result = super().serialise(kind, ids, scope)
        if kind != 'product':
            return result
        Product = Pool().get('product.product')
        variants = [i for i, data in result.items()
            if data and data.get('attributes')]
        orders = {}
        for product in Product.browse(variants):
            data = result[product.id]
            values = product.variant_values_text()
            if values:
                data['name'] = data['template_name'] + NAME_SEPARATOR + values
            template = product.template
            if template.id not in orders:
                orders[template.id] = attribute_order(template)
            order = orders[template.id]
            data['attributes'] = sorted(data['attributes'],
                key=lambda a: (order.index(a['name'])
                    if a['name'] in order else len(order)))
        return result
