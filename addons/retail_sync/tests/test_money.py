# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""One money algorithm: the till's pricing (pos_offline_client
services/pricing.js, run with node) and the server's (the push's unit
prices, sale_point's line amounts and tax move lines with the company's tax
rounding) give the same figures to the cent on random receipts; and the
tax look-ups a push keeps for its batch (tax.TaxLookup) change none of
Tryton's figures"""
import json
import os
import random
import shutil
import subprocess
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from trytond.modules.company.tests import set_company
from trytond.modules.retail_sync.pull import Scope
from trytond.modules.retail_sync.sale_push import SaleHandler
from trytond.modules.retail_sync.serialise import (
    SERIALIZERS, TaxPlan, gross_price_used)
from trytond.modules.retail_sync.tax import TaxLookup
from trytond.modules.retail_sync.tests.tools import setup_shop
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)

CLIENT = Path(__file__).resolve().parents[3] / 'pos_offline_client'
RECEIPTS = int(os.environ.get("MONEY_RECEIPTS", "1000"))

# The till's side: the pulled tax records and each receipt's order through
# computeOrder, as the till commits a sale; the figures in minor units.
NODE_SCRIPT = """
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [fixture, client] = process.argv.slice(2);
const pricing = await import(
  pathToFileURL(`${client}/src/services/pricing.js`));
const money = await import(pathToFileURL(`${client}/src/lib/money.js`));
const { taxes: taxRecords, receipts } = JSON.parse(
  readFileSync(fixture, 'utf8'));
const taxes = new Map(taxRecords.map((t) => [t.id, pricing.taxRecord(t)]));
const out = [];
for (const r of receipts) {
  const order = {
    discount: r.discount,
    payments: [],
    lines: r.lines.map((l) => ({
      unitPrice: money.parseDecimal(l.unit_price, money.PRICE_DIGITS),
      quantity: money.parseDecimal(l.quantity, money.QTY_DIGITS),
      discount: l.discount, taxes: l.taxes,
    })),
  };
  const c = pricing.computeOrder(order, {
    taxes, taxIncluded: r.tax_included, taxRounding: r.rounding,
    currencyDigits: 2,
  });
  const merged = pricing.addTaxes(new Map(), c.taxes);
  out.push({
    lines: c.lines.map((l) => ({
      price: money.formatDecimal(l.price, money.PRICE_DIGITS),
      gross: l.unitGrossPrice, list: l.unitListPrice,
      amount: l.amount, untaxed: l.untaxed, tax: l.tax,
    })),
    total: c.total, tax: c.tax,
    taxes: [...merged.values()].map((t) => [t.tax, t.base, t.amount])
      .sort((a, b) => a[0] - b[0]),
  });
}
process.stdout.write(JSON.stringify(out));
"""

# (name, type, rate or amount)
TAXES = [
    ("VAT 21", 'percentage', '0.21'),
    ("VAT 6", 'percentage', '0.06'),
    ("VAT 12", 'percentage', '0.12'),
    ("VAT 5.5", 'percentage', '0.055'),
    ("Deposit", 'fixed', '0.10'),
    ]
# The taxes of each accounting category, by index in TAXES
CATEGORIES = [[0], [1], [2], [3], [1, 3], [0, 4], []]


def cents(value):
    return int((value * 100).to_integral_value())


def scaled(value, digits=4):
    return int((value * 10 ** digits).to_integral_value())


