// Local records to protocol v1 operations (docs/sync-protocol.md § Operations).
// Money and quantities become decimal strings.
import { combinedDiscount, formatDecimal, parseDecimal, PRICE_DIGITS, QTY_DIGITS } from '../lib/money.js';

// `computed`: the order as services/pricing.js computeOrder computes it
// (the caller's pricing options: the terminal's taxIncluded, the company's
// taxRounding); each line's `price` is the price it sells at in the
// terminal's terms (tax included or not), after discounts.
// `session`: the UUID of the cash session (protocol 1.2), left out when null.
export function salePayload(order, {
  receiptNumber, computed, digits = 2, session = null,
}) {
  const c = computed;
  const lines = c.lines.map(({ line, price }) => {
    const d = combinedDiscount(line.discount || 0, line.noOrderDiscount ? 0 : order.discount || 0);
    const wire = {
      product: line.product,
      quantity: formatDecimal(line.quantity, QTY_DIGITS),
      unit_price: formatDecimal(line.unitPrice, PRICE_DIGITS),
      discount: d ? { type: 'percent', value: formatDecimal(d, 2) } : null,
      price: formatDecimal(price, PRICE_DIGITS),
      lot: line.lot?.id ?? null,
    };
    // A line split over lots (services/register.js splitLots)
    if (line.lots?.length > 1) wire.lots = line.lots.map((l) => ({ lot: l.id, quantity: formatDecimal(l.quantity, QTY_DIGITS) }));
    return wire;
  });
  // One payment per method; cash is what stayed in the drawer (net of change).
  const byMethod = new Map();
  for (const p of order.payments) byMethod.set(p.method, (byMethod.get(p.method) || 0) + p.amount);
  const payments = [...byMethod].map(([method, amount]) => ({ method, amount: formatDecimal(amount, digits) }));
  const payload = {
    receipt_number: receiptNumber,
    customer: order.customer?.id ?? null,
    customer_uuid: order.customer?.uuid ?? null,
    lines,
    payments,
    total: formatDecimal(c.total, digits),
  };
  if (order.kind === 'return' && order.originalReceipt) payload.original_receipt = order.originalReceipt;
  if (session) payload.session = session;
  return { payload, computed: c };
}

// -- audit (protocol 1.2) -----------------------------------------------------
// Manager approvals the till asks for (ui/dialogs/approval.js) by their label,
// and the protocol's action for each. Approvals without an action in the
// protocol (opening the drawer, closing the session) stay in the local audit.
export const OVERRIDE_ACTIONS = {
  Discount: 'discount',
  'Order discount': 'order_discount',
  'Price override': 'price_override',
  'Sell an expired lot': 'expired_lot',
  'Void line': 'void_line',
  'Void sale': 'void_sale',
  Refund: 'refund',
};

// What an approval entry holds besides its detail (see ui/dialogs/approval.js).
const ENTRY_FIELDS = new Set(['action', 'manager', 'managerName', 'cashier', 'at', 'product', 'lotId']);

// One `audit` payload per approval of an order that has a protocol action:
// {action, manager, cashier, receipt, product, lot, detail}. `receipt` is the
// receipt number as printed (or null); the product of a line-level approval
// comes from the line when the entry does not name it.
export function auditPayloads(order, { receipt = null } = {}) {
  const out = [];
  for (const entry of order.overrides || []) {
    const action = OVERRIDE_ACTIONS[entry.action];
    if (!action || !Number.isInteger(entry.manager)) continue;
    const line = entry.line ? order.lines.find((l) => l.uuid === entry.line) : null;
    const detail = {};
    for (const [k, v] of Object.entries(entry)) if (!ENTRY_FIELDS.has(k) && v !== undefined) detail[k] = v;
    if (Number.isFinite(entry.at)) detail.approved_at = new Date(entry.at).toISOString();
    out.push({
      action,
      manager: entry.manager,
      cashier: entry.cashier ?? null,
      receipt,
      product: entry.product ?? line?.product ?? null,
      lot: Number.isInteger(entry.lotId) ? entry.lotId : (action === 'expired_lot' ? null : line?.lot?.id ?? null),
      detail,
    });
  }
  return out;
}

