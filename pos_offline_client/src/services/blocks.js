// Records of a large kind (products, their stock) kept as columns: one
// block per bootstrap page, stored as such in IndexedDB and decoded one
// record at a time when asked for.
//
// Why (docs/benchmarks.md "POS client"): 500,000 product objects decoded
// from IndexedDB at each start took 20 s and 199 MB of JS heap. A block is a
// few typed arrays and long strings: IndexedDB reads it back as a copy of
// its bytes, it takes a fraction of the objects' memory, and a lookup
// decodes only the record it finds.
//
// A block: {n, ids (Float64Array), sorted (ids ascending), order (rows by
// id when not sorted), fields (but id), cols: {field: column}, indexes}.
// Columns:
//   {t: 'dict', values, idx}  few distinct values (idx: row -> value)
//   {t: 'num', v}             numbers, every row has one
//   {t: 'str', s, off}        strings, every row has one (row i is
//                             s.slice(off[i], off[i + 1]))
//   {t: 'json', s, off}       anything else, as JSON text ('' absent)
//   {t: 'id'}                 the record's id (a stock record's product)
//   {t: 'same', of}           the value of the string column `of` (a
//                             product's template_name equal to its name)
// A field absent from a record is absent from its decoded record.

const DICT_MAX = 4096;

function arrayFor(max) {
  if (max < 256) return Uint8Array;
  if (max < 65536) return Uint16Array;
  return Uint32Array;
}

function joinStrings(strings) {
  const off = new Uint32Array(strings.length + 1);
  let total = 0;
  for (let i = 0; i < strings.length; i += 1) {
    total += strings[i].length;
    off[i + 1] = total;
  }
  return { s: strings.join(''), off };
}

function encodeColumn(values) {
  const distinct = new Map();
  let allNum = true;
  let allStr = true;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) allNum = false;
    if (typeof v !== 'string') allStr = false;
    if (distinct.size <= DICT_MAX) {
      const key = typeof v === 'object' && v !== null ? `o${JSON.stringify(v)}` : `${typeof v}:${v}`;
      if (!distinct.has(key)) distinct.set(key, { value: v, index: distinct.size });
    }
  }
  if (distinct.size <= DICT_MAX && distinct.size * 4 <= values.length + 4) {
    const keys = [];
    const list = [];
    for (const [key, entry] of distinct) {
      keys.push(key);
      list.push(entry.value);
    }
    const position = new Map(keys.map((k, i) => [k, i]));
    const idx = new (arrayFor(list.length))(values.length);
    values.forEach((v, i) => {
      const key = typeof v === 'object' && v !== null ? `o${JSON.stringify(v)}` : `${typeof v}:${v}`;
      idx[i] = position.get(key);
    });
    return { t: 'dict', values: list, idx };
  }
  if (allNum) return { t: 'num', v: Float64Array.from(values) };
  if (allStr) return { t: 'str', ...joinStrings(values) };
  return { t: 'json', ...joinStrings(values.map((v) => (v === undefined ? '' : JSON.stringify(v)))) };
}

function columnValue(col, row, ids, cols) {
  switch (col.t) {
    case 'id':
      return ids[row];
    case 'same':
      return columnValue(cols[col.of], row, ids, cols);
    case 'dict': {
      const v = col.values[col.idx[row]];
      // a shared object: each record gets its own copy
      return typeof v === 'object' && v !== null ? structuredClone(v) : v;
    }
    case 'num':
      return col.v[row];
    case 'str':
      return col.s.slice(col.off[row], col.off[row + 1]);
    default: {
      const text = col.s.slice(col.off[row], col.off[row + 1]);
      return text ? JSON.parse(text) : undefined;
    }
  }
}

