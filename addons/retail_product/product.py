# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The variant matrix: a template's axes (up to three selection attributes of
its attribute set) and their values (code, price extra), the variants
generated from their combinations, their names, and the stock and price
grids of a template's variants."""
import itertools
import json
from decimal import Decimal
from xml.sax.saxutils import quoteattr

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    ModelSingleton, ModelSQL, ModelView, Unique, fields, sequence_ordered)
from trytond.modules.product import price_digits, round_price
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import barcode
from .exceptions import (
    VariantAxisError, VariantDeleteError, VariantGenerationError)

MAX_AXES = 3
MAX_COMBINATIONS = 200
MATRIX_COLUMNS = 30
# Variants created or written per call where Tryton checks a constraint
# itself: on SQLite, product's code constraint (an exclusion with a
# condition) is checked by a query with one OR clause per record of the
# call, and SQLite's parser overflows past about a hundred
CREATE_SLICE = 50
# Between a template's name and its variant's attribute values, and between
# the values: "Oxford Shirt — M / Light Blue"
NAME_SEPARATOR = " — "
VALUE_SEPARATOR = " / "


def call_slice(Model):
    """How many records of Model one create or write call may take: all of
    them (None) where the database checks every SQL constraint of Model
    itself (PostgreSQL), else CREATE_SLICE"""
    database = Transaction().database
    if all(database.has_constraint(c) for _, c, _ in Model._sql_constraints):
        return None
    return CREATE_SLICE


def slices(Model, records):
    "records in lists of call_slice(Model)"
    size = call_slice(Model) or len(records) or 1
    return [records[i:i + size] for i in range(0, len(records), size)]


def selection_of(attribute):
    "[(key, label)] of a selection attribute"
    return [tuple(v) for v in json.loads(
            attribute.get_selection_json('selection_json'))]


def visible_branches():
    """The branches whose warehouse the user sees (retail's record rules on
    locations: a store manager's own branches, every branch for a super
    admin), by code"""
    pool = Pool()
    Branch = pool.get('retail.branch')
    Location = pool.get('stock.location')
    branches = [b for b in Branch.search([], order=[('code', 'ASC')])
        if b.warehouse]
    with check_access():
        seen = {l.id for l in Location.search([
                    ('id', 'in', [b.warehouse.id for b in branches]),
                    ])}
    return [b for b in branches if b.warehouse.id in seen]


