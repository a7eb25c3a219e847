// Pricing, discounts, taxes and rounding of a cart, with integers only.
//
// The till computes a sale exactly as the server stores and posts it (Tryton's
// sale_point and account modules), so both agree to the cent; the algorithm
// is stated in docs/sync-protocol.md "Money: one algorithm":
//   price (PRICE_DIGITS) -> discounted price, rounded half-even;
//   unit gross and list prices from it (unitPrices: tax included or not, as
//   the terminal's "tax included");
//   line amount = round(quantity x unit gross), untaxed = round(quantity x
//   unit list), line tax = amount - untaxed;
//   taxes per tax: Tryton's _get_taxes with the company's tax rounding (per
//   line or per document), the sale's tax difference spread over them.
import {
  PRICE_DIGITS, QTY_DIGITS, divRound, divRoundBig, mulScaled, parseDecimal,
} from '../lib/money.js';

export const PERCENT_DIGITS = 2; // discounts in hundredths of a percent
export const RATE_DIGITS = 10; // tax rates as Tryton stores them ("0.21" -> 2100000000)
const HUNDRED_PERCENT = 100 * 10 ** PERCENT_DIGITS;
// Unrounded tax amounts: unit price x quantity x rate, exact.
const EXACT_DIGITS = PRICE_DIGITS + QTY_DIGITS + RATE_DIGITS;
const ONE_RATE = 10n ** BigInt(RATE_DIGITS);

export function percentToBp(text) {
  return parseDecimal(text, PERCENT_DIGITS);
}

// Apply successive percentage discounts (in hundredths of a percent) to a
// unit price with PRICE_DIGITS decimals.
export function discountedUnitPrice(unitPrice, ...discounts) {
  let num = unitPrice;
  let den = 1;
  for (const d of discounts) {
    if (!d) continue;
    if (d < 0 || d > HUNDRED_PERCENT) throw new RangeError(`Bad discount ${d}`);
    num *= HUNDRED_PERCENT - d;
    den *= HUNDRED_PERCENT;
    if (!Number.isSafeInteger(num)) {
      num = divRound(num, den);
      den = 1;
    }
  }
  return den === 1 ? num : divRound(num, den);
}

export function lineAmount(quantity, unitPrice, currencyDigits = 2) {
  return mulScaled(quantity, QTY_DIGITS, unitPrice, PRICE_DIGITS, currencyDigits);
}

// A tax as the till computes with it, from the server's `tax` record
// ({id, type, rate, amount, sequence} with decimal strings): rate as a
// BigInt with RATE_DIGITS decimals, a fixed amount with PRICE_DIGITS.
export function taxRecord(t) {
  if (!t) return null;
  const scaled = (v, digits) => BigInt(parseDecimal(v ?? '0', digits));
  return {
    id: t.id,
    type: t.type === 'fixed' ? 'fixed' : t.type === 'none' ? 'none' : 'percentage',
    rate: typeof t.rate === 'bigint' ? t.rate : scaled(t.rate, RATE_DIGITS),
    amount: typeof t.amount === 'bigint' ? t.amount : scaled(t.amount, PRICE_DIGITS),
    sequence: Number.isInteger(t.sequence) ? t.sequence : null,
    name: t.name ?? '',
  };
}

// The taxes of a line in Tryton's order (Tax.sort_taxes: taxes without a
// sequence first, then by sequence, then by id).
export function lineTaxes(taxIds, taxes) {
  const out = [];
  for (const id of taxIds || []) {
    const tax = taxes.get ? taxes.get(id) : taxes[id];
    if (tax) out.push(tax.rate === undefined || typeof tax.rate !== 'bigint' ? taxRecord({ id, ...tax }) : tax);
  }
  const key = (t) => [t.sequence === null ? 0 : 1, t.sequence ?? 0, t.id];
  return out.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < 3; i += 1) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    return 0;
  });
}

// Sum of the percentage rates (RATE_DIGITS, BigInt) and of the fixed
// amounts (PRICE_DIGITS, BigInt) of taxes.
function rateAndFixed(taxes) {
  let rate = 0n;
  let fixed = 0n;
  for (const t of taxes) {
    if (t.type === 'percentage') rate += t.rate;
    else if (t.type === 'fixed') fixed += t.amount;
  }
  return { rate, fixed };
}

