// The till's business actions, without any DOM: login, sessions, sales,
// returns, voids, parked orders, customers, reports. Every action that the
// server must know about is committed with its outbox entry (sync/outbox).
// Depends on: db (Dexie), vault, catalog, device {terminal, branch, prefix}.
import { formatDecimal, QTY_DIGITS } from '../lib/money.js';
import { uuid } from '../lib/uuid.js';
import { countMoves, orderMoves, putMoves } from '../db/stock.js';
import { commitOperation, formatReceiptNumber, readCounters } from '../sync/outbox.js';
import { verifyChain } from '../sync/journal.js';
import { auditPayloads, salePayload } from '../sync/wire.js';
import { allocateLots } from './catalog.js';
import {
  addTaxes, computeOrder, percentToBp, taxRecord,
} from './pricing.js';
import { verifyPin } from './pin.js';

export const PERMISSION_DEFAULTS = {
  role: null, max_discount: '0', allow_refund: false, allow_void: false, allow_price_override: false,
  allow_open_drawer: false, allow_close_session: false, allow_manager_override: false,
};

export class Register {
  constructor({ db, vault, catalog, device }) {
    Object.assign(this, { db, vault, catalog, device });
    this.taxCache = null;
    this.taxVersion = -1;
  }

  // -- reference data ------------------------------------------------------
  company() {
    return this.catalog.all('company')[0] || null;
  }

  currency() {
    const company = this.company();
    const branch = this.catalog.get('branch', this.device.branch?.id);
    const code = [branch?.currency, company?.currency].find((c) => typeof c === 'string' && /^[A-Z]{3}$/.test(c));
    const digits = Number.isInteger(company?.currency_digits) ? company.currency_digits : 2;
    return { code: code || this.device.currency || 'EUR', digits };
  }

  taxes() {
    if (this.taxVersion !== this.catalog.version || !this.taxCache) {
      const m = new Map();
      for (const t of this.catalog.all('tax')) {
        m.set(t.id, taxRecord(t));
      }
      this.taxCache = m;
      this.taxVersion = this.catalog.version;
    }
    return this.taxCache;
  }

  // Whether the terminal's prices include taxes (sale.point tax_included).
  taxIncluded() {
    const terminal = this.catalog.get('terminal', this.device.terminal?.id) || this.device.terminal;
    return terminal?.tax_included ?? true;
  }

  // The company's tax rounding (account configuration): 'document' or 'line'.
  taxRounding() {
    return this.company()?.tax_rounding === 'line' ? 'line' : 'document';
  }

  pricingOptions() {
    return {
      taxes: this.taxes(), currencyDigits: this.currency().digits,
      taxIncluded: this.taxIncluded(), taxRounding: this.taxRounding(),
    };
  }

  totals(order) {
    return computeOrder(order, this.pricingOptions());
  }

  paymentMethods() {
    return this.catalog.all('payment_method').sort((a, b) => (b.cash === true) - (a.cash === true) || a.id - b.id);
  }

  transferTypes() {
    return this.catalog.all('cash_transfer_type');
  }

  employees() {
    return this.catalog.all('employee').filter((e) => e.pin_hash).sort((a, b) => a.name.localeCompare(b.name));
  }

  permissions(employee) {
    return { ...PERMISSION_DEFAULTS, ...(employee?.permissions || {}) };
  }

  can(employee, flag) {
    return Boolean(this.permissions(employee)[flag]);
  }

  maxDiscountBp(employee) {
    return percentToBp(this.permissions(employee).max_discount || '0');
  }

  async checkPin(employeeId, pin) {
    const e = this.catalog.get('employee', employeeId);
    if (!e) return null;
    return (await verifyPin(pin, e.pin_hash)) ? e : null;
  }

  today() {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  }

  receiptNumber(n) {
    return formatReceiptNumber(this.device.terminal.receipt_prefix, n);
  }

  commit(args) {
    return commitOperation({ db: this.db, vault: this.vault, terminal: this.device.terminal.id, ...args });
  }

  // -- cash sessions -------------------------------------------------------
  async currentSession() {
    const rec = await this.db.sessions.where('state').equals('open').first();
    if (!rec) return null;
    return { uuid: rec.uuid, state: rec.state, openedAt: rec.openedAt, ...(await this.vault.decrypt(rec.enc)) };
  }

