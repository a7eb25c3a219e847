// Stock at the till (src/db/stock.js, services/catalog.js stockOf and
// allocateLots, services/register.js splitLots and shortfall): each sale,
// return and count changes the local figure at once; a pull that starts
// after the server acknowledged the operation brings a figure that
// includes it, and the local move is dropped; selling beyond stock warns;
// a line larger than its first-expiring lot is split over the next lots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, testVault } from './helpers.js';
import { addProduct, newOrder } from '../src/models/order.js';
import { Catalog, allocateLots, chooseLot, isExpired } from '../src/services/catalog.js';
import { Register, returnedLots } from '../src/services/register.js';
import { SyncEngine } from '../src/sync/engine.js';
import { salePayload } from '../src/sync/wire.js';
import { computeOrder } from '../src/services/pricing.js';
import { loadCatalog } from '../src/sync/pull.js';

const cashier = { id: 7, name: 'Bruno' };
const TODAY = '2026-12-04';
const records = () => ({
  payment_method: [{ id: 1, name: 'Cash', cash: true }],
  company: [{ id: 1, currency: 'EUR', currency_digits: 2 }],
  product: [
    { id: 1, name: 'Oxford Shirt', type: 'goods', gross_price: '49.9500', taxes: [], uom: 1, default_uom: 1 },
    { id: 2, name: 'Whole Milk', type: 'goods', gross_price: '1.2900', taxes: [], uom: 1, default_uom: 1, lot_required: true },
    { id: 3, name: 'Gift wrap', type: 'service', gross_price: '2.0000', taxes: [], uom: 1, default_uom: 1 },
  ],
  lot: [
    { id: 20, product: 2, number: 'L-24', sell_by: '2026-12-06', expiration_date: '2026-12-07' },
    { id: 21, product: 2, number: 'L-10', sell_by: '2026-12-20', expiration_date: '2026-12-22' },
    { id: 22, product: 2, number: 'L-PAST', sell_by: '2026-12-01', expiration_date: '2026-12-09' },
  ],
  stock: [
    { id: 1, product: 1, quantity: '6', lots: [] },
    { id: 2, product: 2, quantity: '39', lots: [{ lot: 20, quantity: '24' }, { lot: 21, quantity: '10' }, { lot: 22, quantity: '5' }] },
  ],
});

async function till() {
  const db = await freshDb();
  const vault = await testVault();
  const catalog = new Catalog();
  catalog.putRecords(records());
  const reg = new Register({ db, vault, catalog, device: { terminal: { id: 4, receipt_prefix: 'BXL1' }, branch: null } });
  reg.today = () => TODAY;
  await reg.openSession(0, cashier);
  return { db, vault, catalog, reg };
}

function sell(t, lines, kind = 'sale') {
  const order = newOrder(kind);
  for (const [id, quantity, extra = {}] of lines) {
    const product = t.catalog.get('product', id);
    const line = addProduct(order, product, { quantity, lot: extra.lot ?? null });
    Object.assign(line, extra.line || {});
  }
  const c = t.reg.totals(order);
  order.payments.push({ method: 1, amount: c.total, tendered: c.total });
  return order;
}

test('a sale, a return and a count change the local stock at once, and survive a reload', async () => {
  const t = await till();
  assert.equal(t.catalog.stockOf(1).quantity, 6000);
  await t.reg.commitSale(sell(t, [[1, 2000]]), cashier);
  assert.equal(t.catalog.stockOf(1).quantity, 4000);
  await t.reg.commitSale(sell(t, [[1, -1000]], 'return'), cashier);
  assert.equal(t.catalog.stockOf(1).quantity, 5000);
  await t.reg.countStock([{ product: 1, quantity: 3000 }], cashier);
  assert.equal(t.catalog.stockOf(1).quantity, 3000);
  // A service keeps no stock
  await t.reg.commitSale(sell(t, [[3, 1000]]), cashier);
  assert.equal(t.catalog.stockOf(3).known, false);
  // Reloaded from IndexedDB (another tab, a restart)
  const again = new Catalog();
  await loadCatalog({ db: t.db, vault: t.vault, catalog: again });
  again.putRecords(records());
  assert.equal(again.stockOf(1).quantity, 3000);
  const outbox = await t.db.outbox.toArray();
  const ops = await Promise.all(outbox.map((e) => t.vault.decrypt(e.enc)));
  assert.deepEqual(ops.map((o) => o.type), ['session_open', 'sale', 'return', 'stock_count', 'sale']);
  assert.deepEqual(ops[3].payload.lines, [{ product: 1, lot: null, quantity: '3.000' }]);
});

