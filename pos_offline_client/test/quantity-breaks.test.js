// A cart line follows the branch's price list at its quantity (quantity
// breaks) unless its price was set by the cashier, the label or the sale it
// returns; a product the till cannot price offline keeps its own price and
// says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from '../src/services/catalog.js';
import { addProduct, newOrder, repriceLine, setQuantity, stepQuantity } from '../src/models/order.js';
import { computeOrder } from '../src/services/pricing.js';

// Antwerp's list: Fruit (category 20) at 0.9 x list price from 10 units,
// Apples (21) on cost price (not offline) from 5 units, everything else
// at 1.05 x list price. VAT 6 % on fruit.
function antwerp() {
  const c = new Catalog();
  c.putRecords({
    branch: [{ id: 1, code: 'ANT', price_list: 7, currency: 'EUR', company: 1 }],
    category: [{ id: 20, name: 'Fruit', parent: null }, { id: 21, name: 'Apples', parent: 20 }],
    tax: [{ id: 2, name: 'VAT 6%', type: 'percentage', rate: '0.06', amount: null }],
    uom: [{ id: 1, name: 'Unit', rate: 1, factor: 1, digits: 0 }, { id: 2, name: 'Kilogram', rate: 1, factor: 1, digits: 3 }],
    price_list: [{
      id: 7, name: 'Antwerp', price: 'list_price', tax_included: false, decimal_precision: 28, price_digits: 4,
      lines: [
        { id: 1, product: null, category: 21, quantity: '5.0', formula: 'cost_price * 1.3', offline: false },
        { id: 2, product: null, category: 20, quantity: '10.0', formula: 'unit_price * 0.9', offline: true },
        { id: 3, product: null, category: null, quantity: null, formula: 'unit_price * Decimal("1.05")', offline: true },
      ],
    }],
    product: [
      { id: 10, name: 'Pears', category: 20, categories: [20], uom: 1, list_price: '2.0000', gross_price: '2.1200', taxes: [2], barcodes: ['4006381333931'] },
      { id: 11, name: 'Jonagold', category: 21, categories: [21], uom: 1, list_price: '3.0000', gross_price: '3.1800', taxes: [2], barcodes: [] },
      { id: 13, name: 'Bananas', category: 20, categories: [20], uom: 2, list_price: '1.5000', gross_price: '1.5900', taxes: [2], barcodes: [] },
    ],
  });
  return c;
}

// Pears: 2 x 1.05 = 2.1 -> 2.2260 gross; from 10 units 2 x 0.9 = 1.8 -> 1.9080
const PEAR_1 = 22260;
const PEAR_10 = 19080;

test('a typed quantity reprices the line at the break, and back', () => {
  const c = antwerp();
  const order = newOrder();
  const line = addProduct(order, c.get('product', 10), { catalog: c });
  assert.equal(line.unitPrice, PEAR_1);
  setQuantity(line, 12000, c);
  assert.equal(line.unitPrice, PEAR_10);
  assert.equal(computeOrder(order).total, 2290); // 12 x 1.9080 = 22.896
  setQuantity(line, 9000, c);
  assert.equal(line.unitPrice, PEAR_1);
  assert.equal(line.listUnitPrice, PEAR_1);
});

test('the + and − steps reprice at each quantity; − stops at one', () => {
  const c = antwerp();
  const order = newOrder();
  const line = addProduct(order, c.get('product', 10), { quantity: 9000, catalog: c });
  assert.equal(line.unitPrice, PEAR_1);
  assert.equal(stepQuantity(line, 1, c), true);
  assert.equal(line.quantity, 10000);
  assert.equal(line.unitPrice, PEAR_10);
  stepQuantity(line, -1, c);
  assert.equal(line.unitPrice, PEAR_1);
  setQuantity(line, 1000, c);
  assert.equal(stepQuantity(line, -1, c), false);
  assert.equal(line.quantity, 1000);
});