// -- X/Z figures (protocol 1.2, GET sessions/<uuid>) ---------------------------
// The server's figures in the till's units (integer minor units), or null
// when the answer is not a session's figures.
export function figuresFromWire(data, digits = 2) {
  if (!data || typeof data !== 'object' || !('expected_cash' in data)) return null;
  const money = (v) => (v === null || v === undefined ? null : parseDecimal(String(v), digits));
  return {
    uuid: data.uuid ?? null,
    state: data.state ?? null,
    opening: money(data.opening_float),
    sales: Number(data.sales ?? 0),
    salesTotal: money(data.sales_total),
    returns: Number(data.returns ?? 0),
    returnsTotal: money(data.returns_total),
    net: money(data.net),
    tax: money(data.taxes),
    taxes: (data.tax_lines || []).map((t) => ({
      tax: t.tax, name: t.name, base: money(t.base), amount: money(t.amount),
    })),
    payments: (data.payments || []).map((p) => ({ method: p.method, name: p.name, amount: money(p.amount) })),
    cashIn: money(data.cash_in),
    cashOut: money(data.cash_out),
    expectedCash: money(data.expected_cash),
    counted: money(data.counted_cash),
    difference: money(data.difference),
    serverTime: data.server_time ?? null,
    // What the server's printed Z shows besides (retail_report, when
    // activated; absent otherwise)
    zNumber: data.z_number ?? null,
    grandTotal: money(data.grand_total),
    discounts: money(data.discounts),
    voids: data.voids ?? null,
    terminalName: data.terminal_name ?? null,
    branchName: data.branch_name ?? null,
    openedAt: data.opened_at ?? null,
    closedAt: data.closed_at ?? null,
    firstReceipt: data.first_receipt ?? null,
    lastReceipt: data.last_receipt ?? null,
    receiptGaps: Array.isArray(data.receipt_gaps) ? data.receipt_gaps : [],
    cashiers: Array.isArray(data.cashiers) ? data.cashiers : [],
    denominations: (Array.isArray(data.denominations) ? data.denominations : []).map((d) => ({
      value: money(d.value), count: Number(d.count), amount: money(d.amount),
    })),
    journalBreaks: Array.isArray(data.journal_breaks) ? data.journal_breaks : [],
  };
}

// The till's report (services/register.js report, plus counted/difference
// after a close) beside the server's figures: one row per figure with
// {key, label, local, server, match}, and `match` when every row agrees.
// Counted cash and difference are compared when the till has them (a Z):
// a server that has none (its session still open) differs.
export function compareFigures(local, server) {
  const rows = [
    ['opening', 'Opening float'], ['sales', 'Sales'], ['salesTotal', 'Sales total'],
    ['returns', 'Returns'], ['returnsTotal', 'Returns total'], ['net', 'Net sales'], ['tax', 'Tax'],
  ].map(([key, label]) => ({ key, label, local: local[key], server: server[key] }));
  const methods = new Map();
  for (const p of local.payments || []) methods.set(p.method, { name: p.name, local: p.amount, server: 0 });
  for (const p of server.payments || []) {
    const m = methods.get(p.method) || { name: p.name, local: 0, server: 0 };
    m.server = p.amount;
    methods.set(p.method, m);
  }
  for (const [method, m] of [...methods].sort(([a], [b]) => a - b)) {
    if (m.local || m.server) rows.push({ key: `payment:${method}`, label: m.name, local: m.local, server: m.server });
  }
  // Per tax (base and amount), when the till has them
  if (Array.isArray(local.taxes) && Array.isArray(server.taxes)) {
    const taxes = new Map();
    for (const t of local.taxes) taxes.set(t.tax, { name: t.name, local: t, server: { base: 0, amount: 0 } });
    for (const t of server.taxes) {
      const m = taxes.get(t.tax) || { name: t.name, local: { base: 0, amount: 0 }, server: null };
      m.server = t;
      taxes.set(t.tax, m);
    }
    for (const [tax, m] of [...taxes].sort(([a], [b]) => a - b)) {
      rows.push(
        { key: `tax-base:${tax}`, label: `${m.name} base`, local: m.local.base, server: m.server.base },
        { key: `tax:${tax}`, label: m.name, local: m.local.amount, server: m.server.amount },
      );
    }
  }
  rows.push(
    { key: 'cashIn', label: 'Cash in', local: local.cashIn, server: server.cashIn },
    { key: 'cashOut', label: 'Cash out', local: local.cashOut, server: server.cashOut },
    { key: 'expectedCash', label: 'Expected cash', local: local.expectedCash, server: server.expectedCash },
  );
  if (local.counted !== undefined && local.counted !== null) {
    rows.push(
      { key: 'counted', label: 'Counted cash', local: local.counted, server: server.counted },
      { key: 'difference', label: 'Difference', local: local.difference, server: server.difference },
    );
  }
  for (const r of rows) r.match = r.local === r.server;
  return { rows, match: rows.every((r) => r.match), differ: rows.filter((r) => !r.match).map((r) => r.key) };
}
