// The retail_sync HTTP API (docs/sync-protocol.md, version 1). Everything
// that knows the wire format's URLs, headers and status codes is here.
import { PRICE_DIGITS, QTY_DIGITS, parseDecimal } from '../lib/money.js';

export const PROTOCOL_VERSION = 'v1';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  // 5xx (503 = database busy) and 429 are worth retrying with the same body.
  get retryable() {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }

  get revoked() {
    return this.status === 401;
  }
}

export class NetworkError extends Error {
  constructor(message) {
    super(message);
    this.name = 'NetworkError';
    this.retryable = true;
  }
}

export function apiBase(serverUrl, database) {
  const root = String(serverUrl || '').replace(/\/+$/, '');
  return `${root}/${encodeURIComponent(database)}/retail_sync/${PROTOCOL_VERSION}/`;
}

export class SyncApi {
  constructor({ serverUrl = '', database, deviceKey = null, appVersion = '0', fetchImpl, timeout = 15000 }) {
    this.base = apiBase(serverUrl, database);
    this.deviceKey = deviceKey;
    this.appVersion = appVersion;
    this.fetch = fetchImpl || globalThis.fetch.bind(globalThis);
    this.timeout = timeout;
  }

  async request(method, path, { body, auth = true, timeout = this.timeout } = {}) {
    const headers = { Accept: 'application/json' };
    if (auth) {
      if (!this.deviceKey) throw new ApiError(401, 'unauthorized', 'Not enrolled');
      headers.Authorization = `Bearer ${this.deviceKey}`;
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    let response;
    try {
      response = await this.fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (error) {
      throw new NetworkError(error?.name === 'AbortError' ? 'timeout' : String(error?.message || error));
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    const text = await response.text().catch(() => '');
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const err = data?.error || {};
      throw new ApiError(response.status, err.code || null, err.message || text.slice(0, 200));
    }
    if (data === null) throw new ApiError(response.status, 'bad_response', 'Not JSON');
    return data;
  }

  enroll(code, deviceName) {
    return this.request('POST', 'enroll', {
      auth: false,
      body: { code, app_version: this.appVersion, device_name: deviceName },
    });
  }

  bootstrap(page, limit = 2000) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (page) q.set('page', page);
    return this.request('GET', `bootstrap?${q}`, { timeout: 60000 });
  }

  // The pages of a whole bootstrap, fetched in any order (protocol 1.4):
  // {pages: [token], cursor, total}. An older server answers 404.
  bootstrapPlan(limit = 2000) {
    const q = new URLSearchParams({ limit: String(limit) });
    return this.request('GET', `bootstrap/plan?${q}`, { timeout: 60000 });
  }

  changes(cursor, limit = 1000) {
    const q = new URLSearchParams({ cursor, limit: String(limit) });
    return this.request('GET', `changes?${q}`, { timeout: 30000 });
  }

  push({ terminal, pendingOperations, cursor, operations }) {
    return this.request('POST', 'push', {
      body: {
        terminal,
        app_version: this.appVersion,
        pending_operations: pendingOperations,
        cursor,
        operations,
      },
      timeout: 60000,
    });
  }

  status({ pendingOperations, cursor }, timeout = 4000) {
    return this.request('POST', 'status', {
      body: { app_version: this.appVersion, pending_operations: pendingOperations, cursor },
      timeout,
    });
  }

  receipts() {
    return this.request('GET', 'receipts');
  }

  // The server's X/Z figures of one of this terminal's cash sessions
  // (protocol 1.2; read with sync/wire.js figuresFromWire).
  session(uuid) {
    return this.request('GET', `sessions/${encodeURIComponent(uuid)}`, { timeout: 5000 });
  }

  // A receipt of the company by number, for returns of sales made on
  // another till (protocol 1.1; read with receiptFromWire). Answers null
  // when there is none or the server does not offer it (1.0).
  async lookupReceipt(number) {
    try {
      return await this.request('GET', `receipts/${encodeURIComponent(number)}`, { timeout: 5000 });
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 400 || error.status === 405)) return null;
      throw error;
    }
  }
}

// The QR code of an enrollment: {"v":1,"database":"shop","code":"K7QM-3XRT","url":...}
export function parseEnrollmentPayload(text) {
  const raw = String(text || '').trim();
  if (raw.startsWith('{')) {
    try {
      const data = JSON.parse(raw);
      if (data && data.code) return { code: String(data.code).toUpperCase(), database: data.database || null, url: data.url || null };
    } catch {
      return null;
    }
  }
  const code = raw.toUpperCase().replace(/\s+/g, '');
  return code ? { code, database: null, url: null } : null;
}

