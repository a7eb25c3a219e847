// Tills for the fault-injection suite: the POS client's own modules (the
// IndexedDB schema, the vault, the catalog, the register, the outbox and the
// sync engine) under node, on fake-indexeddb, driven by JSON lines on stdin:
//
//   {"cmd": "enroll", "till": "BXL1", "url": ..., "database": ..., "code": ..., "pin": "2580", "employee": "Alice Martin"}
//   {"cmd": "shift", "till": "BXL1", "url": <the fault proxy>, "direct": <trytond>, "seed": 7,
//    "sales": 4, "kill_after": [1], "tabs": 2, "cash_in": true, "close": true}
//   {"cmd": "heartbeat", "till": "BXL1", "direct": <trytond>}
//   {"cmd": "quit"}
//
// Each command answers one JSON line: {"id": <the command's id>, "ok": true, ...}
// or {"id": ..., "ok": false, "error": ...}; commands run concurrently.
// A shift opens a cash session (unless one is open), rings up `sales` sales
// (products, quantities and payment methods drawn from `seed`) while the
// sync engine pushes through `url`, closes the session with the counted cash
// when `close`, waits until the outbox is empty, then reads the server's Z
// (or X) of the session (through `direct`) and compares it with the till's. `kill_after`: after those sales (0-based) the
// till is killed (its engine and database connection dropped, in-flight
// requests abandoned) and opened again from IndexedDB with the cashier's PIN,
// as a reloaded page. `tabs`: 2 runs two registers and two engines on the
// same IndexedDB database (one terminal in two tabs), selling in turn.
import { createInterface } from 'node:readline';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CLIENT = resolve(dirname(fileURLToPath(import.meta.url)), '../../pos_offline_client');
const load = (path) => import(pathToFileURL(resolve(CLIENT, path)).href);
await load('node_modules/fake-indexeddb/auto/index.mjs');
const { openDatabase, emptyCounters } = await load('src/db/schema.js');
const { createVault, openSlot } = await load('src/services/vault.js');
const { Catalog } = await load('src/services/catalog.js');
const { Register } = await load('src/services/register.js');
const { SyncApi } = await load('src/sync/api.js');
const { SyncEngine } = await load('src/sync/engine.js');
const { bootstrap, loadCatalog } = await load('src/sync/pull.js');
const { addProduct, newOrder } = await load('src/models/order.js');
const { tender } = await load('src/services/pricing.js');
const { figuresFromWire, compareFigures } = await load('src/sync/wire.js');
const { loadLocalStock } = await load('src/db/stock.js');

const APP_VERSION = 'fault-suite';
const tills = new Map();

// fetch as the engine uses it, saying on stderr why a request failed at the
// connection: "fetch failed" alone hides the cause (refused, reset, closed)
function tracedFetch(name) {
  return async (url, options) => {
    try {
      return await globalThis.fetch(url, options);
    } catch (error) {
      if (error?.name !== 'AbortError') {
        const cause = error?.cause;
        const why = cause ? `${cause.code || cause.name}: ${cause.message}` : String(error);
        process.stderr.write(`till ${name}: ${options?.method || 'GET'} ${new URL(url).pathname.split('/').pop()} failed (${why}) at ${new Date().toISOString()}\n`);
      }
      throw error;
    }
  };
}

// A seeded generator (mulberry32): the same seed, the same shift
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Tab {
  // One page of the till: its own Dexie connection, vault, catalog, register
  // and sync engine, on the terminal's IndexedDB database.
  static async open(till) {
    const tab = new Tab();
    tab.till = till;
    tab.db = openDatabase(till.dbName);
    await tab.db.open();
    const device = await tab.db.meta.get('device');
    // the cashier's PIN opens the data key, as on the login screen
    const slot = await tab.db.slots.get(till.employee.id);
    tab.vault = await openSlot(slot, till.pin);
    if (!tab.vault) throw new Error(`the PIN does not open ${till.name}'s key slot`);
    tab.deviceKey = await tab.vault.decrypt(device.secret);
    tab.device = device;
    tab.catalog = new Catalog();
    await loadCatalog({ db: tab.db, vault: tab.vault, catalog: tab.catalog });
    await loadLocalStock(tab.db, tab.catalog);
    tab.register = new Register({ db: tab.db, vault: tab.vault, catalog: tab.catalog, device });
    // every operation the page commits, `also` included: the till's journal
    const commit = tab.register.commit.bind(tab.register);
    tab.register.commit = async (args) => {
      const result = await commit(args);
      for (const op of [result.operation, ...(result.also || [])]) till.committed.push(op.uuid);
      // as the app after a commit: sync now
      tab.engine?.kick();
      return result;
    };
    return tab;
  }

  api(serverUrl, timeout = 10000) {
    return new SyncApi({
      serverUrl, database: this.device.database, deviceKey: this.deviceKey, appVersion: APP_VERSION, timeout,
      fetchImpl: tracedFetch(this.till.name),
    });
  }

  startEngine(serverUrl) {
    this.engine = new SyncEngine({
      db: this.db, vault: this.vault, api: this.api(serverUrl), catalog: this.catalog,
      terminal: this.device.terminal.id, locks: null, batchSize: 25, pingInterval: 250, pullInterval: 60000,
      backoff: { base: 20, cap: 250 },
    });
    this.running = this.engine.start().catch((e) => { this.engineError = e; });
  }

  // A page closed: nothing awaited, the connection dropped
  kill() {
    if (this.engine) this.engine.stop();
    this.db.close();
  }

  async stop() {
    if (this.engine) {
      this.engine.stop();
      await this.running;
      this.engine = null;
    }
  }
}

