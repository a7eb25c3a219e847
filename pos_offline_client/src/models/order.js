// The order being rung up (a sale or a return): pure functions over a plain
// object, so it can be parked, encrypted and resumed as is.
import { parseDecimal, PRICE_DIGITS, QTY_DIGITS } from '../lib/money.js';
import { uuid } from '../lib/uuid.js';
import { computeOrder } from '../services/pricing.js';

export function newOrder(kind = 'sale') {
  return {
    uuid: uuid(), kind, createdAt: Date.now(), lines: [], discount: 0, payments: [],
    customer: null, originalReceipt: null, overrides: [], selected: -1,
  };
}

export function unitPriceOf(product) {
  return parseDecimal(product.gross_price ?? product.list_price ?? '0', PRICE_DIGITS);
}

// Add a product: merges with the last line when it is the same product, lot
// and price (a second scan of a packaged good), never for weighed lines.
export function addProduct(order, product, {
  quantity = 10 ** QTY_DIGITS, unitPrice, weighed = false, lot = null, uom = null, taxes, fromBarcode,
} = {}) {
  const price = unitPrice ?? unitPriceOf(product);
  const last = order.lines[order.lines.length - 1];
  if (last && !last.voided && !weighed && !last.weighed && last.product === product.id
      && last.unitPrice === price && (last.lot?.id ?? null) === (lot?.id ?? null)
      && !last.discount && Math.sign(last.quantity) === Math.sign(quantity)) {
    last.quantity += quantity;
    order.selected = order.lines.length - 1;
    return last;
  }
  const line = {
    uuid: uuid(), product: product.id, name: product.name, code: product.code || '',
    quantity, unitPrice: price, listUnitPrice: unitPriceOf(product), discount: 0,
    taxes: taxes ?? product.taxes ?? [], lot: lot ? { id: lot.id, number: lot.number, expiry: lot.expiration_date || null } : null,
    weighed, uom, priceOverridden: unitPrice !== undefined && !fromBarcode, voided: false,
  };
  order.lines.push(line);
  order.selected = order.lines.length - 1;
  return line;
}

export function selectedLine(order) {
  const l = order.lines[order.selected];
  return l && !l.voided ? l : null;
}

export function activeLines(order) {
  return order.lines.filter((l) => !l.voided);
}

export function isEmpty(order) {
  return activeLines(order).length === 0;
}

export function totals(order, options) {
  return computeOrder(order, options);
}

// Combined percentage of a line discount and the order discount, in bp.
export function combinedDiscount(lineBp, orderBp) {
  return lineBp + orderBp - Math.round((lineBp * orderBp) / 10000);
}
