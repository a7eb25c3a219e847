// Bootstrap (paged snapshot) and delta pulls into IndexedDB and the
// in-memory catalog. The cursor is stored in the same transaction as the
// records it covers, so a cut at any point resumes without a gap.
import { SENSITIVE_KINDS } from '../db/schema.js';
import { splitSensitive } from '../services/catalog.js';
import { loadLocalStock } from '../db/stock.js';

const BOOTSTRAP_KEY = 'bootstrap';
const CURSOR_KEY = 'cursor';

export async function getCursor(db) {
  return (await db.meta.get(CURSOR_KEY))?.value ?? null;
}

export async function bootstrapState(db) {
  return (await db.meta.get(BOOTSTRAP_KEY)) || null;
}

// Load what is stored into `catalog`: pages, then the delta overlay.
export async function loadCatalog({ db, vault, catalog }) {
  catalog.clear();
  const pages = await db.catalog.toArray();
  pages.sort((a, b) => a.id - b.id);
  const secrets = [];
  for (const page of pages) {
    catalog.putRecords(page.records);
    if (page.enc) secrets.push(vault.decrypt(page.enc));
  }
  for (const records of await Promise.all(secrets)) catalog.putRecords(records);
  const changes = await db.changes.toArray();
  for (const ch of changes) {
    const data = ch.enc ? await vault.decrypt(ch.enc) : ch.data;
    catalog.applyChange({ kind: ch.kind, id: ch.id, op: ch.op, data });
  }
  await loadLocalStock(db, catalog);
  return { pages: pages.length, changes: changes.length };
}

// Run (or resume) the bootstrap. onProgress({records, pages, total, elapsed}).
// The next page is fetched while the current one is written.
export async function bootstrap({ api, db, vault, catalog, onProgress = () => {}, limit = 2000, now = () => performance.now() }) {
  let state = await bootstrapState(db);
  if (!state || state.done) {
    await db.transaction('rw', db.catalog, db.changes, db.meta, async () => {
      await db.catalog.clear();
      await db.changes.clear();
      await db.meta.delete(CURSOR_KEY);
      state = { key: BOOTSTRAP_KEY, done: false, nextPage: null, pages: 0, records: 0, total: null };
      await db.meta.put(state);
    });
    catalog.clear();
  } else {
    await loadCatalog({ db, vault, catalog });
  }
  const started = now();
  const startRecords = state.records;
  const prefetch = (token) => {
    const p = api.bootstrap(token, limit);
    p.catch(() => {}); // handled when awaited; avoids an early unhandled rejection
    return p;
  };
  let pending = prefetch(state.nextPage);
  for (;;) {
    const page = await pending;
    const next = page.next_page || null;
    if (next) pending = prefetch(next);
    const { clear, secret } = splitSensitive(page.records);
    const enc = secret ? await vault.encrypt(secret) : null;
    let count = 0;
    for (const list of Object.values(page.records || {})) count += Array.isArray(list) ? list.length : 0;
    const total = page.total ?? page.estimated_total ?? state.total ?? null;
    const pageId = state.pages + 1;
    state = {
      ...state,
      nextPage: next,
      pages: pageId,
      records: state.records + count,
      total,
      done: !next,
      serverTime: page.server_time,
    };
    await db.transaction('rw', db.catalog, db.meta, async () => {
      await db.catalog.put({ id: pageId, records: clear, enc });
      await db.meta.put(state);
      if (!next) await db.meta.put({ key: CURSOR_KEY, value: page.cursor });
    });
    catalog.putRecords(page.records);
    const elapsed = now() - started;
    onProgress({ records: state.records, pages: state.pages, total, elapsed, rate: (state.records - startRecords) / Math.max(elapsed, 1) * 1000, done: !next });
    if (!next) return state;
  }
}

// Apply delta pages until the server has no more. Returns the number applied.
export async function pullChanges({ api, db, vault, catalog, limit = 1000 }) {
  let cursor = await getCursor(db);
  if (!cursor) throw new Error('No cursor: bootstrap first');
  let applied = 0;
  for (;;) {
    const page = await api.changes(cursor, limit);
    const rows = [];
    for (const ch of page.changes || []) {
      if (SENSITIVE_KINDS.has(ch.kind) && ch.data) {
        rows.push({ kind: ch.kind, id: ch.id, op: ch.op, enc: await vault.encrypt(ch.data) });
      } else {
        rows.push({ kind: ch.kind, id: ch.id, op: ch.op, data: ch.data ?? null });
      }
    }
    await db.transaction('rw', db.changes, db.meta, async () => {
      if (rows.length) await db.changes.bulkPut(rows);
      await db.meta.put({ key: CURSOR_KEY, value: page.cursor });
    });
    for (const ch of page.changes || []) catalog.applyChange(ch);
    applied += rows.length;
    cursor = page.cursor;
    if (!page.has_more) return applied;
  }
}
