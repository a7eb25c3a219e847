import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from '../src/services/catalog.js';
import {
  FormulaError, compareFloatDecimal, compilePriceList, decimalDiv, decimalMul, decimalToString,
  evaluateFormula, parseDecimalText, parseFormula, priceListPrice,
} from '../src/services/pricing.js';
import { addProduct, newOrder } from '../src/models/order.js';

const D = parseDecimalText;
const S = decimalToString;

function evaluate(formula, names = {}) {
  const v = evaluateFormula(parseFormula(formula), Object.fromEntries(
    Object.entries(names).map(([k, x]) => [k, x === null ? null : D(x)])));
  return v === null ? null : S(v);
}

test('formulas follow Python precedence: unary minus, * and / before + and -', () => {
  assert.equal(evaluate('1 + 2 * 3'), '7');
  assert.equal(evaluate('(1 + 2) * 3'), '9');
  assert.equal(evaluate('-2 * 3 + 10'), '4');
  assert.equal(evaluate('10 - 4 - 3'), '3');
  assert.equal(evaluate('12 / 4 / 3'), '1');
  assert.equal(evaluate('- -2'), '2');
  assert.equal(evaluate('unit_price * Decimal("1.05")', { unit_price: '2.3456' }), '2.462880');
  assert.equal(evaluate("list_price * Decimal('9e-1')", { list_price: '10' }), '9.0');
  assert.equal(evaluate('unit_price * Decimal(2)', { unit_price: '1.5' }), '3.0');
});

test('every operation rounds to 28 significant digits, half even, as Python decimal', () => {
  // Values printed by Python's decimal module
  assert.equal(evaluate('1 / 3'), '0.3333333333333333333333333333');
  assert.equal(evaluate('2 / 3'), '0.6666666666666666666666666667');
  assert.equal(evaluate('-1 / 7'), '-0.1428571428571428571428571429');
  assert.equal(evaluate('1 / 3 * 3'), '0.9999999999999999999999999999');
  assert.equal(S(decimalMul(D('1234567890123456789012345678'), D('3'))), '3703703670370370367037037034e0'.replace('e0', ''));
  assert.equal(S(decimalDiv(D('1'), D('8'))), '0.125');
  assert.equal(evaluate('10000000000000000000000000005 + 0'), '10000000000000000000000000000');
  assert.equal(evaluate('10000000000000000000000000015 + 0'), '10000000000000000000000000020');
});

test('Null propagates: a list based on no price gives no price', () => {
  assert.equal(evaluate('unit_price * 2 + 1', { unit_price: null }), null);
});

test('formulas outside the offline subset are refused, never guessed', () => {
  for (const f of ['cost_price * 2', 'max(unit_price, 1)', 'unit_price ** 2', 'unit_price // 2',
    'unit_price if unit_price else 1', 'Decimal(unit_price)', 'Decimal("NaN")', 'unit_price * 0x10',
    'unit_price *', '(unit_price', 'unit_price 2', 'eval("1")', 'unit_price.real', '', 'Decimal("1" "2")']) {
    assert.throws(() => parseFormula(f), FormulaError, f);
  }
});

test('a float quantity compares exactly with a decimal, as Python does', () => {
  assert.equal(compareFloatDecimal(10, D('10')), 0);
  assert.equal(compareFloatDecimal(0.1, D('0.1')), 1); // 0.1 is 0.1000000000000000055...
  assert.equal(compareFloatDecimal(0.5, D('0.500')), 0);
  assert.equal(compareFloatDecimal(2.5, D('3')), -1);
});

const LIST = {
  id: 7, name: 'Antwerp prices', price: 'list_price', tax_included: false, decimal_precision: 28, price_digits: 4,
  lines: [
    { id: 1, product: 3, category: null, quantity: null, formula: 'unit_price - 1', offline: true },
    { id: 2, product: null, category: 20, quantity: '10.0', formula: 'unit_price * 0.9', offline: true },
    { id: 3, product: null, category: 21, quantity: null, formula: 'cost_price * 1.3', offline: false },
    { id: 4, product: null, category: null, quantity: null, formula: 'unit_price * Decimal("1.05")', offline: true },
  ],
};

test('the first matching line gives the price: product, category, quantity', () => {
  const list = compilePriceList(LIST);
  const p = (id, list_price) => ({ id, list_price });
  assert.equal(S(priceListPrice(list, { product: p(3, '2'), quantity: '1' }).price), '1.0000');
  assert.equal(priceListPrice(list, { product: p(4, '2'), categories: [20], quantity: '9.999' }).line.id, 4);
  assert.equal(S(priceListPrice(list, { product: p(4, '2'), categories: [20], quantity: '10' }).price), '1.8000');
  assert.equal(S(priceListPrice(list, { product: p(4, '2'), categories: [20], quantity: '-12' }).price), '1.8000');
  const r = priceListPrice(list, { product: p(5, '2'), categories: [21], quantity: '1' });
  assert.equal(r.price, null);
  assert.equal(r.reason, 'not-offline');
  assert.equal(S(priceListPrice(list, { product: p(6, '2.3456') }).price), '2.4629');
  assert.equal(priceListPrice(compilePriceList({ ...LIST, lines: [] }), { product: p(6, '1') }).reason, 'no-line');
});

