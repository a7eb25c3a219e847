// The catalog in memory, filled from IndexedDB pages and delta changes.
//
// Measured on the target machines (DESIGN.md): one IndexedDB record per
// product writes 6-7k records/s, so bootstrap pages are stored as one record
// each; lookups go through in-memory Maps (microseconds) and name search is a
// word-prefix scan over a prepared array (about 3 ms p95 for 100k names).
import { SENSITIVE_KINDS } from '../db/schema.js';
import { normalizeGtin } from './barcode.js';

export const KINDS = [
  'branch', 'terminal', 'company', 'uom', 'category', 'tax', 'payment_method',
  'cash_transfer_type', 'price_list', 'product', 'lot', 'stock', 'employee', 'customer',
];

export function normalizeText(text) {
  return String(text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

export function barcodeKey(code) {
  const c = String(code).trim();
  return /^\d+$/.test(c) ? normalizeGtin(c) : c.toUpperCase();
}

export class Catalog {
  constructor() {
    this.clear();
  }

  clear() {
    this.kinds = new Map(KINDS.map((k) => [k, new Map()]));
    this.barcodes = new Map();
    this.codes = new Map();
    this.lotsByProduct = new Map();
    this.searchDirty = true;
    this.searchIds = [];
    this.searchText = [];
    this.version = 0;
  }

  map(kind) {
    let m = this.kinds.get(kind);
    if (!m) {
      m = new Map();
      this.kinds.set(kind, m);
    }
    return m;
  }

  get(kind, id) {
    return this.kinds.get(kind)?.get(id) ?? null;
  }

  all(kind) {
    return [...this.map(kind).values()];
  }

  get size() {
    return this.map('product').size;
  }

  // Records of a page or a change, in any order of kinds.
  putRecords(records) {
    for (const kind of Object.keys(records)) {
      const list = records[kind];
      if (!Array.isArray(list)) continue;
      for (const rec of list) this.upsert(kind, rec);
    }
  }

  upsert(kind, rec) {
    const m = this.map(kind);
    const old = m.get(rec.id);
    if (old) this.unindex(kind, old);
    m.set(rec.id, rec);
    this.index(kind, rec);
  }

  remove(kind, id) {
    const m = this.map(kind);
    const old = m.get(id);
    if (old) {
      this.unindex(kind, old);
      m.delete(id);
    }
  }

  index(kind, rec) {
    if (kind === 'product') {
      for (const b of rec.barcodes || []) this.barcodes.set(barcodeKey(b), rec.id);
      if (rec.code) this.codes.set(String(rec.code).toUpperCase(), rec.id);
      this.searchDirty = true;
    } else if (kind === 'lot') {
      let set = this.lotsByProduct.get(rec.product);
      if (!set) this.lotsByProduct.set(rec.product, (set = new Set()));
      set.add(rec.id);
    }
    this.version += 1;
  }

  unindex(kind, rec) {
    if (kind === 'product') {
      for (const b of rec.barcodes || []) {
        const k = barcodeKey(b);
        if (this.barcodes.get(k) === rec.id) this.barcodes.delete(k);
      }
      if (rec.code && this.codes.get(String(rec.code).toUpperCase()) === rec.id) {
        this.codes.delete(String(rec.code).toUpperCase());
      }
      this.searchDirty = true;
    } else if (kind === 'lot') {
      this.lotsByProduct.get(rec.product)?.delete(rec.id);
    }
  }

  applyChange(change) {
    if (change.op === 'delete') this.remove(change.kind, change.id);
    else if (change.data) this.upsert(change.kind, change.data);
  }

  // Lookup by barcode keys (already normalised by the barcode parser), then
  // by internal code.
  lookup(keys) {
    for (const k of keys) {
      const id = this.barcodes.get(k);
      if (id !== undefined) {
        const p = this.map('product').get(id);
        if (p) return p;
      }
    }
    return null;
  }

  byCode(code) {
    const id = this.codes.get(String(code).trim().toUpperCase());
    return id === undefined ? null : this.get('product', id);
  }

  buildSearch() {
    const ids = [];
    const texts = [];
    for (const p of this.map('product').values()) {
      if (p.salable === false || p.active === false) continue;
      ids.push(p.id);
      texts.push(` ${normalizeText(p.name)} ${normalizeText(p.code)}`.replace(/[^\p{L}\p{N}]+/gu, ' '));
    }
    this.searchIds = ids;
    this.searchText = texts;
    this.searchDirty = false;
  }

  // Products whose words start with every word of the query, by name, SKU or
  // barcode. Exact barcode / code hits come first.
  search(query, limit = 50) {
    const q = normalizeText(query).trim();
    if (!q) return [];
    const results = [];
    const seen = new Set();
    const exact = this.lookup([barcodeKey(q)]) || this.byCode(q);
    if (exact) {
      results.push(exact);
      seen.add(exact.id);
    }
    if (this.searchDirty) this.buildSearch();
    const tokens = q.split(/[^\p{L}\p{N}]+/u).filter(Boolean).map((w) => ` ${w}`);
    if (!tokens.length) return results;
    const texts = this.searchText;
    const products = this.map('product');
    outer: for (let i = 0; i < texts.length; i += 1) {
      const hay = texts[i];
      for (let j = 0; j < tokens.length; j += 1) {
        if (hay.indexOf(tokens[j]) === -1) continue outer;
      }
      const id = this.searchIds[i];
      if (seen.has(id)) continue;
      results.push(products.get(id));
      if (results.length >= limit) break;
    }
    return results;
  }

  // Lots of a product with their branch stock, first-expiring first.
  lotsOf(productId) {
    const ids = this.lotsByProduct.get(productId);
    if (!ids) return [];
    const stock = this.get('stock', productId);
    const qty = new Map((stock?.lots || []).map((l) => [l.lot, Number(l.quantity)]));
    const lots = [];
    for (const id of ids) {
      const lot = this.get('lot', id);
      if (lot) lots.push({ ...lot, quantity: qty.get(id) ?? 0 });
    }
    lots.sort((a, b) => (a.expiration_date || '9999').localeCompare(b.expiration_date || '9999') || a.id - b.id);
    return lots;
  }

  lotByNumber(productId, number) {
    const ids = this.lotsByProduct.get(productId);
    for (const id of ids || []) {
      const lot = this.get('lot', id);
      if (lot && lot.number === number) return lot;
    }
    return null;
  }
}

// First-expiring lot of the branch for a sale made `today` (ISO date):
// {lot} when a lot in stock has not expired, {expired: lot} when only expired
// lots remain in stock, {lot: null} when the branch has no lot in stock (the
// server then picks FEFO itself).
export function chooseLot(catalog, productId, today) {
  const lots = catalog.lotsOf(productId);
  const inStock = lots.filter((l) => l.quantity > 0);
  const fresh = inStock.find((l) => !l.expiration_date || l.expiration_date >= today);
  if (fresh) return { lot: fresh };
  if (inStock.length) return { lot: null, expired: inStock[0] };
  return { lot: null };
}

export function isExpired(lot, today) {
  return Boolean(lot?.expiration_date && lot.expiration_date < today);
}

// Split a page's records into what may stay in clear and what is encrypted.
export function splitSensitive(records) {
  const clear = {};
  const secret = {};
  let hasSecret = false;
  for (const [kind, list] of Object.entries(records || {})) {
    if (SENSITIVE_KINDS.has(kind)) {
      secret[kind] = list;
      hasSecret = true;
    } else {
      clear[kind] = list;
    }
  }
  return { clear, secret: hasSecret ? secret : null };
}
