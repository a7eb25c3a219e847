import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeServer, freshDb, testVault } from './helpers.js';
import { backoffDelay, SyncEngine } from '../src/sync/engine.js';
import { commitOperation, formatReceiptNumber } from '../src/sync/outbox.js';
import { Catalog } from '../src/services/catalog.js';

async function sell(db, vault, total = '1.00', opts = {}) {
  return commitOperation({
    db, vault, type: 'sale', terminal: 4, employee: 7, receipt: true,
    build: ({ receiptNumber }) => ({
      payload: { receipt_number: receiptNumber, lines: [], payments: [], total },
      journal: { clear: { number: formatReceiptNumber('T1', receiptNumber) }, secret: { total } },
    }),
    ...opts,
  });
}

function engine(db, vault, server, extra = {}) {
  return new SyncEngine({
    db, vault, api: server.api(), catalog: new Catalog(), terminal: 4, locks: null, ...extra,
  });
}

test('a sale, its receipt number and its outbox entry commit together', async () => {
  const db = await freshDb();
  const vault = await testVault();
  const a = await sell(db, vault);
  const b = await sell(db, vault);
  assert.equal(a.receiptNumber, 1);
  assert.equal(b.receiptNumber, 2);
  assert.equal(await db.outbox.count(), 2);
  assert.equal(await db.sales.count(), 2);
  const counters = await db.meta.get('counters');
  assert.deepEqual([counters.receipt, counters.operation], [2, 2]);
  const s = await db.sales.where('number').equals('T1-000002').first();
  assert.equal(s.uuid, b.uuid);
});

test('a failed transaction consumes no receipt number', async () => {
  const db = await freshDb();
  const vault = await testVault();
  await assert.rejects(sell(db, vault, '1.00', {
    stores: ['held'],
    build: ({ receiptNumber }) => ({
      payload: { receipt_number: receiptNumber },
      journal: { clear: { number: 'x' }, secret: {} },
      extra: async () => { throw new Error('disk full'); },
    }),
  }));
  assert.equal(await db.outbox.count(), 0);
  assert.equal(await db.sales.count(), 0);
  assert.equal((await sell(db, vault)).receiptNumber, 1);
});

test('concurrent commits get distinct gapless numbers', async () => {
  const db = await freshDb();
  const vault = await testVault();
  const results = await Promise.all(Array.from({ length: 8 }, () => sell(db, vault)));
  assert.deepEqual(results.map((r) => r.receiptNumber).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('the outbox is pushed in sequence order and emptied only on acknowledgement', async () => {
  const db = await freshDb();
  const vault = await testVault();
  for (let i = 0; i < 5; i += 1) await sell(db, vault);
  const server = new FakeServer();
  const e = engine(db, vault, server, { batchSize: 2 });
  await e.pushAll();
  assert.deepEqual(server.pushes, [[1, 2], [3, 4], [5]]);
  assert.equal(await db.outbox.count(), 0);
  const sales = await db.sales.toArray();
  assert.ok(sales.every((s) => s.synced && s.serverId > 1000));
});

test('a lost answer keeps the operations; the replay is a harmless duplicate', async () => {
  const db = await freshDb();
  const vault = await testVault();
  await sell(db, vault);
  await sell(db, vault);
  const server = new FakeServer();
  server.dropAnswers = 1;
  const e = engine(db, vault, server);
  await assert.rejects(e.pushAll());
  assert.equal(await db.outbox.count(), 2);
  const entry = await db.outbox.get(1);
  assert.equal(entry.attempts, 1);
  await e.pushAll();
  assert.equal(await db.outbox.count(), 0);
  assert.equal(server.received.size, 2);
});

test('a rejected operation leaves the outbox for the quarantine', async () => {
  const db = await freshDb();
  const vault = await testVault();
  await sell(db, vault);
  await sell(db, vault);
  const server = new FakeServer();
  server.reject.add(1);
  await engine(db, vault, server).pushAll();
  assert.equal(await db.outbox.count(), 0);
  const q = await db.quarantine.toArray();
  assert.equal(q.length, 1);
  assert.equal(q[0].reason, undefined, 'the reason is not stored in clear');
  assert.equal((await vault.decrypt(q[0].reasonEnc)).code, 'unknown_product');
  const op = await vault.decrypt(q[0].enc);
  assert.equal(op.sequence, 1);
});

test('offline: the engine backs off with jitter and keeps everything', async () => {
  const db = await freshDb();
  const vault = await testVault();
  await sell(db, vault);
  const server = new FakeServer();
  server.down = true;
  const states = [];
  const e = engine(db, vault, server, { onState: (s) => states.push(s), backoff: { base: 5, cap: 20 }, pingInterval: 5 });
  const run = e.start();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(e.state.online, false);
  assert.ok(e.state.attempt >= 2);
  assert.equal(await db.outbox.count(), 1);
  server.down = false;
  e.kick();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(e.state.online, true);
  assert.equal(await db.outbox.count(), 0);
  e.stop();
  await run;
});

test('backoff grows exponentially, is capped and jittered', () => {
  const lo = () => 0;
  const hi = () => 0.999999;
  assert.equal(backoffDelay(0, { base: 1000, random: hi }), 1000);
  assert.equal(backoffDelay(3, { base: 1000, random: hi }), 8000);
  assert.equal(backoffDelay(30, { base: 1000, cap: 60000, random: hi }), 60000);
  assert.equal(backoffDelay(5, { base: 1000, random: lo }), 500);
  const seen = new Set(Array.from({ length: 20 }, () => backoffDelay(4)));
  assert.ok(seen.size > 1);
});

test('one engine per device: a second one waits for the lock', async () => {
  // A minimal Web Locks stand-in (exclusive, FIFO).
  const queue = [];
  let held = false;
  const locks = {
    request(name, opts, cb) {
      return new Promise((resolve, reject) => {
        const go = () => {
          held = true;
          Promise.resolve(cb()).then(resolve, reject).finally(() => {
            held = false;
            queue.shift()?.();
          });
        };
        if (held) queue.push(go);
        else go();
      });
    },
  };
  const db = await freshDb();
  const vault = await testVault();
  const server = new FakeServer();
  const a = engine(db, vault, server, { locks, pingInterval: 5 });
  const b = engine(db, vault, server, { locks, pingInterval: 5 });
  const ra = a.start();
  const rb = b.start();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(a.state.leader, true);
  assert.equal(b.state.leader, false);
  a.stop();
  await ra;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(b.state.leader, true);
  b.stop();
  await rb;
});
