// Boot: open the database, enroll or unlock the vault, load the catalog into
// memory, start the device's single sync engine and show the till.
import './ui/styles.css';
import { openDatabase, emptyCounters } from './db/schema.js';
import { setLanguage, t } from './lib/i18n.js';
import { Catalog } from './services/catalog.js';
import { DEFAULT_VARIABLE_RULES, parseBarcode } from './services/barcode.js';
import { DEFAULT_PROXY, HardwareProxy } from './services/hardware.js';
import { Register } from './services/register.js';
import { WedgeReader } from './services/scanner.js';
import { createVault, openVault } from './services/vault.js';
import { ApiError, SyncApi, parseEnrollmentPayload, receiptFromWire } from './sync/api.js';
import { figuresFromWire } from './sync/wire.js';
import { SyncEngine } from './sync/engine.js';
import { bootstrap, bootstrapState, loadCatalog } from './sync/pull.js';
import { PosUI } from './ui/app.js';
import { IdleLock, lockMinutes } from './ui/idle-lock.js';

// Records per bootstrap page: the server's largest. Measured with 100,000
// variants (docs/benchmarks.md): the server alone serves the catalog in
// 8.1 s in pages of 20,000 against 14.6 s in pages of 2,000; the till
// writes one IndexedDB record per page either way.
const BOOTSTRAP_PAGE = 20000;

export const APP_VERSION = import.meta.env?.VITE_APP_VERSION || '0.1.0';

class Metrics {
  constructor() {
    this.scans = [];
    this.searches = [];
    this.readyAt = null;
  }

  scan(ms) {
    this.scans.push(ms);
  }

  search(ms) {
    this.searches.push(ms);
  }
}

class App {
  constructor() {
    this.db = openDatabase();
    this.catalog = new Catalog();
    this.metrics = new Metrics();
    this.status = { online: null, pending: 0, lastSyncAt: Number(localStorage.getItem('pos-last-sync')) || null, quarantined: 0, persisted: false, revoked: false };
    this.settings = { proxy: DEFAULT_PROXY, variableRules: DEFAULT_VARIABLE_RULES, browserPrint: true };
    this.channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('retail-pos') : null;
    this.device = null;
    this.vault = null;
    this.engine = null;
  }

  async start() {
    setLanguage(navigator.language);
    registerServiceWorker();
    await this.db.open();
    const stored = await this.db.meta.get('settings');
    if (stored) Object.assign(this.settings, stored.value);
    this.hardware = new HardwareProxy(this.settings.proxy);
    this.ui = null;
    this.status.persisted = await persistStorage();
    this.device = (await this.db.meta.get('device')) || null;
    this.reader = new WedgeReader({ target: window, onScan: (code) => this.onScan(code), recognise: (code) => this.knownCode(code) });
    this.reader.start();
    this.hardware.onScan((code) => this.onScan(code));
    this.channel?.addEventListener('message', (e) => this.onMessage(e.data));
    if (!this.device) {
      this.makeUi();
      const params = new URLSearchParams(location.search);
      this.ui.showEnroll({ database: params.get('db') || (await this.db.meta.get('lastDatabase'))?.value || '' });
      return;
    }
    await this.open();
  }

  // Settings of this till (hardware proxy, ...), kept in IndexedDB.
  async saveSettings(changes) {
    Object.assign(this.settings, changes);
    const stored = (await this.db.meta.get('settings'))?.value || {};
    await this.db.meta.put({ key: 'settings', value: { ...stored, ...changes } });
    if (changes.proxy) this.hardware.configure(this.settings.proxy);
  }

  makeUi() {
    this.register = new Register({ db: this.db, vault: this.vault, catalog: this.catalog, device: this.device || {} });
    if (this.ui) document.removeEventListener('keydown', this.ui.onKey);
    this.ui = new PosUI(this);
  }

  api() {
    return new SyncApi({ serverUrl: this.device.serverUrl, database: this.device.database, deviceKey: this.device.deviceKey, appVersion: APP_VERSION });
  }

