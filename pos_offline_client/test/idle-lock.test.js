import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOCK_MINUTES, IdleLock, lockMinutes } from '../src/ui/idle-lock.js';

test('the idle time is the branch setting, 5 minutes when it has none, 0 never', () => {
  assert.equal(lockMinutes({ lock_after_minutes: 2 }), 2);
  assert.equal(lockMinutes({ lock_after_minutes: 0 }), 0);
  assert.equal(lockMinutes({}), DEFAULT_LOCK_MINUTES);
  assert.equal(lockMinutes(null), 5);
  assert.equal(lockMinutes({ lock_after_minutes: -3 }), 5);
});

test('the till locks after the idle time, activity starts it again', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const target = new EventTarget();
    let locked = 0;
    const lock = new IdleLock({ target, minutes: 2, active: () => true, onIdle: () => { locked += 1; } });
    lock.start();
    mock.timers.tick(119_000);
    target.dispatchEvent(new Event('keydown'));
    mock.timers.tick(119_000);
    assert.equal(locked, 0);
    mock.timers.tick(2_000);
    assert.equal(locked, 1);
    lock.configure(0);
    mock.timers.tick(600_000);
    assert.equal(locked, 1);
    lock.stop();
  } finally {
    mock.timers.reset();
  }
});

test('nobody logged in: nothing to lock, the idle time starts again', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let active = false;
    let locked = 0;
    const lock = new IdleLock({ target: new EventTarget(), minutes: 1, active: () => active, onIdle: () => { locked += 1; } });
    lock.start();
    mock.timers.tick(61_000);
    assert.equal(locked, 0);
    active = true;
    mock.timers.tick(60_000);
    assert.equal(locked, 1);
    lock.stop();
  } finally {
    mock.timers.reset();
  }
});