function antwerp(extra = {}) {
  const c = new Catalog();
  c.putRecords({
    branch: [{ id: 1, code: 'ANT', price_list: 7, currency: 'EUR', company: 1 }],
    category: [{ id: 20, name: 'Fruit', parent: null }, { id: 21, name: 'Apples', parent: 20 }, { id: 30, name: 'Wine', parent: null }],
    tax: [{ id: 1, name: 'VAT 21%', type: 'percentage', rate: '0.21', amount: null }, { id: 2, name: 'VAT 6%', type: 'percentage', rate: '0.06', amount: null }],
    price_list: [{ ...LIST, ...extra }],
    product: [
      { id: 10, name: 'Pears', category: 20, categories: [20], list_price: '2.0000', gross_price: '2.1200', taxes: [2], barcodes: ['4006381333931'] },
      { id: 11, name: 'Jonagold', category: 21, categories: [21], list_price: '3.0000', gross_price: '3.1800', taxes: [2], barcodes: [] },
      { id: 12, name: 'Rioja', category: 30, categories: [30], list_price: '8.2645', gross_price: '10.0000', taxes: [1], barcodes: [] },
    ],
  });
  return c;
}

test('the catalog serves products at the branch price, tax included as the till sells', () => {
  const c = antwerp();
  const rioja = c.get('product', 12);
  // 8.2645 x 1.05 = 8.677725 -> 8.6777; x 1.21 = 10.500017 -> 10.5000
  assert.equal(rioja.list_price, '8.6777');
  assert.equal(rioja.gross_price, '10.5000');
  assert.equal(rioja.base_gross_price, '10.0000');
  assert.equal(rioja.price_source, 'price_list');
  assert.equal(c.lookup(['4006381333931']).gross_price, '2.2260'); // 2.1 x 1.06
  assert.equal(c.search('rioja')[0].gross_price, '10.5000');
  // The cart line takes it as is
  const order = newOrder();
  addProduct(order, c.get('product', 12));
  assert.equal(order.lines[0].unitPrice, 105000);
  // A quantity break: category Fruit from 10 units
  assert.equal(c.unitPrice(10, 10000).unitPrice, 19080); // 2 x 0.9 = 1.8 x 1.06
  assert.equal(c.unitPrice(10, 1000).unitPrice, 22260);
});

test('a line the till cannot compute: the product\'s own price with a notice', () => {
  const c = antwerp();
  const apples = c.get('product', 11); // Apples (line 3, cost price based) comes before the catch-all
  assert.equal(apples.gross_price, '3.1800');
  assert.equal(apples.price_source, 'base');
  assert.equal(apples.price_notice, 'price-not-offline');
  assert.equal(c.unitPrice(11).notice, 'price-not-offline');
});

test('a tax-included price list gives the gross price itself', () => {
  const c = antwerp({ tax_included: true });
  const rioja = c.get('product', 12);
  assert.equal(rioja.gross_price, '8.6777');
  assert.equal(rioja.list_price, '7.1717'); // 8.6777 / 1.21 = 7.17165...
});

test('changes of the price list, the branch or a category reprice the products', () => {
  const c = antwerp();
  assert.equal(c.get('product', 12).gross_price, '10.5000');
  c.applyChange({ kind: 'price_list', id: 7, op: 'upsert', data: { ...LIST, lines: [{ id: 9, product: null, category: null, quantity: null, formula: 'unit_price * 2', offline: true }] } });
  assert.equal(c.get('product', 12).gross_price, '20.0001'); // 16.529 x 1.21 = 20.00009
  // Wine moves under Fruit: the category line (from 10 units) now applies
  c.applyChange({ kind: 'price_list', id: 7, op: 'upsert', data: LIST });
  c.applyChange({ kind: 'category', id: 30, op: 'upsert', data: { id: 30, name: 'Wine', parent: 20 } });
  assert.equal(c.unitPrice(12, 10000).listUnitPrice, 74380); // 8.2645 x 0.9 = 7.43805 -> 7.4380 (half even)
  assert.equal(c.unitPrice(12, 9000).listUnitPrice, 86777);
  c.applyChange({ kind: 'branch', id: 1, op: 'upsert', data: { id: 1, code: 'ANT', price_list: null } });
  assert.equal(c.get('product', 12).gross_price, '10.0000');
  assert.equal(c.get('product', 12).price_source, undefined);
});
