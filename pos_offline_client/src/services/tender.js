// Tendering at the till: which methods a sale or a refund may use, and the
// payment screen's one call for a payment of a method and an amount
// (tenderPayment). The payment interface (services/payment/: a driver per
// method type, a card terminal's included) plugs in here.
import { tender } from './pricing.js';
import { refundLimits, refundMethods, tenderRefund } from './refund.js';

// The methods the order may be paid (or refunded) with. A refund goes to
// cash, or to the original sale's non-cash methods when the branch says so
// (`refund_to`), up to what was paid with each; limits() says how much is
// left per method.
export function paymentOptions({ register, catalog, branchId, order }) {
  let methods = register.paymentMethods();
  const branch = catalog.get('branch', branchId) ?? catalog.all('branch')[0];
  const refundTo = order.kind === 'return' ? branch?.refund_to ?? 'cash' : null;
  const limits = () => refundLimits({ methods: register.paymentMethods(), policy: refundTo, context: order.refund ?? null, order });
  if (refundTo) methods = refundMethods(methods, limits());
  return { methods, refundTo, limits };
}

// Take a payment of `method` for `amount` (integer minor units; negative
// for a refund) on `order`: answers the payment line to add to the order
// ({method, amount, tendered, change, methodName, cash}), or throws an
// Error whose message is 'over-tender', 'refund-limit', 'refund-method',
// 'nothing-due' or 'amount' (a RangeError).
export async function tenderPayment({ order, method, amount, register, options }) {
  const asked = { method: method.id, amount, cash: method.cash === true };
  const p = options.refundTo
    ? tenderRefund(order, asked, options.limits(), register.pricingOptions())
    : tender(order, asked, register.pricingOptions());
  return { ...p, methodName: method.name, cash: method.cash === true };
}
