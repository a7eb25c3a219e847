// Sync of a counting phone (docs/sync-protocol.md § Counting phones): pull
// the branch's open counts, products, lots and incoming transfers; push the
// outboxes of count entries and of transfer receipts.
import { SyncApi } from '../src/sync/api.js';
import { storeBootstrap } from './store.js';

export const APP_VERSION = '1.0.0';
const BATCH = 500;

export function makeApi({ database, deviceKey, fetchImpl }) {
  return new SyncApi({ serverUrl: globalThis.location?.origin || '', database, deviceKey, appVersion: APP_VERSION, fetchImpl });
}

export async function pull(db, api) {
  const data = await api.request('GET', 'count/bootstrap', { timeout: 60000 });
  await storeBootstrap(db, data);
  return data;
}

// Push the entries waiting in the outbox; returns {accepted, rejected}
export async function pushEntries(db, api) {
  let accepted = 0;
  let rejected = 0;
  for (;;) {
    const pending = await db.entries.where('state').equals(0).limit(BATCH).toArray();
    if (!pending.length) break;
    const body = {
      entries: pending.map((e) => {
        const wire = { uuid: e.uuid, count: e.count, product: e.product, quantity: e.quantity, scanned: e.scanned, client_time: e.client_time };
        if (e.lot) wire.lot = e.lot;
        else if (e.lot_number) wire.lot_number = e.lot_number;
        return wire;
      }),
    };
    const data = await api.request('POST', 'count/push', { body, timeout: 60000 });
    await db.transaction('rw', db.entries, async () => {
      for (const result of data.results) {
        if (result.status === 'rejected') {
          rejected += 1;
          await db.entries.update(result.uuid, { state: 2, error: result.error });
        } else {
          accepted += 1;
          await db.entries.update(result.uuid, { state: 1 });
        }
      }
    });
    if (pending.length < BATCH) break;
  }
  return { accepted, rejected };
}

const RECEIPTS = 50;

// Push the transfer receipts waiting in the outbox; returns {accepted,
// rejected}. A receipt answered rejected keeps its error for the clerk.
export async function pushReceipts(db, api) {
  let accepted = 0;
  let rejected = 0;
  for (;;) {
    const pending = await db.receipts.where('state').equals(0).limit(RECEIPTS).toArray();
    if (!pending.length) break;
    const body = { receipts: pending.map(({ uuid, transfer, lines, client_time: clientTime }) => ({ uuid, transfer, lines, client_time: clientTime })) };
    const data = await api.request('POST', 'count/receive', { body, timeout: 60000 });
    await db.transaction('rw', db.receipts, async () => {
      for (const result of data.results) {
        if (result.status === 'rejected') {
          rejected += 1;
          await db.receipts.update(result.uuid, { state: 2, error: result.error });
        } else {
          accepted += 1;
          await db.receipts.update(result.uuid, { state: 1, result: result.result });
        }
      }
    });
    if (pending.length < RECEIPTS) break;
  }
  return { accepted, rejected };
}
