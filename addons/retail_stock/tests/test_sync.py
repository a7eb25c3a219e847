# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"The lots' markdowns at the tills, through retail_sync's hooks"
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.retail_sync.pull import Scope
from trytond.modules.retail_sync.tests.tools import (
    committed, sale_op, setup_shop)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction


class MarkdownSyncTestCase(unittest.TestCase):
    "A markdown goes to the tills of its branch; its price is no drift"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module(['retail_stock'])
        cls._shop = committed(lambda: setup_shop(products=2))

    def setup_lot(self):
        pool = Pool()
        Lot = pool.get('stock.lot')
        Markdown = pool.get('retail.stock.lot.markdown')
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        Terminal = pool.get('sale.point')
        shop = self._shop
        Transaction().set_context(company=shop.company)
        today = dt.date.today()
        product = shop.products[0]
        lot, = Lot.create([{'number': 'MD1', 'product': product,
                    'shelf_life_expiration_date': today
                    + dt.timedelta(days=2)}])
        terminal = Terminal(shop.terminal)
        supplier, = Location.search([('type', '=', 'supplier')], limit=1)
        move, = Move.create([{'product': product, 'lot': lot.id,
                    'unit': pool.get('product.product')(
                        product).default_uom.id,
                    'quantity': 5, 'from_location': supplier.id,
                    'to_location': terminal.storage_location.id,
                    'effective_date': today, 'company': shop.company,
                    'unit_price': Decimal('1'),
                    'currency': terminal.company.currency.id}])
        with Transaction().set_context(_skip_warnings=True):
            Move.do([move])
        markdown, = Markdown.create([{'lot': lot.id, 'branch': shop.branch,
                    'unit_price': Decimal('6.00'), 'start_date': today}])
        return terminal, lot, markdown

    @with_transaction()
    def test_pulled_lot_carries_its_branch_markdowns(self):
        "The lot a till pulls has its markdowns in the till's branch"
        Pull = Pool().get('retail.sync.pull')
        terminal, lot, markdown = self.setup_lot()
        data = Pull.serialise('lot', [lot.id], Scope(terminal))[lot.id]
        self.assertEqual(data['markdowns'], [{'unit_price': '6',
                    'start_date': dt.date.today().isoformat(),
                    'end_date': None}])
        # The first expiring first out tie-break of the till: the receipt
        self.assertEqual(data['receipt_date'], dt.date.today().isoformat())

    @with_transaction()
    def test_markdown_price_is_no_price_drift(self):
        "A lot sold at its markdown price is not flagged, another price is"
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Flag = pool.get('retail.sync.sale.flag')
        terminal, lot, markdown = self.setup_lot()
        shop = self._shop
        for receipt, price in [(1, '6.00'), (2, '7.00')]:
            op = sale_op(shop, receipt, lines=[{
                        'product': shop.products[0], 'quantity': '1',
                        'unit_price': price, 'price': price,
                        'lot': lot.id}])
            result, = Push.push(terminal, [op])
            self.assertEqual(result['status'], 'accepted', result)
        drift, = Flag.search([('kind', '=', 'price_drift')])
        self.assertEqual((drift.expected, drift.actual), ('6', '7'))


class ThresholdSyncTestCase(unittest.TestCase):
    "The branch's low-stock thresholds go with the stock records"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module(['retail_stock'])
        cls._shop = committed(
            lambda: setup_shop(code='LS', prefix='LSA', products=2))

    @with_transaction()
    def test_stock_record_carries_the_branch_order_point(self):
        """A stock record has the minimum and target of the order point of
        its branch (null without one); a new order point logs the product's
        stock record for the branch's tills"""
        pool = Pool()
        Pull = pool.get('retail.sync.pull')
        OrderPoint = pool.get('stock.order_point')
        Change = pool.get('retail.sync.change')
        Terminal = pool.get('sale.point')
        shop = self._shop
        Transaction().set_context(company=shop.company)
        terminal = Terminal(shop.terminal)
        product, other = shop.products
        Product = pool.get('product.product')
        template = Product(product).template
        template.purchasable = True
        template.purchase_uom = template.default_uom
        template.save()
        OrderPoint.create([{'product': product, 'type': 'purchase',
                    'location': terminal.branch.warehouse.id,
                    'company': shop.company,
                    'min_quantity': 5, 'target_quantity': 12}])
        changes = Change.search([('kind', '=', 'stock'),
                ('record', '=', product)])
        self.assertEqual([c.branch.id for c in changes], [shop.branch])
        data = Pull.serialise('stock', [product, other], Scope(terminal))
        self.assertEqual(
            (data[product]['min_quantity'], data[product]['target_quantity']),
            ('5', '12'))
        self.assertEqual(
            (data[other]['min_quantity'], data[other]['target_quantity']),
            (None, None))

    @with_transaction()
    def test_bootstrap_sends_the_stock_of_an_order_point_without_moves(self):
        """A product with an order point at the branch and no stock move
        there gets its stock record (0, with its minimum) in a till's first
        download, so the till marks it low from day one"""
        pool = Pool()
        OrderPoint = pool.get('stock.order_point')
        Product = pool.get('product.product')
        Template = pool.get('product.template')
        Terminal = pool.get('sale.point')
        shop = self._shop
        Transaction().set_context(company=shop.company)
        terminal = Terminal(shop.terminal)
        unit = Product(shop.products[0]).default_uom
        template, = Template.create([{'name': "Never Stocked",
                    'type': 'goods', 'default_uom': unit.id,
                    'purchasable': True, 'purchase_uom': unit.id,
                    'products': [('create', [{}])]}])
        product, = template.products
        OrderPoint.create([{'product': product.id, 'type': 'purchase',
                    'location': terminal.branch.warehouse.id,
                    'company': shop.company,
                    'min_quantity': 3, 'target_quantity': 10}])
        records, token = self.bootstrap(terminal)
        stock = {r['product']: r for r in records.get('stock', [])}
        self.assertIn(product.id, stock)
        self.assertEqual((stock[product.id]['quantity'],
                stock[product.id]['min_quantity']), ('0', '3'))
        # Counted once in the bootstrap's total, sent once
        self.assertEqual(len(records['stock']), len(stock))

    def bootstrap(self, terminal):
        "All the records of a bootstrap, page after page"
        from trytond.modules.retail_sync.pull import bootstrap_page
        scope = Scope(terminal)
        records, token = {}, None
        while True:
            page, token, _, total = bootstrap_page(scope, token, 500)
            for kind, items in page.items():
                records.setdefault(kind, []).extend(items)
            if not token:
                return records, total
