import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WedgeReader } from '../src/services/scanner.js';

function setup(opts = {}) {
  let clock = 0;
  const scans = [];
  const input = { value: '', setRangeText(text) { this.value += text; }, dispatchEvent() {} };
  const reader = new WedgeReader({ target: { addEventListener() {} }, onScan: (c) => scans.push(c), now: () => clock, ...opts });
  const key = (k, dt) => {
    clock += dt;
    const e = {
      key: k, target: input, defaultPrevented: false,
      preventDefault() { this.defaultPrevented = true; }, stopImmediatePropagation() {},
    };
    reader.onKey(e);
    if (!e.defaultPrevented && k.length === 1) input.value += k;
    return e;
  };
  return { key, scans, input, reader };
}

test('a fast burst ending in Enter is a scan, wherever focus is', () => {
  const { key, scans, input } = setup();
  key('5', 500);
  for (const ch of '412345678908') key(ch, 5);
  const enter = key('Enter', 5);
  assert.deepEqual(scans, ['5412345678908']);
  assert.equal(enter.defaultPrevented, true);
  assert.equal(input.value, '', 'the first key is taken back out of the field');
});

test('a person typing slowly is not a scanner', () => {
  const { key, scans, input, reader } = setup();
  for (const ch of 'milk') key(ch, 150);
  key('Enter', 150);
  reader.flush();
  assert.deepEqual(scans, []);
  assert.equal(input.value, 'milk');
});

test('a fast burst without Enter gives the keys back to the field', () => {
  const { key, scans, input, reader } = setup();
  for (const ch of 'abc') key(ch, 5);
  reader.flush();
  assert.deepEqual(scans, []);
  assert.equal(input.value, 'abc');
});
