import { test } from 'node:test';
import assert from 'node:assert/strict';
import { receiptFromWire, returnedByProduct, withoutReturned } from '../src/sync/api.js';

const catalog = {
  records: {
    product: new Map([[101, { id: 101, name: 'Espresso 250 g', code: 'ESP250', taxes: [1] }], [205, { id: 205, name: 'Milk', code: 'MILK', taxes: [2] }]]),
    lot: new Map([[9, { id: 9, number: 'L9', expiration_date: '2026-12-01' }]]),
    customer: new Map([[88, { id: 88, uuid: 'c-88', name: 'Ana Peeters' }]]),
  },
  get(kind, id) {
    return this.records[kind]?.get(id) ?? null;
  },
};

// The answer documented in docs/sync-protocol.md (GET /receipts/<number>)
const answer = {
  receipt: {
    sale: 812, number: 'BXL1-000124', receipt_number: 124, terminal: 4, customer: 88, total: '28.10',
    lines: [
      { product: 101, quantity: '2', unit_price: '12.00', price: '10.80', discount: { type: 'percent', value: '10' }, lot: null },
      { product: 205, quantity: '5', unit_price: '1.30', price: '1.30', discount: null, lot: 9 },
    ],
    payments: [{ method: 1, amount: '28.10' }],
  },
  returns: [{ number: 'BXL2-000031', lines: [{ product: 205, quantity: '-2', unit_price: '1.30', price: '1.30', discount: null, lot: 9 }] }],
};

test('a receipt from the server becomes a returnable sale at the price charged', () => {
  const r = receiptFromWire(answer, catalog);
  assert.equal(r.kind, 'sale');
  assert.equal(r.number, 'BXL1-000124');
  assert.deepEqual(r.order.customer, { id: 88, uuid: 'c-88', name: 'Ana Peeters' });
  const [espresso, milk] = r.order.lines;
  assert.equal(espresso.name, 'Espresso 250 g');
  assert.equal(espresso.quantity, 2000);
  assert.equal(espresso.unitPrice, 108000);
  assert.equal(espresso.discount, 0);
  assert.equal(espresso.uuid, 'BXL1-000124#0');
  assert.deepEqual(milk.lot, { id: 9, number: 'L9', expiry: '2026-12-01' });
});

test('what returns at other tills took back is not offered again', () => {
  const milk = receiptFromWire(answer, catalog).order.lines[1];
  assert.equal(milk.quantity, 3000);
  const all = receiptFromWire({ ...answer, returns: [{ lines: [{ product: 101, quantity: '-2' }, { product: 205, quantity: '-5' }] }] }, catalog);
  assert.deepEqual(all.order.lines, []);
});

test('an answer without a receipt is not found', () => {
  assert.equal(receiptFromWire(null, catalog), null);
  assert.equal(receiptFromWire({ error: { code: 'not_found' } }, catalog), null);
});

test('a return made at this till is counted once, not by the server and the journal both', () => {
  // BXL2-000031 is in this till's journal: it counts it by line itself
  const r = receiptFromWire(answer, catalog, { localReturns: new Set(['BXL2-000031']) });
  assert.equal(r.order.lines[1].quantity, 5000);
  assert.deepEqual([...returnedByProduct(answer, { localReturns: new Set(['BXL2-000031']) })], []);
  assert.deepEqual([...returnedByProduct(answer)], [[205, 2000]]);
});

test('returns at other tills reduce what is left of a receipt of this till', () => {
  const lines = [
    { uuid: 'a', product: 101, left: 2000 }, { uuid: 'b', product: 205, left: 3000 }, { uuid: 'c', product: 205, left: 1000 },
  ];
  // 3.5 of product 205 went back elsewhere: the first line of 205 is gone, the second keeps 0.5
  const rest = withoutReturned(lines, new Map([[205, 3500]]));
  assert.deepEqual(rest.map((l) => [l.uuid, l.left]), [['a', 2000], ['c', 500]]);
  assert.equal(lines[1].left, 3000, 'the journal lines are left as they were');
  assert.deepEqual(withoutReturned(lines, new Map()).map((l) => l.left), [2000, 3000, 1000]);
});
