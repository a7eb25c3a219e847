// Local records to protocol v1 operations (docs/sync-protocol.md § Operations).
// Money and quantities become decimal strings.
import { formatDecimal, PRICE_DIGITS, QTY_DIGITS } from '../lib/money.js';
import { combinedDiscount } from '../models/order.js';
import { computeOrder } from '../services/pricing.js';

export function salePayload(order, { receiptNumber, taxes, digits = 2 }) {
  const c = computeOrder(order, { taxes, currencyDigits: digits });
  const lines = c.lines.map(({ line, unitGrossPrice }) => {
    const d = combinedDiscount(line.discount || 0, line.noOrderDiscount ? 0 : order.discount || 0);
    return {
      product: line.product,
      quantity: formatDecimal(line.quantity, QTY_DIGITS),
      unit_price: formatDecimal(line.unitPrice, PRICE_DIGITS),
      discount: d ? { type: 'percent', value: formatDecimal(d, 2) } : null,
      price: formatDecimal(unitGrossPrice, PRICE_DIGITS),
      lot: line.lot?.id ?? null,
    };
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
  return { payload, computed: c };
}

export function amountPayload(minor, digits = 2) {
  return formatDecimal(minor, digits);
}
