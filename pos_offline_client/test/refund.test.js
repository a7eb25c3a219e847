import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refundContext, refundLimits, refundMethods, tenderRefund } from '../src/services/refund.js';

const CASH = { id: 1, name: 'Cash', cash: true };
const CARD = { id: 2, name: 'Card', cash: false };
const WALLET = { id: 3, name: 'Wallet', cash: false };
const METHODS = [CASH, CARD, WALLET];

// A return of 2 × 12.00 (minor units), its original paid as `paid`.
function returnOrder(payments = []) {
  return {
    kind: 'return', discount: 0, payments,
    lines: [{ uuid: 'l1', product: 1, quantity: -2000, unitPrice: 120000, listUnitPrice: 120000, discount: 0, taxes: [] }],
  };
}

test('refund to the original card: the card it was paid with, up to what was paid', () => {
  const context = refundContext({ originalPayments: [{ method: CARD.id, amount: 1500 }, { method: CASH.id, amount: 900 }] });
  const limits = refundLimits({ methods: METHODS, policy: 'original', context });
  assert.deepEqual(refundMethods(METHODS, limits).map((m) => m.id), [CASH.id, CARD.id]);
  assert.equal(limits.get(CARD.id), 1500);
  const order = returnOrder();
  // 24.00 asked on the card: 15.00 there, the rest stays due for cash
  const p = tenderRefund(order, { method: CARD.id, amount: 2400 }, limits);
  assert.deepEqual([p.method, p.amount], [CARD.id, -1500]);
  order.payments.push(p);
  const after = refundLimits({ methods: METHODS, policy: 'original', context, order });
  assert.equal(after.get(CARD.id), 0);
  assert.throws(() => tenderRefund(order, { method: CARD.id, amount: 900 }, after), /refund-limit/);
  const cash = tenderRefund(order, { method: CASH.id, amount: 900 }, after);
  assert.equal(cash.amount, -900);
});

test('refund never exceeds what was paid by the method, earlier returns included', () => {
  const context = refundContext({
    originalPayments: [{ method: CARD.id, amount: 2400 }],
    earlierRefunds: [{ method: CARD.id, amount: -1200 }, { method: CASH.id, amount: -500 }],
  });
  const limits = refundLimits({ methods: METHODS, policy: 'original', context });
  assert.equal(limits.get(CARD.id), 1200);
  const p = tenderRefund(returnOrder(), { method: CARD.id, amount: 2400 }, limits);
  assert.equal(p.amount, -1200);
});

test('refund in cash only when the branch says so', () => {
  const context = refundContext({ originalPayments: [{ method: CARD.id, amount: 2400 }] });
  const limits = refundLimits({ methods: METHODS, policy: 'cash', context });
  assert.deepEqual(refundMethods(METHODS, limits).map((m) => m.id), [CASH.id]);
  assert.throws(() => tenderRefund(returnOrder(), { method: CARD.id, amount: 2400 }, limits), /refund-method/);
});

test('refund to a method the original sale was not paid with is refused', () => {
  const context = refundContext({ originalPayments: [{ method: CARD.id, amount: 2400 }] });
  const limits = refundLimits({ methods: METHODS, policy: 'original', context });
  assert.equal(limits.has(WALLET.id), false);
  assert.throws(() => tenderRefund(returnOrder(), { method: WALLET.id, amount: 100 }, limits), /refund-method/);
});

test('refund without the original receipt goes to cash', () => {
  const limits = refundLimits({ methods: METHODS, policy: 'original', context: null });
  assert.deepEqual(refundMethods(METHODS, limits).map((m) => m.id), [CASH.id]);
});

test('refund limits go by the method type: cash unlimited, a card terminal like any non-cash method', () => {
  const terminal = { id: 4, name: 'Terminal', cash: false, type: 'card_terminal' };
  const cash = { id: 1, name: 'Cash', cash: true, type: 'cash' };
  const context = refundContext({ originalPayments: [{ method: terminal.id, amount: 700 }] });
  const limits = refundLimits({ methods: [cash, terminal], policy: 'original', context });
  assert.equal(limits.get(cash.id), Infinity);
  assert.equal(limits.get(terminal.id), 700);
  const cashOnly = refundLimits({ methods: [cash, terminal], policy: 'cash', context });
  assert.deepEqual([...cashOnly.keys()], [cash.id]);
});
