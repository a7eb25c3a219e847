# This file is part of the retail suite.  The COPYRIGHT file at the top level
# of this repository contains the full copyright notices and license terms.
"""Barcode layouts of the chain and the price list formulas the tills
compute offline."""
import unittest

from trytond.model.exceptions import SQLConstraintError
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.retail.exceptions import (
    BarcodeLayoutValidationError, PriceListOfflineWarning)
from trytond.modules.retail.price_list import formula_offline
from trytond.modules.retail.tests.test_module import create_branch
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction


class FormulaOfflineTestCase(unittest.TestCase):
    "The formulas a till computes offline"

    def test_formula_offline_subset(self):
        "Names, numbers, Decimal literals, + - * / and parentheses"
        for formula in [
                'unit_price', 'unit_price * Decimal("1.05")',
                "unit_price * Decimal('1.05')", 'list_price * 0.9',
                '(unit_price + 2) / 3', '-unit_price + 10',
                'unit_price * Decimal(2)', 'Decimal("-1.5e2") + list_price',
                ' unit_price * 1.05 ', '1.5e1']:
            self.assertTrue(formula_offline(formula, 'list_price'), formula)

    def test_formula_not_offline(self):
        "Cost prices, comparisons, conditions and functions stay online"
        for formula in [
                'cost_price * 1.2', 'unit_price + cost_price',
                'unit_price if unit_price > 10 else 10', 'unit_price ** 2',
                'unit_price // 2', 'unit_price % 2', 'Decimal(unit_price)',
                'Decimal("NaN")', 'Decimal("1_0")', 'unit_price * 0x10',
                'unit_price * 1_000', 'unit_price * 2j',
                'unit_price.quantize(1)',
                'Decimal("1", 2)', 'round(unit_price)', 'customer', '', None,
                'unit_price *', 'True * unit_price', 'unit_price and 1',
                'unit_price * Decimal("1" "05")', 'unit_price * r"1.05"',
                "unit_price * Decimal(r'1.05')", 'unit_price * Decimal(" 1")',
                'unit_price * Decimal(1.5)', 'unit_price\n* 2', 'Decimal',
                'unit_price * Decimal("1\\x2e05")', '(unit_price']:
            self.assertFalse(formula_offline(formula, 'list_price'), formula)

    def test_formula_cost_price_base(self):
        "unit_price of a list based on cost prices is not known offline"
        self.assertFalse(formula_offline('unit_price * 2', 'cost_price'))
        self.assertTrue(formula_offline('list_price * 2', 'cost_price'))
        self.assertTrue(formula_offline('unit_price * 2', None))


