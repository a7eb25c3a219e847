# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The variants the tills pull: their back-office name and attribute order"
import unittest

from trytond.modules.retail_sync.pull import Scope
from trytond.modules.retail_sync.tests.tools import committed, setup_shop
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from .test_module import create_attributes, create_shirt


class VariantSyncTestCase(unittest.TestCase):
    "A variant at the till is named as in the back office"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module(['retail_product', 'retail_sync'])
        cls._shop = committed(
            lambda: setup_shop(code='VS', prefix='VSA', products=1))

    @with_transaction()
    def test_variant_name_and_attributes_as_the_back_office(self):
        """The till's name of a variant is its back-office name without the
        code, its attributes in the order of the template's axes"""
        pool = Pool()
        Pull = pool.get('retail.sync.pull')
        Template = pool.get('product.template')
        Terminal = pool.get('sale.point')
        shop = self._shop
        Transaction().set_context(company=shop.company)
        size, colour, clothing = create_attributes()
        # The set lists colour first; the axes say size, then colour
        clothing.attributes = [colour, size]
        clothing.save()
        template = create_shirt(size, colour, clothing,
            sizes=('S', 'M'), colours=('white', 'blue'))
        Template.generate_variants([template])
        template = Template(template.id)
        Template.write([template], {'salable': True,
                'sale_uom': template.default_uom.id})
        variant, = [p for p in template.products if p.code == 'OXF-M-BLUE']
        self.assertEqual(variant.rec_name,
            "[OXF-M-BLUE] Oxford Shirt — M / Light Blue")
        data = Pull.serialise('product', [variant.id],
            Scope(Terminal(shop.terminal)))[variant.id]
        self.assertEqual(data['name'], "Oxford Shirt — M / Light Blue")
        self.assertEqual(data['template_name'], "Oxford Shirt")
        self.assertEqual(
            [(a['name'], a['value'], a['text']) for a in data['attributes']],
            [('size', 'M', 'M'), ('colour', 'blue', 'Light Blue')])