class Configuration(ModelSingleton, metaclass=PoolMeta):
    __name__ = 'product.configuration'
    internal_barcode_prefix = fields.Selection(
        [(None, '')] + [(p, p) for p in barcode.PREFIXES],
        "Internal Barcode Prefix", sort=False,
        help="The first two digits of the EAN-13 codes given to items "
        "without a manufacturer's barcode: 20 to 29 (GS1 restricted "
        "circulation numbers), or 02 where scanners read UPC-A. It must "
        "differ from the prefixes of the weight and price barcode layouts. "
        "Empty means 20.")

    def get_internal_barcode_prefix(self):
        return self.internal_barcode_prefix or barcode.DEFAULT_PREFIX

    @classmethod
    def validate_fields(cls, records, field_names):
        pool = Pool()
        Layout = pool.get('retail.barcode.layout')
        super().validate_fields(records, field_names)
        if field_names and 'internal_barcode_prefix' not in field_names:
            return
        layouts = [l.prefix for l in Layout.search([])]
        for record in records:
            barcode.check_prefix(record.get_internal_barcode_prefix(), layouts)


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'
    variant_axes = fields.One2Many(
        'product.template.variant_axis', 'template', "Variant Axes",
        states={
            'invisible': ~Eval('attribute_set'),
            },
        help="The attributes the variants differ by (up to three), and "
        "their values.")
    variant_combinations = fields.Function(fields.Integer(
            "Combinations",
            states={
                'invisible': ~Eval('attribute_set'),
                }),
        'get_variant_combinations')

    def get_variant_combinations(self, name):
        if not self.variant_axes:
            return 0
        count = 1
        for axis in self.variant_axes:
            count *= len(axis.values)
        return count

    def variant_axes_checked(self):
        """The template's axes, checked for generation: at least one, each
        with a value, at most MAX_COMBINATIONS combinations"""
        axes = list(self.variant_axes)
        if not axes:
            raise VariantGenerationError(gettext(
                    'retail_product.msg_variant_no_axis',
                    template=self.rec_name))
        for axis in axes:
            if not axis.values:
                raise VariantGenerationError(gettext(
                        'retail_product.msg_variant_axis_no_value',
                        template=self.rec_name,
                        attribute=axis.attribute.rec_name))
        return axes

    def variant_combinations_all(self):
        "Every combination of the axes' values: tuples of variant values"
        return list(itertools.product(
                *[list(a.values) for a in self.variant_axes_checked()]))

    def variants_by_key(self):
        """{tuple of the axes' value keys: product} of the template's
        variants, archived ones included"""
        return self._variants_and_blanks()[0]

    @classmethod
    def generate_variants(cls, templates, combinations=None):
        """Create the variants of the templates' missing combinations (all,
        or those of combinations: {template id: [tuple of variant value
        ids]}), with their code, attribute values, internal EAN-13 and
        price; a template's variant without attribute values (the one a new
        template has) becomes the first combination.  Return the products
        created or completed.

        In bulk: one search of each template's variants, one allocation of
        internal codes for all, the products created with their code and
        identifier in one call (in slices on SQLite: call_slice), and their
        prices created afterwards as the company's price records of all of
        them in one call (not a price record per variant through the
        products' multi-value fields)."""
        pool = Pool()
        Product = pool.get('product.product')
        to_create, to_complete = [], []
        # the price values of each variant created, in the order of
        # to_create
        create_prices = []
        for template in templates:
            wanted = template.variant_combinations_all()
            if combinations is not None:
                chosen = {tuple(c) for c in combinations.get(template.id, [])}
                wanted = [c for c in wanted
                    if tuple(v.id for v in c) in chosen]
            existing, blanks = template._variants_and_blanks()
            missing = [c for c in wanted
                if tuple(v.value for v in c) not in existing]
            prices = template._variant_prices_base()
            for combination in missing:
                suffix = '-' + '-'.join(v.code for v in combination)
                values = {
                    'suffix_code': suffix,
                    'attributes': {
                        v.axis.attribute.name: v.value for v in combination},
                    }
                extra = sum((v.price_extra or Decimal(0)
                        for v in combination), Decimal(0))
                price_values = template._variant_price_values(prices, extra)
                if blanks:
                    product = blanks.pop(0)
                    values.update(price_values)
                    to_complete.append((product, values))
                else:
                    values['template'] = template.id
                    # the code Product.sync_code gives, so that it has
                    # nothing to write after the creation
                    values['code'] = Product._variant_code(
                        template.code, suffix)
                    to_create.append(values)
                    create_prices.append(price_values)
        needing = [v for v in to_create] + [
            v for p, v in to_complete
            if not any(i.type == 'ean' for i in p.identifiers)]
        for values, code in zip(needing, barcode.allocate(len(needing))):
            values['identifiers'] = [('create', [{
                            'type': 'ean', 'code': code}])]
        products = []
        for vlist in slices(Product, to_create):
            products.extend(Product.create(vlist))
        Product._create_variant_prices(list(zip(products, create_prices)))
        if to_complete:
            args = []
            for product, values in to_complete:
                args.extend([[product], values])
            Product.write(*args)
            products = [p for p, _ in to_complete] + products
        return products

    def _variants_and_blanks(self):
        """({tuple of the axes' value keys: product}, [products without
        attribute values]) of the template's variants, archived ones
        included, from one search"""
        pool = Pool()
        Product = pool.get('product.product')
        names = [a.attribute.name for a in self.variant_axes]
        with Transaction().set_context(active_test=False):
            products = Product.search([('template', '=', self.id)],
                order=[('id', 'ASC')])
        existing, blanks = {}, []
        for product in products:
            attributes = product.attributes or {}
            if not attributes:
                blanks.append(product)
                continue
            key = tuple(attributes.get(n) for n in names)
            if None not in key:
                existing.setdefault(key, product)
        return existing, blanks

    def _variant_prices_base(self):
        "(list price, gross price or None, taxes) of the template"
        list_price = self.get_multivalue('list_price')
        gross_price = (self.get_multivalue('gross_price')
            if 'gross_price' in self._fields else None)
        taxes = []
        if gross_price is not None and getattr(
                self, 'account_category', None):
            taxes = self.customer_taxes_used
        return list_price, gross_price, taxes

    def _variant_price_values(self, base, extra):
        """The price fields of a variant whose values' extras make extra:
        the template's gross price plus extra (its list price computed
        back from it) when the template has a gross price, else its list
        price plus extra; none (the template's) without extra"""
        pool = Pool()
        Product = pool.get('product.product')
        Tax = pool.get('account.tax')
        Date = pool.get('ir.date')
        list_price, gross_price, taxes = base
        new_list, new_gross = None, None
        if extra and gross_price is not None:
            new_gross = gross_price + extra
            new_list = round_price(Tax.reverse_compute(new_gross, taxes,
                    Date.today()))
        elif extra and list_price is not None:
            new_list = round_price(list_price + extra)
        values = {'list_price': new_list}
        if 'gross_price' in Product._fields:
            values['gross_price'] = new_gross
        return values

    @classmethod
    def update_variant_prices(cls, templates):
        """Set the price of each variant of the templates' axes: the
        template's price plus the price extras of its values (the gross
        price, tax included, when the template has one, its list price
        computed from it; else the list price); a variant without extra
        follows the template's price"""
        pool = Pool()
        Product = pool.get('product.product')
        groups = {}
        for template in templates:
            if not template.variant_axes:
                continue
            extras = {}
            for axis in template.variant_axes:
                for value in axis.values:
                    extras[(axis.attribute.name, value.value)] = (
                        value.price_extra or Decimal(0))
            names = [a.attribute.name for a in template.variant_axes]
            base = template._variant_prices_base()
            for key, product in template.variants_by_key().items():
                extra = sum((extras.get((n, v), Decimal(0))
                        for n, v in zip(names, key)), Decimal(0))
                values = template._variant_price_values(base, extra)
                old = {n: product.get_multivalue(n) for n in values}
                if old != values:
                    groups.setdefault(
                        tuple(sorted(values.items())), []).append(product)
        # one call per slice: a call validates all the records it writes
        with Transaction().set_context(_retail_variant_prices=True):
            for values, products in groups.items():
                for some in slices(Product, products):
                    Product.write(some, dict(values))

    @classmethod
    def write(cls, *args):
        super().write(*args)
        if Transaction().context.get('_retail_variant_prices'):
            return
        actions = iter(args)
        changed = []
        for templates, values in zip(actions, actions):
            if values.keys() & {'list_price', 'gross_price'}:
                changed.extend(templates)
        if changed:
            cls.update_variant_prices(cls.browse(changed))


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def _variant_code(cls, prefix, suffix):
        "The code sync_code gives a variant of prefix (its template's code)"
        code = ''.join(filter(None, [prefix, suffix]))
        if cls.code.strip:
            if cls.code.strip == 'leading':
                code = code.lstrip()
            elif cls.code.strip == 'trailing':
                code = code.rstrip()
            else:
                code = code.strip()
        return code or None

    @classmethod
    def _create_variant_prices(cls, product_prices):
        """Create the company's price records of new variants in one call
        per price model: product_prices is [(product, {field: price or
        None})], None meaning the template's price (no record)"""
        company = Transaction().context.get('company')
        by_model = {}
        for product, values in product_prices:
            for name, price in values.items():
                if price is None:
                    continue
                by_model.setdefault(name, []).append({
                        'template': product.template.id,
                        'product': product.id,
                        'company': company,
                        name: price,
                        })
        for name, vlist in by_model.items():
            cls.multivalue_model(name).create(vlist)

    def variant_values_text(self):
        AttributeAttributeSet = Pool().get(
            'product.attribute-product.attribute-set')
        """The product's attribute values as the back office shows them, in
        the order of its template's variant axes (else of its attribute
        set): "M / Light Blue" """
        template = self.template
        if not self.attributes or not template.attribute_set:
            return ''
        attributes = [a.attribute for a in template.variant_axes] or (
            AttributeAttributeSet.ordered(template.attribute_set))
        texts = []
        for attribute in attributes:
            if attribute.name in self.attributes:
                value = self.attributes[attribute.name]
                text = attribute.format(value)
                if text not in (None, ''):
                    texts.append(str(text))
        return VALUE_SEPARATOR.join(texts)

    def get_rec_name(self, name):
        rec_name = super().get_rec_name(name)
        values = self.variant_values_text()
        if values:
            return rec_name + NAME_SEPARATOR + values
        return rec_name

    @classmethod
    def delete(cls, products):
        pool = Pool()
        Move = pool.get('stock.move')
        for sub in [products[i:i + 1000] for i in range(
                    0, len(products), 1000)]:
            moves = Move.search([('product', 'in', [p.id for p in sub])],
                limit=1)
            if moves:
                product = moves[0].product
                raise VariantDeleteError(gettext(
                        'retail_product.msg_product_delete_moves',
                        product=product.rec_name))
        super().delete(products)

    def has_ean(self):
        return any(i.type == 'ean' for i in self.identifiers)

    @classmethod
    def assign_internal_barcodes(cls, products):
        """Give each product without an EAN identifier an internal EAN-13;
        return the products that received one"""
        pool = Pool()
        Identifier = pool.get('product.identifier')
        wanting = [p for p in products if not p.has_ean()]
        codes = barcode.allocate(len(wanting))
        Identifier.create([{'product': p.id, 'type': 'ean', 'code': c}
                for p, c in zip(wanting, codes)])
        return wanting