  async sessionByUuid(id) {
    const rec = await this.db.sessions.get(id);
    if (!rec) return null;
    return { uuid: rec.uuid, state: rec.state, openedAt: rec.openedAt, ...(await this.vault.decrypt(rec.enc)) };
  }

  // The session's UUID for the wire: only for a session whose opening told
  // the server its UUID (opened by this version of the till); one opened
  // before would be unknown to the server and its operations rejected.
  wireSession(session) {
    return session?.wire ? session.uuid : null;
  }

  // The server's figures of a session (sync/wire.js figuresFromWire), kept
  // with it: from the session_close result or GET sessions/<uuid>.
  // (Encryption happens outside the IndexedDB transaction, which would
  // commit while WebCrypto works; the write is skipped if the session
  // changed meanwhile: the next fetch keeps the figures then.)
  async saveServerFigures(id, figures) {
    const rec = await this.db.sessions.get(id);
    if (!rec) return false;
    const secret = await this.vault.decrypt(rec.enc);
    secret.server = { ...figures, fetchedAt: Date.now() };
    const enc = await this.vault.encrypt(secret);
    return this.db.transaction('rw', this.db.sessions, async () => {
      const current = await this.db.sessions.get(id);
      // a random IV per encryption: the same IV is the same record
      if (!current || String(current.enc?.iv) !== String(rec.enc?.iv)) return false;
      await this.db.sessions.put({ ...current, enc });
      return true;
    });
  }

  async saveSession(session, state) {
    const { uuid: id, openedAt } = session;
    const secret = { ...session };
    delete secret.uuid;
    delete secret.state;
    return { uuid: id, state, openedAt, enc: await this.vault.encrypt(secret) };
  }

  async openSession(openingMinor, employee) {
    const { digits } = this.currency();
    const session = { uuid: uuid(), openedAt: Date.now(), opening: openingMinor, employee: employee.id, transfers: [], counted: null, closedAt: null, wire: true };
    const rec = await this.saveSession(session, 'open');
    await this.commit({
      type: 'session_open', employee: employee.id, stores: ['sessions'],
      build: () => ({ payload: { session: session.uuid, opening_amount: formatDecimal(openingMinor, digits) }, extra: async () => this.db.sessions.put(rec) }),
    });
    return session;
  }

  async cashMove(kind, amountMinor, transferType, note, employee) {
    const session = await this.currentSession();
    if (!session) throw new Error('no-session');
    const { digits } = this.currency();
    session.transfers.push({ kind, amount: amountMinor, type: transferType, note, at: Date.now(), employee: employee.id });
    const rec = await this.saveSession(session, 'open');
    await this.commit({
      type: kind, employee: employee.id, stores: ['sessions'],
      build: () => ({
        payload: withSession({ amount: formatDecimal(amountMinor, digits), transfer_type: transferType, note: note || '' }, this.wireSession(session)),
        extra: async () => this.db.sessions.put(rec),
      }),
    });
  }

  async closeSession(countedMinor, denominations, employee) {
    const session = await this.currentSession();
    if (!session) throw new Error('no-session');
    const report = await this.report(session);
    const { digits } = this.currency();
    Object.assign(session, { counted: countedMinor, denominations, closedAt: Date.now(), closedBy: employee.id });
    const rec = await this.saveSession(session, 'closed');
    await this.commit({
      type: 'session_close', employee: employee.id, stores: ['sessions'],
      build: () => ({ payload: withSession(closePayload(countedMinor, denominations, digits), this.wireSession(session)), extra: async () => this.db.sessions.put(rec) }),
    });
    return { ...report, counted: countedMinor, difference: countedMinor - report.expectedCash, closedAt: session.closedAt };
  }

  // Check the till's own receipt journal (sync/journal.js): every chained
  // entry as committed, oldest first, against the head the till keeps.
  // Returns {entries, head, breaks: [{sequence, uuid, kind, message}]}.
  async verifyJournal() {
    const records = await this.db.chain.orderBy('seq').toArray();
    const operations = [];
    for (const rec of records) {
      try {
        operations.push(await this.vault.decrypt(rec.enc));
      } catch {
        operations.push({ sequence: rec.seq, uuid: rec.uuid, journal: null });
      }
    }
    const result = await verifyChain(operations, (await readCounters(this.db)).journal || null);
    for (const [i, rec] of records.entries()) {
      if (operations[i].journal?.hash !== rec.hash) {
        result.breaks.push({ sequence: rec.seq, uuid: rec.uuid, kind: 'edited', message: `The chain record's hash ${rec.hash} is not its entry's.` });
      }
    }
    return result;
  }

