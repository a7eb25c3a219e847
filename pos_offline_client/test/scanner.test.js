import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WedgeReader } from '../src/services/scanner.js';

// A simulated keyboard: key(k, dt) types k dt ms after the previous key
// into the focused input (unless the reader held it back). stamp: the
// events carry their own time stamp (what Chromium does) while the handler
// runs `late` ms after it (a busy page).
function setup(opts = {}) {
  let clock = 0;
  const scans = [];
  const field = () => ({ value: '', setRangeText(text) { this.value += text; }, dispatchEvent() {} });
  const input = field();
  const other = field();
  let focus = input;
  const reader = new WedgeReader({ target: { addEventListener() {} }, onScan: (c) => scans.push(c), now: () => clock, ...opts });
  const key = (k, dt, { stamp = false, late = 0 } = {}) => {
    clock += dt;
    const e = {
      key: k, target: focus, defaultPrevented: false,
      preventDefault() { this.defaultPrevented = true; }, stopImmediatePropagation() {},
    };
    if (stamp) {
      e.timeStamp = clock;
      clock += late;
    }
    reader.onKey(e);
    if (!e.defaultPrevented && k.length === 1) focus.value += k;
    return e;
  };
  const type = (text, dt, options) => [...text].map((ch) => key(ch, dt, options));
  return { key, type, scans, input, other, reader, focusOn: (el) => { focus = el; } };
}

test('a fast burst ending in Enter is a scan, wherever focus is', () => {
  const { key, type, scans, input } = setup();
  key('5', 500);
  type('412345678908', 5);
  const enter = key('Enter', 5);
  assert.deepEqual(scans, ['5412345678908']);
  assert.equal(enter.defaultPrevented, true);
  assert.equal(input.value, '', 'the first key is taken back out of the field');
});

test('a person typing slowly is not a scanner', () => {
  const { key, type, scans, input, reader } = setup();
  type('milk', 150);
  const enter = key('Enter', 150);
  reader.flush();
  assert.deepEqual(scans, []);
  assert.equal(enter.defaultPrevented, false);
  assert.equal(input.value, 'milk');
});

test('a person typing a barcode by hand is not a scanner either', () => {
  const { key, type, scans, input } = setup();
  type('5412345678908', 110);
  const enter = key('Enter', 120);
  assert.deepEqual(scans, []);
  assert.equal(enter.defaultPrevented, false, 'the field\'s own Enter looks it up');
  assert.equal(input.value, '5412345678908');
});

test('a fast burst without Enter gives the keys back to the field', () => {
  const { type, scans, input, reader } = setup();
  type('abc', 5);
  reader.flush();
  assert.deepEqual(scans, []);
  assert.equal(input.value, 'abc');
});

test('a stall in the middle of a burst does not split the scan', () => {
  const { key, type, scans, input } = setup();
  type('54123', 5);
  key('4', 120); // the machine was busy for 120 ms
  type('5678908', 5);
  key('Enter', 5);
  assert.deepEqual(scans, ['5412345678908']);
  assert.equal(input.value, '');
});

test('a stall after the first two keys: the keys left in the field are joined', () => {
  const { key, type, scans, input } = setup();
  input.value = 'x'; // typed a while ago, stays
  key('E', 2000);
  key('S', 4);
  key('P', 90);
  type('250-B', 4);
  key('Enter', 4);
  assert.deepEqual(scans, ['ESP250-B']);
  assert.equal(input.value, 'x');
});

test('a stall after the very first key: a valid barcode is joined, its tail alone is not', () => {
  const { key, type, scans, input } = setup();
  key('5', 1000);
  key('4', 70);
  type('12345678908', 5);
  key('Enter', 5);
  assert.deepEqual(scans, ['5412345678908']);
  assert.equal(input.value, '');
});

test('a stall after the first key of a code the till knows (recognise)', () => {
  const known = new Set(['BXL1-000123', 'SKU000004']);
  const { key, type, scans, input } = setup({ recognise: (c) => known.has(c) });
  key('S', 1000);
  key('K', 60);
  type('U000004', 5);
  key('Enter', 5);
  assert.deepEqual(scans, ['SKU000004']);
  assert.equal(input.value, '');
});

test('two stalls, one right before Enter', () => {
  const { key, type, scans, input } = setup();
  type('54', 5);
  key('1', 80);
  type('2345', 5);
  key('6', 150);
  type('78908', 5);
  key('Enter', 200);
  assert.deepEqual(scans, ['5412345678908']);
  assert.equal(input.value, '');
});

test('a busy page: keys handled late but stamped at scanner speed are one burst', () => {
  const { key, type, scans, input } = setup();
  type('541234', 5, { stamp: true });
  key('5', 5, { stamp: true, late: 200 }); // the page handles the next keys 200 ms late
  type('678908', 5, { stamp: true });
  key('Enter', 5, { stamp: true });
  assert.deepEqual(scans, ['5412345678908']);
  assert.equal(input.value, '');
});

test('what a person typed just before a scan stays typed', () => {
  const { key, type, scans, input } = setup();
  type('milk', 150);
  key('5', 200);
  key('4', 70); // and the scanner stalls after its first key
  type('12345678908', 5);
  key('Enter', 5);
  assert.deepEqual(scans, ['5412345678908']);
  assert.equal(input.value, 'milk');
});

test('a person typing digits just before a scan of a valid barcode', () => {
  const { key, type, scans, input } = setup();
  type('12', 150);
  key('4', 200);
  type('006381333931', 5);
  key('Enter', 5);
  assert.deepEqual(scans, ['4006381333931']);
  assert.equal(input.value, '12');
});

test('a burst while focus is in another input, with a stall, leaves that input as it was', () => {
  const { key, type, scans, input, other, focusOn } = setup();
  focusOn(other);
  type('Jan', 140);
  key('5', 1500);
  key('4', 5);
  key('1', 100);
  type('2345678908', 5);
  key('Enter', 5);
  assert.deepEqual(scans, ['5412345678908']);
  assert.equal(other.value, 'Jan');
  assert.equal(input.value, '');
});

test('keys left in one field are never joined to a burst in another', () => {
  const { key, type, scans, input, other, focusOn } = setup();
  type('54', 5);
  key('1', 80); // a stall, then nothing: "541" stays in the entry field
  focusOn(other);
  key('A', 250);
  type('BCDEF', 5);
  key('Enter', 5);
  assert.deepEqual(scans, ['ABCDEF']);
  assert.equal(input.value, '541');
  assert.equal(other.value, '');
});
