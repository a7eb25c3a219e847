// Near-expiry markdowns at the till (retail_stock's lot markdowns, sent with
// each lot record): the lot first expiring first out is sold at its
// markdown's price the day the markdown applies, as the server compares it
// (docs/sync-protocol.md "Record shapes", lot).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { $$ } from './dom.js';
import { checkout, till } from './ui-till.js';
import { lotMarkdown } from '../src/services/catalog.js';
import { salePayload } from '../src/sync/wire.js';

const TODAY = '2026-12-04';

test('a lot\'s markdown: the one started last on or before the day, not ended', () => {
  const lot = {
    id: 1,
    markdowns: [
      { unit_price: '1.5000', start_date: '2026-12-01', end_date: null },
      { unit_price: '0.9900', start_date: '2026-12-03', end_date: '2026-12-04' },
      { unit_price: '0.5000', start_date: '2026-12-05', end_date: null },
    ],
  };
  assert.equal(lotMarkdown(lot, '2026-11-30'), null);
  assert.equal(lotMarkdown(lot, '2026-12-02'), 15000);
  // the later start wins, its last day included
  assert.equal(lotMarkdown(lot, TODAY), 9900);
  assert.equal(lotMarkdown(lot, '2026-12-05'), 5000);
  // same start: the last sent (the server sends by start, then id)
  assert.equal(lotMarkdown({ markdowns: [
    { unit_price: '2', start_date: TODAY, end_date: null },
    { unit_price: '1', start_date: TODAY, end_date: null }] }, TODAY), 10000);
  assert.equal(lotMarkdown({ id: 2 }, TODAY), null);
  assert.equal(lotMarkdown(null, TODAY), null);
});

async function milkTill() {
  const t = await till();
  t.register.today = () => TODAY;
  t.catalog.putRecords({
    product: [{ id: 5, name: 'Whole Milk', type: 'goods', gross_price: '1.2900', taxes: [], uom: 1, default_uom: 1,
      code: 'MILK', barcodes: ['5410000000057'], lot_required: true }],
    lot: [
      { id: 50, product: 5, number: 'L-SOON', sell_by: '2026-12-05', receipt_date: '2026-11-20',
        markdowns: [{ unit_price: '0.6500', start_date: '2026-12-03', end_date: null }] },
      { id: 51, product: 5, number: 'L-LATE', sell_by: '2026-12-20', receipt_date: '2026-11-28', markdowns: [] },
    ],
    stock: [{ id: 5, product: 5, quantity: '4', lots: [{ lot: 50, quantity: '1' }, { lot: 51, quantity: '3' }] }],
  });
  checkout(t);
  return t;
}

test('the first expiring lot sells at its markdown; the next lot at the usual price', async () => {
  const t = await milkTill();
  await t.shell.handleCode('5410000000057');
  const [line] = t.shell.order.lines;
  assert.equal(line.lot.id, 50);
  assert.equal(line.unitPrice, 6500);
  assert.deepEqual(line.markdown, { lot: 50, unitPrice: 6500 });
  assert.equal(line.priceOverridden, false);
  assert.match($$('#cart tr')[0].textContent, /markdown/);
  const order = t.shell.order;
  const { payload } = salePayload(order, { receiptNumber: 1, computed: t.register.totals(order) });
  assert.equal(payload.lines[0].unit_price, '0.6500');
  assert.equal(payload.lines[0].lot, 50);
  // the marked-down lot sold out here: the next scan takes the next lot
  const c = t.register.totals(order);
  order.payments.push({ method: 1, amount: c.total, tendered: c.total });
  await t.register.commitSale(order, { id: 7 });
  assert.equal(t.catalog.lotsOf(5).find((l) => l.id === 50).quantity, 0);
  t.shell.store.update((o) => { o.lines = []; });
  await t.shell.handleCode('5410000000057');
  const next = t.shell.order.lines.at(-1);
  assert.equal(next.lot.id, 51);
  assert.equal(next.unitPrice, 12900);
  assert.equal(next.markdown, undefined);
});

test('a markdown line keeps its lot and price: never split nor repriced', async () => {
  const t = await milkTill();
  await t.shell.handleCode('5410000000057');
  await t.shell.handleCode('5410000000057');
  const [line] = t.shell.order.lines;
  assert.equal(t.shell.order.lines.length, 1);
  assert.equal(line.quantity, 2000);
  assert.equal(line.unitPrice, 6500);
  t.register.splitLots(t.shell.order, TODAY);
  assert.equal(line.lot.id, 50);
  assert.equal(line.lots ?? null, null);
});

test('no markdown on the day before it starts', async () => {
  const t = await milkTill();
  t.register.today = () => '2026-12-02';
  await t.shell.handleCode('5410000000057');
  assert.equal(t.shell.order.lines[0].unitPrice, 12900);
  assert.equal(t.shell.order.lines[0].markdown, undefined);
});