  // X (mid-shift) and Z (close) figures, computed from the local journal.
  async report(session) {
    const entries = await this.db.sales.where('sessionUuid').equals(session.uuid).toArray();
    const methods = new Map(this.paymentMethods().map((m) => [m.id, m]));
    const r = {
      session: session.uuid, openedAt: session.openedAt, opening: session.opening,
      sales: 0, salesTotal: 0, returns: 0, returnsTotal: 0, voids: 0, discounts: 0, tax: 0, taxes: new Map(),
      payments: new Map(), cashIn: 0, cashOut: 0, cashPayments: 0, lastReceipt: null,
    };
    for (const entry of entries) {
      const j = await this.vault.decrypt(entry.enc);
      if (j.kind === 'void') {
        r.voids += 1;
        continue;
      }
      if (j.kind === 'return') {
        r.returns += 1;
        r.returnsTotal += j.totals.total;
      } else {
        r.sales += 1;
        r.salesTotal += j.totals.total;
      }
      r.discounts += j.totals.discount;
      r.tax += j.totals.tax;
      addTaxes(r.taxes, j.totals.taxes);
      for (const p of j.order.payments) {
        r.payments.set(p.method, (r.payments.get(p.method) || 0) + p.amount);
        if (methods.get(p.method)?.cash) r.cashPayments += p.amount;
      }
      if (!r.lastReceipt || entry.number > r.lastReceipt) r.lastReceipt = entry.number;
    }
    for (const t of session.transfers || []) {
      if (t.kind === 'cash_in') r.cashIn += t.amount;
      else r.cashOut += t.amount;
    }
    r.net = r.salesTotal + r.returnsTotal;
    r.expectedCash = r.opening + r.cashPayments + r.cashIn - r.cashOut;
    r.taxes = [...r.taxes.values()].sort((a, b) => a.tax - b.tax);
    r.payments = [...r.payments].map(([method, amount]) => ({ method, name: methods.get(method)?.name || String(method), amount }));
    return r;
  }

  // -- sales ---------------------------------------------------------------
  // Commit a paid order: journal + receipt number + outbox, in one transaction.
  async commitSale(order, employee, { heldUuid = null } = {}) {
    const session = await this.currentSession();
    if (!session) throw new Error('no-session');
    const { digits } = this.currency();
    const type = order.kind === 'return' ? 'return' : 'sale';
    this.splitLots(order);
    let journal;
    let moves = [];
    const result = await this.commit({
      type, employee: employee.id, receipt: true, stores: heldUuid ? ['held', 'stock'] : ['stock'],
      build: ({ receiptNumber, clientTime, uuid: op }) => {
        const { payload, computed } = salePayload(order, { computed: this.totals(order), receiptNumber, digits, session: this.wireSession(session) });
        const number = this.receiptNumber(receiptNumber);
        const totals = {
          total: computed.total, tax: computed.tax, discount: computed.discount, paid: computed.paid,
          change: computed.change, taxes: computed.taxes,
        };
        journal = {
          kind: type, number, receiptNumber, clientTime, employee: { id: employee.id, name: employee.name },
          order: stripOrder(order), totals, lines: computed.lines.map((c) => ({
            uuid: c.line.uuid, amount: c.amount, unitGrossPrice: c.unitGrossPrice, tax: c.tax,
          })),
        };
        moves = orderMoves(this.catalog, order, op);
        return {
          payload,
          journal: { clear: { number, sessionUuid: session.uuid, kind: type }, secret: journal },
          extra: async () => {
            await putMoves(this.db, moves);
            if (heldUuid) await this.db.held.delete(heldUuid);
          },
          also: auditPayloads(order, { receipt: number }).map((p) => ({ type: 'audit', payload: p })),
        };
      },
    });
    this.catalog.addLocalMoves(moves);
    return { ...result, journal };
  }

