// Tendering at the till: which methods a sale or a refund may use, and the
// payment screen's one call for a payment of a method and an amount
// (tenderPayment). The payment interface (services/payment/: a driver per
// method type, a card terminal's included) plugs in here.
import { uuid } from '../lib/uuid.js';
import { tender } from './pricing.js';
import { refundLimits, refundMethods, tenderRefund } from './refund.js';
import { collect } from './payment/index.js';
// The built-in drivers, wherever the till tenders (main.js also imports
// every other file of payment/drivers/)
import './payment/drivers/manual.js';
import './payment/drivers/proxy-card-terminal.js';

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
// ({method, amount, tendered, change, methodName, cash}, and `reference`
// when the device gave one), or throws an Error whose message is
// 'over-tender', 'refund-limit', 'refund-method', 'nothing-due' or 'amount'
// (a RangeError). The amount is then taken by the method's driver
// (services/payment: at once for cash and typed methods, on the card
// terminal for card_terminal); a payment it does not approve throws an
// Error 'payment-declined', 'payment-cancelled', 'payment-timeout' or
// 'payment-error' carrying the driver's `result`, and adds nothing.
// deps: {hardware, settings} for the drivers; onWait: see collect().
export async function tenderPayment({ order, method, amount, register, options, deps = {}, onWait = null }) {
  const asked = { method: method.id, amount, cash: method.cash === true };
  const p = options.refundTo
    ? tenderRefund(order, asked, options.limits(), register.pricingOptions())
    : tender(order, asked, register.pricingOptions());
  const result = await collect(method, p.amount, {
    deps, onWait, context: { paymentId: uuid(), currency: register.currency(), reference: order.uuid },
  });
  if (result.status !== 'approved') throw Object.assign(new Error(`payment-${result.status}`), { result });
  return { ...p, methodName: method.name, cash: method.cash === true, ...(result.reference ? { reference: result.reference } : {}) };
}
