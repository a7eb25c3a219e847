// Barcode parsing: GTIN (EAN-13, UPC-A, EAN-8, UPC-E, GTIN-14) with check
// digits, in-store variable-measure codes (prefix 2x with an embedded weight
// or price) and GS1 element strings (GS1-128, GS1 DataMatrix) carrying a GTIN,
// a lot, an expiry date and a net weight. Pure functions, no dependencies.

export const GS = '\u001d'; // FNC1 as transmitted by scanners

// GS1 mod-10 check digit of the digits preceding it.
export function gtinCheckDigit(body) {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i -= 1, w = 4 - w) {
    sum += (body.charCodeAt(i) - 48) * w;
  }
  return (10 - (sum % 10)) % 10;
}

export function isValidGtin(code) {
  if (!/^\d+$/.test(code) || ![8, 12, 13, 14].includes(code.length)) return false;
  return gtinCheckDigit(code.slice(0, -1)) === code.charCodeAt(code.length - 1) - 48;
}

// The canonical key of a GTIN for lookups: GTIN-8 stays 8 digits, UPC-A,
// EAN-13 and GTIN-14 with a leading 0 become 13 digits.
export function normalizeGtin(code) {
  if (code.length === 12) return `0${code}`;
  if (code.length === 14 && code[0] === '0') return code.slice(1);
  return code;
}

// Expand a UPC-E (8 digits, number system 0 or 1) into its UPC-A.
export function upcEToUpcA(code) {
  if (!/^[01]\d{7}$/.test(code)) return null;
  const ns = code[0];
  const d = code.slice(1, 7);
  const check = code[7];
  let body;
  const last = d[5];
  if (last <= '2') body = `${d.slice(0, 2)}${last}0000${d.slice(2, 5)}`;
  else if (last === '3') body = `${d.slice(0, 3)}00000${d.slice(3, 5)}`;
  else if (last === '4') body = `${d.slice(0, 4)}00000${d[4]}`;
  else body = `${d.slice(0, 5)}0000${last}`;
  const upcA = `${ns}${body}${check}`;
  return isValidGtin(upcA) ? upcA : null;
}

// GS1 price/weight check digit of a 4- or 5-digit value (GS1 General
// Specifications 7.9.2-7.9.4: weighting factors 2-, 2-, 3, 5- for four
// digits; 5+, 2-, 5-, 5+, 2- for five). null for other lengths.
const TWO_MINUS = [0, 2, 4, 6, 8, 9, 1, 3, 5, 7];
const THREE = [0, 3, 6, 9, 2, 5, 8, 1, 4, 7];
const FIVE_PLUS = [0, 5, 1, 6, 2, 7, 3, 8, 4, 9];
const FIVE_MINUS = [0, 5, 9, 4, 8, 3, 7, 2, 6, 1];
export function priceCheckDigit(value) {
  if (!/^\d+$/.test(value)) return null;
  const d = [...value].map(Number);
  if (d.length === 4) {
    const sum = TWO_MINUS[d[0]] + TWO_MINUS[d[1]] + THREE[d[2]] + FIVE_MINUS[d[3]];
    return (sum * 3) % 10;
  }
  if (d.length === 5) {
    const sum = FIVE_PLUS[d[0]] + TWO_MINUS[d[1]] + FIVE_MINUS[d[2]] + FIVE_PLUS[d[3]] + TWO_MINUS[d[4]];
    return FIVE_MINUS.indexOf((10 - (sum % 10)) % 10);
  }
  return null;
}

// Built-in in-store layouts: 2 prefix digits, 5 item digits, 5 value
// digits, check digit. The chain's layouts (Retail > Configuration >
// Barcode Layouts, the `settings` record of the sync) replace them once
// received; an empty list from the server keeps these.
export const DEFAULT_VARIABLE_RULES = [
  { prefix: '21', kind: 'weight', itemDigits: 5, valueDigits: 5, decimals: 3 },
  { prefix: '22', kind: 'weight', itemDigits: 5, valueDigits: 5, decimals: 3 },
  { prefix: '23', kind: 'price', itemDigits: 5, valueDigits: 5, decimals: 2 },
  { prefix: '24', kind: 'price', itemDigits: 5, valueDigits: 5, decimals: 2 },
];

let chainRules = null;

// The server's layouts ({prefix, kind, item_digits, value_check,
// value_digits, value_decimals}) as rules; layouts that do not fill the 12
// digits of an EAN-13 body are left out. null when there are none.
export function layoutsToRules(layouts) {
  if (!Array.isArray(layouts)) return null;
  const rules = [];
  for (const l of layouts) {
    if (!l || typeof l.prefix !== 'string' || !/^\d{1,4}$/.test(l.prefix)) continue;
    if (!['weight', 'price'].includes(l.kind)) continue;
    const rule = {
      prefix: l.prefix, kind: l.kind, itemDigits: l.item_digits, valueCheck: Boolean(l.value_check),
      valueDigits: l.value_digits, decimals: l.value_decimals,
    };
    const digits = [rule.itemDigits, rule.valueDigits, rule.decimals];
    if (!digits.every(Number.isInteger) || rule.itemDigits < 1 || rule.valueDigits < 1) continue;
    if (rule.decimals < 0 || rule.decimals > rule.valueDigits) continue;
    if (rule.prefix.length + rule.itemDigits + (rule.valueCheck ? 1 : 0) + rule.valueDigits !== 12) continue;
    // A value check digit is defined for 4 and 5 digit values only
    if (rule.valueCheck && ![4, 5].includes(rule.valueDigits)) continue;
    rules.push(rule);
  }
  // Longest prefix first: "245" before "24"
  rules.sort((a, b) => b.prefix.length - a.prefix.length);
  return rules.length ? rules : null;
}

