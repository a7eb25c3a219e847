// What a receipt has left to return (src/services/returns.js): this till's
// records, and online the server's answer (protocol 1.1 GET
// receipts/<number>) with the returns other tills made of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import './dom.js';
import { CASHIER, till } from './ui-till.js';
import { addProduct, newOrder } from '../src/models/order.js';
import { findReturnable, returnOrder } from '../src/services/returns.js';

async function sold(t, quantity) {
  const order = newOrder();
  addProduct(order, t.catalog.get('product', 1), { quantity });
  order.payments.push({ method: 2, amount: t.register.totals(order).total });
  await t.register.commitSale(order, CASHIER);
  return (await t.register.lastReceipt()).number;
}

const server = (answer, failed = false) => async () => ({ answer, failed });

test('a receipt of this till, less what another till returned of it (server), refunds to its method', async () => {
  const t = await till();
  const number = await sold(t, 3000);
  const answer = {
    receipt: { number, lines: [{ product: 1, quantity: '3', unit_price: '49.95', price: '49.95', discount: null, lot: null }], payments: [{ method: 2, amount: '149.85' }] },
    returns: [{ number: 'ANT1-000005', lines: [{ product: 1, quantity: '-1' }], payments: [{ method: 2, amount: '-49.95' }] }],
  };
  const offline = await findReturnable(number, { register: t.register, catalog: t.catalog, online: false, remote: server(null) });
  assert.deepEqual(offline.lines.map((l) => l.left), [3000]);
  const found = await findReturnable(number, { register: t.register, catalog: t.catalog, online: true, remote: server(answer) });
  assert.equal(found.status, 'ok');
  assert.deepEqual(found.lines.map((l) => [l.product, l.left]), [[1, 2000]]);
  assert.deepEqual(found.refund, { paid: [{ method: 2, amount: 14985 }], refunded: [{ method: 2, amount: 4995 }] });
  const order = returnOrder(number, found, found.lines, { overrides: [{ action: 'Refund' }] });
  assert.equal(order.kind, 'return');
  assert.deepEqual(order.lines.map((l) => [l.quantity, l.returnOf]), [[-2000, found.lines[0].uuid]]);
  assert.equal(order.overrides[0].action, 'Refund');
  // returned here too: nothing left
  const ret = returnOrder(number, found, found.lines);
  ret.payments.push({ method: 2, amount: t.register.totals(ret).total });
  await t.register.commitSale(ret, CASHIER);
  const again = await findReturnable(number, { register: t.register, catalog: t.catalog, online: true, remote: server(answer) });
  assert.equal(again.status, 'returned');
});

test('another till\'s receipt: found through the server, unreachable without it, unknown when it says so', async () => {
  const t = await till();
  const answer = {
    receipt: { number: 'ANT1-000042', lines: [{ product: 2, quantity: '2', unit_price: '2.50', price: '2.50', discount: null, lot: null }], payments: [{ method: 1, amount: '5.00' }] },
    returns: [],
  };
  const args = { register: t.register, catalog: t.catalog };
  const found = await findReturnable('ANT1-000042', { ...args, online: true, remote: server(answer) });
  assert.deepEqual(found.lines.map((l) => [l.product, l.left, l.name]), [[2, 2000, 'Espresso']]);
  assert.equal((await findReturnable('ANT1-000042', { ...args, online: false, remote: server(answer) })).status, 'unreachable');
  assert.equal((await findReturnable('ANT1-000042', { ...args, online: true, remote: server(null, true) })).status, 'unreachable');
  assert.equal((await findReturnable('ANT1-000042', { ...args, online: true, remote: server(null) })).status, 'not-found');
});
