// Bootstrap (paged snapshot) and delta pulls into IndexedDB and the
// in-memory catalog. The cursor is stored in the same transaction as the
// records it covers, so a cut at any point resumes without a gap.
import { SENSITIVE_KINDS, splitSensitive } from '../db/schema.js';
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
// Without a vault (nobody has unlocked the till yet) only the clear part
// (catalog, prices, settings) is loaded; loadSecrets adds the rest.
// The products' search indexes are read afterwards (catalog.searchLoaded):
// a search before they are there makes a block's index from its columns.
export async function loadCatalog({ db, vault, catalog, mark = () => {} }) {
  catalog.clear();
  const pages = await db.catalog.toArray();
  mark('pagesRead');
  pages.sort((a, b) => a.id - b.id);
  const secrets = [];
  catalog.encPages = [];
  for (const page of pages) {
    // a page stored before blocks has its large kinds in records
    if (page.blocks) catalog.addBlocks(page.blocks, page.id);
    catalog.putRecords(page.records);
    if (page.enc) catalog.encPages.push(page.id);
    if (page.enc && vault) secrets.push(vault.decrypt(page.enc));
  }
  const blocks = new Map(pages.filter((p) => p.blocks?.product).map((p) => [p.id, p.blocks.product]));
  catalog.searchLoaded = blocks.size ? loadSearch(db, blocks) : Promise.resolve();
  for (const records of await Promise.all(secrets)) catalog.putRecords(records);
  mark('pagesLoaded');
  const changes = await db.changes.toArray();
  for (const ch of changes) {
    if (ch.enc && !vault) continue;
    const data = ch.enc ? await vault.decrypt(ch.enc) : ch.data;
    catalog.applyChange({ kind: ch.kind, id: ch.id, op: ch.op, data });
  }
  await loadLocalStock(db, catalog);
  return { pages: pages.length, changes: changes.length };
}

// Add the encrypted kinds (employees, customers) to a catalog loaded
// without a vault: their pages, then their changes over them.
export async function loadSecrets({ db, vault, catalog }) {
  const pages = (catalog.encPages ? await db.catalog.bulkGet(catalog.encPages) : await db.catalog.toArray())
    .filter((p) => p?.enc).sort((a, b) => a.id - b.id);
  for (const page of pages) catalog.putRecords(await vault.decrypt(page.enc));
  const changes = await db.changes.toArray();
  for (const ch of changes) {
    if (!SENSITIVE_KINDS.has(ch.kind)) continue;
    const data = ch.enc ? await vault.decrypt(ch.enc) : ch.data;
    catalog.applyChange({ kind: ch.kind, id: ch.id, op: ch.op, data });
  }
}

// Attach the stored search index of each page's products to its block.
async function loadSearch(db, blocks) {
  try {
    await db.catalogSearch.each((row) => {
      const block = blocks.get(row.id);
      if (block && !block.indexes.search) block.indexes.search = row.search;
    });
  } catch {
    // without them, a search makes each block's index from its columns
  }
}

// The key slots to write and remove for employee records pulled (records
// of kind `employee`, or changes {id, op, data}): a slot per employee with
// a PIN hash, remade at each pull (it is cheap: no PBKDF2 run).
export async function employeeSlots(vault, employees) {
  const put = [];
  const remove = [];
  for (const e of employees || []) {
    const data = e && 'op' in e ? (e.op === 'delete' ? null : e.data) : e;
    const id = data?.id ?? e?.id;
    if (!Number.isInteger(id)) continue;
    const slot = data?.pin_hash ? await vault.slotFor(id, data.pin_hash, {
      name: data.name, manager: Boolean(data.permissions?.allow_manager_override),
    }) : null;
    if (slot) put.push(slot);
    else remove.push(id);
  }
  return { put, remove };
}

async function writeSlots(db, { put, remove }) {
  if (remove.length) await db.slots.bulkDelete(remove);
  if (put.length) await db.slots.bulkPut(put);
}

// Pages of a plan fetched at once (protocol 1.4): enough to keep the
// server's processes and the till both busy, few enough that the pages
// waiting to be stored stay small (a page of 20,000 products is about
// 6 MB of JSON). Each of them asks for its next page before it stores the
// one it has: at most twice as many pages held at once.
export const PARALLEL_PAGES = 3;

// Store a fetched page as page `pageId`: its records packed (products and
// stock as columns with their indexes, services/blocks.js), the sensitive
// kinds encrypted, the employees' key slots; `extra(count)` writes what
// goes with it in the same transaction. Returns the number of records.
async function storePage({ db, vault, catalog, records, pageId, extra }) {
  const { clear, secret } = splitSensitive(records);
  const packed = catalog.pack(clear);
  const enc = secret ? await vault.encrypt(secret) : null;
  const slots = await employeeSlots(vault, records?.employee);
  let count = 0;
  for (const list of Object.values(records || {})) count += Array.isArray(list) ? list.length : 0;
  catalog.addBlocks(packed.blocks, pageId);
  catalog.putRecords(packed.records);
  if (secret) catalog.putRecords(secret);
  // the search index apart: a start reads the page without it
  const { search, ...indexes } = packed.blocks.product?.indexes || {};
  const blocks = search ? { ...packed.blocks, product: { ...packed.blocks.product, indexes } } : packed.blocks;
  await db.transaction('rw', db.catalog, db.catalogSearch, db.meta, db.slots, async () => {
    await db.catalog.put({ id: pageId, records: packed.records, blocks, enc });
    if (search) await db.catalogSearch.put({ id: pageId, search });
    await writeSlots(db, slots);
    if (extra) await extra(count);
  });
  return count;
}

