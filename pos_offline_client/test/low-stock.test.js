// Local stock and the low-stock mark at the till: the branch's thresholds
// (retail_stock: the order point's min_quantity and target_quantity, sent
// with each stock record) against the local figure (the server's plus the
// till's own moves), as the server's low-stock list compares them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { $, $$, click, key, until } from './dom.js';
import { checkout, till } from './ui-till.js';
import { Catalog } from '../src/services/catalog.js';
import { stockBadge } from '../src/ui/components/stock-badge.js';

function catalog() {
  const c = new Catalog();
  c.putRecords({
    product: [
      { id: 1, name: 'Espresso beans', type: 'goods', gross_price: '9.5000', uom: 1, default_uom: 1 },
      { id: 2, name: 'Filters', type: 'goods', gross_price: '2.0000', uom: 1, default_uom: 1 },
      { id: 3, name: 'Grinding', type: 'service', gross_price: '1.0000', uom: 1, default_uom: 1 },
    ],
    stock: [
      { id: 1, product: 1, quantity: '6', lots: [], min_quantity: '5', target_quantity: '20' },
      { id: 2, product: 2, quantity: '3', lots: [], min_quantity: null, target_quantity: null },
    ],
  });
  return c;
}

test('low stock: the local figure under the branch\'s minimum', () => {
  const c = catalog();
  assert.deepEqual(c.lowStock(1), { quantity: 6000, min: 5000, target: 20000, low: false });
  // two sold here, not in the server's figure yet: 4 < 5
  c.setLocalMoves([{ id: 'm1', product: 1, lot: null, quantity: -2000 }]);
  assert.deepEqual(c.lowStock(1), { quantity: 4000, min: 5000, target: 20000, low: true });
  // exactly the minimum is not low (the server's list: quantity < minimum)
  c.setLocalMoves([{ id: 'm1', product: 1, lot: null, quantity: -1000 }]);
  assert.equal(c.lowStock(1).low, false);
  // no order point: no mark
  assert.equal(c.lowStock(2), null);
  assert.equal(c.lowStock(9), null);
});

test('the stock badge says the local quantity and marks low stock', async () => {
  await till();
  const c = catalog();
  c.setLocalMoves([{ id: 'm1', product: 1, lot: null, quantity: -2000 }]);
  const low = stockBadge(c, 1);
  assert.equal(low.textContent, '4 in stock · low stock');
  assert.equal(low.dataset.low, 'true');
  assert.ok(low.classList.contains('low-stock'));
  const plain = stockBadge(c, 2);
  assert.equal(plain.textContent, '3 in stock');
  assert.equal(plain.dataset.low, 'false');
  // a service keeps no stock
  assert.equal(stockBadge(c, 3), null);
});

test('search results and tiles show the stock and the low-stock mark', async () => {
  const t = await till();
  t.catalog.putRecords({
    category: [{ id: 9, name: 'Coffee' }],
    product: [{ id: 4, name: 'Decaf beans', type: 'goods', gross_price: '8.0000', taxes: [], uom: 1, default_uom: 1, code: 'DECAF', barcodes: [], category: 9 }],
    stock: [{ id: 4, product: 4, quantity: '2', lots: [], min_quantity: '3', target_quantity: '10' }],
  });
  checkout(t);
  await until(() => $('#tiles [data-template="p4"]'));
  assert.match($('#tiles [data-template="p4"] .stock').textContent, /2 in stock · low stock/);
  key('F2');
  await until(() => $('#search'));
  $('#search').value = 'decaf';
  $('#search').dispatchEvent(new Event('input'));
  await until(() => $$('#search-results li').length === 1);
  const badge = $('#search-results li .stock');
  assert.equal(badge.dataset.low, 'true');
  click('#search-results li');
});
