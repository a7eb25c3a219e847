// The counting phone's page: enroll, pick an open count, scan or type, and
// keep the entries in the outbox until the server accepts them; receive the
// transfers in transit to the branch (transfers.js). Strings through the
// till's i18n (src/lib/i18n.js), in the phone's language.
import { setLanguage, t } from '../src/lib/i18n.js';
import { ApiError } from '../src/sync/api.js';
import { uuid } from '../src/lib/uuid.js';
import { getSetting, openDb, setSetting } from './store.js';
import { makeApi, pull, pushEntries, pushReceipts } from './sync.js';
import { Catalog, fromMilli, Tally, toMilli } from './tally.js';
import { loadTransfers, setupTransfers } from './transfers.js';

const $ = (id) => document.getElementById(id);
// The table shows the lines last counted (a phone's screen shows about 15);
// the tally keeps them all
const SHOWN = 100;
const state = { db: null, api: null, catalog: null, counts: [], expected: [], count: null, tally: null, rows: new Map(), pendingLot: null, syncing: false };

function show(name) {
  for (const id of ['enroll', 'counts', 'count', 'transfer']) $(id).hidden = id !== name;
  if (name === 'count') $('scan').focus();
  if (name === 'transfer') $('receive-scan').focus();
}

// The page's own text (index.html): data-i18n names the English text of an
// element, data-i18n-placeholder, -label and -title those of its attributes
function translatePage() {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  document.title = t('Stock count');
}

function lineCount(n) {
  return n === 1 ? t('1 line') : t('{n} lines', { n });
}

function listMessage(text, error = false) {
  $('list-message').textContent = text;
  $('list-message').classList.toggle('error', error);
}

function message(text, error = false) {
  $('message').textContent = text;
  $('message').classList.toggle('error', error);
}

// What waits in the outbox: counted again from the database after a sync,
// kept up to date in between as entries are added
async function refreshPending() {
  const [entries, receipts] = await Promise.all([
    state.db.entries.where('state').equals(0).count(), state.db.receipts.where('state').equals(0).count()]);
  state.pending = entries + receipts;
  $('pending').textContent = String(state.pending);
}

function setOnline() {
  $('net').dataset.online = navigator.onLine ? '1' : '0';
  $('net').textContent = navigator.onLine ? t('online') : t('offline');
}

async function loadLocal() {
  const db = state.db;
  const [products, lots, counts, expected, branch] = await Promise.all([
    db.products.toArray(), db.lots.toArray(), db.counts.toArray(), db.expected.toArray(), getSetting(db, 'branch')]);
  state.catalog = new Catalog({ products, lots });
  state.counts = counts;
  state.expected = expected;
  $('branch-name').textContent = branch ? t('Counts — {branch}', { branch: branch.name }) : t('Counts');
  renderCounts();
  await loadTransfers();
}

function renderCounts() {
  const list = $('count-list');
  list.replaceChildren();
  for (const count of state.counts) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.count = String(count.id);
    button.textContent = `${count.number || count.id} · ${count.location.name} · ${count.date}${count.blind ? ` · ${t('blind')}` : ''}`;
    button.addEventListener('click', () => openCount(count));
    li.append(button);
    list.append(li);
  }
  $('no-counts').hidden = state.counts.length > 0;
}

let opening = 0;
// The count's screen is shown once its lines are read back from storage
// (after a reload they are only there): never an empty count, and a count
// tapped again while the first is read replaces it
async function openCount(count) {
  const ticket = ++opening;
  delete $('count').dataset.count;
  const entries = await state.db.entries.where('count').equals(count.id).toArray();
  if (ticket !== opening) return;
  state.count = count;
  state.tally = new Tally({ count, expected: count.blind ? [] : state.expected });
  state.rows = new Map();
  $('line-body').replaceChildren();
  document.body.classList.toggle('blind', !!count.blind);
  $('count-name').textContent = `${count.number || count.id} · ${count.location.name}`;
  $('count-blind').textContent = count.blind ? t('blind count') : t('expected shown');
  entries.sort((a, b) => a.seq - b.seq);
  for (const entry of entries) state.tally.add(entry);
  const recent = state.tally.recent();
  for (const line of recent.slice(0, SHOWN)) renderLine(line, false);
  $('line-total').textContent = lineCount(state.tally.lines.size);
  message('');
  show('count');
  $('count').dataset.count = String(count.id);
}

