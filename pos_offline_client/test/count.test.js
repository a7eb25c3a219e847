// The counting phone's page (count/): quantities in thousandths, scans
// resolved to products and lots, entries added up, the outbox pushed once.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog, fromMilli, Tally, toMilli } from '../count/tally.js';
import { openDb, storeBootstrap } from '../count/store.js';
import { pushEntries } from '../count/sync.js';
import { GS } from '../src/services/barcode.js';

const products = [
  { id: 1, name: 'Milk', code: 'MILK', barcodes: ['4006381333931'], lot_tracked: false },
  { id: 2, name: 'Yogurt', code: 'YOG', barcodes: ['5012345678900'], lot_tracked: true },
];
const lots = [{ id: 7, number: 'L1', product: 2, expiration_date: '2026-04-01' }];

test('quantities are thousandths, never binary floats', () => {
  assert.equal(toMilli('1'), 1000);
  assert.equal(toMilli('0.1'), 100);
  assert.equal(toMilli('2,5'), 2500);
  assert.equal(toMilli('1.2345'), null);
  assert.equal(toMilli('abc'), null);
  assert.equal(fromMilli(toMilli('0.1') + toMilli('0.2')), '0.3');
  assert.equal(fromMilli(-1500), '-1.5');
});

test('a scan names a product, and its lot from a GS1-128 label', () => {
  const catalog = new Catalog({ products, lots });
  assert.equal(catalog.resolve('4006381333931').product.id, 1);
  assert.equal(catalog.resolve('MILK').product.id, 1);
  // UPC-A / GTIN-14 forms of the same GTIN
  assert.equal(catalog.resolve('04006381333931').product.id, 1);
  const known = catalog.resolve(`0105012345678900${GS}10L1`);
  assert.equal(known.product.id, 2);
  assert.equal(known.lot.id, 7);
  const unknownLot = catalog.resolve('(01)05012345678900(17)260501(10)L9');
  assert.equal(unknownLot.lot, null);
  assert.equal(unknownLot.lotNumber, 'L9');
  assert.equal(catalog.resolve('4006381333932').error, 'invalid');
  assert.equal(catalog.resolve('9999999999994').error, 'unknown');
});

test('entries add up per product and lot beside the expected quantity', () => {
  const tally = new Tally({ count: { id: 3 }, expected: [{ count: 3, product: 1, lot: null, quantity: '4' }, { count: 9, product: 1, lot: null, quantity: '8' }] });
  tally.add({ product: 1, lot: null, quantity: '1' });
  const line = tally.add({ product: 1, lot: null, quantity: '2.5' });
  tally.add({ product: 2, lot: 7, quantity: '1' });
  tally.add({ product: 2, lot: null, lot_number: 'L9', quantity: '1' });
  assert.equal(fromMilli(line.counted), '3.5');
  assert.equal(line.expected, 4000);
  assert.equal(line.entries, 2);
  assert.equal(tally.lines.size, 3);
  // Shown again (a reload): the last counted first, the expected-only after
  const other = new Tally({ count: { id: 3 }, expected: [{ count: 3, product: 5, lot: null, quantity: '1' }, { count: 3, product: 1, lot: null, quantity: '4' }] });
  other.add({ product: 1, lot: null, quantity: '1' });
  other.add({ product: 9, lot: null, quantity: '1' });
  assert.deepEqual(other.recent().map((l) => l.product), [9, 1, 5]);
});

test('the outbox is pushed once; a refused entry is kept with its reason', async () => {
  const db = openDb(`count-test-${Math.random()}`);
  await storeBootstrap(db, { branch: { id: 1, name: 'B' }, counts: [{ id: 3 }], products, lots, expected: [] });
  assert.equal(await db.products.count(), 2);
  const entry = (uuid, product) => ({ uuid, seq: 1, count: 3, product, lot: null, lot_number: null, quantity: '1', scanned: true, client_time: '2026-03-10T12:00:00Z', state: 0 });
  await db.entries.bulkAdd([entry('a', 1), entry('b', 99)]);
  const bodies = [];
  const api = {
    async request(method, path, { body }) {
      assert.equal(method, 'POST');
      assert.equal(path, 'count/push');
      bodies.push(body);
      return { results: body.entries.map((e) => (e.product === 99
        ? { uuid: e.uuid, status: 'rejected', error: { code: 'unknown_product', message: 'no' } }
        : { uuid: e.uuid, status: 'accepted', entry: 1 })) };
    },
  };
  assert.deepEqual(await pushEntries(db, api), { accepted: 1, rejected: 1 });
  assert.deepEqual(bodies[0].entries.map((e) => e.uuid), ['a', 'b']);
  assert.equal('lot' in bodies[0].entries[0], false);
  assert.deepEqual(await pushEntries(db, api), { accepted: 0, rejected: 0 });
  assert.equal(bodies.length, 1);
  assert.equal((await db.entries.get('b')).error.code, 'unknown_product');
});
