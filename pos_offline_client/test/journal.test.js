// The receipt journal at the till (sync/journal.js, docs/journal.md): the
// canonical bytes and hashes of the documented example, the chain made in
// the commit's transaction, and the till's own check after its IndexedDB
// journal is tampered with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { freshDb, testVault } from './helpers.js';
import { addProduct, newOrder } from '../src/models/order.js';
import { Catalog } from '../src/services/catalog.js';
import { Register } from '../src/services/register.js';
import { GENESIS, canonicalJSON, entryHash, journalEntry } from '../src/sync/journal.js';

const DOC = new URL('../../docs/journal.md', import.meta.url);

// The operations, canonical entries and hashes of the worked example
function documented() {
  const text = readFileSync(DOC, 'utf8').split('<!-- example: begin -->')[1].split('<!-- example: end -->')[0];
  const jsons = [...text.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]));
  const canon = [...text.matchAll(/```text\n([\s\S]*?)\n```/g)].map((m) => m[1]);
  const hashes = [...text.matchAll(/Its SHA-256: `([0-9a-f]{64})`/g)].map((m) => m[1]);
  return jsons.map((op, i) => ({ op, canonical: canon[i], hash: hashes[i] }));
}

test('the till makes the documented canonical bytes and hashes (the server makes them too: tests/test_journal_doc.py)', async () => {
  const entries = documented();
  assert.equal(entries.length, 2);
  let previous = GENESIS;
  for (const { op, canonical, hash } of entries) {
    assert.equal(op.journal.previous, previous);
    const text = canonicalJSON(journalEntry(op, op.journal.previous));
    assert.equal(text, canonical);
    assert.equal(new TextEncoder().encode(text).length, Buffer.byteLength(canonical, 'utf8'));
    assert.equal(await entryHash(op, previous), hash);
    assert.equal(op.journal.hash, hash);
    previous = hash;
  }
});

test('a non-integer number cannot be made canonical', () => {
  assert.throws(() => canonicalJSON({ payload: { quantity: 2.5 } }), /payload\.quantity is a non-integer number/);
  assert.equal(canonicalJSON({ b: [1, 'é\n'], a: null, c: undefined }), '{"a":null,"b":[1,"é\\n"]}');
});

const catalog = new Catalog();
catalog.putRecords({
  payment_method: [{ id: 1, name: 'Cash', cash: true }],
  tax: [],
  company: [{ id: 1, currency: 'EUR', currency_digits: 2 }],
});
const cashier = { id: 7, name: 'Bruno' };
const coffee = { id: 101, name: 'Coffee', gross_price: '4.5000', taxes: [] };

async function till() {
  const db = await freshDb();
  const vault = await testVault();
  const reg = new Register({ db, vault, catalog, device: { terminal: { id: 4, receipt_prefix: 'BXL1' }, branch: null } });
  return { db, vault, reg };
}

function order() {
  const o = newOrder();
  addProduct(o, coffee, { quantity: 2000 });
  o.payments = [{ method: 1, amount: 900 }];
  return o;
}

async function shift(t) {
  await t.reg.openSession(0, cashier);
  await t.reg.commitSale(order(), cashier);
  await t.reg.commitSale(order(), cashier);
  await t.reg.commitSale(order(), cashier);
  await t.reg.closeSession(2700, [], cashier);
}

async function outbox({ db, vault }) {
  const entries = await db.outbox.orderBy('seq').toArray();
  return Promise.all(entries.map((e) => vault.decrypt(e.enc)));
}

test('sales and the Z are chained in their commit; the session open is not', async () => {
  const t = await till();
  await shift(t);
  const ops = await outbox(t);
  assert.deepEqual(ops.map((o) => o.type), ['session_open', 'sale', 'sale', 'sale', 'session_close']);
  assert.equal(ops[0].journal, undefined);
  let previous = GENESIS;
  for (const op of ops.slice(1)) {
    assert.equal(op.journal.previous, previous);
    assert.equal(await entryHash(op, previous), op.journal.hash);
    previous = op.journal.hash;
  }
  assert.equal((await t.db.meta.get('counters')).journal, previous);
  assert.deepEqual((await t.db.chain.orderBy('seq').toArray()).map((r) => r.seq), [2, 3, 4, 5]);
  const check = await t.reg.verifyJournal();
  assert.deepEqual(check, { entries: 4, head: previous, breaks: [] });
});

test('concurrent sales still make one linear chain', async () => {
  const t = await till();
  await t.reg.openSession(0, cashier);
  await Promise.all([1, 2, 3, 4].map(() => t.reg.commitSale(order(), cashier)));
  const ops = (await outbox(t)).slice(1);
  assert.deepEqual(ops.map((o) => o.payload.receipt_number), [1, 2, 3, 4]);
  let previous = GENESIS;
  for (const op of ops) {
    assert.equal(op.journal.previous, previous);
    previous = op.journal.hash;
  }
  assert.deepEqual((await t.reg.verifyJournal()).breaks, []);
});

test("the till's check reports an entry edited in IndexedDB, and the edit reaches the server unhashed", async () => {
  const t = await till();
  await shift(t);
  // Someone with the data key rewrites the second sale's payment
  const rec = await t.db.chain.get(3);
  const op = await t.vault.decrypt(rec.enc);
  op.payload.payments[0].amount = '1.00';
  await t.db.chain.put({ ...rec, enc: await t.vault.encrypt(op) });
  const check = await t.reg.verifyJournal();
  assert.deepEqual(check.breaks.map((b) => [b.sequence, b.kind]), [[3, 'edited']]);
  assert.match(check.breaks[0].message, /the entry was changed/);
  // The same edit in the outbox: the hash the server recomputes differs
  // (the server's side of it: retail_sync test_journal)
  assert.notEqual(await entryHash(op, op.journal.previous), op.journal.hash);
});

test("the till's check reports an entry deleted from IndexedDB, the last one too", async () => {
  const t = await till();
  await shift(t);
  await t.db.chain.delete(3);
  let check = await t.reg.verifyJournal();
  assert.deepEqual(check.breaks.map((b) => [b.sequence, b.kind]), [[4, 'gap']]);
  await t.db.chain.delete(5);
  check = await t.reg.verifyJournal();
  assert.deepEqual(check.breaks.map((b) => [b.sequence, b.kind]), [[4, 'gap'], [null, 'gap']]);
  assert.match(check.breaks[1].message, /an entry was deleted/);
});