// A receipt from `GET receipts/<number>` (protocol 1.1: {receipt, returns})
// as the till's journal holds a sale, for a return at this till. Lines keep
// the price charged (after discount) so the refund is what was paid; what
// the server's returns already took back is left out, by product. Line ids
// are stable (`<number>#<i>`) so returns made here count as well.
// `catalog` answers get(kind, id). Null when the answer has no receipt.
// `localReturns`: numbers of the returns this till's journal holds (it
// counts those itself, by line), left out of the server's.
export function receiptFromWire(data, catalog, { localReturns = new Set(), digits = 2 } = {}) {
  const rec = data?.receipt;
  if (!rec || !Array.isArray(rec.lines)) return null;
  const taken = returnedByProduct(data, { localReturns });
  const lines = [];
  rec.lines.forEach((l, i) => {
    const product = catalog.get('product', l.product);
    let quantity = parseDecimal(String(l.quantity), QTY_DIGITS);
    const already = Math.min(taken.get(l.product) || 0, quantity);
    taken.set(l.product, (taken.get(l.product) || 0) - already);
    quantity -= already;
    if (quantity <= 0) return;
    const lot = l.lot ? catalog.get('lot', l.lot) : null;
    const price = parseDecimal(String(l.price ?? l.unit_price), PRICE_DIGITS);
    lines.push({
      uuid: `${rec.number}#${i}`, product: l.product, name: product?.name || `#${l.product}`, code: product?.code || '',
      quantity, unitPrice: price, listUnitPrice: price, discount: 0, taxes: product?.taxes || [],
      lot: l.lot ? { id: l.lot, number: lot?.number || String(l.lot), expiry: lot?.sell_by ?? lot?.expiration_date ?? null } : null,
      lots: l.lots?.length > 1 ? l.lots.map((a) => ({ id: a.lot, number: catalog.get('lot', a.lot)?.number || String(a.lot), quantity: parseDecimal(String(a.quantity), QTY_DIGITS) })) : null,
      weighed: false, uom: null, priceOverridden: false, voided: false,
    });
  });
  // What the original was paid with (minor units): where a refund may go
  const payments = (rec.payments || []).map((p) => ({ method: p.method, amount: parseDecimal(String(p.amount), digits) }));
  const customer = rec.customer ? catalog.get('customer', rec.customer) : null;
  return {
    kind: 'sale', number: rec.number, remote: true,
    order: { kind: 'sale', lines, discount: 0, customer: customer ? { id: customer.id, uuid: customer.uuid, name: customer.name } : null, payments },
  };
}

// The refunds of the server's returns of a receipt (protocol 1.3: each
// return lists its payments), leaving out the returns numbered in
// `localReturns`: [{method, amount}] in minor units, negative.
export function refundsFromWire(data, { localReturns = new Set(), digits = 2 } = {}) {
  const out = [];
  for (const ret of data?.returns || []) {
    if (ret.number && localReturns.has(ret.number)) continue;
    for (const p of ret.payments || []) out.push({ method: p.method, amount: parseDecimal(String(p.amount), digits) });
  }
  return out;
}

// What the server's returns of a receipt took back, by product (quantities
// in thousandths, positive), leaving out the returns numbered in
// `localReturns` (made at this till: its journal counts them by line).
export function returnedByProduct(data, { localReturns = new Set() } = {}) {
  const taken = new Map();
  for (const ret of data?.returns || []) {
    if (ret.number && localReturns.has(ret.number)) continue;
    for (const l of ret.lines || []) {
      taken.set(l.product, (taken.get(l.product) || 0) + Math.abs(parseDecimal(String(l.quantity), QTY_DIGITS)));
    }
  }
  return taken;
}

// Take `taken` (by product, as returnedByProduct answers) off lines that
// carry `left` (returnable quantity, thousandths), first lines first.
export function withoutReturned(lines, taken) {
  const rest = new Map(taken);
  return lines.map((l) => {
    const already = Math.min(rest.get(l.product) || 0, l.left);
    if (already) rest.set(l.product, rest.get(l.product) - already);
    return { ...l, left: l.left - already };
  }).filter((l) => l.left > 0);
}