class AttributeAttributeSet(metaclass=PoolMeta):
    __name__ = 'product.attribute-product.attribute-set'
    _order_cache = Cache(
        'product.attribute-product.attribute-set.ordered', context=False)

    @classmethod
    def ordered(cls, attribute_set):
        """The attributes of attribute_set in the order they were added to
        it (the order the tills show them in)"""
        pool = Pool()
        Attribute = pool.get('product.attribute')
        ids = cls._order_cache.get(attribute_set.id)
        if ids is None:
            ids = [r.attribute.id for r in cls.search([
                        ('attribute_set', '=', attribute_set.id),
                        ], order=[('id', 'ASC')])]
            cls._order_cache.set(attribute_set.id, ids)
        return Attribute.browse(ids)

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._order_cache.clear()


class VariantAxis(sequence_ordered(), ModelSQL, ModelView):
    "Variant Axis"
    __name__ = 'product.template.variant_axis'
    template = fields.Many2One(
        'product.template', "Product", required=True, ondelete='CASCADE')
    attribute = fields.Many2One(
        'product.attribute', "Attribute", required=True, ondelete='RESTRICT',
        domain=[
            ('type_', '=', 'selection'),
            ('sets', '=', Eval('_parent_template', {}).get(
                    'attribute_set', -1)),
            ],
        help="A selection attribute of the product's attribute set.")
    values = fields.One2Many(
        'product.template.variant_value', 'axis', "Values",
        help="The values the variants take, each with its code (in the "
        "variant's code) and its price extra.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('template_attribute_unique', Unique(t, t.template, t.attribute),
                'retail_product.msg_variant_axis_unique'),
            ]

    def get_rec_name(self, name):
        return self.attribute.rec_name if self.attribute else ''

    @fields.depends('attribute', 'values')
    def on_change_attribute(self):
        "Propose every value of the attribute"
        pool = Pool()
        Value = pool.get('product.template.variant_value')
        if self.attribute and not self.values:
            self.values = [Value(sequence=i, value=key,
                    code=Value.code_of(key), price_extra=Decimal(0))
                for i, (key, _) in enumerate(
                    selection_of(self.attribute), 1)]

    @classmethod
    def validate_fields(cls, axes, field_names):
        super().validate_fields(axes, field_names)
        templates = {a.template for a in axes}
        for template in templates:
            cls.check_template_axes(template)

    @classmethod
    def check_template_axes(cls, template):
        axes = list(template.variant_axes)
        if len(axes) > MAX_AXES:
            raise VariantAxisError(gettext(
                    'retail_product.msg_variant_too_many_axes',
                    template=template.rec_name, max=MAX_AXES))
        count = 1
        for axis in axes:
            attribute = axis.attribute
            if attribute.type_ != 'selection' or (
                    not template.attribute_set
                    or attribute not in template.attribute_set.attributes):
                raise VariantAxisError(gettext(
                        'retail_product.msg_variant_axis_attribute',
                        template=template.rec_name,
                        attribute=attribute.rec_name))
            count *= max(len(axis.values), 1)
        if count > MAX_COMBINATIONS:
            raise VariantAxisError(gettext(
                    'retail_product.msg_variant_too_many_combinations',
                    template=template.rec_name, count=count,
                    max=MAX_COMBINATIONS))


