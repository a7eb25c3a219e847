// The till's side of test_till_z.py: a session rung up by the till's
// register over fake-indexeddb; prints its Z, the session UUID and the
// outbox.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const [fixture, client] = process.argv.slice(2);
const require = createRequire(`${client}/package.json`);
await import(pathToFileURL(require.resolve('fake-indexeddb/auto')));
const load = (path) => import(pathToFileURL(`${client}/src/${path}`));
const { openDatabase } = await load('db/schema.js');
const { createVault } = await load('services/vault.js');
const { Catalog } = await load('services/catalog.js');
const { Register } = await load('services/register.js');
const { addProduct, newOrder, totals } = await load('models/order.js');

const fx = JSON.parse(readFileSync(fixture, 'utf8'));
const catalog = new Catalog();
catalog.putRecords(fx.records);
const db = openDatabase(`till-z-${process.pid}`);
await db.open();
const { vault } = await createVault();
const reg = new Register({ db, vault, catalog, device: { terminal: fx.terminal, branch: fx.branch } });
const cashier = { id: fx.employee, name: 'Cashier' };
const [p0, p1, p2] = fx.products.map((id) => catalog.get('product', id));
const cash = fx.cash;
const card = fx.card;

function pay(order, split = []) {
  const total = reg.totals(order).total;
  let rest = total;
  order.payments = split.map(([method, amount]) => { rest -= amount; return { method, amount }; });
  if (rest) order.payments.push({ method: cash, amount: rest });
  return order;
}

await reg.openSession(15000, cashier);
// 1: two products, a line discount of 12.5 %, part card
let order = newOrder();
addProduct(order, p0, { quantity: 3000 });
const l1 = addProduct(order, p1, { quantity: 1000 });
l1.discount = 1250;
await reg.commitSale(pay(order, [[card, 1000]]), cashier);
// 2: an order discount of 7 % on three lines
order = newOrder();
addProduct(order, p0, { quantity: 1000 });
addProduct(order, p1, { quantity: 2000 });
addProduct(order, p2, { quantity: 1000 });
order.discount = 700;
await reg.commitSale(pay(order), cashier);
// 3: a voided order
order = newOrder();
addProduct(order, p2, { quantity: 1000 });
await reg.voidOrder(order, cashier, 'customer left');
// 4: cash in and out
await reg.cashMove('cash_in', 2500, fx.transfer_type, '', cashier);
await reg.cashMove('cash_out', 1234, fx.transfer_type, '', cashier);
// 5: a return of one unit of receipt 1's first line
order = newOrder('return');
order.originalReceipt = reg.receiptNumber(1);
addProduct(order, p0, { quantity: -1000 });
await reg.commitSale(pay(order), cashier);
// 6: paid all by card
order = newOrder();
addProduct(order, p2, { quantity: 5000 });
await reg.commitSale(pay(order, [[card, reg.totals(order).total]]), cashier);

const session = await reg.currentSession();
const before = await reg.report(session);
const z = await reg.closeSession(before.expectedCash + 150, [[5000, 3], [200, 0]], cashier);
const entries = await db.outbox.orderBy('seq').toArray();
const operations = await Promise.all(entries.map((e) => vault.decrypt(e.enc)));
const plain = (value) => JSON.parse(JSON.stringify(value, (k, v) => (v instanceof Map ? [...v.values()] : v)));
process.stdout.write(JSON.stringify({ z: plain(z), session: session.uuid, operations }));
