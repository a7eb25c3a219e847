# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The products a push's price check gives to Tryton's price list.

At a branch with a price list the push checks each line against
``product.price_list.compute`` (sale_push.py ``SaleHandler.server_price``):
Tryton matches the list's lines, converts the quantity and evaluates the
formula.  What compute reads of a product (its categories with their
parents, its default unit, and for the formula its list price and cost
price), and the sale unit the push passes, cost through the ORM about two
milliseconds a product: the company-dependent prices are MultiValue
look-ups over value records.  ``PriceListProduct`` carries those fields
for all the products of a push, read with a few queries (``load``), and
is given to compute in place of the product record; any other attribute
comes from the record itself.

The list and cost prices are looked up as Tryton's ``get_multivalue``
looks them up (``list_price_used``: the product's own value, else its
template's; a value of the company first, else one without company; no
cost price is 0): test_price_list_offline.py
(test_price_list_product_reads_what_tryton_reads) compares both."""
from dataclasses import dataclass, field
from decimal import Decimal

from sql import Null

from trytond.pool import Pool
from trytond.transaction import Transaction

from .push import OperationHandler
from .serialise import id_slices


@dataclass(slots=True, eq=False)
class PriceListProduct:
    """A product as product.price_list.compute reads it, its fields read
    with the push's other products (load)"""
    record: object
    # The template's fields, as the product's TemplateFunction reads them
    categories_all: tuple
    default_uom: object
    sale_uom: object
    list_price_used: object
    cost_price: object
    id: int = field(init=False)

    def __post_init__(self):
        self.id = self.record.id

    def get_multivalue(self, name, **pattern):
        # The price list asks for the cost price of the context's company,
        # the one it was read for
        if name == 'cost_price' and not pattern:
            return self.cost_price
        return self.record.get_multivalue(name, **pattern)

    def __getattr__(self, name):
        return getattr(self.record, name)

    @classmethod
    def load(cls, records, company_id):
        """{product id: PriceListProduct} of the product records (browsed
        together) for the company"""
        pool = Pool()
        Template = pool.get('product.template')
        records = list(records)
        if not records:
            return {}
        product_ids = [r.id for r in records]
        templates = {}
        for product_id, template_id in cls._templates(product_ids):
            templates[product_id] = template_id
        # Browsed together: the ORM reads each field of all of them at once
        template_ids = sorted(set(templates.values()))
        template_records = dict(zip(
                template_ids, Template.browse(template_ids)))
        categories = cls.categories(template_ids)
        list_prices = cls.list_prices(templates, company_id)
        cost_prices = cls.cost_prices(product_ids, company_id)
        result = {}
        for record in records:
            template = template_records[templates[record.id]]
            result[record.id] = cls(record,
                categories_all=categories.get(template.id, ()),
                default_uom=template.default_uom,
                sale_uom=template.sale_uom,
                list_price_used=list_prices.get(record.id),
                cost_price=cost_prices.get(record.id, Decimal(0)))
        return result

    @staticmethod
    def _templates(product_ids):
        Product = Pool().get('product.product')
        product = Product.__table__()
        cursor = Transaction().connection.cursor()
        wanted = set(product_ids)
        for where in id_slices(product.id, product_ids):
            cursor.execute(*product.select(product.id, product.template,
                    where=where))
            yield from (r for r in cursor if r[0] in wanted)

    @staticmethod
    def categories(template_ids):
        """{template id: (product.category, ...)}: the templates'
        categories_all, read from its relation in one query"""
        pool = Pool()
        Category = pool.get('product.category')
        Relation = pool.get('product.template-product.category.all')
        relation = Relation.__table__()
        cursor = Transaction().connection.cursor()
        rows = []
        wanted = set(template_ids)
        for where in id_slices(relation.template, template_ids):
            cursor.execute(*relation.select(
                    relation.template, relation.category, where=where,
                    order_by=[relation.id]))
            rows.extend(r for r in cursor if r[0] in wanted)
        # Browsed together: their parents are read at once
        category_ids = sorted({c for _, c in rows})
        records = dict(zip(category_ids, Category.browse(category_ids)))
        result = {}
        for template_id, category_id in rows:
            result.setdefault(template_id, []).append(records[category_id])
        return {t: tuple(c) for t, c in result.items()}

    @staticmethod
    def _values(Value, column, ids, company_id, *columns):
        """The rows (id, column, company, *columns) of Value for ids whose
        company is company_id or none, the company's first"""
        value = Value.__table__()
        cursor = Transaction().connection.cursor()
        rows = []
        wanted = set(ids)
        for where in id_slices(getattr(value, column), ids):
            cursor.execute(*value.select(value.id, getattr(value, column),
                    value.company, *(getattr(value, c) for c in columns),
                    where=where & ((value.company == company_id)
                        | (value.company == Null))))
            rows.extend(r for r in cursor if r[1] in wanted)
        # As CompanyMultiValueMixin.multivalue_records sorts them
        rows.sort(key=lambda r: (r[2] is None, r[0]))
        return rows

    @classmethod
    def list_prices(cls, templates, company_id):
        """{product id: list_price_used} for {product id: template id}:
        Product.get_list_price_used for the company"""
        ListPrice = Pool().get('product.list_price')
        own, default = {}, {}
        for _, product_id, _, template_id, price in cls._values(ListPrice,
                'product', list(templates), company_id,
                'template', 'list_price'):
            # get_multivalue('list_price', template=...): the first value
            # matching the template (a value without one matches any)
            if product_id in own or template_id not in {
                    None, templates[product_id]}:
                continue
            own[product_id] = price
        for _, template_id, _, product_id, price in cls._values(ListPrice,
                'template', sorted(set(templates.values())), company_id,
                'product', 'list_price'):
            # The template's own: the first value of no product
            if product_id is None and template_id not in default:
                default[template_id] = price
        result = {}
        for product_id, template_id in templates.items():
            price = own.get(product_id)
            if price is None:
                price = default.get(template_id)
            result[product_id] = _decimal(price)
        return result

    @classmethod
    def cost_prices(cls, product_ids, company_id):
        """{product id: cost price} (get_multivalue('cost_price') for the
        company; a product without one is left out: 0)"""
        CostPrice = Pool().get('product.cost_price')
        result = {}
        for _, product_id, _, price in cls._values(CostPrice, 'product',
                product_ids, company_id, 'cost_price'):
            result.setdefault(product_id, _decimal(price))
        return result


def _decimal(value):
    if value is not None and not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value


def price_list_product(batch, product_id):
    """The PriceListProduct of a product of the push (its record from
    OperationHandler.get_product), loaded with the push's other products"""
    products = batch.__dict__.setdefault('_price_list_products', {})
    if product_id not in products:
        OperationHandler.get_product(product_id, batch)
        products.update(PriceListProduct.load(
                [r for i, r in batch.products.items() if i not in products],
                batch.company.id))
    return products[product_id]
