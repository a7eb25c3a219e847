// Products and stock of bootstrap pages kept as columns (services/blocks.js):
// the catalog answers as it does with the same records put one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, testVault } from './helpers.js';
import { decodeRow, encodeBlock, fieldOf, findKey, keyIndex, rowOf } from '../src/services/blocks.js';
import { Catalog } from '../src/services/catalog.js';
import { bootstrap, loadCatalog, pullChanges } from '../src/sync/pull.js';

const WORDS = ['scale', 'item', 'milk', 'yogurt', 'gouda', 'xl', 'blue', 'sc0001', 'crème', 'a'];

function products(from, to) {
  const list = [];
  for (let i = from; i <= to; i += 1) {
    list.push({
      id: i, template: Math.ceil(i / 3), name: `${WORDS[i % 10]} ${WORDS[(i * 7) % 10]} ${i * 37 % 1000}`,
      template_name: WORDS[i % 10], attributes: i % 3 ? [] : [{ name: 'size', value: 'M', text: 'M' }],
      code: `SC${String(i).padStart(6, '0')}`, salable: i % 17 !== 0, uom: 1, category: 1 + (i % 2),
      categories: [1 + (i % 2)], default_uom: 1, list_price: `${i}.5000`, gross_price: `${i}.6050`,
      taxes: [1], barcodes: i % 11 ? [String(5400000000000 + i * 10)] : [`X${i}`, `0${3600000 + i}`],
      lot_required: false, type: 'goods', ...(i % 5 ? {} : { image: null }),
    });
  }
  return list;
}

function stocks(list) {
  return list.map((p) => ({ id: p.id, product: p.id, quantity: `${p.id % 7}.000`, lots: [] }));
}

test('a block decodes every record as it was encoded, fields absent stay absent', () => {
  const records = products(1, 300);
  const block = encodeBlock(records);
  assert.equal(block.n, 300);
  records.forEach((r, row) => assert.deepEqual(decodeRow(block, row), r));
  assert.equal(rowOf(block, 120), 119);
  const stock = encodeBlock(stocks(records));
  assert.equal(stock.cols.product.t, 'id');
  assert.deepEqual(decodeRow(stock, 7), stocks(records)[7]);
  assert.equal(rowOf(block, 999), -1);
  // records not sorted by id are found by id all the same
  const shuffled = [records[5], records[1], records[200], records[0]];
  const other = encodeBlock(shuffled);
  assert.equal(other.sorted, false);
  assert.deepEqual(decodeRow(other, rowOf(other, 201)), records[200]);
  assert.equal(rowOf(other, 3), -1);
  // a decoded record is the caller's: changing it changes no other
  const a = decodeRow(block, 1);
  a.taxes.push(99);
  assert.deepEqual(decodeRow(block, 2).taxes, [1]);
});

test('key indexes keep leading zeros and find every row of a key', () => {
  const index = keyIndex([['0036000291452', 4], ['36000291452', 5], ['ABC', 1], ['ABC', 3], ['0036000291452', 2]]);
  assert.deepEqual(findKey(index, '0036000291452'), [2, 4]);
  assert.deepEqual(findKey(index, '36000291452'), [5]);
  assert.deepEqual(findKey(index, 'ABC'), [1, 3]);
  assert.deepEqual(findKey(index, 'AB'), []);
});

function pagedApi(pages) {
  return {
    async bootstrap(token) {
      const i = token ? Number(token) : 0;
      const last = i === pages.length - 1;
      return { records: pages[i], next_page: last ? null : String(i + 1), cursor: last ? 'v1.9.0' : null };
    },
  };
}