  // -- stock -----------------------------------------------------------------
  // Split the lines whose lot the till chose (first expiring first out) over
  // the next lots when they are larger than the first one's local stock
  // (catalog.allocateLots, as the server does): line.lot stays the first
  // lot, line.lots lists each lot with its quantity (signed as the line)
  // when there are several. A return of a split line gives back to its
  // lots, the last one taken first. Lines whose sale unit is not the stock
  // unit are not split.
  splitLots(order, today = this.today()) {
    const taken = new Map();
    for (const line of order.lines) {
      if (line.voided) continue;
      if (line.returnOf) {
        if (line.lots?.length) line.lots = returnedLots(line.lots, Math.abs(line.quantity));
        continue;
      }
      // A markdown line sells its own lot at its price: not split
      if (!line.lotAuto || !line.lot || line.quantity <= 0 || line.markdown) continue;
      if (this.catalog.toStockUnit(line.product, 1000) !== 1000) continue;
      const parts = allocateLots(this.catalog, line.product, line.quantity, today, taken);
      if (!parts.length) continue;
      line.lot = lotRef(parts[0].lot);
      line.lots = parts.length > 1 ? parts.map((p) => ({ ...lotRef(p.lot), quantity: p.quantity })) : null;
    }
    return order;
  }

  // The order's quantity of a product beyond the local stock (thousandths
  // of the default unit; 0 when the stock covers it or the till keeps no
  // stock of the product). Selling beyond it only warns: a sale is a fact.
  shortfall(order, productId) {
    if (order.kind === 'return' || !this.catalog.stocked(productId)) return 0;
    let wanted = 0;
    for (const line of order.lines) {
      if (!line.voided && line.product === productId && line.quantity > 0) wanted += line.quantity;
    }
    const { quantity } = this.catalog.stockOf(productId);
    return Math.max(0, this.catalog.toStockUnit(productId, wanted) - Math.max(quantity, 0));
  }

  // A stock count (protocol `stock_count`): lines {product, lot, quantity
  // (thousandths counted)}; the local figures become what was counted at
  // once, the server books the difference as of the count's time.
  async countStock(lines, employee) {
    let moves = [];
    await this.commit({
      type: 'stock_count', employee: employee.id, stores: ['stock'],
      build: ({ uuid: op }) => {
        moves = countMoves(this.catalog, lines, op);
        return {
          payload: { lines: lines.map((l) => ({ product: l.product, lot: l.lot ?? null, quantity: formatDecimal(l.quantity, QTY_DIGITS) })) },
          extra: async () => putMoves(this.db, moves),
        };
      },
    });
    this.catalog.addLocalMoves(moves);
    return moves;
  }

  // Abandon an order that has lines: consumes a receipt number (protocol
  // "void"), so the audit trail shows it.
  async voidOrder(order, employee, reason, { heldUuid = null } = {}) {
    const session = await this.currentSession();
    return this.commit({
      type: 'void', employee: employee.id, receipt: true, stores: heldUuid ? ['held'] : [],
      build: ({ receiptNumber }) => ({
        payload: { receipt_number: receiptNumber, reason: reason || '' },
        journal: {
          clear: { number: this.receiptNumber(receiptNumber), sessionUuid: session?.uuid ?? '', kind: 'void' },
          secret: { kind: 'void', number: this.receiptNumber(receiptNumber), reason, order: stripOrder(order), employee: { id: employee.id, name: employee.name } },
        },
        extra: heldUuid ? async () => this.db.held.delete(heldUuid) : undefined,
        also: auditPayloads(order, { receipt: this.receiptNumber(receiptNumber) }).map((p) => ({ type: 'audit', payload: p })),
      }),
    });
  }

  async findReceipt(number) {
    const entry = await this.db.sales.where('number').equals(number).first();
    if (!entry) return null;
    return { uuid: entry.uuid, synced: entry.synced, ...(await this.vault.decrypt(entry.enc)) };
  }

  // This till's returns of a receipt: quantities by original line uuid, and
  // their receipt numbers (the server's answer lists them too).
  async returnsOf(number) {
    const byLine = new Map();
    const numbers = new Set();
    const payments = [];
    const all = await this.db.sales.where('createdAt').above(0).toArray();
    for (const e of all) {
      if (e.kind !== 'return') continue;
      const j = await this.vault.decrypt(e.enc);
      if (j.order.originalReceipt !== number) continue;
      numbers.add(e.number);
      payments.push(...(j.order.payments || []).map((p) => ({ method: p.method, amount: p.amount })));
      for (const l of j.order.lines) {
        if (l.voided || !l.returnOf) continue;
        byLine.set(l.returnOf, (byLine.get(l.returnOf) || 0) + Math.abs(l.quantity));
      }
    }
    return { byLine, numbers, payments };
  }