class VariantValue(sequence_ordered(), ModelSQL, ModelView):
    "Variant Value"
    __name__ = 'product.template.variant_value'
    _rec_name = 'value'
    axis = fields.Many2One(
        'product.template.variant_axis', "Axis", required=True,
        ondelete='CASCADE')
    value = fields.Char(
        "Value", required=True,
        help="The key of one of the attribute's selection values.")
    name = fields.Function(fields.Char("Name"), 'on_change_with_name')
    code = fields.Char(
        "Code", required=True,
        help="Appended to the product's code in the variant's code.")
    price_extra = fields.Numeric(
        "Price Extra", digits=price_digits, required=True,
        help="Added to the product's price (tax included when it has a "
        "gross price) for the variants with this value.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('axis_value_unique', Unique(t, t.axis, t.value),
                'retail_product.msg_variant_value_unique'),
            ('axis_code_unique', Unique(t, t.axis, t.code),
                'retail_product.msg_variant_value_code_unique'),
            ]

    @staticmethod
    def code_of(key):
        return ''.join(c for c in str(key).upper() if c.isalnum()) or key

    @classmethod
    def default_price_extra(cls):
        return Decimal(0)

    @fields.depends('value', 'code')
    def on_change_value(self):
        if self.value and not self.code:
            self.code = self.code_of(self.value)

    @fields.depends('value', 'axis', '_parent_axis.attribute')
    def on_change_with_name(self, name=None):
        if self.axis and self.axis.attribute and self.value:
            return dict(selection_of(self.axis.attribute)).get(self.value)

    def get_rec_name(self, name):
        return self.name or self.value

    @classmethod
    def validate_fields(cls, values, field_names):
        super().validate_fields(values, field_names)
        for value in values:
            attribute = value.axis.attribute
            if value.value not in dict(selection_of(attribute)):
                raise VariantAxisError(gettext(
                        'retail_product.msg_variant_value_unknown',
                        value=value.value, attribute=attribute.rec_name))
            code = value.code or ''
            if not code or not all(c.isalnum() or c in '._' for c in code):
                raise VariantAxisError(gettext(
                        'retail_product.msg_variant_value_code',
                        code=code, value=value.rec_name))
        VariantAxis = Pool().get('product.template.variant_axis')
        for template in {v.axis.template for v in values}:
            VariantAxis.check_template_axes(template)

    @classmethod
    def _templates(cls, values):
        return list({v.axis.template for v in values})

    @classmethod
    def create(cls, vlist):
        values = super().create(vlist)
        Pool().get('product.template').update_variant_prices(
            cls._templates(values))
        return values

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        touched = []
        for values, changes in zip(actions, actions):
            if 'price_extra' in changes:
                touched.extend(values)
        if touched:
            Pool().get('product.template').update_variant_prices(
                cls._templates(cls.browse(touched)))


