import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, testVault } from './helpers.js';
import { Catalog, chooseLot, normalizeText } from '../src/services/catalog.js';
import { bootstrap, getCursor, loadCatalog, pullChanges } from '../src/sync/pull.js';
import { parseBarcode } from '../src/services/barcode.js';

function product(id, extra = {}) {
  return { id, name: `Product ${id}`, code: `SKU${id}`, salable: true, gross_price: '1.0000', taxes: [], barcodes: [], ...extra };
}

function pagedApi(pages, { failAt = -1 } = {}) {
  let calls = 0;
  return {
    calls: () => calls,
    async bootstrap(token) {
      calls += 1;
      const i = token ? Number(token) : 0;
      if (i === failAt) {
        failAt = -1;
        throw Object.assign(new Error('cut'), { name: 'NetworkError' });
      }
      const last = i === pages.length - 1;
      return { records: pages[i], next_page: last ? null : String(i + 1), cursor: last ? 'v1.9.0' : null };
    },
  };
}

test('barcode, code and UPC lookups go through in-memory maps', () => {
  const c = new Catalog();
  c.putRecords({ product: [product(1, { barcodes: ['4006381333931'] }), product(2, { barcodes: ['036000291452'] })] });
  assert.equal(c.lookup(parseBarcode('4006381333931').keys).id, 1);
  assert.equal(c.lookup(parseBarcode('036000291452').keys).id, 2);
  assert.equal(c.lookup(parseBarcode('0036000291452').keys).id, 2);
  assert.equal(c.byCode('sku2').id, 2);
  c.applyChange({ kind: 'product', id: 1, op: 'delete' });
  assert.equal(c.lookup(['4006381333931']), null);
});

test('name search matches word prefixes, accents ignored, exact codes first', () => {
  const c = new Catalog();
  c.putRecords({ product: [
    product(1, { name: 'Crème fraîche 20 cl' }), product(2, { name: 'Fresh cream' }),
    product(3, { name: 'Ice cream vanilla', code: 'CRE' }), product(4, { name: 'Archived cream', salable: false }),
  ] });
  assert.deepEqual(c.search('creme').map((p) => p.id), [1]);
  assert.deepEqual(c.search('cream').map((p) => p.id), [2, 3]);
  assert.deepEqual(c.search('cre').map((p) => p.id), [3, 1, 2]);
  assert.deepEqual(c.search('van ice').map((p) => p.id), [3]);
  assert.deepEqual(c.search('sku2').map((p) => p.id), [2]);
});

test('name search through the word-prefix index finds what a full scan finds, in the same order', () => {
  const c = new Catalog();
  const words = ['scale', 'item', 'milk', 'yogurt', 'gouda', 'xl', 'blue', 'sc0001', 'sc0002', 'é', 'crème', 'a'];
  const products = [];
  for (let i = 1; i <= 400; i += 1) {
    const name = [words[i % 12], words[(i * 7) % 12], String(i * 37 % 1000), words[(i * 5) % 12]].join(' ');
    products.push(product(i, { name, code: `SC${String(i).padStart(6, '0')}`, salable: i % 17 !== 0 }));
  }
  c.putRecords({ product: products });
  const scan = (query, limit) => {
    const tokens = normalizeText(query).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    return products.filter((p) => p.salable).filter((p) => {
      const words = normalizeText(`${p.name} ${p.code}`).split(/[^\p{L}\p{N}]+/u);
      return tokens.every((t) => words.some((w) => w.startsWith(t)));
    }).slice(0, limit).map((p) => p.id);
  };
  for (const q of ['gouda', 'gou', 'go', 'scale 4', 'item 98', 'sc0001', 'sc000123', 'creme xl', 'cr', 'milk blue 37',
    'a', 'zzz', 'yogurt zzz', '1', '12 xl', 'e']) {
    // an exact code first, then the matches in catalog order
    const exact = c.byCode(q)?.id;
    const expected = [...(exact ? [exact] : []), ...scan(q, 1000).filter((id) => id !== exact)].slice(0, 25);
    assert.deepEqual(c.search(q, 25).map((p) => p.id), expected, q);
  }
  // a rare word is looked for in its key's rows only, not in every row
  assert.equal(c.searchRows([' gouda']).length, scan('gou', 1000).length);
  assert.ok(c.searchRows([' gouda', ' scale']).length < 100);
  assert.equal(c.searchRows([' xl']), null);
  // a long word by its longer key: the codes sharing SC000 are not all looked at
  assert.equal(c.searchRows([' sc000123']).length, scan('sc0001', 1000).length);
  assert.ok(c.searchRows([' sc000123']).length < c.searchRows([' sc0']).length);
  // the index follows changes: a renamed product is found by its new word only
  c.upsert('product', product(3, { name: 'Gorgonzola', code: 'G3' }));
  assert.deepEqual(c.search('gorgon').map((p) => p.id), [3]);
  assert.equal(c.search('gorgon zzz').length, 0);
});

