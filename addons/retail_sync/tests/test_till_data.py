# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""What the till shows from a pull: customers only (not the company nor the
employees), variants named by their attribute values, the branch's idle
lock time and the branch's quick keys."""
from decimal import Decimal

from trytond.modules.company.tests import set_company
from trytond.modules.retail.tests.test_module import (
    create_branch, create_terminal)
from trytond.modules.retail_sync.pull import Scope, bootstrap_page, delta
from trytond.modules.retail_sync.serialise import SERIALIZERS
from trytond.modules.retail_sync.tests.tools import (
    pull_own_changes, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)


class TillDataTestCase(TestCase):
    "The records of a pull that the till's screens show"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_sync', 'product_attribute'])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def setUp(self):
        super().setUp()
        pull_own_changes(self)

    def scope(self, shop):
        return Scope(Pool().get('sale.point')(shop.terminal))

    def bootstrap(self, scope):
        records, token = {}, None
        while True:
            page, token, _, _ = bootstrap_page(scope, token, 1000)
            for kind, values in page.items():
                records.setdefault(kind, []).extend(values)
            if token is None:
                return records

    @with_transaction()
    def test_customers_are_not_the_company_nor_employees(self):
        "The customer kind holds customers, not the company or employees"
        pool = Pool()
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        Employee = pool.get('company.employee')
        shop = setup_shop()
        customer = Party(name="Ana Customer")
        customer.save()
        company = Company(shop.company)
        employee = Employee(shop.employee)
        scope = self.scope(shop)
        records = self.bootstrap(scope)
        names = {c['name'] for c in records.get('customer', [])}
        self.assertIn("Ana Customer", names)
        self.assertNotIn(company.party.name, names)
        self.assertNotIn(employee.party.name, names)
        cursor = Pool().get('retail.sync.change').start_cursor()
        # a customer hired: the tills drop them from their customers
        with set_company(company):
            Employee(party=customer, company=company).save()
        changes, _, _ = delta(scope, cursor, 100)
        self.assertIn(
            {'kind': 'customer', 'id': customer.id, 'op': 'delete',
                'data': None}, changes)

    @with_transaction()
    def test_variants_are_named_by_their_attribute_values(self):
        "Twelve shirts are twelve names: size, then colour"
        pool = Pool()
        Attribute = pool.get('product.attribute')
        AttributeSet = pool.get('product.attribute.set')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        shop = setup_shop()
        size = Attribute(name='size', string="Size", type_='selection',
            selection="S:S\nM:M\nL:L")
        size.save()
        colour = Attribute(name='colour', string="Colour",
            type_='selection', selection="white:White\nblue:Light Blue")
        colour.save()
        clothing = AttributeSet(name="Clothing", attributes=[size, colour])
        clothing.save()
        unit, = Uom.search([('name', '=', 'Unit')])
        with set_company(pool.get('company.company')(shop.company)):
            template, = Template.create([{
                        'name': "Oxford Shirt", 'default_uom': unit.id,
                        'sale_uom': unit.id,
                        'type': 'goods', 'salable': True,
                        'list_price': Decimal('49.95'),
                        'attribute_set': clothing.id,
                        'products': [('create', [
                                    {'attributes': {'size': s, 'colour': c},
                                        'suffix_code': f'-{s}-{c}'}
                                    for s in ['S', 'M', 'L']
                                    for c in ['white', 'blue']])],
                        }])
        ids = [p.id for p in template.products]
        data = SERIALIZERS['product'](ids, self.scope(shop))
        names = sorted(data[i]['name'] for i in ids)
        self.assertEqual(len(set(names)), 6)
        self.assertIn("Oxford Shirt (M, Light Blue)", names)
        medium_blue, = [data[i] for i in ids
            if data[i]['name'] == "Oxford Shirt (M, Light Blue)"]
        self.assertEqual(medium_blue['template_name'], "Oxford Shirt")
        self.assertEqual(medium_blue['attributes'], [
                {'name': 'size', 'label': "Size", 'value': 'M',
                    'text': 'M'},
                {'name': 'colour', 'label': "Colour", 'value': 'blue',
                    'text': "Light Blue"}])
        # a product without attributes keeps its name
        plain = SERIALIZERS['product'](shop.products[:1], self.scope(shop))
        self.assertEqual(plain[shop.products[0]]['attributes'], [])
        self.assertEqual(plain[shop.products[0]]['name'],
            plain[shop.products[0]]['template_name'])

    @with_transaction()
    def test_branch_sends_its_idle_lock_time(self):
        "lock_after_minutes: 5 unless the branch sets another, 0 never"
        Branch = Pool().get('retail.branch')
        shop = setup_shop()
        scope = self.scope(shop)
        data = SERIALIZERS['branch']([shop.branch], scope)
        self.assertEqual(data[shop.branch]['lock_after_minutes'], 5)
        cursor = Pool().get('retail.sync.change').start_cursor()
        Branch.write([Branch(shop.branch)], {'lock_after_minutes': 2})
        changes, _, _ = delta(scope, cursor, 100)
        branch, = [c for c in changes if c['kind'] == 'branch']
        self.assertEqual(branch['data']['lock_after_minutes'], 2)
        with self.assertRaises(Exception):
            Branch.write([Branch(shop.branch)], {'lock_after_minutes': -1})

    @with_transaction()
    def test_quick_keys_reach_their_branch_s_tills_only(self):
        pool = Pool()
        QuickKey = pool.get('retail.quick_key')
        Branch = pool.get('retail.branch')
        Company = pool.get('company.company')
        shop = setup_shop()
        company = Company(shop.company)
        with set_company(company):
            other = create_branch(company, code='S9', name="Other")
            other_terminal = create_terminal(other, 'S9A')
        first, second = shop.products[:2]
        keys = QuickKey.create([
                {'branch': shop.branch, 'product': second, 'sequence': 2,
                    'colour': 'green'},
                {'branch': shop.branch, 'product': first, 'sequence': 1,
                    'label': "Espresso"},
                {'branch': other.id, 'product': first, 'sequence': 1},
                ])
        scope = self.scope(shop)
        records = self.bootstrap(scope)
        got = sorted(records['quick_key'], key=lambda k: k['sequence'])
        self.assertEqual(got, [
                {'id': keys[1].id, 'sequence': 1, 'product': first,
                    'label': "Espresso", 'colour': None},
                {'id': keys[0].id, 'sequence': 2, 'product': second,
                    'label': pool.get('product.product')(second).name,
                    'colour': 'green'}])
        # a key moved to the other branch leaves this branch's tills
        cursor = pool.get('retail.sync.change').start_cursor()
        QuickKey.write([keys[0]], {'branch': other.id})
        changes, _, _ = delta(scope, cursor, 100)
        self.assertIn({'kind': 'quick_key', 'id': keys[0].id,
                'op': 'delete', 'data': None}, changes)
        other_scope = Scope(pool.get('sale.point')(other_terminal.id))
        changes, _, _ = delta(other_scope, cursor, 100)
        moved, = [c for c in changes if c['kind'] == 'quick_key']
        self.assertEqual((moved['op'], moved['data']['product']),
            ('upsert', second))
        self.assertEqual(Branch(shop.branch).code, 'S1')


del TestCase
