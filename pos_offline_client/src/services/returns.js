// What a receipt has left to return, from this till's records and, online,
// the server's (protocol 1.1 GET receipts/<number>: the receipt of another
// till, and the returns other tills made of it), and the return order made
// of the lines the cashier picks.
import { newOrder } from '../models/order.js';
import { receiptFromWire, refundsFromWire, returnedByProduct, withoutReturned } from '../sync/api.js';
import { refundContext } from './refund.js';

// remote(number): {answer, failed} — the server's answer (null when it has
// none) and whether the lookup failed (offline, timeout, server error).
// Answers {status, ...}: 'unreachable' (not this till's receipt and the
// server does not answer), 'not-found', 'returned' (nothing left), or
// 'ok' with {original, lines (each with `left`), refund}.
export async function findReturnable(number, { register, catalog, online, remote }) {
  const digits = register.currency().digits;
  let original = await register.findReceipt(number);
  const mine = await register.returnsOf(number);
  // Online, the server also knows the returns other tills made
  const lookup = online ? await remote(number) : { answer: null, failed: false };
  const answer = lookup.answer;
  if (!original && answer) original = answer.order ? answer : receiptFromWire(answer, catalog, { localReturns: mine.numbers, digits });
  if (!original && (!online || lookup.failed)) return { status: 'unreachable' };
  if (!original || original.kind === 'void') return { status: 'not-found' };
  let lines = original.order.lines.filter((l) => !l.voided)
    .map((l) => ({ ...l, left: Math.abs(l.quantity) - (mine.byLine.get(l.uuid) || 0) }))
    .filter((l) => l.left > 0);
  if (!original.remote && answer?.receipt) lines = withoutReturned(lines, returnedByProduct(answer, { localReturns: mine.numbers }));
  if (!lines.length) return { status: 'returned' };
  // Where the refund may go: the original's payments, less what its
  // earlier returns refunded (services/refund.js)
  const refund = refundContext({
    originalPayments: original.order.payments,
    earlierRefunds: [...mine.payments, ...refundsFromWire(answer, { localReturns: mine.numbers, digits })],
  });
  return { status: 'ok', original, lines, refund };
}

// The return order of the picked lines (each returned whole: what is left
// of it). `overrides`: the approvals already given (the refund's).
export function returnOrder(number, found, picked, { overrides = [] } = {}) {
  const order = newOrder('return');
  order.originalReceipt = number;
  order.discount = found.original.order.discount || 0;
  order.customer = found.original.order.customer || null;
  order.overrides = overrides;
  order.refund = found.refund;
  for (const l of picked) {
    order.lines.push({ ...l, uuid: crypto.randomUUID(), quantity: -l.left, returnOf: l.uuid, left: undefined });
  }
  order.selected = order.lines.length - 1;
  return order;
}
