# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The till computes the branch price list as the server does: the server's
price_list.compute and the till's evaluator (pricing.js, run with node) on
the records the pull sends; and the tills' settings record."""
import contextlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path
from unittest import mock

from trytond import backend
from trytond.modules.company.tests import create_company
from trytond.modules.product import round_price
from trytond.modules.retail_sync.changelog import SETTINGS_ID
from trytond.modules.retail_sync.price_check import PriceListProduct
from trytond.modules.retail_sync.pull import Scope, bootstrap_page, delta
from trytond.modules.retail_sync.serialise import SERIALIZERS
from trytond.modules.retail_sync.tests.tools import (
    pull_own_changes, push_and_post, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

CLIENT = Path(__file__).resolve().parents[3] / 'pos_offline_client'

# The till's side: put the pulled records in a Catalog and price each case
NODE_SCRIPT = """
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [fixture, client] = process.argv.slice(2);
const { Catalog } = await import(
  pathToFileURL(`${client}/src/services/catalog.js`));
const scenarios = JSON.parse(readFileSync(fixture, 'utf8'));
const out = [];
for (const s of scenarios) {
  const catalog = new Catalog();
  catalog.putRecords(s.records);
  for (const c of s.cases) {
    const product = catalog.map('product').get(c.product);
    const r = catalog.branchPrice(product, c.milli);
    out.push({
      gross: r.gross, untaxed: r.untaxed, source: r.source, notice: r.notice,
    });
  }
}
process.stdout.write(JSON.stringify(out));
"""

FORMULAS = [
    'unit_price',
    'unit_price * Decimal("1.05")',
    "unit_price * Decimal('0.95')",
    'unit_price * 1.05',
    'list_price / 3',
    'unit_price / 7 * 3 + 0.005',
    '-unit_price + 2 * list_price',
    '(unit_price + Decimal("0.015")) * 0.9',
    'unit_price * Decimal("2") / 3',
    '12.3456789',
    'Decimal("1e1") - unit_price / 9',
    'unit_price * 2 / 3 * 0.000075 * 1000000',
    '- - unit_price / Decimal("1.21")',
    ]
QUANTITIES = ['1', '0.5', '0.1', '10', '12.345', '-3', '100']
LIST_PRICES = ['2.3456', '8.2645', '0.0001', '19.9900', '1234.5675']


class SyncDatabaseTestCase(TestCase):
    "A database of its own with retail_sync, dropped afterwards"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module('retail_sync')

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def setUp(self):
        super().setUp()
        pull_own_changes(self)


class PriceListOfflineTestCase(SyncDatabaseTestCase):
    "The till's price equals the server's"

    def node(self, scenarios):
        node = shutil.which('node')
        if not node:
            self.skipTest("node is not installed")
        with tempfile.TemporaryDirectory() as tmp:
            fixture = os.path.join(tmp, 'fixture.json')
            script = os.path.join(tmp, 'price.mjs')
            with open(fixture, 'w') as f:
                json.dump(scenarios, f)
            with open(script, 'w') as f:
                f.write(NODE_SCRIPT)
            result = subprocess.run(
                [node, script, fixture, str(CLIENT)],
                capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def records(self, shop, kinds_ids):
        "The records the pull sends to the shop's terminal"
        scope = Scope(Pool().get('sale.point')(shop.terminal))
        records = {}
        for kind, ids in kinds_ids.items():
            data = SERIALIZERS[kind](ids, scope)
            records[kind] = [data[i] for i in ids if data.get(i)]
        return records

    def make_shop(self):
        pool = Pool()
        Category = pool.get('product.category')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        shop = setup_shop(code='PX', prefix='PXA', products=len(LIST_PRICES))
        Transaction().set_context(company=shop.company)
        fruit = Category(name="Fruit")
        fruit.save()
        apples = Category(name="Apples", parent=fruit)
        apples.save()
        wine = Category(name="Wine")
        wine.save()
        products = Product.browse(shop.products)
        for product, price, categories in zip(
                products, LIST_PRICES,
                [[apples], [fruit], [wine], [], [apples, wine]]):
            Template.write([product.template], {
                    'list_price': Decimal(price),
                    'categories': [('add', [c.id for c in categories])],
                    })
        shop.fruit, shop.apples, shop.wine = fruit.id, apples.id, wine.id
        return shop

    def scenario(self, shop, price_list, extra_cases=()):
        "Server prices and the fixture of the till for a price list"
        pool = Pool()
        Branch = pool.get('retail.branch')
        Product = pool.get('product.product')
        Tax = pool.get('account.tax')
        Branch.write([Branch(shop.branch)], {'price_list': price_list.id})
        Date = pool.get('ir.date')
        today = Date.today()
        products = Product.browse(shop.products)
        cases, expected = [], []
        for product in products:
            for quantity in QUANTITIES:
                price = price_list.compute(
                    product, Decimal(quantity), product.sale_uom)
                taxes = product.account_category.customer_taxes_used
                if price is None:
                    gross = untaxed = None
                elif price_list.tax_included:
                    gross = price
                    untaxed = round_price(Tax.reverse_compute(
                            price, taxes, date=today))
                else:
                    untaxed = price
                    gross = round_price(price + sum(
                            t['amount'] for t in Tax.compute(
                                taxes, price, 1, date=today)))
                cases.append({'product': product.id,
                        'milli': int(Decimal(quantity) * 1000)})
                expected.append((product.id, quantity, price, gross, untaxed))
        Uom = pool.get('product.uom')
        Category = pool.get('product.category')
        records = self.records(shop, {
                'branch': [shop.branch],
                'uom': [u.id for u in Uom.search([])],
                'category': [c.id for c in Category.search([])],
                'tax': [shop.tax],
                'price_list': [price_list.id],
                'product': shop.products,
                })
        return {'records': records, 'cases': cases}, expected

    def price_list(self, shop, formula, **values):
        PriceList = Pool().get('product.price_list')
        price_list, = PriceList.create([{
                    'name': formula, 'price': 'list_price',
                    'lines': [('create', [
                                {'product': shop.products[1],
                                    'quantity': 10, 'formula': '5'},
                                {'category': shop.fruit, 'quantity': 0.5,
                                    'formula': f'({formula}) * 2'},
                                {'formula': formula},
                                ])],
                    **values}])
        return price_list

    @with_transaction()
    def test_till_price_equals_server_compute(self):
        "For each formula, product and quantity: the same unit prices"
        shop = self.make_shop()
        scenarios, expected = [], []
        for formula in FORMULAS:
            for values in [{}, {'tax_included': True}]:
                scenario, exp = self.scenario(
                    shop, self.price_list(shop, formula, **values))
                scenarios.append(scenario)
                expected.extend(exp)
        results = self.node(scenarios)
        self.assertEqual(len(results), len(expected))
        compared = 0
        for (product, quantity, price, gross, untaxed), till in zip(
                expected, results):
            with self.subTest(product=product, quantity=quantity):
                self.assertIsNotNone(price)
                self.assertEqual(till['source'], 'price_list')
                self.assertEqual(Decimal(till['untaxed']), untaxed)
                self.assertEqual(Decimal(till['gross']), gross)
                compared += 1
        self.assertEqual(compared, len(FORMULAS) * 2 * len(LIST_PRICES)
            * len(QUANTITIES))

    @with_transaction()
    def test_line_not_offline_falls_back_with_notice(self):
        "A line the till cannot compute: own price and a notice, never a guess"
        pool = Pool()
        PriceList = pool.get('product.price_list')
        Warning = pool.get('res.user.warning')
        shop = self.make_shop()
        with mock.patch.object(Warning, 'check', return_value=False):
            price_list, = PriceList.create([{
                        'name': "Margin", 'price': 'list_price',
                        'lines': [('create', [
                                    {'category': shop.wine,
                                        'formula': 'cost_price * 1.3'},
                                    {'formula': 'unit_price * 1.05'},
                                    ])],
                        }])
            scenario, expected = self.scenario(shop, price_list)
        sent = scenario['records']['price_list'][0]
        self.assertEqual([line['offline'] for line in sent['lines']],
            [False, True])
        self.assertEqual(sent['price'], 'list_price')
        results = self.node([scenario])
        wine = {shop.products[2], shop.products[4]}
        for (product, quantity, price, gross, untaxed), till in zip(
                expected, results):
            with self.subTest(product=product, quantity=quantity):
                if product in wine:
                    self.assertEqual(till['source'], 'base')
                    self.assertEqual(till['notice'], 'price-not-offline')
                    # The product's own price from the server
                    self.assertEqual(Decimal(till['gross']), Decimal('12'))
                else:
                    self.assertEqual(till['notice'], None)
                    self.assertEqual(Decimal(till['untaxed']), price)

    @with_transaction()
    def test_price_list_without_base_gives_no_price(self):
        "A list without a price base: no price on either side"
        shop = self.make_shop()
        price_list = self.price_list(shop, 'unit_price * 2', price=None)
        scenario, expected = self.scenario(shop, price_list)
        results = self.node([scenario])
        for (product, quantity, price, *_), till in zip(expected, results):
            if product == shop.products[1] and Decimal(quantity) >= 10:
                # The product's own line: a constant
                self.assertEqual(price, Decimal('5'))
                self.assertEqual(Decimal(till['untaxed']), price)
            else:
                self.assertIsNone(price)
                self.assertEqual(till['source'], 'base')
                self.assertIsNone(till['notice'])


    @with_transaction()
    def test_till_price_is_not_price_drift(self):
        "A sale at the till's branch price is not flagged; the base price is"
        pool = Pool()
        Terminal = pool.get('sale.point')
        shop = self.make_shop()
        terminal = Terminal(shop.terminal)
        terminal.tax_included = True
        terminal.save()
        price_list = self.price_list(shop, 'unit_price * Decimal("1.05")')
        scenario, expected = self.scenario(shop, price_list)
        results = self.node([scenario])
        prices = {}
        for (product, quantity, *_), till in zip(expected, results):
            if quantity == '1':
                prices[product] = till['gross']
        receipt = 0
        for product, gross in prices.items():
            for price, drift in [(gross, False), ('12.0000', True)]:
                receipt += 1
                op = sale_op(shop, receipt, lines=[{
                            'product': product, 'quantity': '1',
                            'unit_price': price, 'price': price}],
                    payments=[{'method': shop.cash, 'amount': str(
                                Decimal(price).quantize(Decimal('0.01')))}])
                with Transaction().set_context(company=shop.company):
                    result, = push_and_post(terminal, [op])
                with self.subTest(product=product, price=price):
                    self.assertEqual(result['status'], 'accepted', result)
                    self.assertEqual(
                        'price_drift' in result['result']['flags'], drift)
        self.assertEqual(len(prices), len(LIST_PRICES))


    @with_transaction()
    def test_quantity_breaks_and_tax_included_lists_are_not_drift(self):
        """Sales at the till's price for several quantities of a product in
        one push, on a list with and without taxes, are not flagged"""
        pool = Pool()
        Terminal = pool.get('sale.point')
        shop = self.make_shop()
        terminal = Terminal(shop.terminal)
        # A terminal showing prices without taxes (the one of
        # test_till_price_is_not_price_drift shows them with taxes)
        terminal.tax_included = False
        terminal.save()
        receipt = 0
        for list_included in [False, True]:
            price_list = self.price_list(
                shop, 'unit_price * Decimal("1.05")',
                tax_included=list_included)
            scenario, expected = self.scenario(shop, price_list)
            results = self.node([scenario])
            ops = []
            for (product, quantity, *_), till in zip(expected, results):
                if quantity not in {'1', '10'}:
                    continue
                price = till['untaxed']
                receipt += 1
                ops.append(sale_op(shop, receipt, lines=[{
                                'product': product,
                                'quantity': quantity,
                                'unit_price': price, 'price': price}],
                        payments=[{'method': shop.cash,
                                'amount': 'auto'}]))
            # The 10 of the second product hit its quantity break
            self.assertEqual(len(ops), 2 * len(LIST_PRICES))
            with Transaction().set_context(company=shop.company):
                results = push_and_post(terminal, self.balance(shop, ops))
            for result in results:
                with self.subTest(list_included=list_included):
                    self.assertEqual(result['status'], 'accepted',
                        result)
                    self.assertNotIn('price_drift',
                        result['result']['flags'])

    def balance(self, shop, ops):
        "Pay each sale its total as the push computes it"
        Product = Pool().get('product.product')
        Tax = Pool().get('account.tax')
        terminal = Pool().get('sale.point')(shop.terminal)
        for op in ops:
            line, = op['payload']['lines']
            quantity = Decimal(line['quantity'])
            price = Decimal(line['price'])
            if not terminal.tax_included:
                product = Product(line['product'])
                taxes = product.account_category.customer_taxes_used
                price = round_price(price + sum(t['amount']
                        for t in Tax.compute(taxes, price, 1,
                        date=Pool().get('ir.date').today())))
            total = (quantity * price).quantize(Decimal('0.01'))
            op['payload']['payments'][0]['amount'] = str(total)
        return ops

    @with_transaction()
    def test_price_list_check_reads_the_products_together(self):
        """Checking the lines of a push against the branch's price list
        costs a few statements for the whole push, not some per product
        (Tryton's price_list.compute reads several fields of a product:
        the push's products are read together)"""
        pool = Pool()
        Branch = pool.get('retail.branch')
        Category = pool.get('product.category')
        Push = pool.get('retail.sync.push')
        Template = pool.get('product.template')
        Terminal = pool.get('sale.point')
        sold = 12
        shop = setup_shop(code='PQ', prefix='PQA', products=2 * sold)
        Transaction().set_context(company=shop.company)
        category = Category(name="Sold by the list")
        category.save()
        Template.write(
            [p.template for p in pool.get('product.product').browse(
                    shop.products)],
            {'categories': [('add', [category.id])]})
        price_list = self.price_list_of(
            [{'category': category.id, 'quantity': 5,
                    'formula': 'unit_price * 2'},
                {'formula': 'unit_price * Decimal("1.05")'}])
        terminal = Terminal(shop.terminal)

        def push(products, first):
            ops = [sale_op(shop, first + i, lines=[{
                            'product': product, 'quantity': '1',
                            'unit_price': '12.00', 'price': '12.00'}])
                for i, product in enumerate(products)]
            Transaction().cache.clear()
            with count_statements() as count, Transaction().set_context(
                    retail_sync_defer_records=True):
                results = Push.push(terminal, ops)
            self.assertEqual({r['status'] for r in results}, {'accepted'})
            return count[0], results

        without, _ = push(shop.products[:sold], 1)
        Branch.write([Branch(shop.branch)], {'price_list': price_list.id})
        # Nor does it look up each product's company-dependent prices
        # through the ORM (price_check.py)
        Product = pool.get('product.product')
        with mock.patch.object(Product, 'get_multivalue', autospec=True,
                side_effect=Product.get_multivalue) as get_multivalue:
            with_list, results = push(shop.products[sold:], 1 + sold)
        self.assertEqual(get_multivalue.call_count, 0)
        # The list was applied: 12.00 is not the server's price
        self.assertTrue(all('price_drift' in r['result']['flags']
                for r in results))
        self.assertLess(with_list - without, sold, (with_list, without))

    @with_transaction()
    def test_price_list_product_reads_what_tryton_reads(self):
        """The products the push gives to price_list.compute carry the
        categories, units, list price and cost price Tryton reads of the
        product record: the same formula context and the same prices for
        product and template list prices, company and company-less
        values, missing cost prices"""
        pool = Pool()
        ListPrice = pool.get('product.list_price')
        Product = pool.get('product.product')
        shop = self.make_shop()
        products = Product.browse(shop.products)
        # Own list prices of variants, one left empty (its template's
        # applies), cost prices, values of another company
        ListPrice.create([
                {'template': products[0].template.id,
                    'product': products[0].id, 'company': shop.company,
                    'list_price': Decimal('7.1234')},
                {'template': products[1].template.id,
                    'product': products[1].id, 'company': shop.company,
                    'list_price': None},
                {'template': products[2].template.id,
                    'product': products[2].id, 'company': shop.company,
                    'list_price': Decimal('3.3333')},
                ])
        other = create_company(name="Other company")
        for company, product, price in [
                (shop.company, products[0], '4.5678'),
                (other.id, products[1], '2.2222'),
                (shop.company, products[2], '1.5'),
                (other.id, products[2], '9')]:
            with Transaction().set_context(company=company):
                Product.write([product], {'cost_price': Decimal(price)})
        ListPrice.create([{'template': products[3].template.id,
                    'product': None, 'company': other.id,
                    'list_price': Decimal('99')}])
        lists = [self.price_list_of([
                    {'category': shop.apples, 'quantity': 5,
                        'formula': 'cost_price * 2 + list_price'},
                    {'category': shop.fruit,
                        'formula': 'unit_price * Decimal("0.9")'},
                    {'product': shop.products[3],
                        'formula': 'cost_price + 1'},
                    {'formula': 'unit_price + cost_price / 3'},
                    ])]
        lists.append(self.price_list_of(
                [{'formula': 'unit_price * 1.5 + list_price'}]))
        lists[1].price = 'cost_price'
        lists[1].save()
        Transaction().cache.clear()
        with Transaction().set_context(active_test=False):
            records = Product.browse(shop.products)
        loaded = PriceListProduct.load(records, shop.company)
        compared = 0
        for record in Product.browse(shop.products):
            product = loaded[record.id]
            with self.subTest(product=record.id):
                self.assertEqual(product.sale_uom, record.sale_uom)
                self.assertEqual(product.default_uom, record.default_uom)
                self.assertEqual(
                    sorted(c.id for c in product.categories_all),
                    sorted(c.id for c in record.categories_all))
                for price_list in lists:
                    self.assertEqual(
                        price_list.get_context_formula(product, 1, None),
                        price_list.get_context_formula(record, 1, None))
                    for quantity in ['1', '5', '-6', '0.5']:
                        self.assertEqual(
                            price_list.compute(product, Decimal(quantity),
                                record.sale_uom),
                            price_list.compute(record, Decimal(quantity),
                                record.sale_uom))
                        compared += 1
        self.assertEqual(compared, 2 * 4 * len(LIST_PRICES))
        # The cases are different ones
        self.assertEqual(
            [loaded[p].list_price_used for p in shop.products[:3]],
            [Decimal('7.1234'), Decimal(LIST_PRICES[1]), Decimal('3.3333')])
        self.assertEqual(loaded[shop.products[3]].list_price_used,
            Decimal(LIST_PRICES[3]))
        self.assertEqual(
            [loaded[p].cost_price for p in shop.products[:4]],
            [Decimal('4.5678'), 0, Decimal('1.5'), 0])

    @with_transaction()
    def test_price_check_sees_changes_between_pushes(self):
        """A change of the branch's price list or of a product's price
        between two pushes is the next push's price: price_drift for the
        price of before, none for the new one"""
        pool = Pool()
        Branch = pool.get('retail.branch')
        Line = pool.get('product.price_list.line')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Terminal = pool.get('sale.point')
        shop = self.make_shop()
        terminal = Terminal(shop.terminal)
        terminal.tax_included = False
        terminal.save()
        price_list = self.price_list_of(
            [{'formula': 'unit_price * Decimal("1.05")'}])
        Branch.write([Branch(shop.branch)], {'price_list': price_list.id})
        product = shop.products[3]
        receipt = [0]

        def drift(price):
            receipt[0] += 1
            op, = self.balance(shop, [sale_op(shop, receipt[0], lines=[{
                                'product': product, 'quantity': '1',
                                'unit_price': price, 'price': price}],
                        payments=[{'method': shop.cash, 'amount': '0'}])])
            Transaction().cache.clear()
            with Transaction().set_context(company=shop.company):
                result, = Pool().get('retail.sync.push').push(terminal, [op])
            self.assertEqual(result['status'], 'accepted', result)
            return 'price_drift' in result['result']['flags']

        # 19.9900 * 1.05
        self.assertFalse(drift('20.9895'))
        self.assertTrue(drift('21.0000'))
        line, = price_list.lines
        Line.write([line], {'formula': 'unit_price * Decimal("1.10")'})
        self.assertTrue(drift('20.9895'))
        self.assertFalse(drift('21.9890'))
        Template.write([Product(product).template],
            {'list_price': Decimal('20')})
        self.assertTrue(drift('21.9890'))
        self.assertFalse(drift('22.0000'))

    def price_list_of(self, lines):
        PriceList = Pool().get('product.price_list')
        price_list, = PriceList.create([{
                    'name': "Branch prices", 'price': 'list_price',
                    'lines': [('create', lines)]}])
        return price_list


@contextlib.contextmanager
def count_statements():
    "Count the SQL statements the transaction's connection runs: [count]"
    count = [0]
    connection = Transaction().connection
    if backend.name == 'sqlite':
        def trace(statement):
            count[0] += 1
        connection.set_trace_callback(trace)
        try:
            yield count
        finally:
            connection.set_trace_callback(None)
    else:
        logger = logging.getLogger('trytond.backend.postgresql.database')

        class Counter(logging.Handler):
            def emit(self, record):
                count[0] += 1
        handler, level = Counter(logging.DEBUG), logger.level
        propagate = logger.propagate
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        try:
            yield count
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


class SettingsPullTestCase(SyncDatabaseTestCase):
    "The chain's barcode layouts reach the tills"

    @with_transaction()
    def test_settings_bootstrap_and_delta(self):
        "Bootstrap sends the layouts; a change of a layout is a delta"
        pool = Pool()
        Layout = pool.get('retail.barcode.layout')
        Terminal = pool.get('sale.point')
        Change = pool.get('retail.sync.change')
        shop = setup_shop(code='PY', prefix='PYA', products=1)
        Transaction().set_context(company=shop.company)
        layout, = Layout.create([{'prefix': '21', 'kind': 'weight'}])
        scope = Scope(Terminal(shop.terminal))
        records, token = {}, None
        while True:
            page, token, cursor, _ = bootstrap_page(scope, token, 10000)
            for kind, values in page.items():
                records.setdefault(kind, []).extend(values)
            if not token:
                break
        settings, = records['settings']
        self.assertEqual(settings['id'], SETTINGS_ID)
        self.assertEqual(settings['barcode_layouts'], [layout.to_wire()])
        Layout.create([{'prefix': '23', 'kind': 'price',
                    'value_decimals': 2, 'sequence': 20}])
        changes, _, _ = delta(scope, cursor, 100)
        settings = [c for c in changes if c['kind'] == 'settings']
        self.assertEqual(len(settings), 1)
        self.assertEqual(
            [(lay['prefix'], lay['kind'])
                for lay in settings[0]['data']['barcode_layouts']],
            [('21', 'weight'), ('23', 'price')])
        cursor = Change.start_cursor()
        Layout.delete([layout])
        changes, _, _ = delta(scope, cursor, 100)
        self.assertEqual(
            [lay['prefix'] for c in changes if c['kind'] == 'settings'
                for lay in c['data']['barcode_layouts']], ['23'])