// Install the chain's rules (the catalog does, from the settings record);
// null goes back to the built-in ones.
export function setVariableRules(rules) {
  chainRules = rules && rules.length ? rules : null;
}

// The rules the till applies: the chain's, else the built-in ones.
export function variableRules() {
  return chainRules || DEFAULT_VARIABLE_RULES;
}

// The catalog key a variable-measure barcode's item is filed under: the
// barcode with its value zeroed (what a product's "PLU barcode" holds).
export function variableItemKey(rule, item) {
  const body = `${rule.prefix}${item}`.padEnd(12, '0');
  return `${body}${gtinCheckDigit(body)}`;
}

export function matchVariableRule(code, rules = variableRules()) {
  if (code.length !== 13) return null;
  for (const rule of rules) {
    if (!code.startsWith(rule.prefix)) continue;
    const start = rule.prefix.length;
    const item = code.slice(start, start + rule.itemDigits);
    const valueStart = start + rule.itemDigits + (rule.valueCheck ? 1 : 0);
    const value = code.slice(valueStart, valueStart + rule.valueDigits);
    if (value.length !== rule.valueDigits) continue;
    // The layout's value check digit, when it has one, must match
    const check = rule.valueCheck ? Number(code[start + rule.itemDigits]) : null;
    const valid = !rule.valueCheck || priceCheckDigit(value) === check;
    return { rule, item, value: Number(value), key: variableItemKey(rule, item), valid };
  }
  return null;
}

// GS1 Application Identifiers: fixed total length (AI + data) by the first
// two digits (GS1 General Specifications, "predefined length" table).
const PREDEFINED = {
  '00': 20, '01': 16, '02': 16, '03': 16, '04': 18, '11': 8, '12': 8, '13': 8,
  '14': 8, '15': 8, '16': 8, '17': 8, '18': 8, '19': 8, '20': 4, '31': 10,
  '32': 10, '33': 10, '34': 10, '35': 10, '36': 10, '41': 16,
};

// Length of the AI itself for the variable-length ones.
function aiLength(s, i) {
  const two = s.slice(i, i + 2);
  if (['10', '21', '22', '30', '37'].includes(two) || (two >= '90' && two <= '99')) return 2;
  if (['23', '24', '25', '40', '42'].includes(two)) return 3;
  return 4; // 39xx, 70xx, 71xx, 80xx, 81xx, 82xx
}

// Fixed lengths (data only) for some 3-4 digit AIs.
const FIXED_DATA = { 7003: 10, 8001: 14, 8005: 6, 8006: 18, 8026: 18, 4321: 1, 4322: 1, 4323: 1, 4324: 10, 4325: 10, 4326: 6 };

// Strip a symbology identifier (]C1 GS1-128, ]d2 DataMatrix, ]Q3 QR, ]e0)
// and detect whether the content is a GS1 element string.
export function stripSymbology(raw) {
  const m = /^\](C1|d2|Q3|e0|J1)/.exec(raw);
  if (m) return { text: raw.slice(3), gs1: true };
  return { text: raw, gs1: false };
}