async function enroll({ till: name, url, database, code, pin, employee }) {
  const api = new SyncApi({ serverUrl: url, database, appVersion: APP_VERSION });
  const r = await api.enroll(code, `fault suite ${name}`);
  const dbName = `fault-${name}-${Date.now()}`;
  const db = openDatabase(dbName);
  await db.open();
  const { vault, record } = await createVault();
  const device = {
    key: 'device', serverUrl: url, database: r.database || database, terminal: r.terminal,
    branch: r.branch, enrolledAt: Date.now(), vaultVersion: record.version, secret: await vault.encrypt(r.device_key),
  };
  // as main.js enroll: a terminal enrolled again continues its numbering
  const counters = emptyCounters();
  if (Number.isInteger(r.last_receipt_number)) counters.receipt = r.last_receipt_number;
  if (Number.isInteger(r.last_sequence)) counters.operation = r.last_sequence;
  if (typeof r.journal_head === 'string' && /^[0-9a-f]{64}$/.test(r.journal_head)) counters.journal = r.journal_head;
  await db.transaction('rw', db.meta, async () => {
    await db.meta.put(record);
    await db.meta.put(device);
    await db.meta.put(counters);
  });
  const catalog = new Catalog();
  const sync = new SyncApi({ serverUrl: url, database: device.database, deviceKey: r.device_key, appVersion: APP_VERSION });
  await bootstrap({ api: sync, db, vault, catalog });
  const who = catalog.all('employee').find((e) => e.name === employee);
  if (!who) throw new Error(`no employee ${employee} in ${name}'s catalog`);
  db.close();
  const till = {
    name, dbName, pin, employee: who, terminal: r.terminal, tabs: [], committed: [],
  };
  tills.set(name, till);
  till.tabs = [await Tab.open(till)];
  // what can be sold: products with a price, sold by the unit, without lots
  const withLots = new Set(catalog.all('lot').map((l) => l.product));
  till.products = catalog.all('product')
    .filter((p) => p.salable !== false && Number(p.gross_price ?? p.list_price) > 0 && !withLots.has(p.id) && !p.weighed)
    .sort((a, b) => a.id - b.id);
  if (!till.products.length) throw new Error('nothing to sell');
  return { terminal: r.terminal.id, products: till.products.length, last_receipt_number: r.last_receipt_number ?? null };
}

// The checks' own requests (straight to the server, no fault on purpose):
// a busy server that answers late, or one being started again after
// another till's schedule killed it (refused meanwhile: `fetch failed`),
// is asked again for up to `ms`, longer than trytond takes to start (the
// run gives it 120 s). Five tries in 2 s stopped the long run when a
// check came during a restart.
const RETRY_MS = 180000;
async function retry(request, ms = RETRY_MS) {
  const end = Date.now() + ms;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await request();
    } catch (error) {
      if (Date.now() >= end || !(error?.retryable)) throw error;
      await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2000)));
    }
  }
}

