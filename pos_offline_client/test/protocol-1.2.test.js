// Protocol 1.2 on the wire (docs/sync-protocol.md § Cash sessions, § Audit):
// sessions named by the till's UUID, one `audit` operation per manager
// approval committed with its sale, and the server's X/Z figures beside the
// till's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, testVault } from './helpers.js';
import { addProduct, newOrder } from '../src/models/order.js';
import { Catalog } from '../src/services/catalog.js';
import { Register } from '../src/services/register.js';
import { SyncEngine } from '../src/sync/engine.js';
import { auditPayloads, compareFigures, figuresFromWire } from '../src/sync/wire.js';

const records = {
  payment_method: [{ id: 1, name: 'Cash', cash: true }, { id: 2, name: 'Card', cash: false }],
  tax: [],
  company: [{ id: 1, currency: 'EUR', currency_digits: 2 }],
};
const catalog = new Catalog();
catalog.putRecords(records);
const cashier = { id: 7, name: 'Bruno' };
const coffee = { id: 101, name: 'Coffee', gross_price: '4.5000', taxes: [] };
const milk = { id: 205, name: 'Milk', gross_price: '1.2000', taxes: [] };

async function till() {
  const db = await freshDb();
  const vault = await testVault();
  const reg = new Register({ db, vault, catalog, device: { terminal: { id: 4, receipt_prefix: 'BXL1' }, branch: null } });
  return { db, vault, reg };
}

async function outbox({ db, vault }) {
  const entries = await db.outbox.orderBy('seq').toArray();
  return Promise.all(entries.map((e) => vault.decrypt(e.enc)));
}

function paidOrder(overrides = [], pay = [[1, 1020]]) {
  const order = newOrder();
  const a = addProduct(order, coffee, { quantity: 2000 });
  addProduct(order, milk);
  order.payments = pay.map(([method, amount]) => ({ method, amount }));
  order.overrides = overrides.map((o) => ({ cashier: 7, at: Date.UTC(2026, 10, 21, 9, 15), ...o, line: o.line === 'first' ? a.uuid : o.line }));
  return { order, line: a };
}

test('the session is opened with its UUID and float; its sales, cash moves and close name it', async () => {
  const t = await till();
  const session = await t.reg.openSession(15000, cashier);
  await t.reg.cashMove('cash_in', 2000, 3, '', cashier);
  await t.reg.commitSale(paidOrder().order, cashier);
  await t.reg.cashMove('cash_out', 500, 3, '', cashier);
  await t.reg.closeSession(26520, [], cashier);
  const ops = await outbox(t);
  assert.deepEqual(ops.map((o) => o.type), ['session_open', 'cash_in', 'sale', 'cash_out', 'session_close']);
  assert.deepEqual(ops[0].payload, { session: session.uuid, opening_amount: '150.00' });
  assert.deepEqual(ops[1].payload, { amount: '20.00', transfer_type: 3, note: '', session: session.uuid });
  assert.equal(ops[2].payload.session, session.uuid);
  assert.equal(ops[2].payload.total, '10.20');
  assert.equal(ops[3].payload.session, session.uuid);
  assert.deepEqual(ops[4].payload, { counted_cash: '265.20', session: session.uuid });
});

test('the session_close carries the cash counted by denomination (largest first, counted ones only)', async () => {
  const t = await till();
  const session = await t.reg.openSession(0, cashier);
  await t.reg.closeSession(11020, [[1000, 1], [5000, 2], [200, 0], [10, 2]], cashier);
  const ops = await outbox(t);
  assert.deepEqual(ops.at(-1).payload, {
    counted_cash: '110.20', session: session.uuid,
    denominations: [{ value: '50.00', count: 2 }, { value: '10.00', count: 1 }, { value: '0.10', count: 2 }],
  });
});

test('a session opened before protocol 1.2 is not named on the wire (the server does not know its UUID)', async () => {
  const t = await till();
  const old = { uuid: 'opened-by-1.1', openedAt: Date.now(), opening: 0, employee: 7, transfers: [], counted: null, closedAt: null };
  await t.db.sessions.put(await t.reg.saveSession(old, 'open'));
  await t.reg.commitSale(paidOrder().order, cashier);
  await t.reg.closeSession(1020, [], cashier);
  const [sale, close] = await outbox(t);
  assert.equal('session' in sale.payload, false);
  assert.deepEqual(close.payload, { counted_cash: '10.20' });
});