class GenerateVariantsStart(ModelView):
    "Generate Variants"
    __name__ = 'product.template.generate_variants.start'
    template = fields.Many2One('product.template', "Product", readonly=True)
    existing = fields.Integer("Existing Variants", readonly=True)
    combinations = fields.One2Many(
        'product.template.generate_variants.combination', None,
        "Missing Combinations",
        help="Untick the combinations not to create.")


class GenerateVariantsCombination(ModelView):
    "Generate Variants Combination"
    __name__ = 'product.template.generate_variants.combination'
    selected = fields.Boolean("Create")
    name = fields.Char("Variant", readonly=True)
    code = fields.Char("Code", readonly=True)
    price_extra = fields.Numeric(
        "Price Extra", digits=price_digits, readonly=True)
    key = fields.Char("Key", readonly=True)


class GenerateVariants(Wizard):
    "Generate Variants"
    __name__ = 'product.template.generate_variants'
    start = StateView(
        'product.template.generate_variants.start',
        'retail_product.generate_variants_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Generate", 'generate', 'tryton-ok', default=True),
            ])
    generate = StateTransition()

    def default_start(self, fields):
        template = self.record
        combinations = []
        existing = template.variants_by_key()
        for combination in template.variant_combinations_all():
            if tuple(v.value for v in combination) in existing:
                continue
            combinations.append({
                    'selected': True,
                    'name': VALUE_SEPARATOR.join(
                        v.rec_name for v in combination),
                    'code': (template.code or '') + '-' + '-'.join(
                        v.code for v in combination),
                    'price_extra': sum((v.price_extra for v in combination),
                        Decimal(0)),
                    'key': json.dumps([v.id for v in combination]),
                    })
        return {
            'template': template.id,
            'existing': len(existing),
            'combinations': combinations,
            }

    def transition_generate(self):
        pool = Pool()
        Template = pool.get('product.template')
        chosen = [tuple(json.loads(c.key)) for c in self.start.combinations
            if c.selected]
        Template.generate_variants([self.record], {self.record.id: chosen})
        return 'end'

    def end(self):
        return 'reload'