function productName(id) {
  return state.catalog.products.get(id)?.name || `#${id}`;
}

function renderLine(line, fresh = true) {
  let row = state.rows.get(line.key);
  if (!row) {
    row = document.createElement('tr');
    row.dataset.key = line.key;
    row.innerHTML = '<td class="product"></td><td class="lot"></td><td class="n counted"></td><td class="n expected"></td>';
    row.cells[0].textContent = productName(line.product);
    row.cells[1].textContent = line.lot ? state.catalog.lots.get(line.lot)?.number || `#${line.lot}` : line.lotNumber || '';
    state.rows.set(line.key, row);
  }
  row.cells[2].textContent = fromMilli(line.counted);
  if (!state.count.blind) {
    // Not blind: a product the ledger does not hold is expected at 0
    const expected = line.expected ?? 0;
    row.cells[3].textContent = fromMilli(expected);
    row.cells[2].className = `n counted ${line.counted > expected ? 'over' : line.counted < expected ? 'under' : ''}`;
  }
  const body = $('line-body');
  if (fresh) {
    state.fresh?.classList.remove('fresh');
    row.classList.add('fresh');
    state.fresh = row;
    if (body.firstChild !== row) body.prepend(row);
    if (body.rows.length > SHOWN) body.lastChild.remove();
    $('line-total').textContent = lineCount(state.tally.lines.size);
  } else if (body.rows.length < SHOWN) {
    body.append(row);
  }
  return row;
}

let seq = 0;
// Add an entry: the line shows it at once, the outbox keeps it
function addEntry({ product, lot, lotNumber, quantity, scanned }) {
  const entry = {
    uuid: uuid(), seq: Date.now() * 1000 + (seq++ % 1000), count: state.count.id, product: product.id,
    lot: lot ? lot.id : null, lot_number: lot ? null : lotNumber || null, quantity, scanned,
    client_time: new Date().toISOString(), state: 0,
  };
  const line = state.tally.add(entry);
  renderLine(line);
  message(`${productName(product.id)}${lot ? ` · ${lot.number}` : lotNumber ? ` · ${lotNumber}` : ''}: +${quantity}`);
  state.pending = (state.pending || 0) + 1;
  $('pending').textContent = String(state.pending);
  state.db.entries.add(entry).then(scheduleSync);
  return line;
}

function quantityTyped() {
  const milli = toMilli($('qty').value);
  return milli === null || milli <= 0 ? null : fromMilli(milli);
}

export function onScan(raw) {
  const quantity = quantityTyped();
  if (quantity === null) {
    message(t('Quantity: type a positive number (at most 3 decimals).'), true);
    return null;
  }
  const found = state.catalog.resolve(raw);
  if (found.error) {
    message(found.error === 'unknown' ? t('Unknown code {code}.', { code: found.raw }) : t('Unreadable code {code}.', { code: found.raw }), true);
    return null;
  }
  const scanned = $('qty').value.trim() === '1';
  $('qty').value = '1';
  if (found.product.lot_tracked && !found.lot && !found.lotNumber) {
    askLot(found.product, quantity, scanned);
    return null;
  }
  return addEntry({ ...found, quantity, scanned });
}

function askLot(product, quantity, scanned) {
  state.pendingLot = { product, quantity, scanned };
  $('lot-product').textContent = product.name;
  const list = $('lot-list');
  list.replaceChildren();
  for (const lot of state.catalog.lotsByProduct.get(product.id) || []) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = lot.expiration_date ? `${lot.number} (${lot.expiration_date})` : lot.number;
    b.addEventListener('click', () => chooseLot(lot, null));
    list.append(b);
  }
  $('lot-number').value = '';
  $('lot-pick').hidden = false;
  message(t('Pick or type the lot.'));
}

