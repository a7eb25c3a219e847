# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from stdnum import ean

from trytond import backend
from trytond.model.exceptions import ValidationError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.modules.retail.tests.test_module import create_branch
from trytond.modules.retail.tests.views import (
    unapplied_view_extensions, unrenderable_tree_columns)
from trytond.modules.retail_product import barcode
from trytond.modules.retail_product.exceptions import (
    InternalBarcodeError, VariantDeleteError, VariantGenerationError)
from trytond.modules.retail_product.product import CREATE_SLICE, call_slice
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction


def create_attributes():
    "Size (S, M, L, XL), Colour (white, blue, pink) and their set"
    pool = Pool()
    Attribute = pool.get('product.attribute')
    AttributeSet = pool.get('product.attribute.set')
    size, colour = Attribute.create([{
                'name': 'size', 'string': "Size", 'type_': 'selection',
                'selection': "S:S\nM:M\nL:L\nXL:XL",
                }, {
                'name': 'colour', 'string': "Colour", 'type_': 'selection',
                'selection': "white:White\nblue:Light Blue\npink:Pink",
                }])
    clothing = AttributeSet(name="Clothing", attributes=[size, colour])
    clothing.save()
    return size, colour, clothing


def create_shirt(size, colour, clothing, sizes=('S', 'M', 'L', 'XL'),
        colours=('white', 'blue', 'pink'), extras=None, blank=True,
        values=None):
    """The Oxford Shirt template with its Size × Colour axes (and the blank
    variant a new template has, unless not blank)"""
    pool = Pool()
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    unit, = Uom.search([('name', '=', "Unit")])
    extras = extras or {}
    template, = Template.create([{
                'name': "Oxford Shirt", 'code': 'OXF', 'type': 'goods',
                'default_uom': unit.id, 'list_price': Decimal('40'),
                'attribute_set': clothing.id,
                'products': [('create', [{}])] if blank else [],
                **(values or {}),
                'variant_axes': [('create', [{
                                'sequence': 1, 'attribute': size.id,
                                'values': [('create', [{
                                                'sequence': i, 'value': v,
                                                'code': v,
                                                'price_extra': extras.get(
                                                    v, Decimal(0))}
                                            for i, v in enumerate(sizes)])],
                                }, {
                                'sequence': 2, 'attribute': colour.id,
                                'values': [('create', [{
                                                'sequence': i, 'value': v,
                                                'code': v.upper(),
                                                'price_extra': extras.get(
                                                    v, Decimal(0))}
                                            for i, v in enumerate(colours)])],
                                }])],
                }])
    return template


class RetailProductTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Retail Product module"
    module = 'retail_product'
    extras = ['stock_lot', 'stock_lot_sled']

    @with_transaction()
    def test_tree_views_renderable(self):
        "Every list column has a widget the web client can draw"
        self.assertEqual(unrenderable_tree_columns('retail_product'), [])

    @with_transaction()
    def test_view_extensions_applied(self):
        "Every view extension of the module is applied to the view it targets"
        self.assertEqual(unapplied_view_extensions('retail_product'), [])

    @with_transaction()
    def test_generate_all_combinations(self):
        "Generating makes one variant per combination, named by its values"
        pool = Pool()
        Template = pool.get('product.template')
        company = create_company()
        with set_company(company):
            template = create_shirt(*create_attributes())
            self.assertEqual(template.variant_combinations, 12)
            Template.generate_variants([template])
            template = Template(template.id)
            products = template.products
            self.assertEqual(len(products), 12)
            codes = sorted(p.code for p in products)
            self.assertIn('OXF-M-BLUE', codes)
            self.assertEqual(len(set(codes)), 12)
            names = {p.code: p.rec_name for p in products}
            self.assertEqual(names['OXF-M-BLUE'],
                "[OXF-M-BLUE] Oxford Shirt — M / Light Blue")
            # the template's first (blank) variant became a combination
            self.assertTrue(all(p.attributes for p in products))

    @with_transaction()
    def test_variant_barcodes_internal_ean13(self):
        "Each generated variant has its own valid internal EAN-13"
        pool = Pool()
        Template = pool.get('product.template')
        company = create_company()
        with set_company(company):
            template = create_shirt(*create_attributes())
            products = Template.generate_variants([template])
            codes = [i.code for p in products for i in p.identifiers
                if i.type == 'ean']
            self.assertEqual(len(codes), 12)
            self.assertEqual(len(set(codes)), 12)
            for code in codes:
                self.assertTrue(ean.is_valid(code), code)
                self.assertTrue(code.startswith('20'), code)

    @with_transaction()
    def test_regenerate_adds_only_missing(self):
        "Adding a value later and re-running generates only its column"
        pool = Pool()
        Template = pool.get('product.template')
        Attribute = pool.get('product.attribute')
        Value = pool.get('product.template.variant_value')
        company = create_company()
        with set_company(company):
            size, colour, clothing = create_attributes()
            template = create_shirt(size, colour, clothing)
            first = Template.generate_variants([template])
            self.assertEqual(len(first), 12)
            colour.selection += "\nblack:Black"
            colour.save()
            colour_axis = template.variant_axes[1]
            Value.create([{'axis': colour_axis.id, 'value': 'black',
                        'code': 'BLACK', 'sequence': 9}])
            second = Template.generate_variants([Template(template.id)])
            self.assertEqual(len(second), 4)
            self.assertEqual({p.attributes['colour'] for p in second},
                {'black'})
            self.assertEqual(len(Template(template.id).products), 16)
            # Nothing missing: nothing more
            self.assertEqual(
                Template.generate_variants([Template(template.id)]), [])
            self.assertTrue(Attribute.search([('name', '=', 'colour')]))

    @with_transaction()
    def test_generate_chosen_subset(self):
        "Only the chosen combinations are generated"
        pool = Pool()
        Template = pool.get('product.template')
        company = create_company()
        with set_company(company):
            template = create_shirt(*create_attributes())
            sizes, colours = [list(a.values) for a in template.variant_axes]
            chosen = [(sizes[1].id, colours[0].id), (sizes[2].id,
                    colours[2].id)]
            products = Template.generate_variants([template],
                {template.id: chosen})
            self.assertEqual(sorted(p.code for p in products),
                ['OXF-L-PINK', 'OXF-M-WHITE'])

    @with_transaction()
    def test_price_extra(self):
        "A value's price extra is added to its variants' price"
        pool = Pool()
        Template = pool.get('product.template')
        Value = pool.get('product.template.variant_value')
        company = create_company()
        with set_company(company):
            template = create_shirt(*create_attributes(),
                extras={'XL': Decimal('5'), 'pink': Decimal('2.50')})
            Template.generate_variants([template])
            prices = {p.code: p.list_price_used
                for p in Template(template.id).products}
            self.assertEqual(prices['OXF-M-WHITE'], Decimal('40'))
            self.assertEqual(prices['OXF-XL-WHITE'], Decimal('45'))
            self.assertEqual(prices['OXF-XL-PINK'], Decimal('47.50'))
            # the template's price moves the variants' prices
            Template.write([template], {'list_price': Decimal('50')})
            prices = {p.code: p.list_price_used
                for p in Template(template.id).products}
            self.assertEqual(prices['OXF-M-WHITE'], Decimal('50'))
            self.assertEqual(prices['OXF-XL-PINK'], Decimal('57.50'))
            # so does a changed extra
            pink, = Value.search([('value', '=', 'pink')])
            Value.write([pink], {'price_extra': Decimal('1')})
            prices = {p.code: p.list_price_used
                for p in Template(template.id).products}
            self.assertEqual(prices['OXF-S-PINK'], Decimal('51'))

    @with_transaction()
    def test_variant_prices_created_in_bulk(self):
        """Generated variants get a price record only when their values add
        an extra: the gross price plus the extra when the template has a
        gross price, its list price computed back; the others follow the
        template's prices"""
        pool = Pool()
        Template = pool.get('product.template')
        ListPrice = pool.get('product.list_price')
        GrossPrice = pool.get('product.gross_price')
        company = create_company()
        with set_company(company):
            template = create_shirt(*create_attributes(),
                extras={'XL': Decimal('5'), 'pink': Decimal('2.50')},
                blank=False, values={'gross_price': Decimal('48')})
            products = Template.generate_variants([template])
            self.assertEqual(len(products), 12)
            by_code = {p.code: p for p in products}
            with_extra = {c for c in by_code if 'XL' in c or 'PINK' in c}
            self.assertEqual(len(with_extra), 6)
            for model in [ListPrice, GrossPrice]:
                records = model.search([
                        ('product', 'in', [p.id for p in products])])
                self.assertEqual(
                    sorted(r.product.code for r in records),
                    sorted(with_extra))
                self.assertTrue(all(r.company == company for r in records))
                self.assertTrue(all(r.template == template for r in records))
            gross = {c: p.gross_price_used for c, p in by_code.items()}
            self.assertEqual(gross['OXF-M-WHITE'], Decimal('48'))
            self.assertEqual(gross['OXF-XL-WHITE'], Decimal('53'))
            self.assertEqual(gross['OXF-XL-PINK'], Decimal('55.50'))
            # no taxes: the list price is the gross price
            lists = {c: p.list_price_used for c, p in by_code.items()}
            self.assertEqual(lists['OXF-M-WHITE'], Decimal('40'))
            self.assertEqual(lists['OXF-S-PINK'], Decimal('50.50'))
            # the code is the one Tryton's sync_code gives
            self.assertEqual(
                sorted(by_code), sorted(''.join(
                        filter(None, [p.prefix_code, p.suffix_code]))
                    for p in products))

    @with_transaction()
    def test_variants_beyond_one_slice(self):
        """More variants than a slice of SQLite's calls (4 sizes × 15
        colours = 60) are all created, each with its code, EAN-13 and name,
        and a change of the template's price reaches all of them: in one
        call where the database checks the products' constraints itself
        (PostgreSQL), in slices on SQLite"""
        pool = Pool()
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        company = create_company()
        self.assertEqual(call_slice(Product),
            None if backend.name == 'postgresql' else CREATE_SLICE)
        with set_company(company):
            size, colour, clothing = create_attributes()
            keys = [f'c{i:02d}' for i in range(15)]
            colour.selection = '\n'.join(f'{k}:Colour {k}' for k in keys)
            colour.save()
            template = create_shirt(size, colour, clothing, colours=keys,
                extras={'c14': Decimal('3')}, blank=False)
            products = Template.generate_variants([template])
            self.assertEqual(len(products), 60)
            self.assertGreater(len(products), CREATE_SLICE)
            codes = {p.code for p in products}
            self.assertEqual(len(codes), 60)
            self.assertIn('OXF-XL-C14', codes)
            eans = [i.code for p in products for i in p.identifiers]
            self.assertEqual(len(set(eans)), 60)
            self.assertTrue(all(ean.is_valid(c) for c in eans))
            names = {p.rec_name for p in products}
            self.assertIn("[OXF-M-C07] Oxford Shirt — M / Colour c07", names)

            Template.write([template], {'list_price': Decimal('50')})
            prices = {p.code: p.list_price_used
                for p in Product.browse(products)}
            self.assertEqual(prices['OXF-S-C00'], Decimal('50'))
            self.assertEqual(
                {c: v for c, v in prices.items() if c.endswith('-C14')},
                {f'OXF-{s}-C14': Decimal('53')
                    for s in ['S', 'M', 'L', 'XL']})

    @with_transaction()
    def test_variant_name_in_attribute_set_order(self):
        """A variant made without axes is named with its values in the
        order of its attribute set, as the tills show them"""
        pool = Pool()
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        company = create_company()
        with set_company(company):
            size, colour, clothing = create_attributes()
            unit, = Uom.search([('name', '=', "Unit")])
            template, = Template.create([{'name': "Derby", 'code': 'DRB',
                        'type': 'goods', 'default_uom': unit.id,
                        'attribute_set': clothing.id,
                        'products': [('create', [{'suffix_code': '-1',
                                        'attributes': {'colour': 'pink',
                                            'size': 'XL'}}])]}])
            product, = template.products
            self.assertEqual(product.rec_name,
                "[DRB-1] Derby — XL / Pink")

    @with_transaction()
    def test_too_many_combinations(self):
        "More than 200 combinations are refused, nothing is created"
        pool = Pool()
        Value = pool.get('product.template.variant_value')
        company = create_company()
        with set_company(company):
            size, colour, clothing = create_attributes()
            template = create_shirt(size, colour, clothing)
            keys = [f'v{i}' for i in range(60)]
            colour.selection = '\n'.join(f'{k}:{k}' for k in keys)
            colour.save()
            axis = template.variant_axes[1]
            Value.delete(list(axis.values))
            with self.assertRaises(ValidationError):
                Value.create([{'axis': axis.id, 'value': k, 'code': k}
                        for k in keys])

    @with_transaction()
    def test_unknown_value_refused(self):
        "A value that is not in the attribute's selection is refused"
        pool = Pool()
        Value = pool.get('product.template.variant_value')
        company = create_company()
        with set_company(company):
            template = create_shirt(*create_attributes())
            with self.assertRaises(ValidationError):
                Value.create([{'axis': template.variant_axes[0].id,
                            'value': 'XXL', 'code': 'XXL'}])

    @with_transaction()
    def test_generate_without_axis(self):
        "Generating without axes says what to do"
        pool = Pool()
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        company = create_company()
        with set_company(company):
            unit, = Uom.search([('name', '=', "Unit")])
            template, = Template.create([{'name': "Plain", 'type': 'goods',
                        'default_uom': unit.id}])
            with self.assertRaises(VariantGenerationError):
                Template.generate_variants([template])

    @with_transaction()
    def test_archive_keeps_history_delete_refused(self):
        """A variant with stock moves cannot be deleted (archive it); an
        archived variant is not generated again"""
        pool = Pool()
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        company = create_company()
        with set_company(company):
            template = create_shirt(*create_attributes())
            products = Template.generate_variants([template])
            product = products[0]
            supplier, = Location.search([('code', '=', 'SUP')])
            storage, = Location.search([('code', '=', 'STO')])
            move, = Move.create([{'product': product.id,
                        'unit': product.default_uom.id, 'quantity': 3,
                        'from_location': supplier.id,
                        'to_location': storage.id,
                        'unit_price': Decimal('10'),
                        'currency': company.currency.id}])
            Move.do([move])
            with self.assertRaises(VariantDeleteError):
                Product.delete([product])
            Product.write([product], {'active': False})
            self.assertEqual(
                Template.generate_variants([Template(template.id)]), [])
            self.assertEqual(Move(move.id).product, product)
            # a variant without moves can be deleted
            Product.delete([products[1]])

    @with_transaction()
    def test_internal_barcode_assign(self):
        "Products without EAN get consecutive internal codes, others keep"
        pool = Pool()
        Template = pool.get('product.template')
        Product = pool.get('product.product')
        Uom = pool.get('product.uom')
        company = create_company()
        with set_company(company):
            unit, = Uom.search([('name', '=', "Unit")])
            branded = {'identifiers': [('create', [{
                                'type': 'ean', 'code': '5412999000018'}])]}
            template, = Template.create([{'name': "Jam", 'type': 'goods',
                        'default_uom': unit.id,
                        'products': [('create', [{}, branded])]}])
            got = Product.assign_internal_barcodes(template.products)
            self.assertEqual(len(got), 1)
            codes = [i.code for p in Template(template.id).products
                for i in p.identifiers]
            self.assertEqual(sorted(codes),
                sorted(['2000000000015', '5412999000018']))
            # the next one follows the highest given
            self.assertEqual(barcode.allocate(2),
                ['2000000000022', '2000000000039'])

    @with_transaction()
    def test_internal_barcode_prefix(self):
        "The prefix is configurable, and cannot be a layout's prefix"
        pool = Pool()
        Configuration = pool.get('product.configuration')
        Layout = pool.get('retail.barcode.layout')
        company = create_company()
        with set_company(company):
            Layout.create([{'prefix': '21', 'kind': 'weight',
                        'item_digits': 5, 'value_digits': 5,
                        'value_decimals': 3}])
            config = Configuration(1)
            config.internal_barcode_prefix = '21'
            with self.assertRaises(InternalBarcodeError):
                config.save()
            config = Configuration(1)
            config.internal_barcode_prefix = '02'
            config.save()
            code, = barcode.allocate(1)
            self.assertTrue(code.startswith('02'))
            self.assertTrue(ean.is_valid(code))
            self.assertEqual(len(code), 13)
            # and a layout cannot take the internal prefix
            with self.assertRaises(InternalBarcodeError):
                Layout.create([{'prefix': '02', 'kind': 'price',
                            'item_digits': 5, 'value_digits': 5,
                            'value_decimals': 2}])

    def test_make_code_check_digit(self):
        "The check digit of an internal code is the EAN-13 one"
        self.assertEqual(barcode.make_code('20', 1), '2000000000015')
        self.assertEqual(barcode.make_code('29', 1234567890),
            '2912345678906')
        for n in [0, 7, 99999, 9999999999]:
            self.assertTrue(ean.is_valid(barcode.make_code('25', n)))

    @with_transaction()
    def test_stock_matrix(self):
        "The stock matrix has a row per branch and size, a column per colour"
        pool = Pool()
        Template = pool.get('product.template')
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        StockMatrix = pool.get('product.template.stock_matrix',
            type='wizard')
        PriceMatrix = pool.get('product.template.price_matrix',
            type='wizard')
        company = create_company()
        with set_company(company):
            branch = create_branch(company, 'B1', "Boutique")
            template = create_shirt(*create_attributes(),
                extras={'XL': Decimal('5')})
            products = {p.code: p
                for p in Template.generate_variants([template])}
            supplier, = Location.search([('code', '=', 'SUP')])
            moves = Move.create([{'product': products[c].id,
                        'unit': products[c].default_uom.id, 'quantity': q,
                        'from_location': supplier.id,
                        'to_location': branch.warehouse.storage_location.id,
                        'unit_price': Decimal('10'),
                        'currency': company.currency.id}
                    for c, q in [('OXF-M-BLUE', 4), ('OXF-S-WHITE', 2)]])
            Move.do(moves)
            with self._wizard_context(template):
                session_id, _, _ = StockMatrix.create()
                result = StockMatrix.execute(session_id, {}, 'start')
            view = result['view']['fields_view']
            defaults = result['view']['defaults']
            tree = view['fields']['rows']['views']['tree']['arch']
            self.assertIn('string="Light Blue"', tree)
            self.assertNotIn('name="c4"', tree)
            rows = {r['label']: r for r in defaults['rows']}
            self.assertEqual(len(rows), 4)
            medium = rows["Boutique · M"]
            self.assertEqual((medium['c1'], medium['c2'], medium['c3'],
                    medium['total']), ('0', '4', '0', '4'))
            self.assertEqual(rows["Boutique · S"]['total'], '2')
            with self._wizard_context(template):
                session_id, _, _ = PriceMatrix.create()
                result = PriceMatrix.execute(session_id, {}, 'start')
            defaults = result['view']['defaults']
            rows = {r['label']: r for r in defaults['rows']}
            self.assertEqual(rows['XL']['c1'], '45.00')
            self.assertEqual(rows['S']['c2'], '40.00')

    def _wizard_context(self, template):
        from trytond.transaction import Transaction
        return Transaction().set_context(active_model='product.template',
            active_id=template.id, active_ids=[template.id])


del ModuleTestCase