class BarcodeLayoutTestCase(unittest.TestCase):
    "Barcode layouts and price list lines in the back office"

    @classmethod
    def setUpClass(cls):
        activate_module('retail')
        super().setUpClass()

    @with_transaction()
    def test_barcode_layout_valid(self):
        "The built-in layouts of the tills are valid layouts"
        Layout = Pool().get('retail.barcode.layout')
        layouts = Layout.create([
                {'prefix': '21', 'kind': 'weight', 'value_decimals': 3},
                {'prefix': '23', 'kind': 'price', 'value_decimals': 2},
                {'prefix': '245', 'kind': 'price', 'item_digits': 4,
                    'value_digits': 5, 'value_decimals': 2},
                {'prefix': '28', 'kind': 'price', 'item_digits': 4,
                    'value_check': True, 'value_digits': 5,
                    'value_decimals': 2},
                ])
        self.assertEqual(layouts[0].to_wire(), {
                'prefix': '21', 'kind': 'weight', 'item_digits': 5,
                'value_check': False, 'value_digits': 5,
                'value_decimals': 3})
        self.assertEqual(layouts[3].to_wire()['value_check'], True)

    @with_transaction()
    def test_barcode_layout_length(self):
        "Prefix, item code, check and value fill the 12 digits of an EAN-13"
        Layout = Pool().get('retail.barcode.layout')
        for values in [
                {'prefix': '21', 'item_digits': 6},
                {'prefix': '22', 'value_check': True},
                {'prefix': '23', 'value_digits': 4},
                ]:
            with self.assertRaises(BarcodeLayoutValidationError) as cm:
                Layout.create([{'kind': 'weight', **values}])
            self.assertIn('12', cm.exception.message)

    @with_transaction()
    def test_barcode_layout_value_check_digits(self):
        "GS1 defines a price check digit for 4 or 5 value digits only"
        Layout = Pool().get('retail.barcode.layout')
        with self.assertRaises(BarcodeLayoutValidationError) as cm:
            Layout.create([{'prefix': '2', 'kind': 'price', 'item_digits': 4,
                        'value_check': True, 'value_digits': 6,
                        'value_decimals': 2}])
        self.assertIn('4 or 5', cm.exception.message)
        Layout.create([{'prefix': '20', 'kind': 'price', 'item_digits': 5,
                    'value_check': True, 'value_digits': 4,
                    'value_decimals': 2}])

    @with_transaction()
    def test_scan_parsed_with_the_chain_layouts(self):
        """The server reads a scale label with the chain's layouts (biip):
        its price check digit verified, impossible dates refused"""
        Layout = Pool().get('retail.barcode.layout')
        Layout.create([{'prefix': '20', 'kind': 'price', 'item_digits': 5,
                    'value_check': True, 'value_digits': 4,
                    'value_decimals': 2}])
        # 04011, price 3.49: GS1 check digit of 0349 is 7
        self.assertEqual(Layout.parse_scan('2004011703491'), {
                'type': 'variable', 'kind': 'price', 'gtin': '2004011703491',
                'key': '2004011000002',
                'amount': {'value': 349, 'decimals': 2}})
        self.assertEqual(Layout.parse_scan('2004011103499'),
            {'type': 'invalid', 'reason': 'price-check-digit'})
        self.assertEqual(
            Layout.parse_scan(']C1010950600013435217260230')['reason'],
            'date')

    @with_transaction()
    def test_barcode_layout_prefix(self):
        "A prefix is digits of the in-store ranges (02, 20-29), unique"
        Layout = Pool().get('retail.barcode.layout')
        for prefix in ['12', '2a', '01', '٢1']:
            with self.assertRaises(BarcodeLayoutValidationError):
                Layout.create([{'prefix': prefix, 'kind': 'weight',
                            'item_digits': 10 - len(prefix)}])
        Layout.create([{'prefix': '02', 'kind': 'weight'}])
        Layout.create([{'prefix': '22', 'kind': 'weight'}])
        with self.assertRaises(SQLConstraintError):
            Layout.create([{'prefix': '22', 'kind': 'price',
                        'value_decimals': 2}])

    @with_transaction()
    def test_barcode_layout_decimals(self):
        "Decimals are between 0 and the value digits"
        Layout = Pool().get('retail.barcode.layout')
        with self.assertRaises(BarcodeLayoutValidationError):
            Layout.create([{'prefix': '21', 'kind': 'weight',
                        'value_decimals': 6}])
        with self.assertRaises(BarcodeLayoutValidationError):
            Layout.create([{'prefix': '22', 'kind': 'weight',
                        'value_decimals': -1}])

    @with_transaction()
    def test_price_list_line_offline_field(self):
        "The back office shows which lines the tills compute offline"
        pool = Pool()
        PriceList = pool.get('product.price_list')
        company = create_company()
        with set_company(company):
            price_list, = PriceList.create([{
                        'name': "Shop", 'price': 'list_price',
                        'lines': [('create', [
                                    {'formula': 'unit_price * 1.05'},
                                    {'formula': 'cost_price * 2'},
                                    ])],
                        }])
            self.assertEqual(
                [line.retail_offline for line in price_list.lines],
                [True, False])

    @with_transaction()
    def test_price_list_line_not_offline_warning(self):
        "A branch's price list warns about a line the tills cannot compute"
        pool = Pool()
        PriceList = pool.get('product.price_list')
        Line = pool.get('product.price_list.line')
        Warning = pool.get('res.user.warning')
        company = create_company()
        with set_company(company):
            price_list, = PriceList.create([{
                        'name': "Antwerp", 'price': 'list_price',
                        'lines': [('create', [
                                    {'formula': 'unit_price * 1.05'}])],
                        }])
            other, = PriceList.create([{'name': "Unused"}])
            # Not used by a branch: no warning
            Line.create([{'price_list': other.id,
                        'formula': 'cost_price * 2'}])
            branch = create_branch(company)
            branch.price_list = price_list
            branch.save()
            with self.assertRaises(PriceListOfflineWarning) as cm:
                Line.create([{'price_list': price_list.id,
                            'formula': 'cost_price * 2'}])
            self.assertIn('cost_price * 2', cm.exception.message)
            self.assertIn(branch.rec_name, cm.exception.message)
            line = price_list.lines[0]
            self.assertEqual(line.formula, 'unit_price * 1.05')
            with self.assertRaises(PriceListOfflineWarning):
                Line.write([line], {'formula': 'unit_price + cost_price'})
            # Once confirmed, the manager may keep the line
            Warning(user=Transaction().user,
                name=Warning.format('retail_price_list_offline', [line]),
                always=False).save()
            Line.write([line], {'formula': 'unit_price + cost_price'})
            self.assertEqual(line.formula, 'unit_price + cost_price')
            self.assertFalse(line.retail_offline)