// Sum of the rates of the taxes of a line, RATE_DIGITS (a Number).
export function taxRate(taxIds, taxes) {
  return Number(rateAndFixed(lineTaxes(taxIds, taxes)).rate);
}

// The unit prices of a line, both with PRICE_DIGITS decimals, from the
// price it sells at (after discount), as the server stores them:
// - tax included: gross = price;
//   list = round_price((gross - fixed amounts) / (1 + sum of rates))
//   (Tax.reverse_compute);
// - tax excluded: list = price;
//   gross = round_price(list + list x sum of rates + fixed amounts)
//   (Tax.compute for a quantity of 1).
// round_price rounds half to even to PRICE_DIGITS decimals.
export function unitPrices(price, taxes, taxIncluded = true) {
  const { rate, fixed } = rateAndFixed(taxes);
  const p = BigInt(price);
  if (taxIncluded) {
    const list = rate === 0n && fixed === 0n ? p : divRoundBig((p - fixed) * ONE_RATE, ONE_RATE + rate);
    return { gross: price, list: Number(list) };
  }
  const gross = divRoundBig(p * ONE_RATE + p * rate + fixed * ONE_RATE, ONE_RATE);
  return { gross: Number(gross), list: price };
}

export function untaxedUnitPrice(grossUnit, rate) {
  if (!rate) return grossUnit;
  const one = 10 ** RATE_DIGITS;
  return Number(divRoundBig(BigInt(grossUnit) * BigInt(one), BigInt(one) + BigInt(rate)));
}

// Compute one line: {unitPrice (the terminal's price before discount,
// PRICE_DIGITS), quantity (milli), discount (bp), taxes (ids)} plus the
// order discount. Tryton's sale_point figures of the line:
//   amount (gross) = round(quantity x unit gross price)
//   untaxed        = round(quantity x unit list price)
//   tax            = amount - untaxed
// round: the currency's, half to even.
export function computeLine(line, {
  orderDiscount = 0, taxes = new Map(), currencyDigits = 2, taxIncluded = true,
} = {}) {
  const price = discountedUnitPrice(line.unitPrice, line.discount || 0, line.noOrderDiscount ? 0 : orderDiscount);
  const taxList = lineTaxes(line.taxes, taxes);
  const { gross, list } = unitPrices(price, taxList, taxIncluded);
  const amount = lineAmount(line.quantity, gross, currencyDigits);
  const untaxed = lineAmount(line.quantity, list, currencyDigits);
  const full = unitPrices(line.unitPrice, taxList, taxIncluded);
  const fullAmount = lineAmount(line.quantity, full.gross, currencyDigits);
  return {
    price,
    unitGrossPrice: gross,
    unitListPrice: list,
    amount,
    untaxed,
    tax: amount - untaxed,
    rate: Number(rateAndFixed(taxList).rate),
    taxList,
    discountAmount: fullAmount - amount,
  };
}

// -- taxes per tax of a sale (Tryton's TaxableMixin._get_taxes and
// sale_point's get_tax_move_lines) -------------------------------------------

// Round an exact amount (BigInt with `from` decimals) to the currency.
function roundExact(value, from, digits) {
  return divRoundBig(value, 10n ** BigInt(from - digits));
}

// TaxableMixin._round_taxes: round each amount, then give back the
// rounding remainder (rounded half-even) one currency unit at a time to the
// taxes with an amount, in order, until less than one unit is left.
function roundTaxes(taxLines, digits) {
  const scale = 10n ** BigInt(EXACT_DIGITS - digits);
  let remainder = 0n; // EXACT_DIGITS
  for (const t of taxLines.values()) {
    const rounded = roundExact(t.amount, EXACT_DIGITS, digits);
    remainder += rounded * scale - t.amount;
    t.amount = rounded * scale;
  }
  let rem = divRoundBig(remainder, scale); // currency units
  if (rem !== 0n) {
    const offset = rem > 0n ? 1n : -1n;
    const lines = [...taxLines.values()];
    if (!lines.some((t) => t.amount !== 0n)) return;
    for (let i = 0; rem !== 0n; i = (i + 1) % lines.length) {
      if (lines[i].amount !== 0n) {
        lines[i].amount -= offset * scale;
        rem -= offset;
      }
    }
  }
}

