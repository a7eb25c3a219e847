// Boot: open the database, enroll, load the clear catalog into memory and
// show the login; the first right PIN opens the vault (its key slot), loads
// the encrypted records, decrypts the device key and starts the device's
// single sync engine (docs/security.md).
import './ui/styles.css';
import { openDatabase, emptyCounters, metaStore } from './db/schema.js';
import { dropSealed, loadSlots, migrateLegacyVault, openSealedEvents, sealEvent } from './db/migrate.js';
import { setLanguage, t } from './lib/i18n.js';
import { Catalog } from './services/catalog.js';
import { DEFAULT_VARIABLE_RULES, parseBarcode } from './services/barcode.js';
import { DEFAULT_PROXY, HardwareProxy } from './services/hardware.js';
import { Register } from './services/register.js';
import { WedgeReader } from './services/scanner.js';
import { createVault, openSlot } from './services/vault.js';
import { PinGuard, pinPolicy } from './services/pin.js';
import { isoNow } from './sync/outbox.js';
import { ApiError, SyncApi, parseEnrollmentPayload } from './sync/api.js';
import { figuresFromWire } from './sync/wire.js';
import { SyncEngine } from './sync/engine.js';
import { bootstrap, bootstrapState, loadCatalog, loadSecrets } from './sync/pull.js';
import { Shell } from './ui/shell.js';
import { IdleLock, lockMinutes } from './ui/idle-lock.js';