// The snapshot is whole: the key slots of employees no longer sent go.
async function staleSlots(db, catalog) {
  const kept = new Set(catalog.all('employee').map((e) => e.id));
  return (await db.slots.toArray()).filter((s) => !kept.has(s.employee)).map((s) => s.employee);
}

// The plan of a bootstrap, or null from a server that has none (before
// protocol 1.4: 404).
async function planOf(api, limit) {
  if (typeof api.bootstrapPlan !== 'function') return null;
  try {
    return await api.bootstrapPlan(limit);
  } catch (error) {
    if (error?.status === 404) return null;
    throw error;
  }
}

// Run (or resume) the bootstrap. onProgress({records, pages, total, elapsed}).
// With a server that plans it (protocol 1.4), `parallel` pages are fetched
// at once, in any order, each stored as it comes under its number in the
// plan; a resumed bootstrap fetches only the pages not stored. Otherwise
// page after page, the next fetched while the current one is written.
export async function bootstrap({ api, db, vault, catalog, onProgress = () => {}, limit = 2000, parallel = PARALLEL_PAGES, now = () => performance.now() }) {
  let state = await bootstrapState(db);
  if (!state || state.done) {
    await db.transaction('rw', db.catalog, db.catalogSearch, db.changes, db.meta, async () => {
      await db.catalog.clear();
      await db.catalogSearch.clear();
      await db.changes.clear();
      await db.meta.delete(CURSOR_KEY);
      state = { key: BOOTSTRAP_KEY, done: false, nextPage: null, pages: 0, records: 0, total: null };
      await db.meta.put(state);
    });
    catalog.clear();
  } else {
    await loadCatalog({ db, vault, catalog });
  }
  if (!state.plan && !state.nextPage && !state.pages) {
    const plan = await planOf(api, limit);
    if (plan) {
      state = { ...state, plan: { pages: plan.pages, cursor: plan.cursor }, total: plan.total ?? null };
      await db.meta.put(state);
    }
  }
  const run = { api, db, vault, catalog, onProgress, limit, now, started: now(), startRecords: state.records };
  return state.plan ? planned(run, state, Math.max(1, parallel)) : sequential(run, state);
}

async function planned(run, state, parallel) {
  const { api, db, vault, catalog, onProgress, limit, now, started, startRecords } = run;
  const { pages, cursor } = state.plan;
  const stored = new Set(await db.catalog.toCollection().primaryKeys());
  const todo = pages.map((_, i) => i + 1).filter((id) => !stored.has(id));
  let done = pages.length - todo.length;
  let records = state.records;
  let next = 0;
  let failure = null;
  // The next page of a worker, asked for before the page it has is stored:
  // the server makes it while the till stores (a page of 20,000 products
  // made takes the server about as long as the till takes to store it).
  const take = () => {
    if (next >= todo.length || failure) return null;
    const pageId = todo[next];
    next += 1;
    const fetched = api.bootstrap(pages[pageId - 1], limit);
    fetched.catch(() => {}); // handled when awaited; avoids an early unhandled rejection
    return { pageId, fetched };
  };
  const worker = async () => {
    let pending = take();
    while (pending && !failure) {
      const { pageId, fetched } = pending;
      try {
        const page = await fetched;
        if (failure) return;
        pending = take();
        await storePage({
          db, vault, catalog, records: page.records, pageId,
          // progress figures only: the pages stored say what is left
          extra: (count) => {
            done += 1;
            records += count;
            return db.meta.update(BOOTSTRAP_KEY, { pages: done, records });
          },
        });
        const elapsed = now() - started;
        onProgress({ records, pages: done, total: state.total, elapsed, rate: (records - startRecords) / Math.max(elapsed, 1) * 1000, done: false });
      } catch (error) {
        failure = failure || error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, worker));
  if (failure) throw failure;
  state = { ...(await bootstrapState(db)), pages: pages.length, records, done: true };
  const remove = await staleSlots(db, catalog);
  await db.transaction('rw', db.meta, db.slots, async () => {
    await db.meta.put(state);
    await writeSlots(db, { put: [], remove });
    await db.meta.put({ key: CURSOR_KEY, value: cursor });
  });
  const elapsed = now() - started;
  onProgress({ records, pages: pages.length, total: state.total, elapsed, rate: (records - startRecords) / Math.max(elapsed, 1) * 1000, done: true });
  return state;
}

async function sequential(run, initial) {
  const { api, db, vault, catalog, onProgress, limit, now, started, startRecords } = run;
  let state = initial;
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
    const pageId = state.pages + 1;
    let count = 0;
    for (const list of Object.values(page.records || {})) count += Array.isArray(list) ? list.length : 0;
    const total = page.total ?? page.estimated_total ?? state.total ?? null;
    state = {
      ...state,
      nextPage: next,
      pages: pageId,
      records: state.records + count,
      total,
      done: !next,
      serverTime: page.server_time,
    };
    const written = state;
    await storePage({
      db, vault, catalog, records: page.records, pageId,
      extra: async () => {
        await db.meta.put(written);
        if (!next) {
          await writeSlots(db, { put: [], remove: await staleSlots(db, catalog) });
          await db.meta.put({ key: CURSOR_KEY, value: page.cursor });
        }
      },
    });
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
    const slots = await employeeSlots(vault, (page.changes || []).filter((ch) => ch.kind === 'employee'));
    await db.transaction('rw', db.changes, db.meta, db.slots, async () => {
      if (rows.length) await db.changes.bulkPut(rows);
      await writeSlots(db, slots);
      await db.meta.put({ key: CURSOR_KEY, value: page.cursor });
    });
    for (const ch of page.changes || []) catalog.applyChange(ch);
    applied += rows.length;
    cursor = page.cursor;
    if (!page.has_more) return applied;
  }
}