test('pulls correct the local stock: the server figure plus what it has not acknowledged', async () => {
  const t = await till();
  await t.reg.commitSale(sell(t, [[1, 2000]]), cashier);
  await t.reg.commitSale(sell(t, [[1, 1000]]), cashier);
  assert.equal(t.catalog.stockOf(1).quantity, 3000);
  let pushes = 0;
  // The server answers the first push only; its stock record then
  // includes the first sale (and a delivery of 10 made in the back office)
  const api = {
    async status() { return {}; },
    async push({ operations }) {
      pushes += 1;
      if (pushes > 1) throw Object.assign(new Error('down'), { name: 'NetworkError' });
      return { results: operations.map((op) => ({ uuid: op.uuid, status: 'accepted', result: {} })) };
    },
    async changes(cursor) {
      return { changes: [{ kind: 'stock', id: 1, op: 'upsert', data: { id: 1, product: 1, quantity: '14', lots: [] } }], cursor: `${cursor}+`, has_more: false };
    },
  };
  await t.db.meta.put({ key: 'cursor', value: 'v1.1.0' });
  let clock = 1000;
  const engine = new SyncEngine({ db: t.db, vault: t.vault, api, catalog: t.catalog, terminal: 4, locks: null, batchSize: 2, now: () => (clock += 1) });
  // session_open and the first sale are acknowledged; the second sale is
  // not (the server went away)
  await assert.rejects(engine.cycle({ forced: true }));
  assert.equal(t.catalog.stockOf(1).quantity, 3000, 'acknowledged, not pulled yet: still counted locally');
  api.push = async ({ operations }) => ({ results: operations.map((op) => ({ uuid: op.uuid, status: 'accepted', result: {} })) });
  // Now: the second sale is acknowledged in this cycle, the pull's figure
  // (14 = 6 + 10 - 2) includes only the first one as far as the fake
  // server is concerned, but the second was acknowledged before the pull
  // started: the figure is the server's
  api.changes = async (cursor) => ({ changes: [{ kind: 'stock', id: 1, op: 'upsert', data: { id: 1, product: 1, quantity: '13', lots: [] } }], cursor: `${cursor}+`, has_more: false });
  await engine.cycle({ forced: true });
  assert.equal(t.catalog.stockOf(1).quantity, 13000);
  assert.equal(await t.db.stock.count(), 0);
});

test('selling beyond the local stock warns, it never blocks: 8 shirts against 6', async () => {
  const t = await till();
  const order = newOrder();
  addProduct(order, t.catalog.get('product', 1), { quantity: 6000 });
  assert.equal(t.reg.shortfall(order, 1), 0);
  addProduct(order, t.catalog.get('product', 1), { quantity: 2000 });
  assert.equal(t.reg.shortfall(order, 1), 2000);
  assert.equal(t.reg.shortfall(order, 3), 0, 'a service has no stock');
  const c = t.reg.totals(order);
  order.payments.push({ method: 1, amount: c.total, tendered: c.total });
  const r = await t.reg.commitSale(order, cashier);
  assert.ok(r.uuid);
  assert.equal(t.catalog.stockOf(1).quantity, -2000);
});

test('FEFO: a line larger than its first-expiring lot is split over the next lots', async () => {
  const t = await till();
  assert.equal(isExpired(t.catalog.get('lot', 22), TODAY), true, 'sell-by date past, expiration date not');
  const first = chooseLot(t.catalog, 2, TODAY).lot;
  assert.equal(first.number, 'L-24');
  const order = sell(t, [[2, 31000, { lot: first, line: { lotAuto: true } }]]);
  const r = await t.reg.commitSale(order, cashier);
  const line = r.journal.order.lines[0];
  assert.equal(line.lot.id, 20);
  assert.deepEqual(line.lots.map((l) => [l.id, l.quantity]), [[20, 24000], [21, 7000]]);
  const { payload } = salePayload(order, { receiptNumber: 1, computed: computeOrder(order, { taxes: new Map() }) });
  assert.deepEqual(payload.lines[0].lots, [{ lot: 20, quantity: '24.000' }, { lot: 21, quantity: '7.000' }]);
  const lots = new Map(t.catalog.lotsOf(2).map((l) => [l.id, l.quantity]));
  assert.deepEqual([lots.get(20), lots.get(21), lots.get(22)], [0, 3000, 5000]);
  // The next sale starts on L-10; beyond every fresh lot, the last one
  // used goes negative (the server flags it), never the expired lot
  assert.equal(chooseLot(t.catalog, 2, TODAY).lot.number, 'L-10');
  const parts = allocateLots(t.catalog, 2, 5000, TODAY);
  assert.deepEqual(parts.map((p) => [p.lot.number, p.quantity]), [['L-10', 5000]]);
  // A lot scanned from the pack is not split
  const scanned = sell(t, [[2, 4000, { lot: t.catalog.get('lot', 21) }]]);
  await t.reg.commitSale(scanned, cashier);
  assert.equal(scanned.lines[0].lots, undefined);
  assert.equal(new Map(t.catalog.lotsOf(2).map((l) => [l.id, l.quantity])).get(21), -1000);
});

test('a return of a split line gives back to its lots, the last taken first', () => {
  const lots = [{ id: 20, number: 'L-24', quantity: 24000 }, { id: 21, number: 'L-10', quantity: 7000 }];
  assert.deepEqual(returnedLots(lots, 9000).map((l) => [l.id, l.quantity]), [[20, -2000], [21, -7000]]);
  assert.deepEqual(returnedLots(lots, 3000).map((l) => [l.id, l.quantity]), [[21, -3000]]);
});
