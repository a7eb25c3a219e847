// The catalog, filled from IndexedDB pages and delta changes.
//
// Measured on the target machines (DESIGN.md): one IndexedDB record per
// product writes 6-7k records/s, so bootstrap pages are stored as one record
// each. The large kinds (products and their stock, BLOCK_KINDS) of a page
// are kept as columns (services/blocks.js) with their indexes (barcodes,
// codes, the word-prefix index of the names) made once when the page
// arrives and stored with it: a start reads them back without decoding a
// product, and a lookup decodes only the product it finds. Records pulled
// one by one (delta changes) lie over the blocks in Maps, indexed the same
// way; name search is a word-prefix scan limited by the word-prefix index
// to the rows that can match.
//
// Products are served priced for the branch: when the branch has a price
// list, get/lookup/byCode/search/all return a view of the product whose
// gross_price and list_price are the branch's prices for one unit (the
// server's own prices stay in base_gross_price and base_list_price), made
// lazily and cached until the price list, taxes, categories or units change.
import { QTY_DIGITS } from '../lib/money.js';
import { layoutsToRules, normalizeGtin, setVariableRules } from './barcode.js';
import { BlockKind, decodeRow, encodeBlock, findKey, keyIndex, postingIndex, postings } from './blocks.js';
import { branchUnitPrice, compilePriceList, parseDecimalText, scaledPrice } from './pricing.js';

export const KINDS = [
  'branch', 'terminal', 'company', 'uom', 'category', 'tax', 'payment_method',
  'cash_transfer_type', 'price_list', 'product', 'lot', 'stock', 'employee', 'customer', 'settings',
  'quick_key',
];

// Kinds of bootstrap pages kept as columns (services/blocks.js).
export const BLOCK_KINDS = ['product', 'stock'];

// Name search: the rows having a word that starts with each key of this
// many characters (a shorter word is its own key), and with each longer key
// (codes share their first characters: SC00001234, SC00001235...).
const SEARCH_KEY = 3;
const SEARCH_LONG_KEY = 6;
const NO_ROWS = Object.freeze([]);

// Kinds whose change may change every product's branch price.
const PRICING_KINDS = new Set(['branch', 'price_list', 'tax', 'category', 'uom']);