test('each manager approval of a sale is an audit operation, sequenced after the sale in its transaction', async () => {
  const t = await till();
  await t.reg.openSession(0, cashier);
  const { order, line } = paidOrder([
    { action: 'Discount', manager: 3, managerName: 'Chloé', discount: '20.00', line: 'first', product: 101 },
    { action: 'Open drawer', manager: 3 },
    { action: 'Sell an expired lot', manager: 3, product: 205, lotId: 9, lot_number: 'L9', expiry: '2026-11-01' },
  ]);
  const r = await t.reg.commitSale(order, cashier);
  const ops = await outbox(t);
  assert.deepEqual(ops.map((o) => [o.type, o.sequence]), [['session_open', 1], ['sale', 2], ['audit', 3], ['audit', 4]]);
  assert.deepEqual(r.also.map((o) => o.uuid), [ops[2].uuid, ops[3].uuid]);
  assert.deepEqual(ops[2].payload, {
    action: 'discount', manager: 3, cashier: 7, receipt: 'BXL1-000001', product: 101, lot: null,
    detail: { discount: '20.00', line: line.uuid, approved_at: '2026-11-21T09:15:00.000Z' },
  });
  assert.deepEqual(ops[3].payload, {
    action: 'expired_lot', manager: 3, cashier: 7, receipt: 'BXL1-000001', product: 205, lot: 9,
    detail: { lot_number: 'L9', expiry: '2026-11-01', approved_at: '2026-11-21T09:15:00.000Z' },
  });
  assert.equal(ops[2].client_time, ops[1].client_time);
  assert.equal(ops[2].employee, 7);
  assert.deepEqual((await t.db.meta.get('counters')).operation, 4, 'the next operation follows the audits');
});

test('a sale that fails to commit leaves no audit behind, and no sequence used', async () => {
  const t = await till();
  await t.reg.openSession(0, cashier);
  const { order } = paidOrder([{ action: 'Price override', manager: 3, line: 'first', from: '4.5000', price: '4.0000' }]);
  await t.db.held.put({ uuid: 'x', createdAt: 0, enc: null });
  const broken = t.db.held.delete;
  t.db.held.delete = async () => { throw new Error('disk full'); };
  await assert.rejects(t.reg.commitSale(order, cashier, { heldUuid: 'x' }), /disk full/);
  t.db.held.delete = broken;
  assert.deepEqual((await outbox(t)).map((o) => o.type), ['session_open']);
  assert.equal((await t.db.meta.get('counters')).operation, 1);
  await t.reg.commitSale(order, cashier);
  const ops = await outbox(t);
  assert.deepEqual(ops.map((o) => [o.type, o.sequence]), [['session_open', 1], ['sale', 2], ['audit', 3]]);
  assert.equal(ops[2].payload.action, 'price_override');
  assert.equal(ops[2].payload.product, 101, 'the product of the approved line');
  assert.deepEqual(ops[2].payload.detail.price, '4.0000');
});

test('a refund approval names the return and the original receipt; a voided sale sends its approvals', async () => {
  const t = await till();
  await t.reg.openSession(0, cashier);
  const ret = newOrder('return');
  ret.originalReceipt = 'BXL2-000031';
  addProduct(ret, milk, { quantity: -1000 });
  ret.payments = [{ method: 1, amount: -120 }];
  ret.overrides = [{ action: 'Refund', manager: 3, cashier: 7, original_receipt: 'BXL2-000031' }];
  await t.reg.commitSale(ret, cashier);
  const voided = paidOrder([{ action: 'Void sale', manager: 3 }]).order;
  await t.reg.voidOrder(voided, cashier, 'customer left');
  const ops = await outbox(t);
  assert.deepEqual(ops.map((o) => o.type), ['session_open', 'return', 'audit', 'void', 'audit']);
  assert.deepEqual(ops[2].payload, {
    action: 'refund', manager: 3, cashier: 7, receipt: 'BXL1-000001', product: null, lot: null,
    detail: { original_receipt: 'BXL2-000031' },
  });
  assert.equal(ops[4].payload.action, 'void_sale');
  assert.equal(ops[4].payload.receipt, 'BXL1-000002');
});

test('approvals without a protocol action, or without a manager, are not sent', () => {
  const order = newOrder();
  order.overrides = [{ action: 'Open drawer', manager: 3 }, { action: 'Close session', manager: 3 }, { action: 'Discount', manager: null }];
  assert.deepEqual(auditPayloads(order, { receipt: 'BXL1-000009' }), []);
});

// The example of docs/sync-protocol.md (GET /sessions/<uuid>)
const documented = {
  id: 12, uuid: '5b0e2c4e-3f7a-4d0e-9a51-2c7d0b1f9e11', terminal: 4, state: 'closed',
  opening_float: '100.00', sales: 41, sales_total: '612.30', returns: 2, returns_total: '-24.00',
  net: '588.30', taxes: '102.10',
  payments: [{ method: 1, name: 'Cash', amount: '404.40' }, { method: 2, name: 'Card', amount: '183.90' }],
  cash_in: '50.00', cash_out: '30.00', expected_cash: '524.40', counted_cash: '523.40', difference: '-1.00',
  server_time: '2025-11-21T18:02:11+00:00',
};
const tillZ = {
  opening: 10000, sales: 41, salesTotal: 61230, returns: 2, returnsTotal: -2400, net: 58830, tax: 10210,
  payments: [{ method: 2, name: 'Card', amount: 18390 }, { method: 1, name: 'Cash', amount: 40440 }],
  cashIn: 5000, cashOut: 3000, expectedCash: 52440, counted: 52340, difference: -100,
};