  async enroll({ text, database, deviceName }) {
    const parsed = parseEnrollmentPayload(text);
    if (!parsed) throw new Error(t('Type the enrollment code'));
    const db = parsed.database || database;
    if (!db) throw new Error(t('Type the database name'));
    const serverUrl = parsed.url || location.origin;
    const api = new SyncApi({ serverUrl, database: db, appVersion: APP_VERSION });
    const r = await api.enroll(parsed.code, deviceName || 'POS');
    const vault = await createVault(r.device_key);
    const device = {
      key: 'device', serverUrl, database: r.database || db, deviceKey: r.device_key, terminal: r.terminal,
      branch: r.branch, enrolledAt: Date.now(), vault,
    };
    const counters = emptyCounters();
    // A terminal enrolled again continues its numbering (see PROTOCOL-NEEDS.md).
    if (Number.isInteger(r.last_receipt_number)) counters.receipt = r.last_receipt_number;
    if (Number.isInteger(r.last_sequence)) counters.operation = r.last_sequence;
    await this.db.transaction('rw', this.db.meta, async () => {
      const existing = await this.db.meta.get('counters');
      await this.db.meta.put(device);
      await this.db.meta.put({ key: 'lastDatabase', value: device.database });
      if (!existing || existing.receipt < counters.receipt) await this.db.meta.put(existing ? { ...existing, receipt: Math.max(existing.receipt, counters.receipt), operation: Math.max(existing.operation, counters.operation) } : counters);
    });
    this.device = device;
    await this.open();
  }

