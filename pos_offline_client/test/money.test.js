import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocate, divRound, formatDecimal, formatMoney, mulScaled, parseDecimal, rescale,
} from '../src/lib/money.js';

test('divRound rounds half to even like Tryton Currency.round', () => {
  assert.equal(divRound(125, 10), 12);
  assert.equal(divRound(135, 10), 14);
  assert.equal(divRound(126, 10), 13);
  assert.equal(divRound(-125, 10), -12);
  assert.equal(divRound(-135, 10), -14);
  assert.equal(divRound(124, 10), 12);
  assert.equal(divRound(0, 7), 0);
  assert.equal(divRound(125, 10, 'half-up'), 13);
  assert.equal(divRound(-125, 10, 'half-up'), -13);
});

test('divRound stays exact beyond 2^53 through BigInt', () => {
  const big = 2 ** 60 + 5;
  assert.equal(divRound(big, 10), Number((BigInt(big) + 5n) / 10n));
});

test('parseDecimal is exact and never goes through floats', () => {
  assert.equal(parseDecimal('0.1', 2), 10);
  assert.equal(parseDecimal('0.29', 2), 29);
  assert.equal(parseDecimal('1.005', 2), 100); // half-even: 100.5 -> 100
  assert.equal(parseDecimal('1.015', 2), 102);
  assert.equal(parseDecimal('-12.3', 4), -123000);
  assert.equal(parseDecimal('12,50', 2), 1250);
  assert.equal(parseDecimal('7', 3), 7000);
  assert.equal(parseDecimal(3, 2), 300);
  assert.equal(parseDecimal('', 2), 0);
  assert.throws(() => parseDecimal('abc', 2), RangeError);
  assert.throws(() => parseDecimal('.', 2), RangeError);
});

test('formatDecimal prints the wire format', () => {
  assert.equal(formatDecimal(1234, 2), '12.34');
  assert.equal(formatDecimal(5, 2), '0.05');
  assert.equal(formatDecimal(-5, 2), '-0.05');
  assert.equal(formatDecimal(12, 0), '12');
  assert.equal(formatDecimal(1, 4), '0.0001');
});

test('0.1 + 0.2 is 0.3 in minor units', () => {
  assert.equal(formatDecimal(parseDecimal('0.1', 2) + parseDecimal('0.2', 2), 2), '0.30');
});

test('mulScaled and rescale round half-even', () => {
  // 1.234 kg x 2.9900 /kg = 3.68966 -> 3.69
  assert.equal(mulScaled(1234, 3, 29900, 4, 2), 369);
  // 0.5 x 0.0500 = 0.025 -> 0.02 (half-even)
  assert.equal(mulScaled(500, 3, 500, 4, 2), 2);
  assert.equal(rescale(12345, 4, 2), 123);
  assert.equal(rescale(12, 2, 4), 1200);
});

test('formatMoney formats with Intl from a decimal string', () => {
  assert.equal(formatMoney(123456, { currency: 'EUR', locale: 'en-US' }), '€1,234.56');
  assert.match(formatMoney(-5, { currency: 'USD', locale: 'en-US' }), /-\$0\.05/);
  assert.equal(formatMoney(1000, { currency: 'JPY', digits: 0, locale: 'en-US' }), '¥1,000');
});

test('allocate splits an amount into parts that add up exactly', () => {
  const parts = allocate(1000, [1, 1, 1]);
  assert.deepEqual(parts, [334, 333, 333]);
  assert.equal(parts.reduce((a, b) => a + b), 1000);
});
