// Pricing, discounts, taxes and rounding of a cart, with integers only.
//
// The POS sells at tax-included (gross) prices, as Tryton's sale_point does
// when the terminal's "tax included" is set, and rounds exactly like it:
//   unit price (4 decimals) -> discounted unit price, rounded half-even to 4;
//   line amount = round_half_even(quantity x unit price) to the currency;
//   untaxed unit = round_price(gross / (1 + sum of rates));
//   line tax = amount - round(quantity x untaxed unit).
// So a total computed here equals the server's for the same lines.
import { PRICE_DIGITS, QTY_DIGITS, divRound, mulScaled, parseDecimal } from '../lib/money.js';

export const PERCENT_DIGITS = 2; // discounts in hundredths of a percent
export const RATE_DIGITS = 6; // tax rates in millionths ("0.21" -> 210000)
const HUNDRED_PERCENT = 100 * 10 ** PERCENT_DIGITS;

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

// Sum of the rates of the taxes of a line (percentage taxes, not compound).
export function taxRate(taxIds, taxes) {
  let rate = 0;
  for (const id of taxIds || []) {
    const tax = taxes.get ? taxes.get(id) : taxes[id];
    if (tax && tax.type !== 'fixed') rate += tax.rate;
  }
  return rate;
}

export function untaxedUnitPrice(grossUnit, rate) {
  if (!rate) return grossUnit;
  const one = 10 ** RATE_DIGITS;
  return divRound(grossUnit * one, one + rate);
}

// Compute one line: {unitPrice (list, 4 dec), quantity (milli), discount (bp)}
// plus the order discount. Returns the figures the receipt and server need.
export function computeLine(line, { orderDiscount = 0, taxes = new Map(), currencyDigits = 2 } = {}) {
  const effective = discountedUnitPrice(line.unitPrice, line.discount || 0, line.noOrderDiscount ? 0 : orderDiscount);
  const amount = lineAmount(line.quantity, effective, currencyDigits);
  const rate = taxRate(line.taxes, taxes);
  const untaxedUnit = untaxedUnitPrice(effective, rate);
  const untaxed = lineAmount(line.quantity, untaxedUnit, currencyDigits);
  const fullAmount = lineAmount(line.quantity, line.unitPrice, currencyDigits);
  return {
    unitGrossPrice: effective,
    unitListPrice: untaxedUnit,
    amount,
    untaxed,
    tax: amount - untaxed,
    rate,
    discountAmount: fullAmount - amount,
  };
}

// Totals of an order: lines (voided lines excluded), payments and change.
export function computeOrder(order, options = {}) {
  const currencyDigits = options.currencyDigits ?? 2;
  const lines = [];
  let total = 0;
  let tax = 0;
  let discount = 0;
  const byRate = new Map();
  for (const line of order.lines) {
    if (line.voided) continue;
    const c = computeLine(line, { ...options, orderDiscount: order.discount || 0, currencyDigits });
    lines.push({ line, ...c });
    total += c.amount;
    tax += c.tax;
    discount += c.discountAmount;
    const r = byRate.get(c.rate) || { rate: c.rate, base: 0, tax: 0, gross: 0 };
    r.base += c.untaxed;
    r.tax += c.tax;
    r.gross += c.amount;
    byRate.set(c.rate, r);
  }
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
    taxes: [...byRate.values()].sort((a, b) => a.rate - b.rate),
    paid,
    tendered,
    due,
    change: tendered - paid,
    quantity: order.lines.reduce((q, l) => q + (l.voided ? 0 : l.quantity), 0),
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

// Price of a variable-measure barcode's embedded price: the quantity that
// gives that amount at the unit price (rounded to grams), so the line is
// still quantity x unit price as on the server.
export function quantityForAmount(amountMinor, unitPrice, currencyDigits = 2) {
  if (!unitPrice) return 0;
  const scaled = amountMinor * 10 ** (QTY_DIGITS + PRICE_DIGITS - currencyDigits);
  return divRound(scaled, unitPrice);
}

// Is a discount (bp) within a limit given as the server's decimal string?
export function withinLimit(discountBp, maxDiscount) {
  return discountBp <= percentToBp(maxDiscount ?? '0');
}