async function waitEmpty(tab, ms = 600000) {
  const end = Date.now() + ms;
  while (await tab.db.outbox.count()) {
    if (Date.now() > end) {
      throw new Error(`${tab.till.name}: ${await tab.db.outbox.count()} operations still in the outbox after ${ms} ms (${tab.engine?.state.lastError})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function shift({
  till: name, url, direct, seed, sales, kill_after: killAfter = [], tabs = 1, cash_in: cashIn = false, close = true,
}) {
  const till = tills.get(name);
  const random = rng(seed);
  const kills = new Set(killAfter);
  while (till.tabs.length < tabs) till.tabs.push(await Tab.open(till));
  for (const tab of till.tabs) tab.startEngine(url);
  till.committed = [];
  const sold = {};
  let killed = 0;
  const first = till.tabs[0];
  const employee = till.employee;
  // the session: opened with the float the server's session ends with
  let session = await first.register.currentSession();
  if (!session) session = await first.register.openSession(10000, employee);
  if (cashIn) {
    const types = first.register.transferTypes();
    if (types.length) {
      await first.register.cashMove('cash_in', 500, types[0].id, 'float top-up', employee);
    }
  }
  for (let i = 0; i < sales; i += 1) {
    const tab = till.tabs[i % till.tabs.length];
    const order = newOrder('sale');
    const lines = 1 + Math.floor(random() * 3);
    for (let l = 0; l < lines; l += 1) {
      const product = till.products[Math.floor(random() * till.products.length)];
      const quantity = (1 + Math.floor(random() * 3)) * 1000;
      addProduct(order, product, { quantity, catalog: tab.catalog });
    }
    const methods = tab.register.paymentMethods();
    const method = methods[Math.floor(random() * methods.length)];
    const { total } = tab.register.totals(order);
    order.payments.push(tender(order, { method: method.id, amount: total, cash: method.cash === true }, tab.register.pricingOptions()));
    await tab.register.commitSale(order, employee);
    for (const line of order.lines) sold[line.product] = (sold[line.product] || 0) + line.quantity;
    // the next customer: the engine pushes meanwhile
    await new Promise((r) => setTimeout(r, Math.floor(random() * 60)));
    if (kills.has(i)) {
      // killed right after the payment, then the page opened again
      const index = till.tabs.indexOf(tab);
      tab.kill();
      killed += 1;
      const reopened = await Tab.open(till);
      reopened.startEngine(url);
      till.tabs[index] = reopened;
    }
  }
  const closing = till.tabs[0];
  const report = await closing.register.report(await closing.register.currentSession());
  // the Z (session closed with the expected cash counted) or the X
  const z = close ? await closing.register.closeSession(report.expectedCash, null, employee) : report;
  for (const tab of till.tabs) await waitEmpty(tab);
  for (const tab of till.tabs) await tab.stop();
  const chain = await closing.db.chain.toArray();
  const quarantine = await closing.db.quarantine.count();
  // (the checks wait for a busy server longer than a till would)
  const answer = await retry(() => closing.api(direct).request('GET', `sessions/${encodeURIComponent(session.uuid)}`, { timeout: 60000 }));
  const server = figuresFromWire(answer);
  const comparison = compareFigures(z, server);
  const receipts = await retry(() => closing.api(direct, 60000).receipts());
  const counters = await closing.db.meta.get('counters');
  return {
    terminal: closing.device.terminal.id,
    sales,
    session: session.uuid,
    committed: till.committed,
    chain: chain.map((c) => c.uuid),
    sequence: counters.operation,
    receipt: counters.receipt,
    sold,
    killed,
    quarantine,
    receipts: { first: receipts.first, last: receipts.last, count: receipts.count, gaps: receipts.gaps, duplicates: receipts.duplicates },
    z_match: comparison.match,
    z_differ: comparison.differ,
    z_local: { net: z.net, expected: z.expectedCash, sales: z.sales },
    z_server: { net: server?.net, expected: server?.expectedCash, sales: server?.sales, state: server?.state },
  };
}

// The heartbeat of a till that stays open (POST status, straight to the server)
async function heartbeat({ till: name, direct }) {
  const tab = tills.get(name).tabs[0];
  const pending = await tab.db.outbox.count();
  return retry(() => tab.api(direct, 60000).request('POST', 'status', { body: { app_version: APP_VERSION, pending_operations: pending }, timeout: 60000 }));
}

const commands = { enroll, shift, heartbeat };

// Commands run at once (several tills sell at the same time); each answer
// carries its command's `id`
const input = createInterface({ input: process.stdin });
const running = new Set();
for await (const line of input) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  if (command.cmd === 'quit') break;
  const job = (async () => {
    let answer;
    try {
      answer = { ok: true, ...(await commands[command.cmd](command)) };
    } catch (error) {
      answer = { ok: false, error: String(error?.stack || error) };
    }
    process.stdout.write(`${JSON.stringify({ id: command.id, ...answer })}\n`);
  })();
  running.add(job);
  job.finally(() => running.delete(job));
}
await Promise.all(running);
process.exit(0);
