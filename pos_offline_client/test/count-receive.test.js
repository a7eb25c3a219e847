// Receiving a transfer on the counting phone (count/receive.js): scans go to
// the line of their product and lot, the lines differ as typed, the receipt
// is the transfer_receive payload with a uuid, pushed once from the outbox.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Receiving } from '../count/receive.js';
import { openDb, storeBootstrap } from '../count/store.js';
import { pushReceipts } from '../count/sync.js';
import { GS } from '../src/services/barcode.js';

const transfer = {
  id: 57, number: 'IS-12', from_branch: 3, from_branch_name: 'Ghent', lines: [
    { move: 812, product: 140, product_name: 'Yoghurt', codes: ['YOG', '5012345678900'], lot: 4, lot_number: 'L1', sell_by: '2026-04-01', unit: 'u', quantity: '5' },
    { move: 813, product: 140, product_name: 'Yoghurt', codes: ['YOG', '5012345678900'], lot: 5, lot_number: 'L2', sell_by: '2026-04-09', unit: 'u', quantity: '3' },
    { move: 814, product: 101, product_name: 'Milk', codes: ['4006381333931'], lot: null, lot_number: null, sell_by: null, unit: 'u', quantity: '2.5' },
  ],
};

test('a scan goes to the line of its lot, else the first lot not complete', () => {
  const r = new Receiving(transfer);
  assert.equal(r.lineFor(`0105012345678900${GS}10L2`).line.move, 813);
  assert.equal(r.lineFor('(01)05012345678900(10)L9').error, 'other_lot');
  // Without a lot: the lots in the order shipped, the first not complete
  const first = r.lineFor('YOG').line;
  assert.equal(first.move, 812);
  r.add(first, 5000);
  assert.equal(r.lineFor('5012345678900').line.move, 813);
  r.add(r.lineFor('5012345678900').line, 3000);
  // All complete: the last line of the product takes what is over
  assert.equal(r.lineFor('YOG').line.move, 813);
  // UPC/GTIN-14 forms of the same GTIN
  assert.equal(r.lineFor('04006381333931').line.move, 814);
  assert.equal(r.lineFor('4006381333932').error, 'invalid');
  assert.equal(r.lineFor('9999999999994').error, 'unknown');
});

test('the receipt sends every line; short, damaged and over as typed', () => {
  const r = new Receiving(transfer);
  const [l1, l2, milk] = r.lines;
  r.add(l1, 3000);
  r.set(l1, { received: 3000, damaged: 1000, short_to: 'back', reason: ' Crushed\tbox ' });
  r.add(l2, 3000);
  r.add(milk, 2600);
  assert.deepEqual(r.differences().map((l) => l.move), [812, 814]);
  assert.equal(Receiving.missing(milk), -100);
  assert.deepEqual(r.receipt('u-1', '2026-03-10T12:00:00.000Z'), {
    uuid: 'u-1', transfer: 57, client_time: '2026-03-10T12:00:00.000Z', lines: [
      { move: 812, received: '3', damaged: '1', short_to: 'back', reason: 'Crushed box' },
      { move: 813, received: '3' },
      { move: 814, received: '2.6' },
    ],
  });
  // Nothing scanned: every line short, to losses by default
  const none = new Receiving(transfer).receipt('u-2', 'now');
  assert.deepEqual(none.lines.map((l) => [l.received, l.short_to]), [['0', 'loss'], ['0', 'loss'], ['0', 'loss']]);
  // A draft (a reload) gives the same lines back
  const again = new Receiving(transfer, r.draft());
  assert.deepEqual(again.receipt('u-1', '2026-03-10T12:00:00.000Z'), r.receipt('u-1', '2026-03-10T12:00:00.000Z'));
});

test('the receipts are pushed once; a refused one keeps its reason', async () => {
  const db = openDb(`count-receive-test-${Math.random()}`);
  await storeBootstrap(db, { branch: { id: 1, name: 'B' }, counts: [], products: [], lots: [], expected: [], transfers: [transfer] });
  assert.equal((await db.transfers.get(57)).number, 'IS-12');
  const receipt = (uuid, id) => ({ ...new Receiving({ ...transfer, id }).receipt(uuid, '2026-03-10T12:00:00Z'), seq: 1, state: 0 });
  await db.receipts.bulkAdd([receipt('a', 57), receipt('b', 99)]);
  const bodies = [];
  const api = {
    async request(method, path, { body }) {
      assert.equal(`${method} ${path}`, 'POST count/receive');
      bodies.push(body);
      return { results: body.receipts.map((r) => (r.transfer === 99
        ? { uuid: r.uuid, status: 'rejected', error: { code: 'unknown_transfer', message: 'no' } }
        : { uuid: r.uuid, status: 'accepted', result: { transfer: r.transfer, state: 'done', differences: [] } })) };
    },
  };
  assert.deepEqual(await pushReceipts(db, api), { accepted: 1, rejected: 1 });
  // The wire: no local state in the body
  assert.deepEqual(Object.keys(bodies[0].receipts[0]).sort(), ['client_time', 'lines', 'transfer', 'uuid']);
  assert.deepEqual(await pushReceipts(db, api), { accepted: 0, rejected: 0 });
  assert.equal(bodies.length, 1);
  assert.equal((await db.receipts.get('b')).error.code, 'unknown_transfer');
  assert.equal((await db.receipts.get('a')).result.state, 'done');
});