// Columns of records (objects with a numeric `id`).
export function encodeBlock(records) {
  const n = records.length;
  const fields = [];
  const seen = new Set();
  for (const rec of records) {
    for (const f of Object.keys(rec)) {
      // the id is in ids
      if (f !== 'id' && !seen.has(f)) {
        seen.add(f);
        fields.push(f);
      }
    }
  }
  const cols = {};
  const strings = [];
  for (const f of fields) {
    // a field equal to the id (a stock record's product) is not stored,
    // nor a string field equal to an earlier one (a product's
    // template_name is its name unless it is a variant with attributes)
    const same = strings.find((g) => records.every((r) => r[f] === r[g]));
    if (records.every((r) => r[f] === r.id)) cols[f] = { t: 'id' };
    else if (same) cols[f] = { t: 'same', of: same };
    else {
      cols[f] = encodeColumn(records.map((r) => r[f]));
      if (cols[f].t === 'str') strings.push(f);
    }
  }
  const ids = Float64Array.from(records, (r) => r.id);
  let sorted = true;
  for (let i = 1; i < n && sorted; i += 1) sorted = ids[i - 1] < ids[i];
  let order = null;
  if (!sorted) {
    order = Uint32Array.from(records.keys());
    order.sort((a, b) => ids[a] - ids[b]);
  }
  return { n, ids, sorted, order, fields, cols, indexes: {} };
}

export function decodeRow(block, row) {
  const rec = { id: block.ids[row] };
  for (const f of block.fields) {
    const v = columnValue(block.cols[f], row, block.ids, block.cols);
    if (v !== undefined) rec[f] = v;
  }
  return rec;
}

// One field of a row, without decoding the record.
export function fieldOf(block, field, row) {
  const col = block.cols[field];
  return col ? columnValue(col, row, block.ids, block.cols) : undefined;
}

// The row of an id in a block, or -1.
export function rowOf(block, id) {
  const { ids, order } = block;
  let lo = 0;
  let hi = block.n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const row = order ? order[mid] : mid;
    const v = ids[row];
    if (v === id) return row;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

// -- key indexes ---------------------------------------------------------
// A sorted index of string keys to rows: keys of digits only (barcodes)
// as numbers ('1' put before them keeps their leading zeros), others as
// one joined string. {num, numRow, str, strOff, strRow}.
function numericKey(key) {
  return /^\d{1,15}$/.test(key) ? Number(`1${key}`) : null;
}

export function keyIndex(pairs) {
  const nums = [];
  const strs = [];
  for (const [key, row] of pairs) {
    const k = numericKey(key);
    if (k === null) strs.push([key, row]);
    else nums.push([k, row]);
  }
  nums.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  strs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  return {
    num: Float64Array.from(nums, (p) => p[0]),
    numRow: Uint32Array.from(nums, (p) => p[1]),
    ...(() => {
      const { s, off } = joinStrings(strs.map((p) => p[0]));
      return { str: s, strOff: off };
    })(),
    strRow: Uint32Array.from(strs, (p) => p[1]),
  };
}

// The rows of a key, in row order.
export function findKey(index, key) {
  const k = numericKey(key);
  const rows = [];
  if (k !== null) {
    const { num, numRow } = index;
    let lo = 0;
    let hi = num.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (num[mid] < k) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < num.length && num[i] === k; i += 1) rows.push(numRow[i]);
    return rows;
  }
  const { str, strOff, strRow } = index;
  const count = strRow.length;
  const at = (i) => str.slice(strOff[i], strOff[i + 1]);
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (at(mid) < key) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < count && at(i) === key; i += 1) rows.push(strRow[i]);
  return rows;
}

// A prefix index: key -> the rows, ascending, as one Uint32Array
// (CSR): {keys (a key index of key -> its number), start, rows}.
export function postingIndex(map) {
  const keys = [...map.keys()];
  const start = new Uint32Array(keys.length + 1);
  let total = 0;
  keys.forEach((k, i) => {
    total += map.get(k).length;
    start[i + 1] = total;
  });
  const rows = new Uint32Array(total);
  keys.forEach((k, i) => rows.set(map.get(k), start[i]));
  return { keys: keyIndex(keys.map((k, i) => [k, i])), start, rows };
}

