// Changes to the order on the checkout screen: quantity, discounts, price,
// voids; those the cashier may not make need a manager's approval, which
// says exactly what it approves.
import { divRound, formatDecimal, PRICE_DIGITS } from '../../lib/money.js';
import { t } from '../../lib/i18n.js';
import { isEmpty, setQuantity, stepQuantity } from '../../models/order.js';
import { promptNumber } from '../dialogs/number.js';
import { money, quantityText, unitMinor } from '../format.js';
import { priceNotice, stockWarning } from './sell.js';

// What an approval is about for a line: "Oxford Shirt (M, White) ×
// 2 at 49.95 €, line 99.90 €: 10 % off (−9.99 €)". `amountOf` gives the
// money the action moves from the line's amount, when it has one.
export function lineSummary(env, line, what, amountOf = null) {
  const { register, catalog, store } = env;
  const c = register.totals(store.order).lines.find((x) => x.line.uuid === line.uuid);
  const unit = unitMinor(register, c ? c.unitGrossPrice : line.unitPrice);
  const amount = c ? c.amount : 0;
  const head = t('{name} × {qty} at {price}, line {amount}', { name: line.name, qty: quantityText(catalog, line), price: money(register, unit), amount: money(register, amount) });
  const moved = amountOf ? ` (−${money(register, amountOf(amount))})` : '';
  return `${head}: ${what}${moved}`;
}

export async function quantity(env) {
  const { store, catalog } = env;
  const line = store.selectedLine;
  if (!line) return;
  const v = await promptNumber(t('Quantity of {name}', { name: line.name }), { value: formatDecimal(Math.abs(line.quantity), 3).replace(/\.?0+$/, ''), id: 'qty', digits: 3 });
  if (v === null || v === 0) return;
  const before = line.priceNotice ?? null;
  store.update((order) => setQuantity(line, order.kind === 'return' ? -Math.abs(v) : v, catalog));
  priceNotice(env, line, before);
  stockWarning(env, line.product);
}

// The selected line's − / + buttons: one unit less or more.
export function step(env, line, n) {
  const before = line.priceNotice ?? null;
  if (!env.store.update(() => stepQuantity(line, n, env.catalog))) return;
  priceNotice(env, line, before);
  if (n > 0) stockWarning(env, line.product);
}

export async function discount(env) {
  const { store, register } = env;
  const line = store.selectedLine;
  if (!line) return;
  const bp = await promptNumber(t('Discount % on {name}', { name: line.name }), { id: 'discount' });
  if (bp === null) return;
  if (bp > 10000) return env.toast(t('A discount is at most 100 %'), 'bad');
  const ok = await env.authorize('Discount', (e) => bp <= register.maxDiscountBp(e), (m) => bp <= register.maxDiscountBp(m), { discount: formatDecimal(bp, 2), line: line.uuid, product: line.product },
    lineSummary(env, line, t('{p} % off', { p: formatDecimal(bp, 2) }), (amount) => divRound(amount * bp, 10000)));
  if (!ok) return;
  store.update(() => { line.discount = bp; });
}

export async function orderDiscount(env) {
  const { store, register } = env;
  if (isEmpty(store.order)) return;
  const bp = await promptNumber(t('Discount % on the whole order'), { id: 'order-discount' });
  if (bp === null) return;
  if (bp > 10000) return env.toast(t('A discount is at most 100 %'), 'bad');
  const ok = await env.authorize('Order discount', (e) => bp <= register.maxDiscountBp(e), (m) => bp <= register.maxDiscountBp(m), { discount: formatDecimal(bp, 2) },
    t('{p} % off the whole order of {total}', { p: formatDecimal(bp, 2), total: money(register, register.totals(store.order).total) }));
  if (!ok) return;
  store.update((order) => { order.discount = bp; });
}

export async function priceOverride(env) {
  const { store, register } = env;
  const line = store.selectedLine;
  if (!line) return;
  const ok = await env.authorize('Price override', (e) => register.can(e, 'allow_price_override'), (m) => register.can(m, 'allow_price_override'), { line: line.uuid },
    lineSummary(env, line, t('new unit price')));
  if (!ok) return;
  const v = await promptNumber(t('Unit price of {name}', { name: line.name }), { id: 'price', digits: PRICE_DIGITS });
  if (v === null) return;
  if (ok.entry) Object.assign(ok.entry, { product: line.product, from: formatDecimal(line.unitPrice, PRICE_DIGITS), price: formatDecimal(v, PRICE_DIGITS) });
  store.update(() => {
    line.unitPrice = v;
    line.priceOverridden = true;
  });
}

export async function voidLine(env) {
  const { store, register } = env;
  const line = store.selectedLine;
  if (!line) return;
  const ok = await env.authorize('Void line', (e) => register.can(e, 'allow_void'), (m) => register.can(m, 'allow_void'), { line: line.uuid, product: line.product },
    lineSummary(env, line, t('void')));
  if (!ok) return;
  store.update(() => { line.voided = true; });
}

export async function voidSale(env) {
  const { store, register, app } = env;
  const order = store.order;
  if (!order.lines.length) return;
  const ok = await env.authorize('Void sale', (e) => register.can(e, 'allow_void'), (m) => register.can(m, 'allow_void'), {},
    t('The whole sale: {n} line(s), {total}', { n: order.lines.filter((l) => !l.voided).length, total: money(register, register.totals(order).total) }));
  if (!ok) return;
  if (order.payments.length) return env.toast(t('Payments were taken: refund them first'), 'bad');
  const r = await register.voidOrder(order, store.employee, 'voided at the till', { heldUuid: store.heldUuid });
  env.toast(t('Sale voided ({n})', { n: register.receiptNumber(r.receiptNumber) }), 'warn');
  env.newOrder();
  app.refreshStatus();
}
