// The phone's storage (IndexedDB through Dexie): its enrollment, what it
// pulled and the outboxes of count entries and transfer receipts not yet
// accepted by the server.
import Dexie from 'dexie';

export function openDb(name = 'retail-count') {
  const db = new Dexie(name);
  db.version(1).stores({
    settings: 'key',
    products: 'id',
    lots: 'id',
    counts: 'id',
    expected: '++n, count',
    // state: 0 to push, 1 accepted (or a duplicate), 2 rejected
    entries: 'uuid, count, state',
  });
  // Receiving transfers: the transfers in transit to the branch, a transfer
  // being received (its lines so far, kept across a reload) and the outbox
  // of receipts (state 0 to push, 1 accepted or a duplicate, 2 rejected)
  db.version(2).stores({
    transfers: 'id',
    drafts: 'transfer',
    receipts: 'uuid, transfer, state',
  });
  return db;
}

export async function getSetting(db, key, fallback = null) {
  const row = await db.settings.get(key);
  return row ? row.value : fallback;
}

export function setSetting(db, key, value) {
  return db.settings.put({ key, value });
}

// Replace what was pulled with a bootstrap answer
export async function storeBootstrap(db, data) {
  await db.transaction('rw', [db.products, db.lots, db.counts, db.expected, db.transfers, db.settings], async () => {
    await Promise.all([db.products.clear(), db.lots.clear(), db.counts.clear(), db.expected.clear(), db.transfers.clear()]);
    await db.transfers.bulkPut(data.transfers || []);
    await db.products.bulkPut(data.products);
    await db.lots.bulkPut(data.lots);
    await db.counts.bulkPut(data.counts);
    await db.expected.bulkAdd(data.expected);
    await db.settings.put({ key: 'branch', value: data.branch });
    await db.settings.put({ key: 'pulled_at', value: data.server_time || new Date().toISOString() });
  });
}
