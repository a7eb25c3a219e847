// A stand-in for the retail_sync API (protocol 1.4) and the /pos/ static
// files, for development, screenshots and the benchmark when no trytond with
// a large catalog is at hand. Not used by the end-to-end tests, which run
// against a real trytond.
//
//   node bench/mock-server.mjs [--port 8765] [--products 100000]
import { createServer } from 'node:http';
import { pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { extname, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const PORT = Number(args.port || 8765);
const N = Number(args.products || 2000);
const DB = args.database || 'demo';

function ean13(body12) {
  let sum = 0;
  for (let i = 0; i < 12; i += 1) sum += Number(body12[i]) * (i % 2 ? 3 : 1);
  return body12 + ((10 - (sum % 10)) % 10);
}

function pinHash(pin, iterations = 600000) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(pin, salt, iterations, 32, 'sha256');
  return `pbkdf2_sha256$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

const WORDS = ['Organic', 'Classic', 'Fresh', 'Premium', 'Light', 'Dark', 'Whole', 'Sparkling', 'Spicy', 'Sweet', 'Salted', 'Crunchy', 'Smooth', 'Golden', 'Wild'];
const NOUNS = ['Coffee', 'Tea', 'Chocolate', 'Cookies', 'Pasta', 'Rice', 'Juice', 'Water', 'Yogurt', 'Cheese', 'Bread', 'Cereal', 'Soup', 'Sauce', 'Crisps', 'T-shirt', 'Sneakers', 'Jeans'];
const SIZES = ['250 g', '500 g', '1 kg', '1 L', '33 cl', 'S', 'M', 'L', 'XL', '6 pack'];

function makeCatalog() {
  const products = [];
  products.push({ id: 1, template: 1, name: 'Bananas (kg)', code: 'BAN', salable: true, uom: 2, category: 1, list_price: '1.8868', gross_price: '2.0000', taxes: [2], barcodes: ['2112345000008'], lot_required: false });
  products.push({ id: 2, template: 2, name: 'Fresh milk 1 L', code: 'MILK1', salable: true, uom: 1, category: 2, list_price: '1.0377', gross_price: '1.1000', taxes: [2], barcodes: [ean13('541000000001')], lot_required: true });
  products.push({ id: 3, template: 3, name: 'Espresso 250 g', code: 'ESP250', salable: true, uom: 1, category: 3, list_price: '4.1322', gross_price: '5.0000', taxes: [1], barcodes: [ean13('541234567890')], lot_required: false });
  for (let i = 4; i <= N; i += 1) {
    const name = `${WORDS[i % WORDS.length]} ${NOUNS[(i * 7) % NOUNS.length]} ${SIZES[(i * 13) % SIZES.length]} #${i}`;
    const cents = 50 + ((i * 37) % 5000);
    products.push({
      id: i, template: Math.ceil(i / 4), name, code: `SKU${String(i).padStart(6, '0')}`, salable: true, uom: 1,
      category: 3, list_price: (cents / 121).toFixed(4), gross_price: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}00`,
      taxes: [1], barcodes: [ean13(`54${String(i).padStart(10, '0')}`)], lot_required: false,
    });
  }
  // Variants of one template: size, then colour (as retail_sync names them)
  const sizes = ['S', 'M', 'L'];
  const colours = [['white', 'White'], ['blue', 'Light Blue']];
  let variant = N + 1;
  for (const size of sizes) {
    for (const [colour, text] of colours) {
      products.push({
        id: variant, template: 900001, name: `Oxford Shirt (${size}, ${text})`, template_name: 'Oxford Shirt',
        attributes: [{ name: 'size', label: 'Size', value: size, text: size }, { name: 'colour', label: 'Colour', value: colour, text }],
        code: `OXF-${size}-${colour}`.toUpperCase(), salable: true, uom: 1, category: 4, list_price: '41.2810', gross_price: '49.9500',
        taxes: [1], barcodes: [ean13(`5412999${String(variant).padStart(5, '0')}`)], lot_required: false,
      });
      variant += 1;
    }
  }
  const today = new Date();
  const day = (d) => new Date(today.getTime() + d * 86400000).toISOString().slice(0, 10);
  return {
    branch: [{ id: 1, code: 'BXL', name: 'Brussels', timezone: 'Europe/Brussels', price_list: null, currency: 'EUR', lock_after_minutes: 5 }],
    terminal: [{ id: 4, name: 'Till 1', receipt_prefix: 'BXL1', tax_included: true, branch: 1 }],
    company: [{ id: 1, name: 'Demo Retail', currency: 'EUR', currency_digits: 2 }],
    uom: [{ id: 1, name: 'Unit', symbol: 'u', rounding: '1', digits: 0, category: 1 }, { id: 2, name: 'Kilogram', symbol: 'kg', rounding: '0.001', digits: 3, category: 2 }],
    category: [{ id: 1, name: 'Produce', parent: null }, { id: 2, name: 'Dairy', parent: null }, { id: 3, name: 'Grocery', parent: null }, { id: 4, name: 'Shirts', parent: null }],
    tax: [{ id: 1, name: 'VAT 21%', type: 'percentage', rate: '0.21', amount: null }, { id: 2, name: 'VAT 6%', type: 'percentage', rate: '0.06', amount: null }],
    payment_method: [{ id: 1, name: 'Cash', cash: true, type: 'cash' }, { id: 2, name: 'Card', cash: false, type: 'card' }, { id: 3, name: 'Mobile wallet', cash: false, type: 'wallet' }],
    cash_transfer_type: [{ id: 1, name: 'Float' }],
    price_list: [],
    product: products,
    lot: [
      { id: 10, number: 'M-OLD', product: 2, expiration_date: day(-2) },
      { id: 11, number: 'M-SOON', product: 2, expiration_date: day(3) },
      { id: 12, number: 'M-LATE', product: 2, expiration_date: day(10) },
    ],
    stock: [{ id: 2, product: 2, quantity: '30', lots: [{ lot: 10, quantity: '5' }, { lot: 11, quantity: '10' }, { lot: 12, quantity: '15' }] }],
    employee: [
      { id: 7, name: 'Alice Cashier', pin_hash: pinHash('1357'), permissions: { role: 'Cashier', max_discount: '5.00', allow_refund: false, allow_void: false, allow_price_override: false, allow_open_drawer: false, allow_close_session: false, allow_manager_override: false } },
      { id: 8, name: 'Bob Manager', pin_hash: pinHash('2468'), permissions: { role: 'Store Manager', max_discount: '50.00', allow_refund: true, allow_void: true, allow_price_override: true, allow_open_drawer: true, allow_close_session: true, allow_manager_override: true } },
    ],
    quick_key: [
      { id: 1, sequence: 10, product: 1, label: 'Bananas', colour: 'orange' },
      { id: 2, sequence: 20, product: 3, label: 'Espresso', colour: 'green' },
      { id: 3, sequence: 30, product: 2, label: 'Milk', colour: 'blue' },
    ],
    customer: [{ id: 88, uuid: randomUUID(), name: 'Ana Peeters', email: 'ana@example.org', phone: '+32 470 11 22 33', version: 1 }],
  };
}

const KIND_ORDER = ['branch', 'terminal', 'company', 'uom', 'category', 'tax', 'payment_method', 'cash_transfer_type', 'price_list', 'product', 'lot', 'stock', 'employee', 'customer', 'quick_key'];
const catalog = makeCatalog();
const flat = KIND_ORDER.flatMap((k) => catalog[k].map((r) => [k, r]));
const received = new Map();
const state = { down: false, keys: new Set(), codes: new Set(['DEMO-CODE']) };

function send(res, status, body, req) {
  let data = Buffer.from(JSON.stringify(body));
  const headers = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
  if (/gzip/.test(req.headers['accept-encoding'] || '') && data.length > 1024) {
    data = gzipSync(data, { level: 1 });
    headers['Content-Encoding'] = 'gzip';
  }
  res.writeHead(status, headers);
  res.end(data);
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.webmanifest': 'application/manifest+json', '.png': 'image/png' };

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const now = new Date().toISOString();
  if (url.pathname === '/__mock/down') {
    state.down = url.searchParams.get('v') === '1';
    return send(res, 200, { down: state.down }, req);
  }
  if (url.pathname === '/__mock/received') return send(res, 200, [...received.values()].map((r) => r.op), req);
  if (url.pathname.startsWith('/pos/')) {
    let file = join(dist, url.pathname.slice(5) || 'index.html');
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(dist, 'index.html');
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
    return res.end(readFileSync(file));
  }
  const prefix = `/${DB}/retail_sync/v1/`;
  if (!url.pathname.startsWith(prefix)) {
    res.writeHead(404);
    return res.end('not found');
  }
  if (state.down) {
    req.socket.destroy();
    return undefined;
  }
  const path = url.pathname.slice(prefix.length);
  if (path === 'enroll') {
    const b = await body(req);
    if (!state.codes.has(String(b.code).toUpperCase())) return send(res, 401, { error: { code: 'unauthorized', message: 'Unknown code' } }, req);
    const key = `rsk_mock_${randomBytes(16).toString('hex')}`;
    state.keys.add(key);
    return send(res, 200, { device_key: key, terminal: { id: 4, name: 'Till 1', receipt_prefix: 'BXL1' }, branch: { id: 1, code: 'BXL', name: 'Brussels' }, database: DB, server_time: now }, req);
  }
  const auth = (req.headers.authorization || '').replace(/^Bearer /, '');
  if (!state.keys.has(auth) && !auth.startsWith('rsk_mock_')) return send(res, 401, { error: { code: 'unauthorized', message: 'Unknown key' } }, req);
  if (path === 'bootstrap/plan') {
    // protocol 1.4: every page at once ('p<start>': a page of the plan)
    const limit = Math.min(Number(url.searchParams.get('limit') || 2000), 20000);
    const pages = [];
    for (let start = 0; start < flat.length; start += limit) pages.push(`p${start}`);
    return send(res, 200, { pages, cursor: 'v1.1.0', total: flat.length, server_time: now }, req);
  }
  if (path === 'bootstrap' && /^p\d+$/.test(url.searchParams.get('page') || '')) {
    const limit = Math.min(Number(url.searchParams.get('limit') || 2000), 20000);
    const start = Number(url.searchParams.get('page').slice(1));
    const records = {};
    for (const [k, r] of flat.slice(start, start + limit)) (records[k] ||= []).push(r);
    return send(res, 200, { records, next_page: null, cursor: null, total: flat.length, server_time: now }, req);
  }
  if (path === 'bootstrap') {
    const limit = Math.min(Number(url.searchParams.get('limit') || 2000), 10000);
    const start = Number(url.searchParams.get('page') || 0);
    const records = {};
    for (const [k, r] of flat.slice(start, start + limit)) (records[k] ||= []).push(r);
    const next = start + limit < flat.length ? String(start + limit) : null;
    return send(res, 200, { records, next_page: next, cursor: next ? null : 'v1.1.0', total: flat.length, server_time: now }, req);
  }
  if (path === 'changes') return send(res, 200, { changes: [], cursor: url.searchParams.get('cursor'), has_more: false, server_time: now }, req);
  if (path === 'status') {
    await body(req);
    return send(res, 200, { terminal: 4, server_time: now }, req);
  }
  if (path === 'push') {
    const b = await body(req);
    const results = (b.operations || []).map((op) => {
      const first = received.get(op.uuid);
      if (first) return { uuid: op.uuid, status: 'duplicate', first_status: 'accepted', result: first.result };
      const result = { sale: 1000 + op.sequence, number: op.payload?.receipt_number ? `BXL1-${String(op.payload.receipt_number).padStart(6, '0')}` : null, flags: [] };
      received.set(op.uuid, { op, result });
      return { uuid: op.uuid, status: 'accepted', result };
    });
    return send(res, 200, { results, server_time: now }, req);
  }
  if (path === 'receipts') return send(res, 200, { terminal: 4, receipt_prefix: 'BXL1', gaps: [], duplicates: [] }, req);
  return send(res, 404, { error: { code: 'not_found', message: path } }, req);
});

server.listen(PORT, '127.0.0.1', () => console.log(`mock retail_sync on http://127.0.0.1:${PORT}/pos/?db=${DB} (${N} products, code DEMO-CODE)`));