  // The operations the server rejected, oldest first, with their reasons
  // (stored encrypted: they name people; null while the till is locked).
  async quarantined() {
    const items = await this.db.quarantine.orderBy('seq').toArray();
    for (const q of items) q.reason = q.reasonEnc && this.vault ? await this.vault.decrypt(q.reasonEnc).catch(() => null) : q.reason;
    return items;
  }

  async lastReceipt() {
    const e = await this.db.sales.orderBy('createdAt').last();
    return e ? { uuid: e.uuid, ...(await this.vault.decrypt(e.enc)) } : null;
  }

  // -- parked orders -------------------------------------------------------
  async park(order, employee) {
    const rec = { uuid: order.uuid, createdAt: Date.now(), enc: await this.vault.encrypt({ order: stripOrder(order), employee: employee.name, total: this.totals(order).total }) };
    await this.db.held.put(rec);
  }

  async heldOrders() {
    const recs = await this.db.held.orderBy('createdAt').toArray();
    return Promise.all(recs.map(async (r) => ({ uuid: r.uuid, createdAt: r.createdAt, ...(await this.vault.decrypt(r.enc)) })));
  }

  async deleteHeld(id) {
    await this.db.held.delete(id);
  }

  // -- customers -----------------------------------------------------------
  async localCustomers() {
    const recs = await this.db.customers.toArray();
    return Promise.all(recs.map(async (r) => ({ uuid: r.uuid, ...(await this.vault.decrypt(r.enc)) })));
  }

  async searchCustomers(query, limit = 20) {
    const q = String(query || '').toLowerCase().trim();
    const local = await this.localCustomers();
    const seen = new Set(local.map((c) => c.uuid));
    const all = [...local, ...this.catalog.all('customer').filter((c) => !seen.has(c.uuid))];
    return all.filter((c) => !q || [c.name, c.email, c.phone].some((f) => f && String(f).toLowerCase().includes(q))).slice(0, limit);
  }

  async createCustomer(fields, employee) {
    const id = uuid();
    const customer = { uuid: id, id: null, name: fields.name, email: fields.email || '', phone: fields.phone || '', version: 0 };
    const enc = await this.vault.encrypt(customer);
    await this.commit({
      type: 'customer', employee: employee.id, stores: ['customers'],
      build: () => ({
        payload: { customer: null, customer_uuid: id, base_version: 0, fields: { name: customer.name, email: customer.email, phone: customer.phone } },
        extra: async () => this.db.customers.put({ uuid: id, enc }),
      }),
    });
    return customer;
  }

  // -- audit ---------------------------------------------------------------
  async audit(action, detail) {
    await this.db.audit.add({ at: Date.now(), enc: await this.vault.encrypt({ action, ...detail }) });
  }
}

function lotRef(lot) {
  return { id: lot.id, number: lot.number, expiry: lot.sell_by ?? null };
}

// The lots a return of `quantity` (thousandths) of a split line gives back
// to: the last lot taken first.
export function returnedLots(lots, quantity) {
  const out = [];
  let left = quantity;
  for (const lot of [...lots].reverse()) {
    if (left <= 0) break;
    const take = Math.min(Math.abs(lot.quantity), left);
    out.push({ ...lot, quantity: -take });
    left -= take;
  }
  return out.reverse();
}

function withSession(payload, session) {
  return session ? { ...payload, session } : payload;
}

function stripOrder(order) {
  return JSON.parse(JSON.stringify(order));
}

// The session_close payload: the counted cash and, when counted coin by
// coin, each denomination's value (decimal string) and count, largest first.
export function closePayload(countedMinor, denominations, digits) {
  const payload = { counted_cash: formatDecimal(countedMinor, digits) };
  const counted = (denominations || []).filter(([value, count]) => value > 0 && count > 0);
  if (counted.length) {
    payload.denominations = counted
      .sort(([a], [b]) => b - a)
      .map(([value, count]) => ({ value: formatDecimal(value, digits), count }));
  }
  return payload;
}
