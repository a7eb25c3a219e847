// The sync engine: one per device across tabs (Web Locks), pushing the outbox
// in sequence order with exponential backoff and full jitter, then pulling
// changes. Connectivity is decided by pinging the server, never by
// navigator.onLine.
import { acknowledgeMoves, loadLocalStock, settleStock } from '../db/stock.js';
import { ApiError } from './api.js';
import { getCursor, pullChanges } from './pull.js';

export const LOCK_NAME = 'retail-pos-sync-engine';

// Full-jitter exponential backoff: a random delay in [base/2, min(cap, base*2^n)].
export function backoffDelay(attempt, { base = 1000, cap = 60000, random = Math.random } = {}) {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 20));
  const floor = Math.min(base / 2, ceiling);
  return Math.round(floor + random() * (ceiling - floor));
}

export class SyncEngine {
  constructor({
    db, vault, api, catalog, terminal, locks = globalThis.navigator?.locks, batchSize = 100,
    pingInterval = 5000, pullInterval = 15000, backoff = {}, onState = () => {}, onChanges = () => {},
    onAcknowledged = () => {}, now = () => Date.now(), random = Math.random,
  }) {
    Object.assign(this, {
      db, vault, api, catalog, terminal, locks, batchSize, pingInterval, pullInterval,
      backoff, onState, onChanges, onAcknowledged, now, random,
    });
    this.state = {
      leader: false, online: null, lastSyncAt: null, lastPullAt: null, lastError: null,
      revoked: false, attempt: 0, nextRetryAt: null, syncing: false,
    };
    this.stopped = false;
    this.wake = null;
    this.forced = false;
  }

  setState(patch) {
    this.state = { ...this.state, ...patch };
    this.onState(this.state);
  }

  // Run forever as the device's only engine. Resolves when stopped.
  start() {
    if (this.running) return this.running;
    const run = async () => {
      this.setState({ leader: true });
      try {
        await this.loop();
      } finally {
        this.setState({ leader: false });
      }
    };
    this.running = this.locks
      ? this.locks.request(LOCK_NAME, { mode: 'exclusive' }, run)
      : run();
    return this.running;
  }

  stop() {
    this.stopped = true;
    this.kick();
  }

  // Force sync: wake up now and forget the backoff.
  kick() {
    this.forced = true;
    if (this.wake) this.wake();
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = null;
    });
  }

  async loop() {
    while (!this.stopped) {
      const forced = this.forced;
      this.forced = false;
      let delay = this.pingInterval;
      try {
        await this.cycle({ forced });
        this.setState({ attempt: 0, nextRetryAt: null });
      } catch (error) {
        const attempt = this.state.attempt + 1;
        delay = backoffDelay(attempt - 1, { ...this.backoff, random: this.random });
        this.setState({
          attempt, lastError: describe(error), nextRetryAt: this.now() + delay,
          online: isOffline(error) ? false : this.state.online,
          revoked: error instanceof ApiError && error.revoked ? true : this.state.revoked,
        });
      }
      if (this.stopped || this.forced) continue;
      await this.sleep(delay);
    }
  }

  // One round: ping, push everything, pull when due.
  async cycle({ forced = false } = {}) {
    const pending = await this.db.outbox.count();
    const cursor = await getCursor(this.db);
    await this.api.status({ pendingOperations: pending, cursor });
    this.setState({ online: true, revoked: false });
    this.setState({ syncing: true });
    try {
      const pushed = await this.pushAll();
      const due = forced || pushed > 0 || !this.state.lastPullAt || this.now() - this.state.lastPullAt >= this.pullInterval;
      if (due && cursor) {
        const started = this.now();
        const applied = await pullChanges({ api: this.api, db: this.db, vault: this.vault, catalog: this.catalog });
        this.setState({ lastPullAt: this.now() });
        // The stock figures pulled include the operations acknowledged
        // before the pull started: their local moves are dropped
        const settled = await settleStock(this.db, started);
        if (settled) await loadLocalStock(this.db, this.catalog);
        if (applied || settled) this.onChanges(applied);
      }
      this.setState({ lastSyncAt: this.now(), lastError: null });
    } finally {
      this.setState({ syncing: false });
    }
  }

  // Push until the outbox is empty. Throws on a failed request, so the loop
  // backs off. Returns the number of acknowledged operations.
  async pushAll() {
    let total = 0;
    for (;;) {
      const n = await this.pushBatch();
      if (n === 0) return total;
      total += n;
    }
  }

  async pushBatch() {
    const { db, vault } = this;
    const entries = await db.outbox.orderBy('seq').limit(this.batchSize).toArray();
    if (!entries.length) return 0;
    const operations = await Promise.all(entries.map((e) => vault.decrypt(e.enc)));
    const pending = await db.outbox.count();
    let response;
    try {
      response = await this.api.push({
        terminal: this.terminal, pendingOperations: pending, cursor: await getCursor(db), operations,
      });
    } catch (error) {
      await db.outbox.where('seq').anyOf(entries.map((e) => e.seq)).modify((e) => {
        e.attempts = (e.attempts || 0) + 1;
        e.lastError = describe(error);
      });
      throw error;
    }
    const byUuid = new Map(entries.map((e) => [e.uuid, e]));
    // A rejection's reason names people (the manager who approved...): it
    // is stored encrypted, made before the transaction (WebCrypto would let
    // it commit early).
    const reasons = new Map();
    for (const r of response.results || []) {
      if (byUuid.has(r.uuid) && (r.status === 'rejected' || (r.status === 'duplicate' && r.first_status === 'rejected'))) {
        reasons.set(r.uuid, await vault.encrypt(r.reason || { code: 'error', message: '' }));
      }
    }
    const acked = [];
    const ackedAt = this.now();
    await db.transaction('rw', db.outbox, db.quarantine, db.sales, db.stock, async () => {
      for (const r of response.results || []) {
        const entry = byUuid.get(r.uuid);
        if (!entry) continue;
        const rejected = r.status === 'rejected' || (r.status === 'duplicate' && r.first_status === 'rejected');
        if (r.status !== 'accepted' && r.status !== 'duplicate' && r.status !== 'rejected') continue;
        await db.outbox.delete(entry.seq);
        if (rejected) {
          await db.quarantine.put({
            uuid: entry.uuid, seq: entry.seq, type: entry.type, at: this.now(),
            reasonEnc: reasons.get(r.uuid), enc: entry.enc, seen: false,
          });
        }
        await db.sales.update(entry.uuid, {
          synced: true, rejected, serverId: r.result?.sale ?? null, flags: r.result?.flags ?? [],
        });
        acked.push({ ...r, type: entry.type });
        byUuid.delete(r.uuid);
      }
      await acknowledgeMoves(db, acked.map((r) => r.uuid), ackedAt);
    });
    if (acked.length) this.onAcknowledged(acked);
    if (!acked.length) throw new Error('The server acknowledged none of the operations pushed');
    return acked.length;
  }
}

function isOffline(error) {
  return error?.name === 'NetworkError';
}

function describe(error) {
  if (!error) return null;
  if (error instanceof ApiError) return `${error.status} ${error.code || ''} ${error.message}`.trim();
  return String(error.message || error);
}
