// PINs at the till: the offline check against the synced hash
// "pbkdf2_sha256$iter$salt$hash" (the back office's format, WebCrypto
// PBKDF2-HMAC-SHA256), and the guard against guessing: a delay that doubles
// after each wrong PIN, and a lockout after the chain's number of wrong PINs
// in a row (settings record, `pin_max_attempts`) that only a manager's PIN
// lifts. The guard's state is kept per employee in a store given by the
// caller (db/schema.js metaStore), so a reload changes nothing.
import { parsePinHash, pinBits } from './vault.js';

export { parsePinHash };

export async function verifyPin(pin, pinHash) {
  const parsed = parsePinHash(pinHash);
  if (!pin || !parsed) return false;
  const bits = await pinBits(pin, parsed.salt, parsed.iterations, parsed.hash.length);
  // Constant time comparison
  let diff = bits.length ^ parsed.hash.length;
  for (let i = 0; i < bits.length; i += 1) diff |= bits[i] ^ parsed.hash[i];
  return diff === 0;
}

export const PIN_POLICY_DEFAULTS = {
  length: 4, // the shortest PIN the back office accepts (server setting pin_length)
  maxAttempts: 5, // wrong PINs in a row before the lockout (pin_max_attempts)
  baseDelay: 1000, // ms after the first wrong PIN, doubled after each next one
  maxDelay: 60000,
};

// The policy from the chain's settings record (kind `settings`).
export function pinPolicy(settings) {
  const p = { ...PIN_POLICY_DEFAULTS };
  const length = settings?.pin_length;
  if (Number.isInteger(length) && length >= 4 && length <= 8) p.length = length;
  const max = settings?.pin_max_attempts;
  if (Number.isInteger(max) && max >= 1 && max <= 100) p.maxAttempts = max;
  return p;
}

// The wait after `failures` wrong PINs in a row: none before the first,
// then baseDelay, 2x, 4x, ... capped at maxDelay.
export function delayAfter(failures, policy = PIN_POLICY_DEFAULTS) {
  if (failures < 1) return 0;
  return Math.min(policy.maxDelay, policy.baseDelay * 2 ** Math.min(failures - 1, 30));
}

export class PinGuard {
  // store: {get() -> state|null, put(state)}; policy: () -> pinPolicy(...)
  constructor({ store, policy = () => PIN_POLICY_DEFAULTS, now = () => Date.now() }) {
    Object.assign(this, { store, policy, now });
  }

  async load() {
    return (await this.store.get()) || { employees: {} };
  }

  entry(state, id) {
    return state.employees[String(id)] || { failures: 0, lastAt: null, lockedAt: null };
  }

  // May this employee try a PIN now? {ok} | {ok: false, locked, failures}
  // | {ok: false, waitMs, failures}. Nothing is computed for a refused try.
  async check(id) {
    const e = this.entry(await this.load(), id);
    if (e.lockedAt) return { ok: false, locked: true, failures: e.failures };
    const until = (e.lastAt || 0) + delayAfter(e.failures, this.policy());
    const waitMs = until - this.now();
    if (e.failures && waitMs > 0) return { ok: false, waitMs, failures: e.failures };
    return { ok: true, failures: e.failures };
  }

  // A wrong PIN: {failures, waitMs, locked, justLocked}.
  async failed(id) {
    const state = await this.load();
    const e = this.entry(state, id);
    const policy = this.policy();
    const failures = e.failures + 1;
    const now = this.now();
    const justLocked = !e.lockedAt && failures >= policy.maxAttempts;
    state.employees[String(id)] = { failures, lastAt: now, lockedAt: e.lockedAt || (justLocked ? now : null) };
    await this.store.put(state);
    const locked = Boolean(state.employees[String(id)].lockedAt);
    return { failures, locked, justLocked, waitMs: locked ? null : delayAfter(failures, policy) };
  }

  async succeeded(id) {
    const state = await this.load();
    if (!state.employees[String(id)]) return;
    delete state.employees[String(id)];
    await this.store.put(state);
  }

  // A manager's PIN lifts a lockout (and forgets the wrong PINs).
  async unlock(id) {
    const state = await this.load();
    const e = this.entry(state, id);
    delete state.employees[String(id)];
    await this.store.put(state);
    return e.failures;
  }

  async locked(id) {
    return Boolean(this.entry(await this.load(), id).lockedAt);
  }
}
