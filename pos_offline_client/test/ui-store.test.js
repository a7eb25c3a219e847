// The till's store (src/ui/store.js): the order being rung up, who sells,
// their session; subscribers hear of every change once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../src/ui/store.js';
import { addProduct } from '../src/models/order.js';

const product = (id) => ({ id, name: `P${id}`, gross_price: '1.0000', taxes: [], uom: 1 });

test('subscribers hear each change once, and no more after unsubscribing', () => {
  const store = new Store();
  const heard = [];
  const stop = store.subscribe((s) => heard.push(s.order.lines.length));
  const line = store.update((order) => addProduct(order, product(1), { quantity: 1000 }));
  assert.equal(line.product, 1);
  assert.deepEqual(heard, [1]);
  store.update((order) => addProduct(order, product(2), { quantity: 1000 }));
  assert.deepEqual(heard, [1, 2]);
  stop();
  store.clearOrder();
  assert.deepEqual(heard, [1, 2]);
  assert.equal(store.order.lines.length, 0);
});

test('the selection stays on a line and follows the arrow keys', () => {
  const store = new Store();
  for (const id of [1, 2, 3]) store.update((order) => addProduct(order, product(id), { quantity: 1000 }));
  assert.equal(store.order.selected, 2);
  store.moveSelection(1);
  assert.equal(store.order.selected, 2);
  store.moveSelection(-1);
  store.moveSelection(-1);
  store.moveSelection(-1);
  assert.equal(store.order.selected, 0);
  store.select(1);
  assert.equal(store.selectedLine.product, 2);
  store.update(() => { store.selectedLine.voided = true; });
  assert.equal(store.selectedLine, null);
});

test('a sale done shows its change on a new order until the next scan', () => {
  const store = new Store();
  let calls = 0;
  store.subscribe(() => { calls += 1; });
  store.update((order) => addProduct(order, product(1), { quantity: 1000 }));
  const before = store.order;
  store.saleDone(150);
  assert.notEqual(store.order, before);
  assert.equal(store.lastChange, 150);
  assert.equal(calls, 2);
  // a scan clears it without a render of its own
  store.clearChange();
  assert.equal(store.lastChange, null);
  assert.equal(calls, 2);
  store.saleDone(0);
  assert.equal(store.lastChange, null);
});

test('the employee and the session: logging out forgets the session; a resumed order drops its held id', () => {
  const store = new Store();
  store.setEmployee({ id: 7, name: 'Bruno' });
  store.setSession({ uuid: 's1' });
  store.setEmployee(null);
  assert.equal(store.session, null);
  const order = { ...store.order, lines: [] };
  store.setOrder(order, { heldUuid: 'h1' });
  assert.equal(store.heldUuid, 'h1');
  store.clearOrder();
  assert.equal(store.heldUuid, null);
  // approvals go with the order
  store.addOverride({ action: 'Discount', manager: 8 });
  assert.deepEqual(store.order.overrides.map((o) => o.action), ['Discount']);
});