test('FEFO: the first-expiring lot in stock; expired lots are refused', () => {
  const c = new Catalog();
  c.putRecords({
    product: [product(1)],
    lot: [
      { id: 10, number: 'L10', product: 1, expiration_date: '2026-03-01' },
      { id: 11, number: 'L11', product: 1, expiration_date: '2026-03-20' },
      { id: 12, number: 'L12', product: 1, expiration_date: '2026-03-15' },
      { id: 13, number: 'L13', product: 1, expiration_date: '2026-03-12' },
    ],
    stock: [{ id: 1, product: 1, quantity: '9', lots: [{ lot: 10, quantity: '3' }, { lot: 11, quantity: '3' }, { lot: 12, quantity: '3' }, { lot: 13, quantity: '0' }] }],
  });
  assert.equal(chooseLot(c, 1, '2026-03-10').lot.id, 12);
  assert.equal(chooseLot(c, 1, '2026-02-10').lot.id, 10);
  const late = chooseLot(c, 1, '2026-04-01');
  assert.equal(late.lot, null);
  assert.equal(late.expired.id, 10);
  assert.equal(c.lotByNumber(1, 'L11').id, 11);
});

test('bootstrap stores one record per page and resumes after a cut', async () => {
  const db = await freshDb();
  const vault = await testVault();
  const pages = [
    { tax: [{ id: 1, rate: '0.21' }], product: [product(1), product(2)] },
    { product: [product(3), product(4)] },
    { product: [product(5)], employee: [{ id: 7, name: 'Alice Secret', pin_hash: 'x' }] },
  ];
  const api = pagedApi(pages, { failAt: 2 });
  const catalog = new Catalog();
  await assert.rejects(bootstrap({ api, db, vault, catalog }));
  assert.equal(await db.catalog.count(), 2);
  const progress = [];
  const state = await bootstrap({ api, db, vault, catalog, onProgress: (p) => progress.push(p) });
  assert.equal(state.done, true);
  assert.equal(state.records, 7);
  assert.equal(await db.catalog.count(), 3);
  assert.equal(await getCursor(db), 'v1.9.0');
  assert.equal(catalog.size, 5);
  assert.equal(catalog.get('employee', 7).name, 'Alice Secret');
  // Personal data is encrypted at rest
  const raw = JSON.stringify(await db.catalog.toArray(), (k, v) => (v instanceof Uint8Array ? [...v] : v));
  assert.ok(!raw.includes('Alice'));
  const fresh = new Catalog();
  await loadCatalog({ db, vault, catalog: fresh });
  assert.equal(fresh.size, 5);
  assert.equal(fresh.get('employee', 7).name, 'Alice Secret');
});

test('delta pulls apply upserts and deletes and store the cursor with them', async () => {
  const db = await freshDb();
  const vault = await testVault();
  const catalog = new Catalog();
  await bootstrap({ api: pagedApi([{ product: [product(1), product(2)] }]), db, vault, catalog });
  const changes = [
    { kind: 'product', id: 1, op: 'upsert', data: product(1, { name: 'Renamed' }) },
    { kind: 'product', id: 2, op: 'delete', data: null },
    { kind: 'customer', id: 5, op: 'upsert', data: { id: 5, name: 'Bob Private' } },
  ];
  const api = {
    async changes(cursor) {
      const page = changes.splice(0, 2);
      return { changes: page, cursor: `${cursor}+`, has_more: changes.length > 0 };
    },
  };
  assert.equal(await pullChanges({ api, db, vault, catalog }), 3);
  assert.equal(await getCursor(db), 'v1.9.0++');
  assert.equal(catalog.get('product', 1).name, 'Renamed');
  assert.equal(catalog.get('product', 2), null);
  const again = new Catalog();
  await loadCatalog({ db, vault, catalog: again });
  assert.equal(again.get('product', 1).name, 'Renamed');
  assert.equal(again.get('product', 2), null);
  assert.equal(again.get('customer', 5).name, 'Bob Private');
  const raw = JSON.stringify(await db.changes.toArray());
  assert.ok(!raw.includes('Bob'));
});

// A server of protocol 1.4: a plan of pages answered in any order, each
// after its own delay; `failAt` (a page number) fails once.
function plannedApi(pages, { failAt = -1, delays = [] } = {}) {
  const asked = [];
  let inFlight = 0;
  let most = 0;
  let plans = 0;
  return {
    asked, most: () => most, plans: () => plans,
    async bootstrapPlan() {
      plans += 1;
      return { pages: pages.map((_, i) => `p${i + 1}`), cursor: 'v1.7.0', total: pages.reduce((n, p) => n + Object.values(p).flat().length, 0) };
    },
    async bootstrap(token) {
      const i = Number(token.slice(1));
      asked.push(i);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, delays[i - 1] ?? 1));
      inFlight -= 1;
      if (i === failAt) {
        failAt = -1;
        throw Object.assign(new Error('cut'), { name: 'NetworkError' });
      }
      return { records: pages[i - 1], next_page: null, cursor: null, total: 0 };
    },
  };
}