class InternalBarcodeStart(ModelView):
    "Internal Barcodes"
    __name__ = 'product.product.internal_barcode.start'
    without = fields.Integer("Products without EAN", readonly=True)
    prefix = fields.Char("Prefix", readonly=True)


class InternalBarcode(Wizard):
    "Internal Barcodes"
    __name__ = 'product.product.internal_barcode'
    start = StateView(
        'product.product.internal_barcode.start',
        'retail_product.internal_barcode_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Assign", 'assign', 'tryton-ok', default=True),
            ])
    assign = StateTransition()

    def _products(self):
        pool = Pool()
        Product = pool.get('product.product')
        if self.model.__name__ == 'product.template':
            return [p for t in self.records for p in t.products]
        return list(Product.browse(self.records))

    def default_start(self, fields):
        pool = Pool()
        Configuration = pool.get('product.configuration')
        return {
            'without': len([p for p in self._products() if not p.has_ean()]),
            'prefix': Configuration(1).get_internal_barcode_prefix(),
            }

    def transition_assign(self):
        pool = Pool()
        Product = pool.get('product.product')
        Product.assign_internal_barcodes(self._products())
        return 'end'

    def end(self):
        return 'reload'


class VariantMatrixStart(ModelView):
    "Variant Matrix"
    __name__ = 'product.template.variant_matrix.start'
    template = fields.Many2One('product.template', "Product", readonly=True)
    rows = fields.One2Many(
        'product.template.variant_matrix.row', None, "Matrix",
        readonly=True)


class VariantMatrixRow(ModelView):
    "Variant Matrix Row"
    __name__ = 'product.template.variant_matrix.row'
    label = fields.Char("Row", readonly=True)
    total = fields.Char("Total", readonly=True)


for _i in range(1, MATRIX_COLUMNS + 1):
    setattr(VariantMatrixRow, f'c{_i}', fields.Char(str(_i), readonly=True))


