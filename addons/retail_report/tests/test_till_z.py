# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""The server's Z equals the till's to the cent: the till (pos_offline_client
services/register.js over fake-indexeddb, run with node) opens a session,
sells with discounts, returns, voids, moves cash and closes; its outbox is
pushed to the server, whose Z report of the same session is compared with
the till's own Z, figure by figure"""
import json
import os
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

from trytond.modules.retail_sync.pull import Scope
from trytond.modules.retail_sync.serialise import SERIALIZERS
from trytond.modules.retail_sync.tests.tools import committed, setup_shop
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

CLIENT = Path(__file__).resolve().parents[3] / 'pos_offline_client'

NODE_SCRIPT = Path(__file__).with_name('till_z.mjs')


def minor(value):
    return int((Decimal(value) * 100).to_integral_value())


class TillZTestCase(TestCase):
    "Test the server's Z against the till's"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['retail_report'])
        cls.shop = committed(setup_shop)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def till(self, fixture_data):
        node = shutil.which('node')
        if not node:
            self.skipTest("node is not installed")
        if not (CLIENT / 'node_modules' / 'fake-indexeddb').exists():
            self.skipTest("the POS client's packages are not installed")
        with tempfile.TemporaryDirectory() as tmp:
            fixture = os.path.join(tmp, 'fixture.json')
            with open(fixture, 'w') as f:
                json.dump(fixture_data, f)
            result = subprocess.run(
                [node, str(NODE_SCRIPT), fixture, str(CLIENT)],
                capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    @with_transaction()
    def test_server_z_equals_the_tills_z_to_the_cent(self):
        "The server's Z report of a session is the till's Z, to the cent"
        pool = Pool()
        Push = pool.get('retail.sync.push')
        Terminal = pool.get('sale.point')
        Session = pool.get('sale.point.cash.session')
        Template = pool.get('product.template')
        shop = self.shop
        terminal = Terminal(shop.terminal)
        # Prices that round: 3.33, 7.99 and 0.45
        with Transaction().set_context(company=shop.company):
            products = pool.get('product.product').browse(shop.products)
            for product, price in zip(products, ['3.33', '7.99', '0.45']):
                template = Template(product.template.id)
                template.gross_price = Decimal(price)
                template.list_price = (Decimal(price) / Decimal('1.2')
                    ).quantize(Decimal('0.0001'))
                template.save()
            scope = Scope(terminal)
            records = {}
            for kind, ids in [
                    ('company', [shop.company]),
                    ('tax', [shop.tax]),
                    ('payment_method', [shop.cash, shop.card]),
                    ('product', shop.products),
                    ('terminal', [shop.terminal]),
                    ]:
                records[kind] = list(SERIALIZERS[kind](ids, scope).values())
        till = self.till({
                'records': records,
                'terminal': {'id': shop.terminal,
                    'receipt_prefix': shop.prefix,
                    'tax_included': terminal.tax_included},
                'branch': {'id': shop.branch},
                'employee': shop.employee,
                'products': shop.products,
                'cash': shop.cash, 'card': shop.card,
                'transfer_type': shop.transfer_type,
                })
        with Transaction().set_context(company=shop.company):
            results = Push.push(terminal, till['operations'])
        self.assertEqual({r['status'] for r in results}, {'accepted'},
            results)
        session, = Session.search([('retail_uuid', '=', till['session'])])
        self.assertEqual(session.state, 'closed')
        server = session.report_figures()
        z = till['z']
        # The till's figures in minor units beside the server's
        pairs = {
            'opening': (z['opening'], server['opening_float']),
            'sales': (z['sales'], server['sales']),
            'salesTotal': (z['salesTotal'], server['sales_total']),
            'returns': (z['returns'], server['returns']),
            'returnsTotal': (z['returnsTotal'], server['returns_total']),
            'net': (z['net'], server['net']),
            'tax': (z['tax'], server['taxes']),
            'discounts': (z['discounts'], server['discounts']),
            'voids': (z['voids'], server['voids']),
            'cashIn': (z['cashIn'], server['cash_in']),
            'cashOut': (z['cashOut'], server['cash_out']),
            'expectedCash': (z['expectedCash'], server['expected_cash']),
            'counted': (z['counted'], server['counted_cash']),
            'difference': (z['difference'], server['difference']),
            }
        mismatches = {}
        for key, (local, remote) in pairs.items():
            remote = remote if isinstance(remote, int) else minor(remote)
            if local != remote:
                mismatches[key] = (local, remote)
        self.assertEqual(mismatches, {})
        self.assertEqual(
            {p['method']: p['amount'] for p in z['payments']},
            {p['method']: minor(p['amount']) for p in server['payments']})
        self.assertEqual(
            {t['tax']: (t['base'], t['amount']) for t in z['taxes']},
            {t['tax']: (minor(t['base']), minor(t['amount']))
                for t in server['tax_lines']})
        # Something to compare: discounts, a void, a return and both methods
        self.assertGreater(z['discounts'], 0)
        self.assertEqual((z['voids'], z['returns'], z['sales']), (1, 1, 3))
        self.assertEqual(server['z_number'], 1)
        self.assertEqual(server['grand_total'], server['net'])
        # The till's count per coin and note reaches the server's Z
        self.assertEqual(server['denominations'], [
                {'value': '50.00', 'count': 3, 'amount': '150.00'}])
