// Where a return's money goes (docs/sync-protocol.md "Refunds"). The branch
// says it (`refund_to` of the branch record): 'cash' refunds everything in
// cash; 'original' also refunds to the non-cash methods (card, wallet) the
// original sale was paid with, never more than was paid with each, all
// returns of the receipt together; cash takes the rest. A return without
// its original receipt is refunded in cash. The server checks the same
// rules (refund_method, refund_exceeds_payment). "Cash" is the method of
// type cash; every other type is a non-cash method.
import { tender } from './pricing.js';
import { methodType } from './payment/index.js';

// What was paid or refunded by method: {method: minor units, positive}.
export function byMethod(payments, sign = 1) {
  const out = new Map();
  for (const p of payments || []) {
    const amount = sign * p.amount;
    if (amount > 0) out.set(p.method, (out.get(p.method) || 0) + amount);
  }
  return out;
}

// The refund context of a return, kept on the order (plain data, so it is
// parked and encrypted with it): the original sale's payments and what its
// earlier returns refunded, by method, in minor units.
export function refundContext({ originalPayments = [], earlierRefunds = [] } = {}) {
  return {
    paid: [...byMethod(originalPayments)].map(([method, amount]) => ({ method, amount })),
    refunded: [...byMethod(earlierRefunds, -1)].map(([method, amount]) => ({ method, amount })),
  };
}

// The most each method may refund: Map(method id -> minor units), Infinity
// for cash. `methods`: the payment method records ({id, type, cash}); `policy`:
// the branch's refund_to; `context`: refundContext of the return (null for
// a return without original receipt); `order`: the return, whose refunds
// already taken count too.
export function refundLimits({ methods, policy, context, order = null }) {
  const limits = new Map();
  const paid = new Map((context?.paid || []).map((p) => [p.method, p.amount]));
  const refunded = new Map((context?.refunded || []).map((p) => [p.method, p.amount]));
  const taking = byMethod(order?.payments, -1);
  for (const m of methods) {
    if (methodType(m) === 'cash') {
      limits.set(m.id, Infinity);
    } else if (policy === 'original' && context && paid.get(m.id) > 0) {
      limits.set(m.id, Math.max(0, paid.get(m.id) - (refunded.get(m.id) || 0) - (taking.get(m.id) || 0)));
    }
  }
  return limits;
}

// The methods a refund may use now, in the order given.
export function refundMethods(methods, limits) {
  return methods.filter((m) => limits.get(m.id) > 0);
}

// A refund tender within the limits: the amount asked (negative out of
// the drawer, as pricing.tender answers), cut down to what the method may
// still refund. Throws RangeError('refund-method') for a method the return
// may not use, 'refund-limit' when nothing is left on it.
export function tenderRefund(order, payment, limits, options = {}) {
  if (!limits.has(payment.method)) throw new RangeError('refund-method');
  const left = limits.get(payment.method);
  if (!(left > 0)) throw new RangeError('refund-limit');
  const p = tender(order, payment, options);
  if (-p.amount > left) return { ...p, amount: -left, tendered: -left };
  return p;
}
