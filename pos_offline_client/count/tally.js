// The count's lines as the phone shows them: the entries of a count added up
// per product and lot, in thousandths (integers, never binary floats), with
// the expected quantities of a count that is not blind. Pure, no storage.
import { isValidGtin, normalizeGtin, parseBarcode } from '../src/services/barcode.js';

const SCALE = 1000;

// '12.5' -> 12500; null when not a decimal with at most 3 decimals
export function toMilli(text) {
  const m = /^\s*(-?)(\d{1,9})(?:[.,](\d{0,3}))?\s*$/.exec(String(text ?? ''));
  if (!m) return null;
  const value = Number(m[2]) * SCALE + Number((m[3] || '').padEnd(3, '0'));
  return m[1] ? -value : value;
}

// 12500 -> '12.5'
export function fromMilli(milli) {
  const sign = milli < 0 ? '-' : '';
  const abs = Math.abs(milli);
  const whole = Math.floor(abs / SCALE);
  const frac = String(abs % SCALE).padStart(3, '0').replace(/0+$/, '');
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}

export function lineKey(product, lot, lotNumber) {
  if (lot) return `${product}:${lot}`;
  if (lotNumber) return `${product}:n:${lotNumber}`;
  return `${product}:`;
}

// The products and lots a phone pulled, indexed for scans.
export class Catalog {
  constructor({ products = [], lots = [] } = {}) {
    this.products = new Map();
    this.byCode = new Map();
    this.lots = new Map();
    this.lotsByProduct = new Map();
    for (const p of products) this.addProduct(p);
    for (const l of lots) this.addLot(l);
  }

  addProduct(product) {
    this.products.set(product.id, product);
    for (const code of [...(product.barcodes || []), product.code].filter(Boolean)) {
      this.byCode.set(code, product);
      if (isValidGtin(code)) this.byCode.set(normalizeGtin(code), product);
    }
  }

  addLot(lot) {
    this.lots.set(lot.id, lot);
    if (!this.lotsByProduct.has(lot.product)) this.lotsByProduct.set(lot.product, []);
    this.lotsByProduct.get(lot.product).push(lot);
  }

  lotOf(product, number) {
    return (this.lotsByProduct.get(product) || []).find((l) => l.number === number) || null;
  }

  // What a scan or a typed code names: {product, lot, lotNumber} or
  // {error: 'unknown'|'invalid', raw}
  resolve(raw) {
    const text = String(raw || '').trim();
    if (!text) return { error: 'invalid', raw: text };
    const direct = this.byCode.get(text);
    if (direct) return { product: direct, lot: null, lotNumber: null };
    const parsed = parseBarcode(text);
    if (parsed.type === 'invalid') return { error: 'invalid', raw: text };
    for (const key of parsed.keys || []) {
      const product = this.byCode.get(key);
      if (!product) continue;
      if (parsed.lot) {
        const lot = this.lotOf(product.id, parsed.lot);
        return { product, lot, lotNumber: lot ? null : parsed.lot };
      }
      return { product, lot: null, lotNumber: null };
    }
    return { error: 'unknown', raw: text };
  }
}

// The lines of one count: entries added up as they come.
export class Tally {
  constructor({ count, expected = [] }) {
    this.count = count;
    this.lines = new Map();
    this.clock = 0;
    for (const e of expected) {
      if (e.count !== count.id) continue;
      const line = this.line(e.product, e.lot, null);
      line.expected = toMilli(e.quantity);
    }
  }

  line(product, lot, lotNumber) {
    const key = lineKey(product, lot, lotNumber);
    let line = this.lines.get(key);
    if (!line) {
      line = { key, product, lot, lotNumber, counted: 0, entries: 0, expected: null, last: 0 };
      this.lines.set(key, line);
    }
    return line;
  }

  // entry: {product, lot, lot_number, quantity (decimal string)}; returns
  // the line it went to
  add(entry) {
    const line = this.line(entry.product, entry.lot || null, entry.lot_number || null);
    line.counted += toMilli(entry.quantity);
    line.entries += 1;
    this.clock += 1;
    line.last = this.clock;
    return line;
  }

  // The lines, the last counted first, then those not counted yet
  recent() {
    return [...this.lines.values()].sort((x, y) => y.last - x.last);
  }
}