test('bootstrap of a plan fetches pages at once, stores each by its number and resumes with the missing ones', async () => {
  const db = await freshDb();
  const vault = await testVault();
  const pages = [
    { tax: [{ id: 1, rate: '0.21' }], employee: [{ id: 7, name: 'Alice Secret', pin_hash: 'x' }] },
    { product: [product(1, { name: 'Gouda one', barcodes: ['4006381333931'] }), product(2, { name: 'Gouda two' })] },
    { product: [product(3, { name: 'Gouda three' }), product(4, { name: 'Gouda four' })] },
    { product: [product(5, { name: 'Gouda five' })], stock: [{ id: 5, product: 5, quantity: '3', lots: [] }] },
    { customer: [{ id: 9, name: 'Bob Private' }] },
  ];
  // the later pages answer first; page 3 is cut once
  const api = plannedApi(pages, { failAt: 3, delays: [40, 30, 20, 10, 1] });
  const catalog = new Catalog();
  await assert.rejects(bootstrap({ api, db, vault, catalog, parallel: 3 }));
  assert.equal(await getCursor(db), null);
  const first = new Set(await db.catalog.toCollection().primaryKeys());
  assert.ok(!first.has(3));
  assert.ok(api.most() > 1 && api.most() <= 3, `at most 3 at once, got ${api.most()}`);
  const asked = api.asked.length;
  const progress = [];
  const state = await bootstrap({ api, db, vault, catalog, parallel: 3, onProgress: (p) => progress.push(p) });
  assert.equal(api.plans(), 1);
  // only the pages not stored are asked again
  assert.deepEqual(api.asked.slice(asked).sort(), [...[1, 2, 3, 4, 5].filter((i) => !first.has(i))].sort());
  assert.equal(state.done, true);
  assert.equal(state.records, 9);
  assert.equal(progress.at(-1).done, true);
  assert.equal(await getCursor(db), 'v1.7.0');
  assert.deepEqual((await db.catalog.toCollection().primaryKeys()).sort(), [1, 2, 3, 4, 5]);
  assert.equal(catalog.lookup(['4006381333931']).id, 1);
  assert.equal(catalog.get('employee', 7).name, 'Alice Secret');
  assert.equal(catalog.get('stock', 5).quantity, '3');
  // the pages' products in the plan's order, whatever order they came in
  assert.deepEqual(catalog.search('gouda').map((p) => p.id), [1, 2, 3, 4, 5]);
  const fresh = new Catalog();
  await loadCatalog({ db, vault, catalog: fresh });
  assert.deepEqual(fresh.search('gouda').map((p) => p.id), [1, 2, 3, 4, 5]);
  assert.equal(fresh.get('customer', 9).name, 'Bob Private');
  const raw = JSON.stringify(await db.catalog.toArray(), (k, v) => (v instanceof Uint8Array ? [...v] : v));
  assert.ok(!raw.includes('Alice') && !raw.includes('Bob'));
});

test('bootstrap of a plan asks for its next page while it stores the one it has', async () => {
  const db = await freshDb();
  const vault = await testVault();
  const pages = [1, 2, 3, 4].map((i) => ({ product: [product(i, { name: `Gouda ${i}` })] }));
  const api = plannedApi(pages);
  // the pages stored when each page is asked for
  const storedWhenAsked = [];
  const ask = api.bootstrap.bind(api);
  api.bootstrap = async (token) => {
    storedWhenAsked.push((await db.catalog.toCollection().primaryKeys()).length);
    return ask(token);
  };
  const state = await bootstrap({ api, db, vault, catalog: new Catalog(), parallel: 1 });
  assert.equal(state.done, true);
  assert.equal(api.most(), 1);
  // one worker: page n + 1 asked before page n is stored
  assert.deepEqual(storedWhenAsked, [0, 0, 1, 2]);
});

test('bootstrap from a server without plans (404) goes page after page', async () => {
  const db = await freshDb();
  const vault = await testVault();
  const api = pagedApi([{ product: [product(1)] }, { product: [product(2)] }]);
  let planned = 0;
  api.bootstrapPlan = async () => {
    planned += 1;
    throw Object.assign(new Error('not found'), { status: 404 });
  };
  const catalog = new Catalog();
  const state = await bootstrap({ api, db, vault, catalog });
  assert.equal(planned, 1);
  assert.equal(state.done, true);
  assert.equal(api.calls(), 2);
  assert.equal(await getCursor(db), 'v1.9.0');
  assert.equal(catalog.size, 2);
});