// Parse an element string: "(01)…(17)…(10)…" or raw with FNC1 separators.
export function parseGs1(input) {
  let s = input;
  const out = {};
  if (s.startsWith('(')) {
    const re = /\((\d{2,4})\)([^(]*)/g;
    let m;
    while ((m = re.exec(s))) out[m[1]] = m[2].replace(GS, '');
    return Object.keys(out).length ? out : null;
  }
  if (s.startsWith(GS)) s = s.slice(1);
  let i = 0;
  while (i < s.length) {
    if (s[i] === GS) {
      i += 1;
      continue;
    }
    const two = s.slice(i, i + 2);
    if (!/^\d\d$/.test(two)) return null;
    let ai;
    let end;
    if (PREDEFINED[two]) {
      const total = PREDEFINED[two];
      const len = two >= '31' && two <= '36' ? 4 : two === '41' ? 3 : 2;
      ai = s.slice(i, i + len);
      end = i + total;
      if (end > s.length) return null;
    } else {
      const len = aiLength(s, i);
      ai = s.slice(i, i + len);
      if (FIXED_DATA[ai]) {
        end = i + len + FIXED_DATA[ai];
      } else {
        const gs = s.indexOf(GS, i + len);
        end = gs === -1 ? s.length : gs;
      }
    }
    out[ai] = s.slice(i + ai.length, end);
    i = end;
  }
  return Object.keys(out).length ? out : null;
}

// YYMMDD to an ISO date; day 00 means the last day of the month. The century
// follows the GS1 sliding window around `today`.
export function gs1Date(yymmdd, today = new Date()) {
  if (!/^\d{6}$/.test(yymmdd)) return null;
  const yy = Number(yymmdd.slice(0, 2));
  const mm = Number(yymmdd.slice(2, 4));
  let dd = Number(yymmdd.slice(4, 6));
  if (mm < 1 || mm > 12) return null;
  const cur = today.getUTCFullYear();
  const century = Math.floor(cur / 100) * 100;
  let year = century + yy;
  const diff = year - cur;
  if (diff >= 51) year -= 100;
  else if (diff <= -50) year += 100;
  const last = new Date(Date.UTC(year, mm, 0)).getUTCDate();
  if (dd === 0) dd = last;
  if (dd > last) return null;
  return `${year}-${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
}

// The AIs holding a YYMMDD date.
const DATE_AIS = ['11', '12', '13', '15', '16', '17'];

// A receipt number printed on receipts: PREFIX-000123 (at least 6 digits).
export const RECEIPT_NUMBER = /^[A-Z0-9]{1,6}-\d{6,10}$/;

// Classify anything a scanner or the keyboard produced.
//   {type: 'gtin', gtin, keys: [lookup keys]}
//   {type: 'variable', kind: 'weight'|'price', key, quantity (milli) | amount (minor)}
//   {type: 'gs1', gtin, keys, lot, expiry, quantity}
//   {type: 'receipt', number}
//   {type: 'invalid', raw, reason} | {type: 'text', raw}
// The built-in rules passed as `rules` stand for "the till's rules": the
// chain's layouts when the server sent some.
export function parseBarcode(raw, { rules = DEFAULT_VARIABLE_RULES, today } = {}) {
  if (rules === DEFAULT_VARIABLE_RULES) rules = variableRules();
  const trimmed = String(raw).replace(/[\r\n]+$/, '').trim();
  const { text, gs1 } = stripSymbology(trimmed);
  if (!text) return { type: 'invalid', raw, reason: 'empty' };
  if (RECEIPT_NUMBER.test(text)) return { type: 'receipt', number: text };
  const looksGs1 = gs1 || text.startsWith('(') || text.includes(GS)
    || (/^01\d{14}(1[0-9]|2[01]|3\d)/.test(text) && text.length > 16);
  if (looksGs1) {
    const ai = parseGs1(text);
    if (!ai) return { type: 'invalid', raw, reason: 'gs1' };
    const gtin = ai['01'] || ai['02'];
    if (gtin && !isValidGtin(gtin)) return { type: 'invalid', raw, reason: 'check-digit' };
    const result = { type: 'gs1', ai, gtin: gtin || null, keys: gtin ? [normalizeGtin(gtin)] : [] };
    if (ai['10']) result.lot = ai['10'];
    if (ai['21']) result.serial = ai['21'];
    // Dates (production, packaging, best before, expiry...): an impossible
    // one (30 February, month 13) makes the whole code invalid
    for (const k of DATE_AIS) {
      if (ai[k] !== undefined && gs1Date(ai[k], today) === null) return { type: 'invalid', raw, reason: 'date' };
    }
    const exp = ai['17'] || ai['15'];
    if (exp) result.expiry = gs1Date(exp, today);
    for (const k of Object.keys(ai)) {
      if (/^310\d$/.test(k)) {
        // Net weight in kg with the AI's 4th digit as decimals -> milli
        const dec = Number(k[3]);
        result.quantity = dec <= 3 ? Number(ai[k]) * 10 ** (3 - dec) : Math.round(Number(ai[k]) / 10 ** (dec - 3));
      }
      if (/^392\d$/.test(k)) {
        result.price = { value: Number(ai[k]), decimals: Number(k[3]) };
      }
    }
    return result;
  }
  if (/^\d+$/.test(text)) {
    if ([8, 12, 13, 14].includes(text.length)) {
      if (!isValidGtin(text)) {
        if (text.length === 8) {
          const a = upcEToUpcA(text);
          if (a) return { type: 'gtin', gtin: text, keys: [normalizeGtin(a)] };
        }
        return { type: 'invalid', raw, reason: 'check-digit' };
      }
      if (text.length === 13) {
        const v = matchVariableRule(text, rules);
        if (v && !v.valid) return { type: 'invalid', raw, reason: 'price-check-digit' };
        if (v) {
          const r = { type: 'variable', kind: v.rule.kind, key: v.key, gtin: text, keys: [text] };
          if (v.rule.kind === 'weight') r.quantity = v.value * 10 ** (3 - v.rule.decimals);
          else r.amount = { value: v.value, decimals: v.rule.decimals };
          return r;
        }
      }
      const keys = [normalizeGtin(text)];
      if (text.length === 8) {
        const a = upcEToUpcA(text);
        if (a) keys.push(normalizeGtin(a));
      }
      return { type: 'gtin', gtin: text, keys };
    }
  }
  return { type: 'text', raw: text };
}