// The taxes of a sale, per tax, as posted: [{tax, name, base, amount}] in
// currency units (base: the untaxed amounts taxed by it; amount: the tax),
// for lines computed by computeLine ({line, quantity, unitListPrice,
// taxList, untaxed, tax}). `rounding`: the company's tax rounding, 'document'
// or 'line'.
export function saleTaxes(computed, { rounding = 'document', currencyDigits = 2 } = {}) {
  const digits = currencyDigits;
  const scale = 10n ** BigInt(EXACT_DIGITS - digits);
  const groups = new Map();
  for (const c of computed) {
    const quantity = BigInt(c.quantity);
    const baseExact = quantity * BigInt(c.unitListPrice); // PRICE + QTY digits
    const key = `${c.taxList.map((t) => t.id).join(',')}|${baseExact >= 0n}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ c, quantity, baseExact });
  }
  const all = new Map();
  const baseScale = 10n ** BigInt(RATE_DIGITS);
  for (const lines of groups.values()) {
    const taxes = new Map();
    for (const { c, quantity, baseExact } of lines) {
      const current = new Map();
      for (const t of c.taxList) {
        if (t.type === 'none') continue;
        let amount;
        if (t.type === 'percentage') amount = baseExact * t.rate; // EXACT_DIGITS
        else amount = t.amount * quantity * baseScale;
        const base = roundExact(baseExact, PRICE_DIGITS + QTY_DIGITS, digits);
        const key = `${t.id}|${base >= 0n}`;
        // As Tryton: a second line of the same tax in one line replaces it
        current.set(key, { tax: t, base, amount });
      }
      if (rounding === 'line') roundTaxes(current, digits);
      for (const [key, tl] of current) {
        const prev = taxes.get(key);
        if (prev) {
          prev.base += tl.base;
          prev.amount += tl.amount;
        } else taxes.set(key, { ...tl });
      }
    }
    if (rounding !== 'line') roundTaxes(taxes, digits);
    for (const [key, tl] of taxes) {
      const prev = all.get(key);
      if (prev) {
        prev.base += tl.base;
        prev.amount += tl.amount;
      } else all.set(key, { ...tl });
    }
  }
  // sale_point: the sale's tax is the sum of its lines' (gross - untaxed);
  // the difference with the computed taxes goes to them pro rata.
  const lines = [...all.values()].map((t) => ({ ...t, amount: t.amount / scale }));
  const totalTax = computed.reduce((s, c) => s + BigInt(c.tax), 0n);
  const taxAmount = lines.reduce((s, t) => s + t.amount, 0n);
  const difference = totalTax - taxAmount;
  if (difference !== 0n) {
    let remaining = difference;
    const d = decimalValue(difference, -digits);
    const total = decimalValue(taxAmount, -digits);
    for (const t of lines) {
      if (t.amount === 0n) continue;
      let ratio;
      if (taxAmount !== 0n) ratio = decimalDiv(decimalValue(t.amount, -digits), total);
      else ratio = decimalDiv(decimalValue(1n, 0), decimalValue(BigInt(lines.length), 0));
      const value = decimalQuantize(decimalMul(d, ratio), digits).c;
      t.amount += value;
      remaining -= value;
    }
    if (remaining !== 0n) {
      const first = lines.find((t) => t.amount !== 0n);
      if (first) first.amount += remaining;
    }
  }
  return lines.map((t) => ({ tax: t.tax.id, name: t.tax.name, rate: Number(t.tax.rate), base: Number(t.base), amount: Number(t.amount) }));
}

// Add the taxes of a sale to a per-tax summary (a Map tax id ->
// {tax, name, rate, base, amount}), as a session sums them.
export function addTaxes(summary, taxLines) {
  for (const t of taxLines || []) {
    if (t.tax === undefined) continue;
    const s = summary.get(t.tax) || { tax: t.tax, name: t.name, rate: t.rate, base: 0, amount: 0 };
    s.base += t.base;
    s.amount += t.amount;
    summary.set(t.tax, s);
  }
  return summary;
}

// Totals of an order: lines (voided lines excluded), payments and change.
// options: {taxes (Map id -> taxRecord), currencyDigits, taxIncluded (the
// terminal's), taxRounding (the company's: 'document' or 'line')}.
export function computeOrder(order, options = {}) {
  const currencyDigits = options.currencyDigits ?? 2;
  const taxIncluded = options.taxIncluded ?? true;
  const lines = [];
  let total = 0;
  let tax = 0;
  let discount = 0;
  for (const line of order.lines) {
    if (line.voided) continue;
    const c = computeLine(line, {
      ...options, orderDiscount: order.discount || 0, currencyDigits, taxIncluded,
    });
    lines.push({ line, quantity: line.quantity, ...c });
    total += c.amount;
    tax += c.tax;
    discount += c.discountAmount;
  }
  const taxes = saleTaxes(lines, { rounding: options.taxRounding || 'document', currencyDigits });
  let paid = 0;
  let tendered = 0;
  for (const p of order.payments || []) {
    paid += p.amount;
    tendered += p.tendered ?? p.amount;
  }
  const due = total - paid;
  return {
    lines,
    total,
    tax,
    discount,
    taxes,
    paid,
    tendered,
    due,
    change: tendered - paid,
    quantity: order.lines.reduce((q, l) => q + (l.voided ? 0 : l.quantity), 0),
    // articles, in milli-units as quantities are: a weighed line is one
    // article whatever it weighs (1.234 kg of bananas is 1 item, not 1.234)
    items: order.lines.reduce((q, l) => q + (l.voided ? 0
      : l.weighed ? Math.sign(l.quantity) * 10 ** QTY_DIGITS : l.quantity), 0),
  };
}

// Record a tender: cash may exceed what is due (change is given back), other
// methods may not. Returns the payment to append, or throws.
export function tender(order, { method, amount, cash }, options = {}) {
  const { due } = computeOrder(order, options);
  if (!Number.isInteger(amount) || amount === 0) throw new RangeError('amount');
  if (due === 0) throw new RangeError('nothing-due');
  const refund = due < 0;
  if (refund) {
    // Refunds pay out: amounts are negative and never above what is owed.
    const out = -Math.min(Math.abs(amount), Math.abs(due));
    return { method, amount: out, tendered: out };
  }
  if (amount < 0) throw new RangeError('amount');
  if (amount > due && !cash) throw new RangeError('over-tender');
  const applied = Math.min(amount, due);
  return { method, amount: applied, tendered: amount };
}

// The quantity of a price-embedded label (a variable-measure barcode that
// carries the price to pay): quantity = embedded price / unit price (tax
// included), in milli-units, rounded half to even to QTY_DIGITS decimals.
// The line is then priced as any other (quantity x unit price), so its
// amount is the label's within half a milli-unit of the unit price.
export function quantityForAmount(amountMinor, unitPrice, currencyDigits = 2) {
  if (!unitPrice) return 0;
  const scaled = BigInt(amountMinor) * 10n ** BigInt(QTY_DIGITS + PRICE_DIGITS - currencyDigits);
  return Number(divRoundBig(scaled, BigInt(unitPrice)));
}

// The quantity of a label's embedded amount ({value, decimals} as the
// barcode parser gives it) at a product's gross price (decimal string);
// 0 when the product has no price or the quantity rounds to nothing.
export function labelQuantity(amount, grossPrice, currencyDigits = 2) {
  const unit = grossPrice === null || grossPrice === undefined ? 0 : parseDecimal(grossPrice, PRICE_DIGITS);
  if (unit <= 0) return 0;
  const minor = amount.decimals <= currencyDigits
    ? amount.value * 10 ** (currencyDigits - amount.decimals)
    : divRound(amount.value, 10 ** (amount.decimals - currencyDigits));
  return quantityForAmount(minor, unit, currencyDigits);
}

// Is a discount (bp) within a limit given as the server's decimal string?
export function withinLimit(discountBp, maxDiscount) {
  return discountBp <= percentToBp(maxDiscount ?? '0');
}

// ---------------------------------------------------------------------------
// Branch price lists, computed offline as Tryton's price_list.compute does.
//
// A list's lines are tried in order; the first whose product, category (the
// product's categories and their parents) and quantity (the line applies
// from that quantity, in the product's default unit) match gives the price.
// Its formula is evaluated with Python's decimal semantics: every operation
// rounded to the context precision (28 significant digits, half-even), the
// result rounded to the price digits (4, half-even). The server marks the
// lines a till can compute (`offline`): the names unit_price and list_price,
// numbers, Decimal("…") of a literal, + - * /, unary + -, parentheses. Parsed
// by the small recursive-descent parser below: no eval().

export class FormulaError extends Error {}

// A decimal number: coefficient c (BigInt) times 10 ** e.
function decimalValue(c, e) {
  return { c, e };
}

export function parseDecimalText(text) {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(String(text).trim());
  if (!m || (!m[2] && !m[3])) throw new FormulaError(`Bad number ${text}`);
  const frac = m[3] || '';
  const c = BigInt(`${m[1] === '-' ? '-' : ''}${m[2] || '0'}${frac}`);
  return decimalValue(c, Number(m[4] || 0) - frac.length);
}

function digitsOf(c) {
  return (c < 0n ? -c : c).toString().length;
}

function roundCoefficient(c, drop) {
  // Divide c by 10 ** drop, rounding half-even.
  if (drop <= 0) return c * 10n ** BigInt(-drop);
  const den = 10n ** BigInt(drop);
  const neg = c < 0n;
  const a = neg ? -c : c;
  let q = a / den;
  const r2 = (a - q * den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

// Round to `prec` significant digits (a Python decimal context).
function roundContext(x, prec) {
  const n = digitsOf(x.c);
  if (x.c === 0n || n <= prec) return x;
  const drop = n - prec;
  return decimalValue(roundCoefficient(x.c, drop), x.e + drop);
}

function align(a, b) {
  const e = Math.min(a.e, b.e);
  return [a.c * 10n ** BigInt(a.e - e), b.c * 10n ** BigInt(b.e - e), e];
}

export function decimalAdd(a, b, prec = 28) {
  const [x, y, e] = align(a, b);
  return roundContext(decimalValue(x + y, e), prec);
}

export function decimalSub(a, b, prec = 28) {
  return decimalAdd(a, decimalValue(-b.c, b.e), prec);
}

export function decimalMul(a, b, prec = 28) {
  return roundContext(decimalValue(a.c * b.c, a.e + b.e), prec);
}

export function decimalDiv(a, b, prec = 28) {
  if (b.c === 0n) throw new FormulaError('Division by zero');
  if (a.c === 0n) return decimalValue(0n, 0);
  // Quotient with at least prec + 1 digits, then one half-even rounding
  // with the exact remainder as sticky information.
  const extra = BigInt(prec + 2 + digitsOf(b.c));
  const num = a.c * 10n ** extra;
  const q = num / b.c;
  const rem = num - q * b.c;
  let e = a.e - b.e - Number(extra);
  const neg = q < 0n || (q === 0n && (a.c < 0n) !== (b.c < 0n));
  let mag = q < 0n ? -q : q;
  const n = digitsOf(mag);
  const drop = n - prec;
  if (drop > 0) {
    const den = 10n ** BigInt(drop);
    let qq = mag / den;
    const r = mag - qq * den;
    const twice = r * 2n;
    const inexact = rem !== 0n;
    if (twice > den || (twice === den && (inexact || qq % 2n === 1n))) qq += 1n;
    mag = qq;
    e += drop;
  }
  if (rem === 0n) {
    // An exact quotient keeps the ideal exponent, as Python's decimal
    const ideal = a.e - b.e;
    while (e < ideal && mag !== 0n && mag % 10n === 0n) {
      mag /= 10n;
      e += 1;
    }
  }
  return decimalValue(neg ? -mag : mag, e);
}

// Round to `digits` decimals, half-even (Decimal.quantize).
export function decimalQuantize(x, digits) {
  const drop = -digits - x.e;
  if (drop <= 0) return decimalValue(x.c * 10n ** BigInt(-drop), -digits);
  return decimalValue(roundCoefficient(x.c, drop), -digits);
}

export function decimalToString(x) {
  const neg = x.c < 0n;
  let s = (neg ? -x.c : x.c).toString();
  if (x.e >= 0) s += '0'.repeat(x.e);
  else {
    const k = -x.e;
    s = s.padStart(k + 1, '0');
    s = `${s.slice(0, s.length - k)}.${s.slice(s.length - k)}`;
  }
  return (neg ? '-' : '') + s;
}

// The integer of a decimal with `digits` decimals (it must be quantized).
function decimalToScaled(x, digits) {
  return Number(decimalQuantize(x, digits).c);
}

const TOKEN = /[ \t]+|((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z_0-9]*)|("[^"\\\n]*"|'[^'\\\n]*')|([-+*/(),])/y;
const DECIMAL_STRING = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
export const FORMULA_NAMES = new Set(['unit_price', 'list_price']);

function tokenize(formula) {
  const tokens = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < formula.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(formula);
    if (!m || m.index !== start) throw new FormulaError(`Unexpected "${formula.slice(start, start + 8)}"`);
    if (m[1] !== undefined) tokens.push({ kind: 'number', value: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'name', value: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'string', value: m[3].slice(1, -1) });
    else if (m[4] !== undefined) tokens.push({ kind: 'op', value: m[4] });
  }
  return tokens;
}

// Parse a formula of the offline subset into a tree; throws FormulaError
// for anything else.
export function parseFormula(formula) {
  if (typeof formula !== 'string') throw new FormulaError('No formula');
  const tokens = tokenize(formula.trim());
  let i = 0;
  const peek = () => tokens[i] || { kind: null, value: null };
  const isOp = (...ops) => peek().kind === 'op' && ops.includes(peek().value);
  const take = (kind, value) => {
    const tok = peek();
    if (tok.kind === null || (kind && tok.kind !== kind) || (value && tok.value !== value)) {
      throw new FormulaError(`Unexpected ${tok.value ?? 'end'}`);
    }
    i += 1;
    return tok;
  };
  function expression() {
    let node = term();
    while (isOp('+', '-')) node = { op: take().value, left: node, right: term() };
    return node;
  }
  function term() {
    let node = unary();
    while (isOp('*', '/')) node = { op: take().value, left: node, right: unary() };
    return node;
  }
  function unary() {
    if (isOp('+', '-')) return { op: `u${take().value}`, operand: unary() };
    return primary();
  }
  function primary() {
    const tok = take();
    if (tok.kind === 'number') return { value: parseDecimalText(tok.value) };
    if (tok.kind === 'name' && tok.value === 'Decimal') {
      take('op', '(');
      const arg = take();
      if (arg.kind === 'string' ? !DECIMAL_STRING.test(arg.value) : (arg.kind !== 'number' || !/^\d+$/.test(arg.value))) {
        throw new FormulaError(`Bad Decimal(${arg.value})`);
      }
      take('op', ')');
      return { value: parseDecimalText(arg.value) };
    }
    if (tok.kind === 'name') {
      if (!FORMULA_NAMES.has(tok.value)) throw new FormulaError(`Unknown name ${tok.value}`);
      return { name: tok.value };
    }
    if (tok.kind === 'op' && tok.value === '(') {
      const node = expression();
      take('op', ')');
      return node;
    }
    throw new FormulaError(`Unexpected ${tok.value}`);
  }
  const tree = expression();
  if (i !== tokens.length) throw new FormulaError(`Unexpected ${peek().value}`);
  return tree;
}

// Evaluate a parsed formula; names are decimals or null (Tryton's Null: any
// operation with it gives null).
export function evaluateFormula(tree, names, prec = 28) {
  if (tree.value) return tree.value;
  if (tree.name) return names[tree.name] ?? null;
  if (tree.operand) {
    const v = evaluateFormula(tree.operand, names, prec);
    if (v === null) return null;
    return roundContext(tree.op === 'u-' ? decimalValue(-v.c, v.e) : v, prec);
  }
  const a = evaluateFormula(tree.left, names, prec);
  const b = evaluateFormula(tree.right, names, prec);
  if (a === null || b === null) return null;
  switch (tree.op) {
    case '+': return decimalAdd(a, b, prec);
    case '-': return decimalSub(a, b, prec);
    case '*': return decimalMul(a, b, prec);
    default: return decimalDiv(a, b, prec);
  }
}

// Exact comparison of a binary float (a line's quantity, a Tryton Float)
// with a decimal: -1, 0 or 1, as Python compares float and Decimal.
export function compareFloatDecimal(f, d) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, f);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2;
  if (exp === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = exp - 1075;
  }
  if (negative) mant = -mant;
  // f = mant * 2**e2 ; d = c * 10**e
  let left = mant;
  let right = d.c;
  if (e2 > 0) left *= 2n ** BigInt(e2);
  else right *= 2n ** BigInt(-e2);
  if (d.e > 0) right *= 10n ** BigInt(d.e);
  else left *= 10n ** BigInt(-d.e);
  return left < right ? -1 : left > right ? 1 : 0;
}

function absDecimal(d) {
  return d.c < 0n ? decimalValue(-d.c, d.e) : d;
}

// Compile a price list record from the server once: parsed formulas, or
// the reason a line cannot be computed here.
export function compilePriceList(priceList) {
  if (!priceList) return null;
  const lines = (priceList.lines || []).map((line) => {
    let tree = null;
    let error = null;
    if (line.offline === false) error = 'not-offline';
    else {
      try {
        tree = parseFormula(line.formula);
      } catch (e) {
        error = 'not-offline';
      }
    }
    return {
      id: line.id ?? null, product: line.product ?? null, category: line.category ?? null,
      quantity: line.quantity === null || line.quantity === undefined ? null : Number(line.quantity),
      formula: line.formula, tree, error,
    };
  });
  return {
    id: priceList.id, price: priceList.price ?? null, taxIncluded: Boolean(priceList.tax_included),
    precision: Number.isInteger(priceList.decimal_precision) ? priceList.decimal_precision : 28,
    priceDigits: Number.isInteger(priceList.price_digits) ? priceList.price_digits : PRICE_DIGITS,
    lines,
  };
}

// The quantity a price list compares, in the product's default unit:
// Uom.compute_qty with floats, as Tryton does.
export function priceListQuantity(quantity, fromUom, toUom) {
  if (!fromUom || !toUom || fromUom.id === toUom.id) return quantity;
  let amount = Number(decimalToString(quantity));
  amount = fromUom.accurate_field === 'rate' ? amount / fromUom.rate : amount * fromUom.factor;
  amount = toUom.accurate_field === 'rate' ? amount * toUom.rate : amount / toUom.factor;
  return parseDecimalText(String(amount));
}

// Price of a product by a compiled price list:
//   {price: decimal | null, line, reason}
// reason: null (computed), 'no-line' (no line matches: the product's own
// price applies, as on the server), 'not-offline' (the matching line needs
// the server), 'no-price' (the formula gives no price, e.g. no list price),
// 'error' (a division by zero...).
export function priceListPrice(list, { product, categories = [], quantity, uoms } = {}) {
  const q = absDecimal(priceListQuantity(
    typeof quantity === 'string' ? parseDecimalText(quantity) : quantity || parseDecimalText('1'),
    uoms?.from, uoms?.to));
  const cats = new Set(categories);
  for (const line of list.lines) {
    if (line.quantity !== null && compareFloatDecimal(line.quantity, q) > 0) continue;
    if (line.category !== null && !cats.has(line.category)) continue;
    if (line.product !== null && line.product !== product.id) continue;
    if (line.error) return { price: null, line, reason: line.error };
    const listPrice = product.list_price === null || product.list_price === undefined
      ? null : parseDecimalText(product.list_price);
    const names = {
      list_price: listPrice,
      unit_price: list.price === 'list_price' ? listPrice : null,
    };
    if (list.price === 'cost_price') return { price: null, line, reason: 'not-offline' };
    let value;
    try {
      value = evaluateFormula(line.tree, names, list.precision);
    } catch (e) {
      return { price: null, line, reason: 'error' };
    }
    if (value === null) return { price: null, line, reason: 'no-price' };
    return { price: decimalQuantize(value, list.priceDigits), line, reason: null };
  }
  return { price: null, line: null, reason: 'no-line' };
}

// The tax-included price of an untaxed unit price, as the server does it:
// round_price(price + sum of tax amounts) (percentage: price x rate; fixed:
// its amount). Taxes are the server's records {type, rate, amount}.
export function grossOf(price, taxRecords, priceDigits = PRICE_DIGITS) {
  let total = price;
  for (const tax of taxRecords) {
    if (!tax) continue;
    if (tax.type === 'fixed') total = decimalAdd(total, parseDecimalText(tax.amount ?? '0'), 60);
    else if (tax.rate !== null && tax.rate !== undefined) {
      total = decimalAdd(total, decimalMul(price, parseDecimalText(tax.rate), 60), 60);
    }
  }
  return decimalQuantize(total, priceDigits);
}

// The untaxed price of a tax-included one (Tax.reverse_compute, rounded).
export function untaxedOf(gross, taxRecords, priceDigits = PRICE_DIGITS) {
  let rate = parseDecimalText('1');
  let fixed = parseDecimalText('0');
  for (const tax of taxRecords) {
    if (!tax) continue;
    if (tax.type === 'fixed') fixed = decimalAdd(fixed, parseDecimalText(tax.amount ?? '0'), 60);
    else if (tax.rate !== null && tax.rate !== undefined) rate = decimalAdd(rate, parseDecimalText(tax.rate), 60);
  }
  return decimalQuantize(decimalDiv(decimalSub(gross, fixed, 60), rate, 60), priceDigits);
}

// A cart line's unit prices (PRICE_DIGITS integers) from the branch price
// list: {gross, untaxed, source: 'price_list' | 'base', notice}. notice is
// 'price-not-offline' when the branch price needs the server: the line then
// sells at the product's own price, which the server flags as price drift.
export function branchUnitPrice(list, product, { categories, quantity, uoms, taxRecords = [] } = {}) {
  const base = {
    gross: product.gross_price ?? null, untaxed: product.list_price ?? null, source: 'base', notice: null, line: null,
  };
  if (!list) return base;
  const r = priceListPrice(list, { product, categories, quantity, uoms });
  if (r.price === null) {
    return { ...base, line: r.line?.id ?? null, notice: ['not-offline', 'error'].includes(r.reason) ? 'price-not-offline' : null };
  }
  const gross = list.taxIncluded ? r.price : grossOf(r.price, taxRecords, list.priceDigits);
  const untaxed = list.taxIncluded ? untaxedOf(r.price, taxRecords, list.priceDigits) : r.price;
  return {
    gross: decimalToString(decimalQuantize(gross, PRICE_DIGITS)),
    untaxed: decimalToString(decimalQuantize(untaxed, PRICE_DIGITS)),
    source: 'price_list', notice: null, line: r.line.id,
  };
}

export function scaledPrice(text) {
  return text === null || text === undefined ? null : decimalToScaled(parseDecimalText(text), PRICE_DIGITS);
}

// The tax lines a receipt prints: one per tax with a rate (its two signs
// merged), labelled by the rate in percent: [{tax, label, base, amount}].
export function receiptTaxes(taxLines) {
  const merged = addTaxes(new Map(), (taxLines || []).filter((t) => t.tax !== undefined && t.rate));
  return [...merged.values()].map((t) => ({
    tax: t.tax,
    label: `${decimalToString(decimalValue(BigInt(t.rate) * 100n, -RATE_DIGITS)).replace(/\.?0+$/, '')} %`,
    base: t.base,
    amount: t.amount,
  }));
}