class MatrixView(StateView):
    """The matrix's view: the rows' list has a column per value of the
    template's second axis, titled with the value"""

    def get_view(self, wizard, state_name):
        view = dict(super().get_view(wizard, state_name))
        columns, total = wizard.matrix_columns()
        view['fields'] = fields_ = dict(view['fields'])
        fields_['rows'] = rows = dict(fields_['rows'])
        rows['views'] = dict(rows['views'])
        rows['views']['tree'] = tree = dict(rows['views']['tree'])
        arch = ['<tree>', '<field name="label"/>']
        for i, label in enumerate(columns, 1):
            arch.append(f'<field name="c{i}" string={quoteattr(label)}/>')
        if total:
            arch.append('<field name="total"/>')
        arch.append('</tree>')
        tree['arch'] = ''.join(arch)
        return view


class _VariantMatrix(Wizard):
    start = MatrixView(
        'product.template.variant_matrix.start',
        'retail_product.variant_matrix_start_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])
    show_total = False

    def _layout(self):
        """(row axes, column axis or None, column values) of the template:
        the second axis in columns, the first and third in rows"""
        template = self.record
        axes = list(template.variant_axes) if template else []
        if not axes:
            if template is None:
                return [], None, []
            raise VariantGenerationError(gettext(
                    'retail_product.msg_variant_no_axis',
                    template=template.rec_name))
        column = axes[1] if len(axes) > 1 else None
        rows = [axes[0]] + axes[2:]
        values = list(column.values)[:MATRIX_COLUMNS] if column else []
        return rows, column, values

    def matrix_columns(self):
        _, column, values = self._layout()
        if column is None:
            return [self.cell_title()], self.show_total
        return [v.rec_name for v in values], self.show_total

    def cell_title(self):
        raise NotImplementedError

    def sections(self):
        "[(title prefix or '', products context)]"
        return [('', {})]

    def cell(self, product):
        raise NotImplementedError

    def default_start(self, fields):
        pool = Pool()
        Product = pool.get('product.product')
        template = self.record
        row_axes, column, values = self._layout()
        variants = template.variants_by_key()
        names = [a.attribute.name for a in template.variant_axes]
        rows = []
        for prefix, context in self.sections():
            with Transaction().set_context(**context):
                products = {k: Product(p.id) for k, p in variants.items()}
                for combination in itertools.product(
                        *[list(a.values) for a in row_axes]):
                    chosen = {a.attribute.name: v.value
                        for a, v in zip(row_axes, combination)}
                    label = VALUE_SEPARATOR.join(
                        v.rec_name for v in combination)
                    row = {'label': (prefix + label) if prefix else label}
                    total = Decimal(0)
                    for i, value in enumerate(values or [None], 1):
                        if column is not None:
                            chosen[column.attribute.name] = value.value
                        key = tuple(chosen.get(n) for n in names)
                        product = products.get(key)
                        text, number = self.cell(product)
                        row[f'c{i}'] = text
                        total += number or 0
                    row['total'] = self.format_number(total)
                    rows.append(row)
        return {'template': template.id, 'rows': rows}

    @staticmethod
    def format_number(number):
        if number is None:
            return ''
        number = Decimal(str(number)).normalize()
        return '{:f}'.format(number)


class StockMatrix(_VariantMatrix):
    """Stock per variant per branch: a section of rows per branch the user
    sees (record rules of retail.branch), the quantity on hand in its
    warehouse"""
    __name__ = 'product.template.stock_matrix'
    show_total = True

    def cell_title(self):
        return gettext('retail_product.msg_matrix_stock')

    def sections(self):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        return [(f'{b.name} · ', {
                    'locations': [b.warehouse.id], 'stock_date_end': today,
                    'with_childs': True})
            for b in visible_branches()]

    def cell(self, product):
        if product is None:
            return '', None
        quantity = product.quantity
        text = self.format_number(quantity)
        if not product.active:
            text += ' †'
        return text, Decimal(str(quantity))


class PriceMatrix(_VariantMatrix):
    "Price of each variant: its gross price (else its list price)"
    __name__ = 'product.template.price_matrix'

    def cell_title(self):
        return gettext('retail_product.msg_matrix_price')

    def cell(self, product):
        if product is None:
            return '', None
        price = None
        if 'gross_price_used' in product._fields:
            price = product.gross_price_used
        if price is None:
            price = product.list_price_used
        if price is None:
            return '', None
        return str(Decimal(price).quantize(Decimal('0.01'))), None
