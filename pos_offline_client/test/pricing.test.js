import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeLine, computeOrder, discountedUnitPrice, lineAmount, percentToBp, quantityForAmount,
  taxRecord, tender, untaxedUnitPrice, unitPrices, withinLimit,
} from '../src/services/pricing.js';

const taxes = new Map([
  [1, taxRecord({ id: 1, type: 'percentage', rate: '0.21' })],
  [2, taxRecord({ id: 2, type: 'percentage', rate: '0.06' })],
]);
const item = (unitPrice, quantity, extra = {}) => ({ unitPrice, quantity, taxes: [1], ...extra });

test('line amount is quantity x unit price rounded half-even', () => {
  assert.equal(lineAmount(3000, 19900), 597); // 3 x 1.99
  assert.equal(lineAmount(1250, 29900), 374); // 1.25 kg x 2.99 = 3.7375
  assert.equal(lineAmount(500, 500), 2); // 0.025 -> 0.02
  assert.equal(lineAmount(1500, 500), 8); // 0.075 -> 0.08
});

test('percentage discounts compound and round to price digits', () => {
  assert.equal(discountedUnitPrice(100000, 1000), 90000); // 10.00 - 10 %
  assert.equal(discountedUnitPrice(100000, 1000, 500), 85500); // then - 5 %
  assert.equal(discountedUnitPrice(33333, 3333), 22223); // 3.3333 x 0.6667
  assert.throws(() => discountedUnitPrice(100, 10001));
});

test('tax is extracted from the gross price like Tryton reverse_compute', () => {
  assert.equal(untaxedUnitPrice(121000, 2100000000), 100000);
  const c = computeLine(item(19900, 3000), { taxes });
  assert.equal(c.amount, 597);
  // untaxed unit 1.9900/1.21 = 1.6446 ; 3 x 1.6446 = 4.9338 -> 4.93
  assert.equal(c.unitListPrice, 16446);
  assert.equal(c.untaxed, 493);
  assert.equal(c.tax, 104);
});

test('order totals, per-rate breakdown and voided lines', () => {
  const order = {
    lines: [
      item(19900, 3000),
      { unitPrice: 5000, quantity: 2000, taxes: [2] },
      item(99900, 1000, { voided: true }),
    ],
    payments: [],
  };
  const o = computeOrder(order, { taxes });
  assert.equal(o.total, 597 + 100);
  assert.equal(o.taxes.length, 2);
  assert.equal(o.tax, o.taxes.reduce((s, r) => s + r.amount, 0));
  assert.equal(o.due, 697);
});

test('an order discount applies to every line and the total matches line sums', () => {
  const order = { lines: [item(19900, 3000), item(5000, 1000)], discount: 1000, payments: [] };
  const o = computeOrder(order, { taxes });
  assert.equal(o.lines[0].unitGrossPrice, 17910);
  assert.equal(o.total, lineAmount(3000, 17910) + lineAmount(1000, 4500));
  assert.equal(o.discount, 597 + 50 - o.total);
});

test('split payments: card exact, cash over-tender gives change', () => {
  const order = { lines: [item(100000, 1000)], payments: [] };
  order.payments.push(tender(order, { method: 'card', amount: 400 }));
  assert.throws(() => tender(order, { method: 'card', amount: 700 }), /over-tender/);
  order.payments.push(tender(order, { method: 'wallet', amount: 100 }));
  order.payments.push(tender(order, { method: 'cash', amount: 1000, cash: true }));
  const o = computeOrder(order);
  assert.equal(o.due, 0);
  assert.equal(o.paid, 1000);
  assert.equal(o.change, 500);
  assert.throws(() => tender(order, { method: 'cash', amount: 1, cash: true }), /nothing-due/);
});

test('refunds pay out negative amounts, never more than owed', () => {
  const order = { lines: [item(19900, -2000)], payments: [] };
  const p = tender(order, { method: 'cash', amount: 10000, cash: true });
  assert.equal(p.amount, -398);
  order.payments.push(p);
  assert.equal(computeOrder(order).due, 0);
});

test('a price barcode becomes a weight at the unit price', () => {
  assert.equal(quantityForAmount(399, 29900), 1334);
});

test('discount limits come from the server as decimal strings', () => {
  assert.equal(percentToBp('5.00'), 500);
  assert.ok(withinLimit(500, '5.00'));
  assert.ok(!withinLimit(501, '5.00'));
  assert.ok(!withinLimit(1, null));
});

test('tax-excluded prices: the gross unit price is round_price(list + taxes)', () => {
  const [t21] = [taxes.get(1)];
  assert.deepEqual(unitPrices(14900, [t21], false), { gross: 18029, list: 14900 });
  assert.deepEqual(unitPrices(14900, [t21], true), { gross: 14900, list: 12314 });
  const c = computeLine(item(14900, 2000), { taxes, taxIncluded: false });
  // 2 x 1.8029 = 3.6058 -> 3.61 paid; 2 x 1.49 = 2.98 untaxed
  assert.equal(c.amount, 361);
  assert.equal(c.untaxed, 298);
  assert.equal(c.tax, 63);
});

test('taxes per tax follow the tax rounding: per document or per line', () => {
  // Three lines of 0.0125 tax each (0.05 untaxed x 25 %)
  const t25 = new Map([[3, taxRecord({ id: 3, type: 'percentage', rate: '0.25' })]]);
  const order = { lines: [1, 2, 3].map(() => ({ unitPrice: 500, quantity: 1000, taxes: [3] })), payments: [] };
  const doc = computeOrder(order, { taxes: t25, taxIncluded: false, taxRounding: 'document' });
  const line = computeOrder(order, { taxes: t25, taxIncluded: false, taxRounding: 'line' });
  // The sale's tax is the lines' (gross 0.0625 -> 0.06, untaxed 0.05): 3 x 0.01
  assert.equal(doc.tax, 3);
  assert.equal(line.tax, 3);
  assert.deepEqual(doc.taxes.map((t) => [t.base, t.amount]), [[15, 3]]);
  assert.deepEqual(line.taxes.map((t) => [t.base, t.amount]), [[15, 3]]);
});

test('items count a weighed line as one article, whatever it weighs', () => {
  const order = {
    lines: [
      item(19900, 3000),
      item(199, 1234, { weighed: true }),
      item(129, 1938, { weighed: true }),
      item(99900, 1000, { voided: true }),
    ],
    payments: [],
  };
  const o = computeOrder(order, { taxes });
  assert.equal(o.items, 5000);
  assert.equal(o.quantity, 3000 + 1234 + 1938);
});