test('the server figures are read in minor units', () => {
  const f = figuresFromWire(documented, 2);
  assert.equal(f.uuid, documented.uuid);
  assert.equal(f.state, 'closed');
  assert.deepEqual([f.opening, f.salesTotal, f.returnsTotal, f.net, f.tax, f.expectedCash, f.counted, f.difference],
    [10000, 61230, -2400, 58830, 10210, 52440, 52340, -100]);
  assert.deepEqual(f.payments, [{ method: 1, name: 'Cash', amount: 40440 }, { method: 2, name: 'Card', amount: 18390 }]);
  const x = figuresFromWire({ ...documented, state: 'open', counted_cash: null, difference: null }, 2);
  assert.equal(x.counted, null);
  assert.equal(figuresFromWire({ error: { code: 'not_found' } }), null);
});

test('the Z report matches the server figure by figure, and says which differ', () => {
  const same = compareFigures(tillZ, figuresFromWire(documented, 2));
  assert.equal(same.match, true);
  assert.deepEqual(same.rows.map((r) => r.key), [
    'opening', 'sales', 'salesTotal', 'returns', 'returnsTotal', 'net', 'tax', 'payment:1', 'payment:2',
    'cashIn', 'cashOut', 'expectedCash', 'counted', 'difference']);
  // the server missed a 10.00 cash sale and holds a wallet payment the till has not
  const server = figuresFromWire({
    ...documented, sales: 40, sales_total: '602.30', net: '578.30',
    payments: [...documented.payments, { method: 3, name: 'Wallet', amount: '10.00' }],
  }, 2);
  const differ = compareFigures(tillZ, server);
  assert.equal(differ.match, false);
  assert.deepEqual(differ.differ, ['sales', 'salesTotal', 'net', 'payment:3']);
  assert.deepEqual(differ.rows.find((r) => r.key === 'payment:3'), { key: 'payment:3', label: 'Wallet', local: 0, server: 1000, match: false });
});

test('an X report (session open) leaves counted cash out of the comparison', () => {
  const x = { ...tillZ };
  delete x.counted;
  delete x.difference;
  const r = compareFigures(x, figuresFromWire({ ...documented, state: 'open', counted_cash: null, difference: null }, 2));
  assert.equal(r.match, true);
  assert.equal(r.rows.some((row) => row.key === 'counted'), false);
});

test('a Z report against a session the server still has open differs (no counted cash there)', () => {
  const open = figuresFromWire({ ...documented, state: 'open', counted_cash: null, difference: null }, 2);
  const r = compareFigures(tillZ, open);
  assert.equal(r.match, false);
  assert.deepEqual(r.differ, ['counted', 'difference']);
});

test('the session_close result reaches the till with its type, and its Z figures are kept with the session', async () => {
  const t = await till();
  const session = await t.reg.openSession(10000, cashier);
  await t.reg.closeSession(10000, [], cashier);
  const acked = [];
  const api = {
    async push({ operations }) {
      return {
        results: operations.map((op) => ({
          uuid: op.uuid, status: 'accepted',
          result: op.type === 'session_close' ? { session: 12, figures: { ...documented, uuid: op.payload.session } } : { session: 12 },
        })),
      };
    },
  };
  const engine = new SyncEngine({ db: t.db, vault: t.vault, api, catalog: null, terminal: 4, locks: null, onAcknowledged: (a) => acked.push(...a) });
  await engine.pushAll();
  assert.deepEqual(acked.map((r) => r.type), ['session_open', 'session_close']);
  const figures = figuresFromWire(acked[1].result.figures, 2);
  assert.equal(figures.uuid, session.uuid);
  await t.reg.saveServerFigures(figures.uuid, figures);
  const kept = await t.reg.sessionByUuid(session.uuid);
  assert.equal(kept.state, 'closed');
  assert.equal(kept.server.expectedCash, 52440);
  const raw = JSON.stringify(await t.db.sessions.get(session.uuid), (k, v) => (v instanceof Uint8Array ? [...v] : v));
  assert.equal(raw.includes('524.40') || raw.includes('52440'), false, 'kept encrypted');
});

test('the Z report compares the taxes per tax (base and amount) with the server', () => {
  const taxLines = [
    { tax: 1, name: 'VAT 6%', base: '403.20', amount: '24.19' },
    { tax: 2, name: 'VAT 21%', base: '371.00', amount: '77.91' },
  ];
  const server = figuresFromWire({ ...documented, tax_lines: taxLines }, 2);
  assert.deepEqual(server.taxes.map((t) => [t.tax, t.base, t.amount]), [[1, 40320, 2419], [2, 37100, 7791]]);
  const till = {
    ...tillZ,
    taxes: [{ tax: 1, name: 'VAT 6%', base: 40320, amount: 2419 }, { tax: 2, name: 'VAT 21%', base: 37100, amount: 7792 }],
  };
  const r = compareFigures(till, server);
  assert.deepEqual(r.differ, ['tax:2']);
  assert.ok(r.rows.some((row) => row.key === 'tax-base:1' && row.match));
});
