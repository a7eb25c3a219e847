import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeLine, computeOrder, discountedUnitPrice, lineAmount, percentToBp, quantityForAmount,
  tender, untaxedUnitPrice, withinLimit,
} from '../src/services/pricing.js';

const taxes = new Map([[1, { rate: 210000 }], [2, { rate: 60000 }]]);
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
  assert.equal(untaxedUnitPrice(121000, 210000), 100000);
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
  assert.equal(o.tax, o.taxes.reduce((s, r) => s + r.tax, 0));
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
