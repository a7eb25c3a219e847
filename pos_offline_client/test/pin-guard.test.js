// The guard against PIN guessing at the till (services/pin.js): a delay
// that grows after each wrong PIN, a lockout after the chain's count that
// only a manager lifts, kept across a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb } from './helpers.js';
import { metaStore } from '../src/db/schema.js';
import { PIN_POLICY_DEFAULTS, PinGuard, delayAfter, pinPolicy } from '../src/services/pin.js';

function clock(start = 1_000_000) {
  const c = { now: start };
  c.fn = () => c.now;
  return c;
}

test('the delay after wrong PINs doubles and is capped', () => {
  const p = { ...PIN_POLICY_DEFAULTS, baseDelay: 1000, maxDelay: 8000 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((n) => delayAfter(n, p)), [0, 1000, 2000, 4000, 8000, 8000, 8000]);
});

test('the policy comes from the settings record, with defaults that fit 4-digit PINs', () => {
  assert.deepEqual(pinPolicy(null), PIN_POLICY_DEFAULTS);
  assert.equal(pinPolicy(null).length, 4);
  assert.equal(pinPolicy({ pin_length: 6, pin_max_attempts: 3 }).length, 6);
  assert.equal(pinPolicy({ pin_length: 6, pin_max_attempts: 3 }).maxAttempts, 3);
  // nonsense from the wire keeps the defaults
  assert.equal(pinPolicy({ pin_length: 2, pin_max_attempts: 0 }).maxAttempts, 5);
  assert.equal(pinPolicy({ pin_length: '6', pin_max_attempts: 1.5 }).length, 4);
});

test('a wrong PIN makes the next try wait, a right one after the wait clears it', async () => {
  const db = await freshDb();
  const c = clock();
  const guard = new PinGuard({ store: metaStore(db, 'pinGuard'), now: c.fn });
  assert.equal((await guard.check(7)).ok, true);
  const r = await guard.failed(7);
  assert.deepEqual(r, { failures: 1, locked: false, justLocked: false, waitMs: 1000 });
  const early = await guard.check(7);
  assert.equal(early.ok, false);
  assert.equal(early.waitMs, 1000);
  c.now += 400;
  assert.equal((await guard.check(7)).waitMs, 600);
  // another employee is not delayed
  assert.equal((await guard.check(8)).ok, true);
  c.now += 600;
  assert.equal((await guard.check(7)).ok, true);
  assert.equal((await guard.failed(7)).waitMs, 2000);
  c.now += 2000;
  await guard.succeeded(7);
  const after = await guard.check(7);
  assert.equal(after.ok, true);
  assert.equal(after.failures, 0);
});

test('the configured count of wrong PINs locks the employee until a manager unlocks', async () => {
  const db = await freshDb();
  const c = clock();
  const policy = pinPolicy({ pin_max_attempts: 3 });
  const guard = new PinGuard({ store: metaStore(db, 'pinGuard'), now: c.fn, policy: () => policy });
  const results = [];
  for (let i = 0; i < 3; i += 1) {
    c.now += 60_000;
    results.push(await guard.failed(7));
  }
  assert.deepEqual(results.map((r) => [r.failures, r.locked, r.justLocked]), [[1, false, false], [2, false, false], [3, true, true]]);
  c.now += 3_600_000;
  const check = await guard.check(7);
  assert.deepEqual(check, { ok: false, locked: true, failures: 3 });
  // more wrong tries keep it locked and do not report a new lockout
  const again = await guard.failed(7);
  assert.equal(again.locked, true);
  assert.equal(again.justLocked, false);
  // a reload: a new guard over the same database knows
  const reloaded = new PinGuard({ store: metaStore(db, 'pinGuard'), now: c.fn, policy: () => policy });
  assert.equal((await reloaded.check(7)).locked, true);
  // a right PIN does not lift it (the till never checks it: see check)
  assert.equal(await reloaded.unlock(7), 4);
  assert.deepEqual(await reloaded.check(7), { ok: true, failures: 0 });
});