// The rows (a Uint32Array view) of a key of a posting index.
export function postings(index, key) {
  const found = findKey(index.keys, key);
  if (!found.length) return null;
  const i = found[0];
  return index.rows.subarray(index.start[i], index.start[i + 1]);
}

// -- a kind as a Map ------------------------------------------------------
// The records of a kind: the blocks, under an overlay of records put one
// by one (delta changes, small pages) and ids deleted. Answers as a Map of
// id -> record (get, has, set, delete, size, values, keys, entries, in the
// blocks' order then the overlay's).
const CACHE = 4096;

export class BlockKind {
  constructor() {
    this.blocks = [];
    this.orders = [];
    this.overlay = new Map();
    this.added = new Set();
    this.gone = new Set();
    this.baseCount = 0;
    this.cache = new Map();
  }

  // A block in the order of `order` (blocks of equal order in the order
  // they came).
  addBlock(block, order = Infinity) {
    let at = this.blocks.length;
    while (at > 0 && this.orders[at - 1] > order) at -= 1;
    this.blocks.splice(at, 0, block);
    this.orders.splice(at, 0, order);
    this.baseCount += block.n;
    this.cache.clear();
  }

  // {block, row} of an id in the blocks (the last block that has it).
  locate(id) {
    for (let b = this.blocks.length - 1; b >= 0; b -= 1) {
      const block = this.blocks[b];
      const row = rowOf(block, id);
      if (row >= 0) return { block, row };
    }
    return null;
  }

  // Whether the blocks' record of an id stands (not replaced, not deleted).
  live(id) {
    return !this.overlay.has(id) && !this.gone.has(id);
  }

  get(id) {
    const rec = this.overlay.get(id);
    if (rec !== undefined) return rec;
    if (this.gone.has(id) || !this.blocks.length) return undefined;
    let cached = this.cache.get(id);
    if (cached === undefined) {
      const at = this.locate(id);
      if (!at) return undefined;
      cached = decodeRow(at.block, at.row);
      if (this.cache.size >= CACHE) this.cache.delete(this.cache.keys().next().value);
      this.cache.set(id, cached);
    }
    return cached;
  }

  has(id) {
    return this.get(id) !== undefined;
  }

  set(id, rec) {
    if (!this.overlay.has(id)) {
      const inBase = this.blocks.length && this.locate(id) !== null;
      if (inBase) this.gone.delete(id);
      else this.added.add(id);
    }
    this.overlay.set(id, rec);
    this.cache.delete(id);
    return this;
  }

  delete(id) {
    const had = this.has(id);
    this.overlay.delete(id);
    this.added.delete(id);
    this.cache.delete(id);
    if (this.blocks.length && this.locate(id) !== null) this.gone.add(id);
    return had;
  }

  clear() {
    this.blocks = [];
    this.orders = [];
    this.overlay.clear();
    this.added.clear();
    this.gone.clear();
    this.baseCount = 0;
    this.cache.clear();
  }

  get size() {
    return this.baseCount - this.gone.size + this.added.size;
  }

  * entries() {
    for (const block of this.blocks) {
      for (let row = 0; row < block.n; row += 1) {
        const id = block.ids[row];
        if (this.gone.has(id)) continue;
        yield [id, this.overlay.get(id) ?? this.get(id)];
      }
    }
    for (const id of this.added) yield [id, this.overlay.get(id)];
  }

  * values() {
    for (const [, rec] of this.entries()) yield rec;
  }

  * keys() {
    for (const [id] of this.entries()) yield id;
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  forEach(fn) {
    for (const [id, rec] of this.entries()) fn(rec, id, this);
  }

  // Call fn(id, ...values of fields) for every record, reading the
  // blocks' columns without decoding their records.
  scan(fields, fn) {
    for (const block of this.blocks) {
      for (let row = 0; row < block.n; row += 1) {
        const id = block.ids[row];
        if (!this.live(id)) continue;
        fn(id, ...fields.map((f) => fieldOf(block, f, row)));
      }
    }
    for (const [id, rec] of this.overlay) fn(id, ...fields.map((f) => rec[f]));
  }
}
