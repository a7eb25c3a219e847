// Money and quantities as integers: never binary floats.
//
// - amounts are integers in the currency's minor unit (cents for 2 digits);
// - unit prices are integers with PRICE_DIGITS decimals (Tryton's default
//   price precision is 4);
// - quantities are integers with QTY_DIGITS decimals (milli-units, so grams
//   for a product sold by the kilogram).
// Decimal strings ("12.34") are the wire format, parsed and printed exactly.

export const PRICE_DIGITS = 4;
export const QTY_DIGITS = 3;

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000];

export function pow10(n) {
  return POW10[n] ?? 10 ** n;
}

// Integer division rounded half to even (banker's rounding), the default
// rounding of Tryton's Currency.round and Decimal.quantize.
export function divRound(num, den, mode = 'half-even') {
  if (!Number.isInteger(num) || !Number.isInteger(den) || den === 0) {
    throw new RangeError(`divRound: integers expected, got ${num}/${den}`);
  }
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den)) {
    return Number(divRoundBig(BigInt(num), BigInt(den), mode));
  }
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const sign = num < 0 ? -1 : 1;
  const a = Math.abs(num);
  let q = Math.floor(a / den);
  const r = a - q * den;
  const twice = 2 * r;
  if (mode === 'half-up') {
    if (twice >= den) q += 1;
  } else if (mode === 'down') {
    // truncate
  } else if (twice > den || (twice === den && q % 2 === 1)) {
    q += 1;
  }
  return sign * q || 0;
}

export function divRoundBig(num, den, mode = 'half-even') {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const neg = num < 0n;
  const a = neg ? -num : num;
  let q = a / den;
  const r = a - q * den;
  if (mode === 'half-up') {
    if (2n * r >= den) q += 1n;
  } else if (mode !== 'down' && (2n * r > den || (2n * r === den && q % 2n === 1n))) {
    q += 1n;
  }
  return neg ? -q : q;
}

// Multiply two scaled integers and bring the result to `outDigits`.
export function mulScaled(a, aDigits, b, bDigits, outDigits, mode) {
  const shift = aDigits + bDigits - outDigits;
  const product = a * b;
  if (!Number.isSafeInteger(product)) {
    const p = BigInt(a) * BigInt(b);
    if (shift >= 0) return Number(divRoundBig(p, 10n ** BigInt(shift), mode || 'half-even'));
    return Number(p * 10n ** BigInt(-shift));
  }
  if (shift >= 0) return divRound(product, pow10(shift), mode);
  return product * pow10(-shift);
}

// Change the scale of an integer (e.g. a price with 4 digits to cents).
export function rescale(value, fromDigits, toDigits, mode) {
  if (fromDigits === toDigits) return value;
  if (toDigits > fromDigits) return value * pow10(toDigits - fromDigits);
  return divRound(value, pow10(fromDigits - toDigits), mode);
}

const DECIMAL = /^\s*([+-])?(\d*)(?:\.(\d*))?\s*$/;

// Parse a decimal string (or integer) into an integer with `digits`
// decimals, rounding half-even beyond them. Throws on garbage.
export function parseDecimal(text, digits) {
  if (typeof text === 'number') {
    if (Number.isInteger(text)) return text * pow10(digits);
    // A number that reached us despite the rules: go through its shortest
    // decimal representation, which is exact for what was typed.
    text = String(text);
    if (/e/i.test(text)) throw new RangeError(`parseDecimal: ${text}`);
  }
  if (text === null || text === undefined || text === '') return 0;
  const m = DECIMAL.exec(String(text).replace(',', '.'));
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
    throw new RangeError(`Not a decimal number: ${text}`);
  }
  const sign = m[1] === '-' ? -1 : 1;
  const intPart = m[2] || '0';
  const frac = m[3] || '';
  let value;
  if (frac.length <= digits) {
    value = Number(intPart + frac.padEnd(digits, '0'));
  } else {
    const kept = Number(intPart + frac.slice(0, digits));
    const rest = frac.slice(digits);
    const restNum = Number(rest);
    const half = 5 * pow10(rest.length - 1);
    value = kept;
    if (restNum > half || (restNum === half && kept % 2 === 1)) value += 1;
  }
  if (!Number.isSafeInteger(value)) throw new RangeError(`Out of range: ${text}`);
  return sign * value || 0;
}

// Print an integer with `digits` decimals as a plain decimal string.
export function formatDecimal(value, digits) {
  if (!Number.isInteger(value)) throw new RangeError(`formatDecimal: ${value}`);
  const neg = value < 0;
  const s = String(Math.abs(value)).padStart(digits + 1, '0');
  const out = digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
  return neg ? `-${out}` : out;
}

const formatters = new Map();

// Format an amount in minor units for people, with Intl.
export function formatMoney(minor, { currency = 'EUR', digits = 2, locale } = {}) {
  const key = `${locale}|${currency}|${digits}`;
  let fmt = formatters.get(key);
  if (!fmt) {
    fmt = new Intl.NumberFormat(locale, {
      style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
    });
    formatters.set(key, fmt);
  }
  // Intl formats decimal strings exactly (no float round trip).
  return fmt.format(formatDecimal(minor, digits));
}

const qtyFormatters = new Map();

export function formatQuantity(milli, { digits = 0, locale } = {}) {
  const key = `${locale}|${digits}`;
  let fmt = qtyFormatters.get(key);
  if (!fmt) {
    fmt = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: 3 });
    qtyFormatters.set(key, fmt);
  }
  return fmt.format(formatDecimal(milli, QTY_DIGITS));
}

// Split an amount into `parts` integer parts that add up exactly.
export function allocate(total, weights) {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const out = weights.map((w) => Math.trunc((total * w) / sum));
  let rest = total - out.reduce((a, b) => a + b, 0);
  for (let i = 0; rest !== 0 && i < out.length; i += 1) {
    const step = rest > 0 ? 1 : -1;
    out[i] += step;
    rest -= step;
  }
  return out;
}

// Combined percentage of a line discount and the order discount, in bp.
export function combinedDiscount(lineBp, orderBp) {
  return lineBp + orderBp - Math.round((lineBp * orderBp) / 10000);
}