// Every payment driver in services/payment/drivers/ registers itself for
// its method type: a new driver is one new file there.
import.meta.glob('./services/payment/drivers/*.js', { eager: true });

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
    // the start's steps: name -> ms since navigation (benchmarks)
    this.marks = {};
  }

  mark(name) {
    this.marks[name] = performance.now();
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
    this.deviceKey = null;
    this.vault = null;
    this.engine = null;
    this.slots = new Map();
    this.guard = new PinGuard({ store: metaStore(this.db, 'pinGuard'), policy: () => this.pinPolicy() });
  }

  pinPolicy() {
    return pinPolicy(this.catalog.get('settings', 1));
  }

  async start() {
    setLanguage(navigator.language);
    registerServiceWorker();
    this.metrics.mark('script');
    await this.db.open();
    this.metrics.mark('opened');
    const stored = await this.db.meta.get('settings');
    if (stored) Object.assign(this.settings, stored.value);
    this.hardware = new HardwareProxy(this.settings.proxy);
    this.ui = null;
    this.status.persisted = await persistStorage();
    this.metrics.mark('persisted');
    // Chromium grants persistent storage to an installed app: ask again as
    // soon as the till is installed, not only at its next start
    window.addEventListener('appinstalled', async () => {
      this.status.persisted = await persistStorage();
      this.renderStatus();
    });
    this.device = (await this.db.meta.get('device')) || null;
    if (this.device?.deviceKey) {
      // version 1: re-encrypt under a new data key, key slots, device key
      // encrypted (db/migrate.js); the till stays unlocked until reloaded
      const migrated = await migrateLegacyVault(this.db);
      if (migrated) {
        this.device = migrated.device;
        this.vault = migrated.vault;
      }
    }
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
    this.register.app = this;
    this.ui?.destroy();
    this.ui = new Shell(this);
  }

  api() {
    return new SyncApi({ serverUrl: this.device.serverUrl, database: this.device.database, deviceKey: this.deviceKey, appVersion: APP_VERSION });
  }

  async enroll({ text, database, deviceName }) {
    const parsed = parseEnrollmentPayload(text);
    if (!parsed) throw new Error(t('Type the enrollment code'));
    const db = parsed.database || database;
    if (!db) throw new Error(t('Type the database name'));
    const serverUrl = parsed.url || location.origin;
    const api = new SyncApi({ serverUrl, database: db, appVersion: APP_VERSION });
    const r = await api.enroll(parsed.code, deviceName || 'POS');
    // a new data key; the device key is stored only encrypted under it
    const { vault, record } = await createVault();
    const device = {
      key: 'device', serverUrl, database: r.database || db, terminal: r.terminal,
      branch: r.branch, enrolledAt: Date.now(), vaultVersion: record.version, secret: await vault.encrypt(r.device_key),
    };
    const counters = emptyCounters();
    // A terminal enrolled again continues its numbering (see PROTOCOL-NEEDS.md).
    if (Number.isInteger(r.last_receipt_number)) counters.receipt = r.last_receipt_number;
    if (Number.isInteger(r.last_sequence)) counters.operation = r.last_sequence;
    // and its receipt journal (docs/journal.md)
    if (typeof r.journal_head === 'string' && /^[0-9a-f]{64}$/.test(r.journal_head)) counters.journal = r.journal_head;
    await this.db.transaction('rw', this.db.meta, this.db.slots, this.db.sealed, async () => {
      const existing = await this.db.meta.get('counters');
      // a new data key: what an earlier key encrypted is unreadable, the
      // snapshot starts again
      await this.db.slots.clear();
      await this.db.sealed.clear();
      await this.db.meta.delete('bootstrap');
      await this.db.meta.put(record);
      await this.db.meta.put(device);
      await this.db.meta.put({ key: 'lastDatabase', value: device.database });
      if (!existing || existing.receipt < counters.receipt) await this.db.meta.put(existing ? { ...existing, receipt: Math.max(existing.receipt, counters.receipt), operation: Math.max(existing.operation, counters.operation), ...(counters.journal ? { journal: counters.journal } : {}) } : counters);
    });
    this.device = device;
    this.vault = vault;
    this.deviceKey = r.device_key;
    await this.open();
  }

  async open() {
    this.makeUi();
    const state = await bootstrapState(this.db);
    await this.refreshSlots();
    if (!this.vault && !this.slots.size) {
      // cut before the snapshot brought any employee: the data key (and the
      // device key under it) went with the page; the terminal enrolls again
      this.ui.showEnroll({ database: this.device.database, interrupted: true });
      return;
    }
    if (this.vault && !this.deviceKey) this.deviceKey = await this.vault.decrypt(this.device.secret);
    this.metrics.mark('slots');
    if (!state?.done && this.vault) await this.runBootstrap();
    else await loadCatalog({ db: this.db, vault: this.vault, catalog: this.catalog, mark: (name) => this.metrics.mark(name) });
    this.secretsLoaded = Boolean(this.vault);
    this.metrics.readyAt = performance.now();
    if (this.vault) await this.unlocked();
    await this.refreshStatus();
    // A reload (or a new tab) never keeps a cashier logged in: the till
    // opens locked (the vault too) by who was selling, and a PIN opens it.
    const remembered = Number(sessionStorage.getItem('pos-employee'));
    const employee = remembered ? this.loginEmployees().find((e) => e.id === remembered) : null;
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

  // The snapshot, resumed after a cut; needs the vault (the device key).
  async runBootstrap() {
    this.ui.showBootstrap();
    for (let attempt = 0; ; attempt += 1) {
      try {
        await bootstrap({ api: this.api(), db: this.db, vault: this.vault, catalog: this.catalog, limit: this.settings.bootstrapLimit || BOOTSTRAP_PAGE, onProgress: (p) => this.ui.bootstrapProgress(p) });
        break;
      } catch (error) {
        this.ui.bootstrapProgress({ interrupted: error.message });
        await new Promise((r) => setTimeout(r, Math.min(30000, 1000 * 2 ** attempt)));
      }
    }
    this.secretsLoaded = true;
    await this.refreshSlots();
  }

  async refreshSlots() {
    this.slots = new Map((await loadSlots(this.db)).map((s) => [s.employee, s]));
  }

  // Who may type a PIN: the employees of the catalog once unlocked, else
  // the names the key slots keep for the login screen.
  loginEmployees() {
    if (this.vault) return this.register.employees();
    return [...this.slots.values()].map((s) => ({ id: s.employee, name: s.name, manager: s.manager })).sort((a, b) => a.name.localeCompare(b.name));
  }

  managers(exceptId = null) {
    const list = this.vault
      ? this.register.employees().filter((e) => this.register.can(e, 'allow_manager_override'))
      : this.loginEmployees().filter((e) => e.manager);
    return list.filter((e) => e.id !== exceptId);
  }

  // The data key is in memory: load the encrypted records, decrypt the
  // device key, record what was sealed while locked, sync.
  async unlocked() {
    this.register.vault = this.vault;
    if (!this.deviceKey) this.deviceKey = await this.vault.decrypt(this.device.secret);
    const state = await bootstrapState(this.db);
    if (!state?.done) await this.runBootstrap();
    else if (!this.secretsLoaded) await loadSecrets({ db: this.db, vault: this.vault, catalog: this.catalog });
    this.secretsLoaded = true;
    const events = await openSealedEvents(this.db, this.vault);
    for (const { value } of events) {
      if (value?.payload) await this.commitAudit(value.payload, value.employee, value.at);
    }
    await dropSealed(this.db, events.map((e) => e.id));
    if (!this.engine) this.startEngine();
  }

  // One try of a PIN, through the guard (growing delay, lockout):
  //   {ok: true, employee} | {ok: false, locked, failures}
  //   | {ok: false, waitMs, failures} (refused: too early, nothing checked)
  //   | {ok: false, wrong: true, failures, waitMs, locked} (a wrong PIN).
  // A right PIN of a locked till opens the vault. Every wrong PIN and
  // every lockout is an `audit` operation (sealed until unlocked).
  async tryPin(employeeId, pin, purpose = 'login') {
    const check = await this.guard.check(employeeId);
    if (!check.ok) return check;
    let employee = null;
    const slot = this.slots.get(employeeId);
    if (slot) {
      const vault = await openSlot(slot, pin);
      if (vault && !this.vault) {
        this.vault = vault;
        await this.unlocked();
      }
      if (vault) employee = this.catalog.get('employee', employeeId);
    } else if (this.vault) {
      employee = await this.register.checkPin(employeeId, pin);
    }
    if (employee) {
      await this.guard.succeeded(employeeId);
      return { ok: true, employee };
    }
    const r = await this.guard.failed(employeeId);
    const policy = this.pinPolicy();
    await this.pinEvent({ action: 'pin_failed', manager: null, cashier: employeeId, receipt: null, detail: { purpose, failures: r.failures, max_attempts: policy.maxAttempts } });
    if (r.justLocked) await this.pinEvent({ action: 'pin_locked', manager: null, cashier: employeeId, receipt: null, detail: { purpose, failures: r.failures } });
    return { ok: false, wrong: true, ...r };
  }

  // A manager (already checked by tryPin) lifts an employee's lockout.
  async unlockEmployee(employeeId, manager) {
    if (!this.register.can(manager, 'allow_manager_override')) return false;
    const failures = await this.guard.unlock(employeeId);
    await this.pinEvent({ action: 'pin_unlocked', manager: manager.id, cashier: employeeId, receipt: null, detail: { failures } });
    return true;
  }

  async pinEvent(payload) {
    const at = Date.now();
    const employee = this.ui?.employee?.id ?? payload.cashier;
    if (this.vault) await this.commitAudit(payload, employee, at);
    else await sealEvent(this.db, { payload, employee, at, clientTime: isoNow(new Date(at)) });
    this.kickSoon();
  }

  async commitAudit(payload, employee, at) {
    await this.register.commit({
      type: 'audit', employee, now: () => new Date(at || Date.now()),
      build: () => ({ payload }),
    });
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
      onChanges: () => {
        this.refreshSlots();
        this.channel?.postMessage({ type: 'catalog' });
      },
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
    } else if (msg.type === 'catalog') {
      loadCatalog({ db: this.db, vault: this.vault, catalog: this.catalog });
      this.refreshSlots();
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
    this.ui?.refresh();
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

