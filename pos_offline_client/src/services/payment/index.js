// The payment interface: the seam between the payment step and whatever
// takes the money (docs/payment-terminals.md). Each payment method has a
// type (the server's `payment_method.type`); a driver registered for that
// type takes the payment. A driver implements
//
//   send(amount, context) -> Promise<result>   take `amount` (integer minor
//       units of the currency; negative: a refund) for one payment;
//   cancel() -> Promise<{ok, message}>          stop the payment in flight
//       (its send() then settles, `cancelled` unless it was too late);
//   status() -> Promise<{status, message}>      the device's state now.
//
// A result is {status, message, reference}: status `approved` (the only one
// that records a payment), `declined`, `cancelled`, `timeout` or `error`;
// `reference` is what the device gave to find the payment again (an
// authorisation code), kept on the order's payment.
//
// Drivers register themselves: `registerPaymentDriver(type, factory,
// {name, priority})`; the built-in ones are in ./drivers/ (imported by
// main.js with every other file of that folder, so a new driver is one new
// file there). For a type, the till uses the driver its settings name
// (settings.paymentDrivers[type]), else the one of highest priority.
// Depends on: nothing (drivers declare their own dependencies).
import { t } from '../../lib/i18n.js';

export const PAYMENT_TYPES = ['cash', 'card', 'wallet', 'card_terminal', 'voucher', 'other'];
export const RESULT_STATUSES = ['approved', 'declined', 'cancelled', 'timeout', 'error'];

const drivers = new Map();

// A method's type; a record pulled from a server older than the type has
// only `cash`.
export function methodType(method) {
  if (method?.type) return method.type;
  return method?.cash === true ? 'cash' : 'other';
}

// factory(method, deps) -> driver. Registering a name again replaces it.
export function registerPaymentDriver(type, factory, { name = type, priority = 0 } = {}) {
  if (typeof type !== 'string' || !type) throw new TypeError('a payment driver needs a method type');
  if (typeof factory !== 'function') throw new TypeError('a payment driver needs a factory function');
  const list = (drivers.get(type) || []).filter((d) => d.name !== name);
  list.push({ name, priority, factory });
  list.sort((a, b) => b.priority - a.priority);
  drivers.set(type, list);
  return () => unregisterPaymentDriver(type, name);
}

export function unregisterPaymentDriver(type, name) {
  const list = (drivers.get(type) || []).filter((d) => d.name !== name);
  if (list.length) drivers.set(type, list);
  else drivers.delete(type);
}

// The registrations of a type, best first: [{name, priority}].
export function paymentDrivers(type) {
  return (drivers.get(type) || []).map(({ name, priority }) => ({ name, priority }));
}

// The driver that takes payments of `method`. deps: {hardware, settings,
// ...} handed to the factory; settings.paymentDrivers may name the driver of
// a type. A type without a driver gets one that answers `error`, so the
// payment step says so instead of recording a payment nobody took.
export function paymentDriver(method, deps = {}) {
  const type = methodType(method);
  const list = drivers.get(type) || [];
  const wanted = deps.settings?.paymentDrivers?.[type];
  const entry = (wanted && list.find((d) => d.name === wanted)) || list[0];
  if (!entry) return new UnavailableDriver(type);
  return entry.factory(method, deps);
}

// The shape every result takes, whatever a driver answered.
export function paymentResult(r) {
  const status = RESULT_STATUSES.includes(r?.status) ? r.status : 'error';
  return { status, message: String(r?.message ?? ''), reference: r?.reference ?? null };
}

// Take one payment through its driver: never throws, always a result.
export async function takePayment(driver, amount, context = {}) {
  if (!Number.isSafeInteger(amount) || amount === 0) {
    return paymentResult({ status: 'error', message: t('Nothing to pay') });
  }
  try {
    return paymentResult(await driver.send(amount, context));
  } catch (err) {
    return paymentResult({ status: 'error', message: err?.message || String(err) });
  }
}

class UnavailableDriver {
  constructor(type) {
    this.type = type;
    this.interactive = false;
  }

  async send() {
    return { status: 'error', message: t('This till has no payment driver for the type {type}', { type: this.type }) };
  }

  async cancel() {
    return { ok: false, message: t('Nothing to cancel') };
  }

  async status() {
    return { status: 'unavailable', message: t('This till has no payment driver for the type {type}', { type: this.type }) };
  }
}

// The payment step's one call: the driver of `method` takes `amount`
// (minor units). When the customer acts on a device (an interactive
// driver), onWait(cancel) is called first: the screen shows that it waits,
// with a button that calls cancel(); the function onWait returns is called
// when the payment ended. Answers the result; only `approved` pays.
export async function collect(method, amount, { deps = {}, context = {}, onWait = null } = {}) {
  const driver = paymentDriver(method, deps);
  const done = driver.interactive && onWait ? onWait(() => driver.cancel()) : null;
  try {
    return await takePayment(driver, amount, context);
  } finally {
    if (typeof done === 'function') done();
  }
}