test('a catalog of blocks answers get, lookups, search and iteration as one of records', async () => {
  const list = products(1, 600);
  const pages = [
    { tax: [{ id: 1, rate: '0.21' }], product: list.slice(0, 250), stock: stocks(list.slice(0, 250)) },
    { product: list.slice(250), stock: stocks(list.slice(250)) },
  ];
  const db = await freshDb();
  const vault = await testVault();
  const booted = new Catalog();
  await bootstrap({ api: pagedApi(pages), db, vault, catalog: booted });
  // stored as blocks: no product object in the stored pages
  for (const page of await db.catalog.toArray()) {
    assert.equal(page.records.product, undefined);
    assert.equal(page.blocks.product.ids instanceof Float64Array, true);
    // the search index is stored apart, read after the start
    assert.equal(page.blocks.product.indexes.search, undefined);
    assert.ok((await db.catalogSearch.get(page.id)).search.text.includes(' gouda'));
  }
  const loaded = new Catalog();
  await loadCatalog({ db, vault, catalog: loaded });
  // a start decodes no product: no record in the overlay nor the cache
  assert.equal(loaded.map('product').overlay.size, 0);
  assert.equal(loaded.map('product').cache.size, 0);
  assert.equal(loaded.map('stock').cache.size, 0);
  await loaded.searchLoaded;
  assert.ok(loaded.map('product').blocks.every((b) => b.indexes.search));
  // a search before the index is read (or without it) finds the same
  await db.catalogSearch.clear();
  const early = new Catalog();
  await loadCatalog({ db, vault, catalog: early });
  assert.deepEqual(early.search('gouda', 25).map((p) => p.id), loaded.search('gouda', 25).map((p) => p.id));
  await early.searchLoaded;
  const plain = new Catalog();
  for (const page of pages) plain.putRecords(page);
  for (const c of [booted, loaded]) {
    assert.equal(c.size, plain.size);
    assert.equal(c.map('product').blocks.length, 2);
    assert.deepEqual([...c.map('product').keys()], [...plain.map('product').keys()]);
    for (const id of [1, 250, 251, 433, 600]) {
      assert.deepEqual(c.get('product', id), plain.get('product', id));
      assert.deepEqual(c.get('stock', id), plain.get('stock', id));
      assert.deepEqual(c.stockOf(id), plain.stockOf(id));
    }
    assert.equal(c.get('product', 601), null);
    for (const code of ['5400000000010', '5400000006000', 'X22', '0003600022', 'XX']) {
      assert.equal(c.lookup([code])?.id, plain.lookup([code])?.id, code);
    }
    assert.equal(c.lookup(['5400000004330']).id, 433);
    assert.equal(c.byCode('sc000433').id, 433);
    assert.equal(c.byCode('sc999999'), null);
    for (const q of ['gouda', 'gou', 'scale 4', 'sc0001', 'sc000123', 'creme xl', 'a', 'zzz', 'blue 37', '12 xl', 'sc000433']) {
      assert.deepEqual(c.search(q, 25).map((p) => p.id), plain.search(q, 25).map((p) => p.id), q);
    }
  }
});

test('delta changes lie over the blocks: a new barcode, name or deletion wins', async () => {
  const list = products(1, 100);
  const db = await freshDb();
  const vault = await testVault();
  const catalog = new Catalog();
  await bootstrap({ api: pagedApi([{ product: list, stock: stocks(list) }]), db, vault, catalog });
  const changes = [
    { kind: 'product', id: 10, op: 'upsert', data: { ...list[9], name: 'Gorgonzola', code: 'G10', barcodes: ['4006381333931'] } },
    { kind: 'product', id: 20, op: 'delete' },
    { kind: 'product', id: 101, op: 'upsert', data: { ...list[0], id: 101, name: 'Gorgon new', code: 'G101', barcodes: ['9780201379624'] } },
    { kind: 'stock', id: 10, op: 'upsert', data: { id: 10, product: 10, quantity: '42.000', lots: [] } },
  ];
  const api = { async changes() { return { changes, cursor: 'v1.10.0', has_more: false }; } };
  await pullChanges({ api, db, vault, catalog });
  const again = new Catalog();
  await loadCatalog({ db, vault, catalog: again });
  for (const c of [catalog, again]) {
    assert.equal(c.size, 100);
    assert.equal(c.lookup(['5400000000100']), null, 'the old barcode of 10');
    assert.equal(c.lookup(['4006381333931']).id, 10);
    assert.equal(c.lookup(['9780201379624']).id, 101);
    assert.equal(c.lookup(['5400000000200']), null, 'a deleted product');
    assert.equal(c.get('product', 20), null);
    assert.equal(c.byCode('SC000010'), null);
    assert.equal(c.byCode('g10').id, 10);
    assert.deepEqual(c.search('gorgon').map((p) => p.id), [10, 101]);
    assert.equal(c.stockOf(10).server, 42000);
    const ids = [...c.map('product').keys()];
    assert.equal(ids.length, 100);
    assert.ok(!ids.includes(20));
    assert.equal(ids[9], 10);
    assert.equal(ids.at(-1), 101);
  }
});

test('a string field equal to an earlier one for every record is not stored again', () => {
  const plain = [{ id: 1, name: 'Tea', template_name: 'Tea' }, { id: 2, name: 'Rice', template_name: 'Rice' }];
  const block = encodeBlock(plain);
  assert.deepEqual(block.cols.template_name, { t: 'same', of: 'name' });
  assert.deepEqual([decodeRow(block, 0), decodeRow(block, 1)], plain);
  assert.equal(fieldOf(block, 'template_name', 1), 'Rice');
  const variants = [...plain, { id: 3, name: 'Shirt (M)', template_name: 'Shirt' }];
  const other = encodeBlock(variants);
  assert.equal(other.cols.template_name.t, 'str');
  assert.deepEqual(decodeRow(other, 2), variants[2]);
});