class MoneyTestCase(TestCase):
    "The till and the server compute the same money"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module('retail_sync')

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def node(self, fixture_data):
        node = shutil.which('node')
        if not node:
            self.skipTest("node is not installed")
        with tempfile.TemporaryDirectory() as tmp:
            fixture = os.path.join(tmp, 'fixture.json')
            script = os.path.join(tmp, 'money.mjs')
            with open(fixture, 'w') as f:
                json.dump(fixture_data, f)
            with open(script, 'w') as f:
                f.write(NODE_SCRIPT)
            result = subprocess.run(
                [node, script, fixture, str(CLIENT)],
                capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def make_catalog(self, shop):
        "Taxes and one product per accounting category of CATEGORIES"
        pool = Pool()
        Tax = pool.get('account.tax')
        Category = pool.get('product.category')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        model, = Tax.browse([shop.tax])
        taxes = []
        for name, type_, value in TAXES:
            tax, = Tax.copy([model], default={
                    'name': name, 'description': name, 'type': type_,
                    'rate': Decimal(value) if type_ == 'percentage' else None,
                    'amount': Decimal(value) if type_ == 'fixed' else None,
                    })
            taxes.append(tax)
        kg, = Uom.search([('name', '=', "Kilogram")])
        kg.digits, kg.rounding = 3, Decimal('0.001')
        kg.save()
        products = []
        for i, indexes in enumerate(CATEGORIES):
            category = Category(name=f"Money {i}", accounting=True,
                account_revenue=Category(
                    Category.search([('accounting', '=', True)],
                        limit=1)[0]).account_revenue,
                customer_taxes=[taxes[j] for j in indexes])
            category.save()
            template = Template(name=f"Money {i}", default_uom=kg,
                sale_uom=kg, type='goods', salable=True,
                account_category=category, list_price=Decimal('1'),
                products=[{}])
            template.save()
            products.append(template.products[0])
        return taxes, products

    def receipts(self, products, rng):
        "Random receipts: mixed rates, discounts, quantities, weights, returns"
        out = []
        for _ in range(RECEIPTS):
            refund = rng.random() < 0.15
            lines = []
            for _ in range(rng.randint(1, 8)):
                product = rng.choice(products)
                if rng.random() < 0.4:
                    quantity = Decimal(rng.randint(1, 9999)) / 1000
                else:
                    quantity = Decimal(rng.randint(1, 24))
                if refund or rng.random() < 0.05:
                    quantity = -quantity
                if rng.random() < 0.5:
                    price = Decimal(rng.randint(1, 99999)) / 100
                else:
                    price = Decimal(rng.randint(1, 9999999)) / 10000
                discount = (rng.choice([0, 0, 500, 1000, 1250, 3333, 5000])
                    if rng.random() < 0.3 else 0)
                lines.append({
                        'product': product.id,
                        'taxes': sorted(
                            t.id for t in product.customer_taxes_used),
                        'quantity': str(quantity),
                        'unit_price': str(price),
                        'discount': discount,
                        })
            out.append({
                    'tax_included': rng.random() < 0.5,
                    'rounding': rng.choice(['document', 'line']),
                    'discount': rng.choice([0, 0, 0, 1000, 250]),
                    'lines': lines,
                    })
        return out

    def server(self, shop, receipt, till, date):
        "The server's figures of the receipt as the till pushes it"
        pool = Pool()
        Company = pool.get('company.company')
        Point = pool.get('sale.point')
        Product = pool.get('product.product')
        Sale = pool.get('sale.point.sale')
        Line = pool.get('sale.point.sale.line')
        company = self.company = getattr(self, 'company', None) or Company(
            shop.company)
        sale = Sale(company=company, currency=company.currency,
            point=Point(shop.terminal), date=date)
        lines = []
        for line, figures in zip(receipt['lines'], till['lines']):
            if line['product'] not in self.products:
                self.products[line['product']] = Product(line['product'])
            product = self.products[line['product']]
            taxes = product.customer_taxes_used
            list_price, gross = SaleHandler.unit_prices(
                Decimal(figures['price']), taxes, date,
                receipt['tax_included'])
            lines.append(Line(sale=sale, company=company,
                    currency=company.currency, product=product,
                    quantity=float(Decimal(line['quantity'])),
                    unit_list_price=list_price, unit_gross_price=gross))
        sale.lines = lines
        # TaxableMixin._get_taxes with the batch's look-ups (the lines'
        # taxes, Tax.compute and the tax rounding kept) gives what it gives
        # without them
        with self.lookup.active():
            kept = sale._get_taxes()
        self.assertEqual(
            sorted((k, t.base, t.amount) for k, t in kept.items()),
            sorted((k, t.base, t.amount)
                for k, t in sale._get_taxes().items()))
        return {
            'lines': [{
                    'price': figures['price'],
                    'gross': scaled(line.unit_gross_price),
                    'list': scaled(line.unit_list_price),
                    'amount': cents(line.gross_amount),
                    'untaxed': cents(line.untax_amount),
                    'tax': cents(line.tax_amount),
                    } for line, figures in zip(sale.lines, till['lines'])],
            'total': cents(sum(line.gross_amount for line in sale.lines)),
            'tax': cents(sale.total_tax),
            'taxes': sorted([tax.id, cents(base), cents(amount)]
                for tax, (base, amount)
                in sale.retail_tax_lines().items()),
            }

    @with_transaction()
    def test_till_and_server_agree_on_random_receipts(self):
        """1,000 random receipts (both tax roundings, prices with and
        without tax): every line, total, tax and tax per rate to the cent"""
        pool = Pool()
        Configuration = pool.get('account.configuration')
        Date = pool.get('ir.date')
        shop = setup_shop(code='MN', prefix='MNA', products=1)
        with set_company(Pool().get('company.company')(shop.company)):
            taxes, products = self.make_catalog(shop)
            scope = Scope(Pool().get('sale.point')(shop.terminal))
            tax_records = SERIALIZERS['tax']([t.id for t in taxes], scope)
            rng = random.Random(20261204)
            receipts = self.receipts(products, rng)
            tills = self.node({
                    'taxes': [tax_records[t.id] for t in taxes],
                    'receipts': receipts})
            date = Date.today()
            config = Configuration(1)
            self.products = {}
            by_rate = defaultdict(lambda: [0, 0, 0, 0])
            mismatches = []
            for rounding in ['document', 'line']:
                config.tax_rounding = rounding
                config.save()
                # One batch's look-ups per rounding, as a push keeps them
                self.lookup = TaxLookup()
                for i, (receipt, till) in enumerate(zip(receipts, tills)):
                    if receipt['rounding'] != rounding:
                        continue
                    server = self.server(shop, receipt, till, date)
                    till = dict(till, taxes=[list(t) for t in till['taxes']])
                    if server != till:
                        mismatches.append((i, receipt, till, server))
                    for tax, base, amount in server['taxes']:
                        by_rate[tax][0] += base
                        by_rate[tax][1] += amount
                    for tax, base, amount in till['taxes']:
                        by_rate[tax][2] += base
                        by_rate[tax][3] += amount
        self.assertFalse(mismatches, mismatches[:3])
        # The session's taxes per rate: the sums of the receipts'
        self.assertTrue(all(s[:2] == s[2:] for s in by_rate.values()))
        self.assertEqual(len(by_rate), len(TAXES))
        self.assertEqual(
            {r['rounding'] for r in receipts}, {'document', 'line'})
        self.assertTrue(any(
                Decimal(line['quantity']) < 0
                for r in receipts for line in r['lines']))

    @with_transaction()
    def test_tax_plan_gives_what_tax_compute_gives(self):
        """The bootstrap's tax-included prices, computed once per account
        category's taxes, equal gross_price_used (Tax.compute) on generated
        prices, for percentages, a fixed tax, a tax that updates the unit
        price and a tax no longer in force"""
        pool = Pool()
        Tax = pool.get('account.tax')
        Date = pool.get('ir.date')
        shop = setup_shop(code='TP', prefix='TPA', products=1)
        with set_company(Pool().get('company.company')(shop.company)):
            model, = Tax.browse([shop.tax])
            taxes = []
            for name, type_, value in TAXES:
                tax, = Tax.copy([model], default={
                        'name': name, 'description': name, 'type': type_,
                        'rate': (Decimal(value) if type_ == 'percentage'
                            else None),
                        'amount': (Decimal(value) if type_ == 'fixed'
                            else None),
                        })
                taxes.append(tax)
            ecotax, = Tax.copy([model], default={'name': "Eco",
                    'description': "Eco", 'type': 'percentage',
                    'rate': Decimal('0.015'), 'update_unit_price': True,
                    'sequence': 1})
            today = Date.today()
            ended, = Tax.copy([model], default={'name': "Old",
                    'description': "Old", 'type': 'percentage',
                    'rate': Decimal('0.19'),
                    'start_date': today.replace(year=today.year - 2),
                    'end_date': today.replace(year=today.year - 1)})
            sets = [[taxes[j] for j in indexes] for indexes in CATEGORIES]
            sets += [[ecotax, taxes[0]], [ended, taxes[1]],
                [taxes[3], taxes[0], taxes[2]]]
            rng = random.Random(15)
            prices = [None, Decimal('0'), Decimal('0.0001'),
                Decimal('1.2314'), Decimal('99999.9999')] + [
                Decimal(rng.randrange(1, 10 ** 7)).scaleb(-4)
                for _ in range(200)]
            for tax_set in sets:
                plan = TaxPlan(tax_set)
                fast = plan.rates is not None
                self.assertEqual(fast, all(t.type == 'percentage'
                        and not t.update_unit_price for t in tax_set),
                    [t.name for t in tax_set])
                for price in prices:
                    for gross in [None, Decimal('2.5000')]:
                        self.assertEqual(plan.gross(price, gross),
                            gross_price_used(price, gross, tax_set),
                            ([t.name for t in tax_set], price, gross))

    @with_transaction()
    def test_pulled_product_has_its_gross_price(self):
        """A product without a gross price reaches the till with the one
        sale_point charges at a tax-included terminal"""
        pool = Pool()
        Product = pool.get('product.product')
        shop = setup_shop(code='MG', prefix='MGA', products=1)
        with set_company(Pool().get('company.company')(shop.company)):
            _, products = self.make_catalog(shop)
            product = Product(products[0].id)  # VAT 21
            product.template.list_price = Decimal('1.2314')
            product.template.gross_price = None
            product.template.save()
            scope = Scope(Pool().get('sale.point')(shop.terminal))
            record = SERIALIZERS['product']([product.id], scope)[product.id]
            company = SERIALIZERS['company']([shop.company], scope)[
                shop.company]
        self.assertEqual(record['list_price'], '1.2314')
        # round_price(1.2314 x 1.21) = 1.4900
        self.assertEqual(Decimal(record['gross_price']), Decimal('1.49'))
        self.assertEqual(company['tax_rounding'], 'document')


