import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GS, gs1Date, gtinCheckDigit, isValidGtin, matchVariableRule, normalizeGtin, parseBarcode,
  parseGs1, upcEToUpcA, variableItemKey, DEFAULT_VARIABLE_RULES,
} from '../src/services/barcode.js';

const today = new Date('2026-03-10T12:00:00Z');

test('EAN-13 check digit', () => {
  assert.equal(gtinCheckDigit('400638133393'), 1);
  assert.ok(isValidGtin('4006381333931'));
  assert.ok(!isValidGtin('4006381333932'));
});

test('EAN-8 and UPC-A check digits', () => {
  assert.ok(isValidGtin('96385074'));
  assert.ok(isValidGtin('036000291452'));
  assert.ok(!isValidGtin('036000291453'));
});

test('UPC-A is looked up as its EAN-13', () => {
  const r = parseBarcode('036000291452');
  assert.equal(r.type, 'gtin');
  assert.deepEqual(r.keys, ['0036000291452']);
  assert.equal(normalizeGtin('00036000291452'), '0036000291452');
});

test('UPC-E expands to UPC-A', () => {
  assert.equal(upcEToUpcA('04252614'), '042100005264');
  assert.equal(upcEToUpcA('01234565'), '012345000065');
});

test('a wrong check digit is refused, not looked up', () => {
  const r = parseBarcode('4006381333932');
  assert.equal(r.type, 'invalid');
  assert.equal(r.reason, 'check-digit');
});

test('in-store weight barcode carries the weight in grams', () => {
  const body = '211234501250';
  const code = body + gtinCheckDigit(body);
  const r = parseBarcode(code);
  assert.equal(r.type, 'variable');
  assert.equal(r.kind, 'weight');
  assert.equal(r.quantity, 1250); // 1.250 kg
  assert.equal(r.key, variableItemKey(DEFAULT_VARIABLE_RULES[0], '12345'));
  assert.equal(r.key, '2112345000008');
});

test('in-store price barcode carries the price', () => {
  const body = '231234500399';
  const code = body + gtinCheckDigit(body);
  const r = parseBarcode(code);
  assert.equal(r.type, 'variable');
  assert.equal(r.kind, 'price');
  assert.deepEqual(r.amount, { value: 399, decimals: 2 });
});

test('variable rules with a price check digit', () => {
  const rules = [{ prefix: '28', kind: 'price', itemDigits: 4, valueCheck: true, valueDigits: 5, decimals: 2 }];
  const body = '281234' + '7' + '01999';
  const m = matchVariableRule(body + gtinCheckDigit(body), rules);
  assert.equal(m.item, '1234');
  assert.equal(m.value, 1999);
});

test('GS1-128 with FNC1: GTIN, expiry, lot', () => {
  const raw = `]C101095011015300031725033110LOT-42${GS}21SER1`;
  const r = parseBarcode(raw, { today });
  assert.equal(r.type, 'gs1');
  assert.equal(r.gtin, '09501101530003');
  assert.deepEqual(r.keys, ['9501101530003']);
  assert.equal(r.expiry, '2025-03-31');
  assert.equal(r.lot, 'LOT-42');
  assert.equal(r.serial, 'SER1');
});

test('GS1 DataMatrix without symbology id, lot last', () => {
  const r = parseBarcode('010950110153000317260300' + '10ABC123', { today });
  assert.equal(r.type, 'gs1');
  assert.equal(r.expiry, '2026-03-31');
  assert.equal(r.lot, 'ABC123');
});

test('GS1 human readable form with net weight', () => {
  const r = parseBarcode('(01)09501101530003(3103)001250(10)L1', { today });
  assert.equal(r.type, 'gs1');
  assert.equal(r.quantity, 1250);
  assert.equal(r.lot, 'L1');
});

test('GS1 with a bad GTIN check digit is invalid', () => {
  const r = parseBarcode(']d20109501101530004', { today });
  assert.equal(r.type, 'invalid');
});

test('parseGs1 handles predefined and variable lengths', () => {
  assert.deepEqual(parseGs1(`0109501101530003${'10'}AB${GS}17991231`), {
    '01': '09501101530003', 10: 'AB', 17: '991231',
  });
});

test('GS1 dates: century window and day 00', () => {
  assert.equal(gs1Date('250200', today), '2025-02-28');
  assert.equal(gs1Date('240200', today), '2024-02-29');
  assert.equal(gs1Date('991231', today), '1999-12-31');
  assert.equal(gs1Date('761231', today), '2076-12-31');
  assert.equal(gs1Date('251301', today), null);
});

test('receipt numbers are recognised for returns', () => {
  assert.deepEqual(parseBarcode('BXL1-000123'), { type: 'receipt', number: 'BXL1-000123' });
});

test('anything else is text (a SKU or a name)', () => {
  assert.deepEqual(parseBarcode('SKU-77'), { type: 'text', raw: 'SKU-77' });
  assert.equal(parseBarcode('12345').type, 'text');
});

test('GS1 price check digits (General Specifications 7.9.3 and 7.9.4)', async () => {
  const { priceCheckDigit } = await import('../src/services/barcode.js');
  assert.equal(priceCheckDigit('2875'), 9);
  assert.equal(priceCheckDigit('14685'), 6);
  assert.equal(priceCheckDigit('123'), null);
});

test('an impossible GS1 date makes the code invalid', async () => {
  const { parseBarcode: parse, GS: gs } = await import('../src/services/barcode.js');
  const good = parse(`]C101095060001343521726022810ABC${gs}`, { today: new Date('2026-01-01') });
  assert.equal(good.expiry, '2026-02-28');
  const feb30 = parse(']C1010950600013435217260230', { today: new Date('2026-01-01') });
  assert.deepEqual([feb30.type, feb30.reason], ['invalid', 'date']);
});

test('a price-embedded label gives quantity = price / unit price', async () => {
  const { labelQuantity } = await import('../src/services/pricing.js');
  // 3.49 at 1.99 a kilogram: 1.75376... kg, rounded half-even to the gram
  assert.equal(labelQuantity({ value: 349, decimals: 2 }, '1.9900'), 1754);
  assert.equal(labelQuantity({ value: 349, decimals: 2 }, null), 0);
});
