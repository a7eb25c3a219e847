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

// The price a product sells at for one unit, in the terminal's terms: tax
// included (gross_price) or not (list_price), as the catalog says.
export function unitPriceOf(product, catalog = null) {
  const taxIncluded = catalog?.taxIncluded ? catalog.taxIncluded() : true;
  const price = taxIncluded ? product.gross_price ?? product.list_price : product.list_price;
  return parseDecimal(price ?? '0', PRICE_DIGITS);
}

// Add a product: merges with the last line when it is the same product, lot
// and price (a second scan of a packaged good), never for weighed lines.
// With the catalog (services/catalog.js), a line priced by the catalog takes
// the branch's price at its quantity (price list quantity breaks), so a
// second scan merges with a line already priced at a break.
// `markdown`: the lot's markdown price (catalog.lotMarkdown): the line sells
// at it, not following the price list, and is not a price change.
export function addProduct(order, product, {
  quantity = 10 ** QTY_DIGITS, unitPrice, weighed = false, lot = null, uom = null, taxes, fromBarcode, catalog = null,
  markdown = null,
} = {}) {
  if (markdown !== null && markdown !== undefined) unitPrice = markdown;
  const price = unitPrice ?? unitPriceOf(product, catalog);
  const fromCatalog = unitPrice === undefined;
  const last = order.lines[order.lines.length - 1];
  if (last && !last.voided && !weighed && !last.weighed && last.product === product.id
      && (last.unitPrice === price || (catalog && fromCatalog && followsPriceList(last)))
      && (last.lot?.id ?? null) === (lot?.id ?? null)
      && !last.discount && Math.sign(last.quantity) === Math.sign(quantity)) {
    last.quantity += quantity;
    repriceLine(last, catalog);
    order.selected = order.lines.length - 1;
    return last;
  }
  const line = {
    uuid: uuid(), product: product.id, name: product.name, code: product.code || '',
    quantity, unitPrice: price, listUnitPrice: unitPriceOf(product, catalog), discount: 0,
    taxes: taxes ?? product.taxes ?? [], lot: lot ? { id: lot.id, number: lot.number, expiry: lot.expiration_date || null } : null,
    weighed, uom, priceOverridden: !fromCatalog && !fromBarcode && !isMarkdown(markdown), voided: false,
    priceFromLabel: !fromCatalog && Boolean(fromBarcode), priceNotice: fromCatalog ? product.price_notice ?? null : null,
  };
  if (isMarkdown(markdown)) line.markdown = { lot: lot.id, unitPrice: markdown };
  repriceLine(line, catalog);
  order.lines.push(line);
  order.selected = order.lines.length - 1;
  return line;
}

// Whether a line's price is the catalog's, to follow its quantity: not when
// the cashier changed it, the label carries it (price-embedded barcode) or
// the line returns a sold one (the price paid then).
export function followsPriceList(line) {
  return !line.priceOverridden && !line.priceFromLabel && !line.returnOf && !line.voided && !line.markdown;
}

function isMarkdown(markdown) {
  return markdown !== null && markdown !== undefined;
}

// The branch's price of a line at its quantity (catalog.unitPrice): the
// price list line that applies may change with the quantity. Answers
// whether the price changed; a line that does not follow the catalog, or a
// product the catalog no longer has, keeps its price.
export function repriceLine(line, catalog) {
  if (!catalog || !followsPriceList(line)) return false;
  const r = catalog.unitPrice(line.product, line.quantity);
  if (!r || r.unitPrice === null || r.unitPrice === undefined) return false;
  const changed = r.unitPrice !== line.unitPrice;
  line.unitPrice = r.unitPrice;
  line.listUnitPrice = r.unitPrice;
  line.priceNotice = r.notice ?? null;
  return changed;
}

// A new quantity for a line (milli-units; typed, stepped or weighed),
// repriced at that quantity.
export function setQuantity(line, quantity, catalog = null) {
  if (!Number.isSafeInteger(quantity) || quantity === 0) throw new RangeError(`Bad quantity ${quantity}`);
  line.quantity = quantity;
  line.weighed = line.weighed || quantity % 10 ** QTY_DIGITS !== 0;
  repriceLine(line, catalog);
  return line;
}

// One unit more (step 1) or less (step -1) of a counted line, away from
// zero for a return's negative quantity; never down to nothing (voiding a
// line is its own action). Answers whether the quantity changed.
export function stepQuantity(line, step, catalog = null) {
  if (line.weighed || line.voided) return false;
  const sign = line.quantity < 0 ? -1 : 1;
  const next = Math.abs(line.quantity) + step * 10 ** QTY_DIGITS;
  if (next <= 0) return false;
  setQuantity(line, sign * next, catalog);
  return true;
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

// A line's notice when the branch's price at its quantity needs the
// server (services/pricing.js): it sells at the product's own price.
export const PRICE_NOT_OFFLINE = 'price-not-offline';
