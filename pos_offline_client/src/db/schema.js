// The whole IndexedDB schema in one place (Dexie 4). Add a version, never
// edit a published one: Dexie migrates from whatever the device has.
import Dexie from 'dexie';

export const DB_NAME = 'retail-pos';

// Which stores the client creates (records keyed by a device UUID, pushed
// through the outbox) and which it caches from the server (replaced by pulls).
// `encrypted` stores hold their payload in `enc` (AES-GCM, see services/vault).
export const STORES = {
  meta: { origin: 'local', encrypted: 'device key, sealing key', doc: 'device, vault, counters, cursor, settings, PIN guard' },
  slots: { origin: 'local', encrypted: 'wrapped by PIN', doc: 'the data key wrapped per employee (services/vault)' },
  sealed: { origin: 'local', encrypted: 'sealed to the till', doc: 'events recorded while locked (wrong PINs)' },
  catalog: { origin: 'server', encrypted: 'sensitive kinds', doc: 'bootstrap pages, one record per page (products and stock as columns with their barcode and code indexes)' },
  catalogSearch: { origin: 'server', encrypted: false, doc: 'the name search index of each bootstrap page\'s products, read after the start' },
  changes: { origin: 'server', encrypted: 'sensitive kinds', doc: 'delta records applied over the pages' },
  sales: { origin: 'device', encrypted: true, doc: 'the journal: sales, returns and voids' },
  outbox: { origin: 'device', encrypted: true, doc: 'operations not yet acknowledged by the server' },
  quarantine: { origin: 'device', encrypted: true, doc: 'operations the server rejected' },
  held: { origin: 'device', encrypted: true, doc: 'parked orders' },
  sessions: { origin: 'device', encrypted: true, doc: 'cash sessions and their transfers' },
  customers: { origin: 'device', encrypted: true, doc: 'customers created or edited here' },
  audit: { origin: 'device', encrypted: true, doc: 'manager overrides and other sensitive actions' },
  chain: { origin: 'device', encrypted: true, doc: 'the receipt journal\'s hash chain: each sale, return, void and session close as committed (sync/journal.js)' },
  stock: { origin: 'device', encrypted: false, doc: 'stock moves of the own sales, returns and counts not yet in the server figure (db/stock.js)' },
};

// Kinds of server records that are personal data, stored encrypted.
export const SENSITIVE_KINDS = new Set(['employee', 'customer']);

export function openDatabase(name = DB_NAME, options) {
  const db = new Dexie(name, options);
  db.version(1).stores({
    meta: 'key',
    catalog: 'id',
    changes: '[kind+id]',
    sales: 'uuid, number, sessionUuid, createdAt',
    outbox: 'seq, &uuid',
    quarantine: 'uuid, seq',
    held: 'uuid, createdAt',
    sessions: 'uuid, state, openedAt',
    customers: 'uuid',
    audit: '++id, at',
  });
  // Stock moves of the till's own sales, returns and counts (db/stock.js)
  db.version(2).stores({
    stock: 'id, op, product',
  });
  // 3: key slots (the data key is no longer wrapped by the device key) and
  // events sealed while locked; the records are re-encrypted by
  // db/migrate.js on the first start of this version.
  db.version(3).stores({
    slots: 'employee',
    sealed: '++id',
  });
  // 4: the receipt journal's hash chain (sync/journal.js, docs/journal.md)
  db.version(4).stores({
    chain: 'seq, &uuid',
  });
  // 5: the search index of each page's products, apart from the page so a
  // start reads it after the till is ready to scan (services/blocks.js)
  db.version(5).stores({
    catalogSearch: 'id',
  });
  return db;
}

// Counters of the device live in one meta record, written in the same
// transaction as the record that consumes them.
export const COUNTERS_KEY = 'counters';
export function emptyCounters() {
  return { key: COUNTERS_KEY, receipt: 0, operation: 0 };
}

// A single meta record as a small store {get, put} of its value.
export function metaStore(db, key) {
  return {
    async get() {
      return (await db.meta.get(key))?.value ?? null;
    },
    async put(value) {
      await db.meta.put({ key, value });
    },
  };
}

// The stores whose records hold an `enc` field (db/migrate.js re-encrypts them).
export const ENCRYPTED_STORES = ['catalog', 'changes', 'sales', 'outbox', 'quarantine', 'held', 'sessions', 'customers', 'audit', 'chain'];

// Split a page's records into what may stay in clear and what is encrypted.
export function splitSensitive(records) {
  const clear = {};
  const secret = {};
  let hasSecret = false;
  for (const [kind, list] of Object.entries(records || {})) {
    if (SENSITIVE_KINDS.has(kind)) {
      secret[kind] = list;
      hasSecret = true;
    } else {
      clear[kind] = list;
    }
  }
  return { clear, secret: hasSecret ? secret : null };
}