export function normalizeText(text) {
  return String(text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

export function barcodeKey(code) {
  const c = String(code).trim();
  return /^\d+$/.test(c) ? normalizeGtin(c) : c.toUpperCase();
}

// What name search looks in: ' name code', words of letters and digits,
// accents and case ignored; '' for a product that is not sold.
export function searchText(p) {
  if (p.salable === false || p.active === false) return '';
  return ` ${normalizeText(p.name)} ${normalizeText(p.code)}`.replace(/[^\p{L}\p{N}]+/gu, ' ');
}

// The word-prefix keys of a search text's words.
function searchKeys(text, add) {
  for (const word of text.split(' ')) {
    if (!word) continue;
    add(word.slice(0, SEARCH_KEY));
    if (word.length >= SEARCH_LONG_KEY) add(word.slice(0, SEARCH_LONG_KEY));
  }
}

// A bootstrap page's records as the till stores them: {records (the small
// kinds, as they came), blocks ({kind: block} of BLOCK_KINDS, products with
// their barcode, code and search indexes)}.
export function packPage(records) {
  const rest = {};
  const blocks = {};
  for (const [kind, list] of Object.entries(records || {})) {
    if (BLOCK_KINDS.includes(kind) && Array.isArray(list) && list.length) blocks[kind] = encodeBlock(list);
    else rest[kind] = list;
  }
  if (blocks.product) indexProducts(blocks.product, records.product);
  return { records: rest, blocks };
}

function indexProducts(block, products) {
  const barcodes = [];
  const codes = [];
  products.forEach((p, row) => {
    for (const b of p.barcodes || []) barcodes.push([barcodeKey(b), row]);
    if (p.code) codes.push([String(p.code).toUpperCase(), row]);
  });
  block.indexes = { barcodes: keyIndex(barcodes), codes: keyIndex(codes), search: searchIndex(products) };
}

// The name search index of a block's products: their search texts (one
// string, off: row -> its start) and the word-prefix index of their words.
function searchIndex(products) {
  const texts = [];
  const keys = new Map();
  products.forEach((p, row) => {
    const text = searchText(p);
    texts.push(text);
    searchKeys(text, (key) => {
      const rows = keys.get(key);
      if (!rows) keys.set(key, [row]);
      else if (rows[rows.length - 1] !== row) rows.push(row);
    });
  });
  const off = new Uint32Array(texts.length + 1);
  texts.forEach((text, i) => { off[i + 1] = off[i] + text.length; });
  return { text: texts.join(''), off, index: postingIndex(keys) };
}

// The last date a lot may be sold: its sell-by date (the server's
// shelf_life_expiration_date, which posting checks), else its expiration
// date. `sell_by` is what the server sends; the others are read for records
// pulled before it sent it.
export function sellBy(lot) {
  return lot?.sell_by ?? lot?.shelf_life_expiration_date ?? lot?.expiration_date ?? null;
}

export class Catalog {
  constructor() {
    // The till's own stock moves not yet in the server's figure (db/stock.js):
    // device data, kept when the server's records are cleared
    this.localMoves = new Map();
    this.localByProduct = new Map();
    this.clear();
  }

  clear() {
    this.kinds = new Map(KINDS.map((k) => [k, BLOCK_KINDS.includes(k) ? new BlockKind() : new Map()]));
    this.barcodes = new Map();
    this.codes = new Map();
    this.lotsByProduct = new Map();
    this.searchDirty = true;
    this.searchIds = [];
    this.searchText = [];
    this.searchIndex = new Map();
    this.version = 0;
    this.pricing = null;
    this.priced = new Map();
    setVariableRules(null);
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
    return this.present(kind, this.kinds.get(kind)?.get(id) ?? null);
  }

  all(kind) {
    const list = [...this.map(kind).values()];
    return kind === 'product' ? list.map((p) => this.present(kind, p)) : list;
  }

  get size() {
    return this.map('product').size;
  }

  // A bootstrap page's records as the till stores them (packPage).
  pack(records) {
    return packPage(records);
  }

  // The blocks of a stored page (packPage), in the order of the pages'
  // numbers (`page`; without one, after those already there): the pages
  // of a plan arrive in any order.
  addBlocks(blocks, page = Infinity) {
    for (const [kind, block] of Object.entries(blocks || {})) {
      const m = this.map(kind);
      if (!(m instanceof BlockKind)) continue;
      m.addBlock(block, page);
      if (kind === 'product') this.priced.clear();
    }
    this.version += 1;
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
    this.pricingChanged(kind, rec.id);
    if (kind === 'settings') setVariableRules(layoutsToRules(rec.barcode_layouts));
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
    this.pricingChanged(kind, rec.id);
    if (kind === 'settings') setVariableRules(null);
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
    const products = this.map('product');
    for (const k of keys) {
      const id = this.barcodes.get(k);
      if (id !== undefined) {
        const p = products.get(id);
        if (p) return this.present('product', p);
      }
      const found = this.inBlocks('barcodes', k);
      if (found) return found;
    }
    return null;
  }

  byCode(code) {
    const key = String(code).trim().toUpperCase();
    const id = this.codes.get(key);
    return id === undefined ? this.inBlocks('codes', key) : this.get('product', id);
  }

  // The product of a key in the blocks' index (the last block first),
  // unless a record pulled since replaced or deleted it.
  inBlocks(index, key) {
    const products = this.map('product');
    for (let b = products.blocks.length - 1; b >= 0; b -= 1) {
      const block = products.blocks[b];
      if (!block.indexes?.[index]) continue;
      for (const row of findKey(block.indexes[index], key)) {
        const id = block.ids[row];
        if (products.live(id)) return this.get('product', id);
      }
    }
    return null;
  }

  // fn(id, ...values of fields) for every product, without decoding the
  // products of the blocks.
  scanProducts(fields, fn) {
    this.map('product').scan(fields, fn);
  }

  // Up to n barcodes of the catalog (benchmarks, tests).
  sampleBarcodes(n = Infinity) {
    const out = [...this.barcodes.keys()].slice(0, n);
    for (const block of this.map('product').blocks) {
      const idx = block.indexes?.barcodes;
      if (!idx) continue;
      for (let i = 0; i < idx.num.length && out.length < n; i += 1) out.push(String(idx.num[i]).slice(1));
      for (let i = 0; i < idx.strRow.length && out.length < n; i += 1) out.push(idx.str.slice(idx.strOff[i], idx.strOff[i + 1]));
    }
    return out;
  }

  // -- branch prices ----------------------------------------------------------
  pricingChanged(kind, id) {
    if (PRICING_KINDS.has(kind)) {
      this.pricing = null;
      this.priced.clear();
    } else if (kind === 'product') {
      this.priced.delete(id);
    }
  }

  // The branch's compiled price list (null when it has none).
  priceList() {
    if (this.pricing === null) {
      const branch = this.map('branch').values().next().value;
      const record = branch?.price_list ? this.map('price_list').get(branch.price_list) : null;
      this.pricing = { list: compilePriceList(record) };
    }
    return this.pricing.list;
  }

  // The product's categories and all their parents (what price list lines
  // match on, as Tryton's categories_all).
  categoriesOf(product) {
    const result = new Set();
    const categories = this.map('category');
    const start = product.categories ?? (product.category ? [product.category] : []);
    for (let id of start) {
      while (id !== null && id !== undefined && !result.has(id)) {
        result.add(id);
        id = categories.get(id)?.parent ?? null;
      }
    }
    return result;
  }

  // Whether the terminal sells at tax-included prices (the `terminal`
  // record's tax_included; a till has one terminal record).
  taxIncluded() {
    const terminal = this.all('terminal')[0];
    return terminal ? terminal.tax_included !== false : true;
  }

  // The unit price of quantity (milli-units of the product's sale unit) of
  // a product at this branch: {unitPrice (the terminal's: tax included
  // or not), listUnitPrice (untaxed)} (PRICE_DIGITS integers), source ('price_list' or 'base') and
  // notice ('price-not-offline' when the branch price needs the server and
  // the product's own price applies).
  unitPrice(productOrId, quantity = 10 ** QTY_DIGITS) {
    const id = typeof productOrId === 'object' ? productOrId.id : productOrId;
    const product = this.map('product').get(id);
    if (!product) return null;
    const r = this.branchPrice(product, quantity);
    return {
      unitPrice: scaledPrice((this.taxIncluded() ? r.gross ?? r.untaxed : r.untaxed) ?? '0'), listUnitPrice: scaledPrice(r.untaxed),
      source: r.source, notice: r.notice, line: r.line,
    };
  }

  branchPrice(product, quantity = 10 ** QTY_DIGITS) {
    const list = this.priceList();
    const uoms = this.map('uom');
    return branchUnitPrice(list, product, {
      categories: list ? this.categoriesOf(product) : [],
      quantity: parseDecimalText(`${quantity}e-${QTY_DIGITS}`),
      uoms: { from: uoms.get(product.uom), to: uoms.get(product.default_uom ?? product.uom) },
      taxRecords: (product.taxes || []).map((t) => this.map('tax').get(t)),
    });
  }

  // A product as the till sells it: priced for the branch.
  present(kind, rec) {
    if (kind !== 'product' || !rec || !this.priceList()) return rec;
    let view = this.priced.get(rec.id);
    if (!view) {
      const r = this.branchPrice(rec);
      view = {
        ...rec, gross_price: r.gross, list_price: r.untaxed,
        base_gross_price: rec.gross_price ?? null, base_list_price: rec.list_price ?? null,
        price_source: r.source, price_notice: r.notice,
      };
      this.priced.set(rec.id, view);
    }
    return view;
  }

  // The search rows of the products pulled one by one (salable products:
  // their words, id) and their word-prefix index: key (a word's first
  // SEARCH_KEY characters, and its first SEARCH_LONG_KEY ones) -> the rows,
  // in order, having such a word. A query word of SEARCH_KEY characters or
  // more is only looked for in its longest key's rows, so a rare word does
  // not scan the catalog. The blocks carry the same index (packPage).
  buildSearch() {
    const ids = [];
    const texts = [];
    const index = new Map();
    for (const p of this.map('product').overlay.values()) {
      const text = searchText(p);
      if (!text) continue;
      const row = ids.length;
      ids.push(p.id);
      texts.push(text);
      searchKeys(text, (key) => {
        const rows = index.get(key);
        if (!rows) index.set(key, [row]);
        else if (rows[rows.length - 1] !== row) rows.push(row);
      });
    }
    this.searchIds = ids;
    this.searchText = texts;
    this.searchIndex = index;
    this.searchDirty = false;
  }

  // The rows a query's tokens (' word') may match: those of the indexed
  // token with the fewest rows, or null (every row) when no token is long
  // enough to be indexed.
  searchRows(tokens, get = (key) => this.searchIndex.get(key)) {
    let rows = null;
    for (const token of tokens) {
      if (token.length - 1 < SEARCH_KEY) continue;
      const length = token.length - 1 >= SEARCH_LONG_KEY ? SEARCH_LONG_KEY : SEARCH_KEY;
      const found = get(token.slice(1, 1 + length)) || NO_ROWS;
      if (rows === null || found.length < rows.length) rows = found;
    }
    return rows;
  }

  // Search the blocks' rows (products of the bootstrap not replaced since)
  // into results; answers whether the limit is reached.
  searchBlocks(tokens, results, seen, limit) {
    const products = this.map('product');
    for (const block of products.blocks) {
      if (!block.indexes) continue;
      // not read yet (loadCatalog): made from the block's columns
      if (!block.indexes.search) block.indexes.search = searchIndex(Array.from({ length: block.n }, (_, row) => decodeRow(block, row)));
      const s = block.indexes.search;
      const rows = this.searchRows(tokens, (key) => postings(s.index, key));
      const count = rows === null ? block.n : rows.length;
      outer: for (let k = 0; k < count; k += 1) {
        const i = rows === null ? k : rows[k];
        if (s.off[i] === s.off[i + 1]) continue;
        const hay = s.text.slice(s.off[i], s.off[i + 1]);
        for (let j = 0; j < tokens.length; j += 1) {
          if (hay.indexOf(tokens[j]) === -1) continue outer;
        }
        const id = block.ids[i];
        if (seen.has(id) || !products.live(id)) continue;
        seen.add(id);
        results.push(this.get('product', id));
        if (results.length >= limit) return true;
      }
    }
    return false;
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
    const tokens = q.split(/[^\p{L}\p{N}]+/u).filter(Boolean).map((w) => ` ${w}`);
    if (!tokens.length || results.length >= limit) return results;
    if (this.searchBlocks(tokens, results, seen, limit)) return results;
    if (this.searchDirty) this.buildSearch();
    const texts = this.searchText;
    const products = this.map('product');
    const rows = this.searchRows(tokens);
    const count = rows === null ? texts.length : rows.length;
    outer: for (let k = 0; k < count; k += 1) {
      const i = rows === null ? k : rows[k];
      const hay = texts[i];
      for (let j = 0; j < tokens.length; j += 1) {
        if (hay.indexOf(tokens[j]) === -1) continue outer;
      }
      const id = this.searchIds[i];
      if (seen.has(id)) continue;
      results.push(this.present('product', products.get(id)));
      if (results.length >= limit) break;
    }
    return results;
  }

  // Lots of a product with their branch stock (`quantity`, thousandths of
  // the product's default unit: the server's figure plus the till's own
  // moves not in it yet), first expiring first out as the server's FEFO
  // (retail's fefo_key): the earliest sell-by date, then the earliest
  // receipt (`receipt_date`, when the lot record has one), then the oldest
  // lot (lowest id); a missing date comes after every date.
  lotsOf(productId) {
    const ids = this.lotsByProduct.get(productId);
    if (!ids) return [];
    const stock = this.get('stock', productId);
    const qty = new Map((stock?.lots || []).map((l) => [l.lot, toMilli(l.quantity)]));
    const local = this.localByProduct.get(productId)?.lots;
    const lots = [];
    for (const id of ids) {
      const lot = this.get('lot', id);
      if (lot) lots.push({ ...lot, sell_by: sellBy(lot), quantity: (qty.get(id) ?? 0) + (local?.get(id) ?? 0) });
    }
    lots.sort((a, b) => (a.sell_by || '9999').localeCompare(b.sell_by || '9999')
      || (a.receipt_date || '9999').localeCompare(b.receipt_date || '9999') || a.id - b.id);
    return lots;
  }

  // -- stock at the till ------------------------------------------------------
  // The local figure of a product: the server's (the last `stock` record
  // pulled) plus the till's own sales, returns and counts it does not
  // include yet. {quantity, server, local} in thousandths of the product's
  // default unit; `known` is false when the till has neither a stock record
  // nor a move of the product (a service, or a product never stocked here).
  stockOf(productId) {
    const record = this.get('stock', productId);
    const local = this.localByProduct.get(productId);
    const server = record ? toMilli(record.quantity) : 0;
    const delta = local?.quantity ?? 0;
    return { quantity: server + delta, server, local: delta, known: Boolean(record || local) };
  }

  // The branch's low-stock mark of a product, from its stock record's
  // `min_quantity` and `target_quantity` (retail_stock: the branch's order
  // point, in the product's default unit): {quantity (the local figure,
  // stockOf), min, target (thousandths, target null when unset), low (the
  // local quantity under the minimum, as the server's low-stock list)};
  // null when the branch sets no minimum for it.
  lowStock(productId) {
    const record = this.get('stock', productId);
    if (!record || record.min_quantity === null || record.min_quantity === undefined) return null;
    const { quantity } = this.stockOf(productId);
    const min = toMilli(record.min_quantity);
    const target = record.target_quantity === null || record.target_quantity === undefined ? null : toMilli(record.target_quantity);
    return { quantity, min, target, low: quantity < min };
  }

  // Whether the till keeps stock of a product: goods (the server's `type`;
  // a record without it counts when it has a stock figure).
  stocked(productId) {
    const p = this.map('product').get(productId);
    if (!p) return false;
    if (p.type) return p.type !== 'service';
    return this.stockOf(productId).known;
  }

  // Quantity (thousandths of the sale unit) in the product's default unit,
  // as Tryton's Uom.compute_qty converts.
  toStockUnit(productId, milli) {
    const p = this.map('product').get(productId);
    if (!p || !p.default_uom || !p.uom || p.uom === p.default_uom) return milli;
    const from = this.map('uom').get(p.uom);
    const to = this.map('uom').get(p.default_uom);
    if (!from || !to) return milli;
    let amount = from.accurate_field === 'rate' ? milli / from.rate : milli * from.factor;
    amount = to.accurate_field === 'rate' ? amount * to.rate : amount / to.factor;
    return Math.round(amount);
  }

  setLocalMoves(moves) {
    this.localMoves = new Map(moves.map((m) => [m.id, m]));
    this.indexLocal();
  }

  addLocalMoves(moves) {
    for (const m of moves) this.localMoves.set(m.id, m);
    this.indexLocal();
  }

  indexLocal() {
    const by = new Map();
    for (const m of this.localMoves.values()) {
      let entry = by.get(m.product);
      if (!entry) by.set(m.product, (entry = { quantity: 0, lots: new Map() }));
      entry.quantity += m.quantity;
      if (m.lot !== null && m.lot !== undefined) entry.lots.set(m.lot, (entry.lots.get(m.lot) || 0) + m.quantity);
    }
    this.localByProduct = by;
    this.version += 1;
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
  const fresh = inStock.find((l) => !isExpired(l, today));
  if (fresh) return { lot: fresh };
  if (inStock.length) return { lot: null, expired: inStock[0] };
  return { lot: null };
}

// The markdown price of a lot sold on `today` (ISO date): the unit price
// (PRICE_DIGITS integer, in the terminal's terms: tax included when it
// sells tax included) of the lot's markdown in the branch that started
// last on or before today and has not ended (`end_date` null or on or after
// today), as the server's retail_stock compares a sold lot's price
// (docs/sync-protocol.md "Record shapes", `lot` markdowns: sent oldest start
// first, so the last one that applies wins); null without one.
export function lotMarkdown(lot, today) {
  let found = null;
  for (const m of lot?.markdowns || []) {
    if (!m || !m.start_date || m.start_date > today) continue;
    if (m.end_date && m.end_date < today) continue;
    if (!found || m.start_date >= found.start_date) found = m;
  }
  return found ? scaledPrice(found.unit_price) : null;
}

// Past its sell-by date on `today` (ISO date): posting refuses it.
export function isExpired(lot, today) {
  const date = sellBy(lot);
  return Boolean(date && date < today);
}

// The lots a quantity (thousandths of the product's default unit, > 0) is
// taken from, as the server splits a line (docs/sync-protocol.md "Lots"):
// first expiring first out over the lots with stock that are not past
// their sell-by date (all lots when every lot is); what exceeds their
// stock comes from the last lot used (the first one when none has stock).
// `taken`: Map(lot id -> thousandths) already allocated to other lines of
// the order. Answers [{lot, quantity}] (empty without lots).
export function allocateLots(catalog, productId, quantity, today, taken = new Map()) {
  const lots = catalog.lotsOf(productId);
  if (!lots.length || quantity <= 0) return [];
  const fresh = lots.filter((l) => !isExpired(l, today));
  const candidates = fresh.length ? fresh : lots;
  const out = [];
  let remaining = quantity;
  for (const lot of candidates) {
    if (remaining <= 0) break;
    const left = lot.quantity - (taken.get(lot.id) || 0);
    if (left <= 0) continue;
    const take = Math.min(left, remaining);
    out.push({ lot, quantity: take });
    remaining -= take;
  }
  if (remaining > 0) {
    if (out.length) out[out.length - 1].quantity += remaining;
    else out.push({ lot: candidates[0], quantity: remaining });
  }
  for (const a of out) taken.set(a.lot.id, (taken.get(a.lot.id) || 0) + a.quantity);
  return out;
}

function toMilli(value) {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? Math.round(n * 1000) : 0;
}