test('ten scans of the same product merge into one line at the break price', () => {
  const c = antwerp();
  const order = newOrder();
  for (let i = 0; i < 11; i += 1) addProduct(order, c.lookup(['4006381333931']), { catalog: c });
  assert.equal(order.lines.length, 1);
  assert.equal(order.lines[0].quantity, 11000);
  assert.equal(order.lines[0].unitPrice, PEAR_10);
});

test('a weighed quantity is priced at its weight', () => {
  const c = antwerp();
  const order = newOrder();
  // 1.5900 x 1.05 / 1.06... : bananas at 1.5 x 1.05 = 1.575 -> 1.6695 gross below 10 kg
  const light = addProduct(order, c.get('product', 13), { quantity: 2345, weighed: true, catalog: c });
  assert.equal(light.unitPrice, 16695);
  const heavy = addProduct(order, c.get('product', 13), { quantity: 10250, weighed: true, catalog: c });
  assert.equal(heavy.unitPrice, 14310); // 1.5 x 0.9 = 1.35 x 1.06
  assert.equal(order.lines.length, 2, 'weighed lines never merge');
});

test('a price set by the cashier, a price label or a returned sale is kept', () => {
  const c = antwerp();
  const order = newOrder();
  const changed = addProduct(order, c.get('product', 10), { catalog: c });
  changed.unitPrice = 15000; // F7
  changed.priceOverridden = true;
  setQuantity(changed, 20000, c);
  assert.equal(changed.unitPrice, 15000);
  const typed = addProduct(order, c.get('product', 10), { unitPrice: 17000, catalog: c });
  assert.equal(typed.priceOverridden, true);
  setQuantity(typed, 20000, c);
  assert.equal(typed.unitPrice, 17000);
  const label = addProduct(order, c.get('product', 13), { quantity: 12000, unitPrice: 12345, weighed: true, fromBarcode: true, catalog: c });
  assert.equal(label.priceOverridden, false);
  assert.equal(label.unitPrice, 12345, 'the price printed on the label');
  assert.equal(repriceLine(label, c), false);
  const returned = { ...addProduct(newOrder('return'), c.get('product', 10), { catalog: c }), quantity: -12000, returnOf: 'sold-line' };
  assert.equal(repriceLine(returned, c), false);
  assert.equal(returned.unitPrice, PEAR_1);
});

test('a product unknown to the catalog keeps its price', () => {
  const c = antwerp();
  const order = newOrder();
  const line = addProduct(order, c.get('product', 10), { catalog: c });
  c.applyChange({ kind: 'product', id: 10, op: 'delete' });
  setQuantity(line, 12000, c);
  assert.equal(line.unitPrice, PEAR_1);
});

test('a bad quantity is refused and changes nothing', () => {
  const c = antwerp();
  const line = addProduct(newOrder(), c.get('product', 10), { catalog: c });
  for (const q of [0, 1.5, Number.NaN, '2000']) assert.throws(() => setQuantity(line, q, c), RangeError);
  assert.equal(line.quantity, 1000);
  assert.equal(line.unitPrice, PEAR_1);
});

test('a quantity break the till cannot compute: the usual price, with the notice', () => {
  const c = antwerp();
  const order = newOrder();
  const apples = addProduct(order, c.get('product', 11), { catalog: c });
  // below 5 units the catch-all line applies: 3 x 1.05 = 3.15 x 1.06
  assert.equal(apples.unitPrice, 33390);
  assert.equal(apples.priceNotice, null);
  setQuantity(apples, 6000, c);
  assert.equal(apples.unitPrice, 31800, 'the product\'s own price');
  assert.equal(apples.priceNotice, 'price-not-offline');
  setQuantity(apples, 2000, c);
  assert.equal(apples.priceNotice, null);
});

test('a product priced with the notice keeps it on its line without a catalog', () => {
  const line = addProduct(newOrder(), { id: 5, name: 'Cider', gross_price: '4.0000', price_notice: 'price-not-offline' });
  assert.equal(line.priceNotice, 'price-not-offline');
  assert.equal(line.unitPrice, 40000);
});
