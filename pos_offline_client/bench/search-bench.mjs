// Name search over N variants named as `setup/retail scale` names them
// ("Scale item 123 (XL)", code SC00000123-XL), plus a few demo products:
// the till's search (word-prefix index) beside a full scan of the same rows
// with the same matching, in the same process. Run by hand:
//     node bench/search-bench.mjs [--products 500000]
import { Catalog, normalizeText } from '../src/services/catalog.js';

const n = Number(process.argv[process.argv.indexOf('--products') + 1]) || 500000;
const SIZES = ['S', 'M', 'L', 'XL'];
const WORDS = ['scale item 4', 'item 98765', 'sc0001234', 'milk', 'yogurt',
  'banana', 'gouda', 'item 5 xl', 'jeans', 'scale 77'];
const catalog = new Catalog();
const products = [
  { id: 1, name: 'Fresh milk 1 L', code: 'MILK1' }, { id: 2, name: 'Greek yogurt', code: 'YOG' },
  { id: 3, name: 'Bananas (kg)', code: 'BAN' }, { id: 4, name: 'Slim jeans (32)', code: 'JEANS32' },
];
for (let id = 5, i = 1; id < n + 5; i += 1) {
  for (let v = 0; v < 4 && id < n + 5; v += 1, id += 1) {
    const code = `SC${String(i).padStart(8, '0')}-${SIZES[v]}`;
    products.push({ id, name: `Scale item ${i} (${SIZES[v]})`, code, barcodes: [] });
  }
}
catalog.putRecords({ product: products });
let t0 = performance.now();
catalog.buildSearch();
const build = performance.now() - t0;

function fullScan(query, limit) {
  const tokens = normalizeText(query).trim().split(/[^\p{L}\p{N}]+/u).filter(Boolean).map((w) => ` ${w}`);
  const out = [];
  outer: for (let i = 0; i < catalog.searchText.length; i += 1) {
    for (const t of tokens) if (catalog.searchText[i].indexOf(t) === -1) continue outer;
    out.push(catalog.searchIds[i]);
    if (out.length >= limit) break;
  }
  return out;
}

const pct = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.round(p / 100 * (v.length - 1)))];
const times = { index: [], scan: [] };
for (let i = 0; i < 300; i += 1) {
  const q = WORDS[i % WORDS.length];
  t0 = performance.now();
  const a = catalog.search(q, 30).map((p) => p.id);
  times.index.push(performance.now() - t0);
  t0 = performance.now();
  const b = fullScan(q, 30);
  times.scan.push(performance.now() - t0);
  if (JSON.stringify(a.filter((id) => b.includes(id))) !== JSON.stringify(b.filter((id) => a.includes(id)))) {
    throw new Error(`different results for ${q}`);
  }
}
const heap = process.memoryUsage().heapUsed / 2 ** 20;
console.log(`${n.toLocaleString('en')} variants; search rows built in ${build.toFixed(0)} ms; `
  + `${catalog.searchIndex.size.toLocaleString('en')} index keys; heap ${heap.toFixed(0)} MB`);
for (const [name, v] of Object.entries(times)) {
  console.log(`${name.padEnd(6)} p50/p95 ${pct(v, 50).toFixed(2)} / ${pct(v, 95).toFixed(2)} ms`);
}
for (const q of WORDS) {
  const i = WORDS.indexOf(q);
  const own = times.index.filter((_, k) => k % WORDS.length === i);
  const scan = times.scan.filter((_, k) => k % WORDS.length === i);
  console.log(`  ${q.padEnd(14)} index median ${pct(own, 50).toFixed(2)} ms, full scan median ${pct(scan, 50).toFixed(2)} ms`);
}
console.log(`load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