function chooseLot(lot, number) {
  const pending = state.pendingLot;
  state.pendingLot = null;
  $('lot-pick').hidden = true;
  if (pending) addEntry({ product: pending.product, lot, lotNumber: number, quantity: pending.quantity, scanned: pending.scanned });
  $('scan').focus();
}

let syncTimer = null;
function scheduleSync() {
  clearTimeout(syncTimer);
  syncTimer = setTimeout(() => sync(false), 1500);
}

export async function sync(withPull = true) {
  if (state.syncing || !state.api || !navigator.onLine) return;
  state.syncing = true;
  try {
    const result = await pushEntries(state.db, state.api);
    if (result.rejected) message(t('{n} entries were refused: see the count\'s entries.', { n: result.rejected }), true);
    const receipts = await pushReceipts(state.db, state.api);
    if (receipts.rejected) listMessage(t('{n} transfer receipts were refused.', { n: receipts.rejected }), true);
    if (receipts.accepted || receipts.rejected) await loadTransfers();
    if (withPull) {
      await pull(state.db, state.api);
      await loadLocal();
    }
  } catch (error) {
    if (error instanceof ApiError && error.revoked) {
      message(t('This phone is not enrolled any more.'), true);
      listMessage(t('This phone is not enrolled any more.'), true);
    }
  } finally {
    state.syncing = false;
    await refreshPending();
  }
}

async function enroll() {
  const database = $('database').value.trim();
  const code = $('code').value.trim();
  $('enroll-error').textContent = '';
  try {
    const api = makeApi({ database });
    const answer = await api.enroll(code, $('device-name').value.trim() || t('Counting phone'));
    if (answer.kind !== 'counter') throw new Error(t('This code is not a counting phone\'s.'));
    await setSetting(state.db, 'enrollment', { database, deviceKey: answer.device_key, device: answer.device, branch: answer.branch });
    state.api = makeApi({ database, deviceKey: answer.device_key });
    await pull(state.db, state.api);
    await loadLocal();
    show('counts');
  } catch (error) {
    $('enroll-error').textContent = error.message || String(error);
  }
}

async function start() {
  setLanguage(navigator.language);
  translatePage();
  state.db = openDb();
  const enrollment = await getSetting(state.db, 'enrollment');
  $('database').value = new URLSearchParams(location.search).get('db') || new URLSearchParams(location.search).get('database') || enrollment?.database || '';
  setOnline();
  window.addEventListener('online', () => { setOnline(); sync(true); });
  window.addEventListener('offline', setOnline);
  $('enroll-go').addEventListener('click', enroll);
  $('sync').addEventListener('click', () => sync(true));
  $('back').addEventListener('click', () => show('counts'));
  $('scan-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const raw = $('scan').value;
    $('scan').value = '';
    onScan(raw);
    $('scan').focus();
  });
  $('lot-go').addEventListener('click', () => {
    const number = $('lot-number').value.trim();
    if (!number || !state.pendingLot) return;
    chooseLot(state.catalog.lotOf(state.pendingLot.product.id, number), number);
  });
  $('lot-cancel').addEventListener('click', () => { state.pendingLot = null; $('lot-pick').hidden = true; $('scan').focus(); });
  const transfers = setupTransfers({ state, show, message: listMessage, refreshPending, scheduleSync });
  if ('serviceWorker' in navigator && import.meta.env.PROD) navigator.serviceWorker.register('./sw.js').catch(() => {});
  if (!enrollment) {
    show('enroll');
  } else {
    state.api = makeApi({ database: enrollment.database, deviceKey: enrollment.deviceKey });
    await loadLocal();
    show('counts');
    sync(true);
  }
  await refreshPending();
  setInterval(() => sync(false), 30000);
  window.countPage = { state, onScan, sync, openCount, Catalog, transfers };
}

start();