  async open() {
    this.vault = await openVault(this.device.vault, this.device.deviceKey);
    this.makeUi();
    const state = await bootstrapState(this.db);
    if (!state?.done) {
      this.ui.showBootstrap();
      for (let attempt = 0; ; attempt += 1) {
        try {
          await bootstrap({ api: this.api(), db: this.db, vault: this.vault, catalog: this.catalog, limit: this.settings.bootstrapLimit || BOOTSTRAP_PAGE, onProgress: (p) => this.ui.bootstrapProgress(p) });
          break;
        } catch (error) {
          const text = document.getElementById('boot-text');
          if (text) text.textContent = t('Interrupted ({reason}); resuming…', { reason: error.message });
          await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** attempt)));
        }
      }
    } else {
      await loadCatalog({ db: this.db, vault: this.vault, catalog: this.catalog });
    }
    this.metrics.readyAt = performance.now();
    this.startEngine();
    await this.refreshStatus();
    // A reload (or a new tab) never keeps a cashier logged in: the till
    // opens locked by who was selling, and their PIN opens it again.
    const remembered = Number(sessionStorage.getItem('pos-employee'));
    const employee = remembered ? this.catalog.get('employee', remembered) : null;
    this.ui.showLogin(employee || null);
    this.startIdleLock();
    this.metrics.interactiveAt = performance.now();
    setInterval(() => this.refreshStatus(), 5000);
  }

  // Lock the till after the branch's idle time (ui/idle-lock.js).
  startIdleLock() {
    this.idle?.stop();
    this.idleMinutes = lockMinutes(this.catalog.get('branch', this.device.branch?.id));
    this.idle = new IdleLock({
      target: window, minutes: this.idleMinutes,
      active: () => Boolean(this.ui?.employee),
      onIdle: () => this.ui.lock(),
    });
    this.idle.start();
  }

  startEngine() {
    this.engine = new SyncEngine({
      db: this.db, vault: this.vault, api: this.api(), catalog: this.catalog, terminal: this.device.terminal.id,
      backoff: { base: 1000, cap: 30000 },
      onState: (s) => {
        if (s.lastSyncAt) localStorage.setItem('pos-last-sync', String(s.lastSyncAt));
        this.status = { ...this.status, ...pick(s), lastSyncAt: s.lastSyncAt || this.status.lastSyncAt };
        this.channel?.postMessage({ type: 'state', state: pick(s) });
        this.renderStatus();
      },
      onAcknowledged: (acked) => {
        this.keepServerFigures(acked);
        this.refreshStatus();
        this.channel?.postMessage({ type: 'outbox' });
      },
      onChanges: () => this.channel?.postMessage({ type: 'catalog' }),
    });
    this.engine.start();
  }

  onMessage(msg) {
    if (!msg) return;
    if (msg.type === 'state' && !this.engine?.state.leader) {
      this.status = { ...this.status, ...msg.state };
      this.refreshStatus();
    } else if (msg.type === 'kick' && this.engine?.state.leader) {
      this.engine.kick();
    } else if (msg.type === 'outbox') {
      this.refreshStatus();
    } else if (msg.type === 'catalog' && this.vault) {
      loadCatalog({ db: this.db, vault: this.vault, catalog: this.catalog });
    }
  }

  forceSync() {
    if (this.engine?.state.leader) this.engine.kick();
    else this.channel?.postMessage({ type: 'kick' });
  }

  kickSoon() {
    clearTimeout(this.kickTimer);
    this.kickTimer = setTimeout(() => this.forceSync(), 300);
  }

  async refreshStatus() {
    if (!this.device) return;
    if (this.idle) {
      // the branch's setting, as last pulled
      const minutes = lockMinutes(this.catalog.get('branch', this.device.branch?.id));
      if (minutes !== this.idleMinutes) {
        this.idleMinutes = minutes;
        this.idle.configure(minutes);
      }
    }
    this.status.pending = await this.db.outbox.count();
    this.status.quarantined = await this.db.quarantine.filter((q) => !q.seen).count();
    this.renderStatus();
  }

  renderStatus() {
    this.ui?.renderStatus(this.status);
  }

  async acknowledgeQuarantine() {
    await this.db.quarantine.toCollection().modify({ seen: true });
    await this.refreshStatus();
  }

  // A session_close result carries the server's Z figures (protocol 1.2).
  async keepServerFigures(acked) {
    for (const r of acked || []) {
      const figures = r.type === 'session_close' && r.status !== 'rejected' ? figuresFromWire(r.result?.figures, this.register.currency().digits) : null;
      if (figures?.uuid) await this.register.saveServerFigures(figures.uuid, figures);
    }
  }

  // The server's X/Z figures of a session of this till, once the server
  // has everything the till recorded: {state: 'pending'} while operations
  // wait in the outbox or the server does not answer, {state: 'ok',
  // figures}, or {state: 'unavailable', reason} (a session opened before
  // protocol 1.2, or a server that does not report figures).
  async serverFigures(id) {
    const session = await this.register.sessionByUuid(id);
    if (!session) return { state: 'unavailable', reason: 'unknown' };
    if (!session.wire) return { state: 'unavailable', reason: 'session' };
    // a closed session's Z figures are final (an X fetched while it was
    // open is not)
    if (session.state === 'closed' && session.server && session.server.state !== 'open') return { state: 'ok', figures: session.server };
    if (await this.db.outbox.count()) return { state: 'pending' };
    if (this.status.online === false) return { state: 'pending' };
    try {
      const figures = figuresFromWire(await this.api().session(id), this.register.currency().digits);
      if (!figures) return { state: 'unavailable', reason: 'server' };
      await this.register.saveServerFigures(id, figures);
      return { state: 'ok', figures };
    } catch (error) {
      if (error instanceof ApiError && !error.retryable) return { state: 'unavailable', reason: error.code || String(error.status) };
      return { state: 'pending' };
    }
  }

  // The server's answer for a receipt (protocol 1.1 {receipt, returns}),
  // null when it has none or does not answer.
  // remoteLookupFailed: the last lookup had no answer (offline, timeout,
  // server error), as opposed to a server that does not know the number.
  async remoteReceipt(number) {
    this.remoteLookupFailed = false;
    try {
      return await this.api().lookupReceipt(number);
    } catch {
      this.remoteLookupFailed = true;
      return null;
    }
  }

  async lookupRemoteReceipt(number, { localReturns } = {}) {
    const r = await this.remoteReceipt(number);
    return r?.order ? r : receiptFromWire(r, this.catalog, { localReturns });
  }

  // A code the till would sell or find (a product of the catalog, a
  // receipt number): the scanner's reader uses it to put back together a
  // burst a stall cut in two.
  knownCode(code) {
    const parsed = parseBarcode(code, { rules: this.settings.variableRules });
    if (parsed.type === 'invalid') return false;
    if (parsed.type === 'receipt') return true;
    if (parsed.type === 'text') return Boolean(this.catalog.byCode(code) || this.catalog.lookup([code]));
    return Boolean(parsed.keys?.length && this.catalog.lookup(parsed.key ? [parsed.key, ...parsed.keys] : parsed.keys));
  }

  onScan(code) {
    this.idle?.touch();
    const t0 = performance.now();
    const ui = this.ui;
    if (!ui) return;
    Promise.resolve(ui.handleCode(code)).then(() => {
      this.metrics.scan(performance.now() - t0);
      requestAnimationFrame(() => {
        this.metrics.lastFrame = performance.now() - t0;
      });
    });
  }
}

function pick(s) {
  return { online: s.online, lastSyncAt: s.lastSyncAt, lastError: s.lastError, revoked: s.revoked, leader: s.leader };
}

async function persistStorage() {
  try {
    if (!navigator.storage?.persist) return false;
    if (await navigator.storage.persisted()) return true;
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || import.meta.env?.DEV) return;
  navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL }).catch(() => {});
}

const app = new App();
window.pos = app;
app.start().catch((error) => {
  document.getElementById('screen').textContent = `${t('The POS could not start')}: ${error.message}`;
  console.error(error);
});

