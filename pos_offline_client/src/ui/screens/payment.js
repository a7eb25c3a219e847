// Payment (or refund) of the current order: the amount, one button and
// F-key per method, the parts paid so far; settled, the sale is saved, the
// drawer opens for cash and the receipt prints. Each part goes through
// services/tender.js tenderPayment.
import { formatDecimal, parseDecimal } from '../../lib/money.js';
import { t } from '../../lib/i18n.js';
import { isEmpty } from '../../models/order.js';
import { paymentOptions, tenderPayment } from '../../services/tender.js';
import { h, openModal } from '../dom.js';
import { printReceipt } from '../print.js';
import { registerScreen } from '../registry.js';

const ERRORS = {
  'over-tender': () => t('Only cash can exceed the amount due'),
  'refund-limit': (method) => t('Nothing more can be refunded to {method}: refund in cash', { method: method.name }),
  'refund-method': (method) => t('This return cannot be refunded to {method}', { method: method.name }),
  'payment-declined': (method, r) => t('The card terminal declined the payment: {message}', { message: r.message }),
  'payment-cancelled': () => t('The card payment was cancelled'),
  'payment-timeout': () => t('The card terminal did not answer: the order is not paid'),
  'payment-error': (method, r) => t('The card payment failed: {message}', { message: r.message }),
};

export function paymentError(err, method) {
  return ERRORS[err.message]?.(method, err.result ?? {}) ?? t('Nothing to pay');
}

export class PaymentScreen {
  constructor(env) {
    this.env = env;
  }

  async run() {
    const { env } = this;
    const { store, register, catalog, app } = env;
    const order = store.order;
    if (isEmpty(order)) return;
    const options = paymentOptions({ register, catalog, branchId: app.device?.branch?.id, order });
    const { methods } = options;
    if (!methods.length) return env.toast(t('No payment method is configured'), 'bad');
    const done = await openModal((box, close) => {
      const amount = h('input', { id: 'pay-amount', inputmode: 'decimal', autocomplete: 'off', autofocus: true });
      const parts = h('ul', { class: 'list', id: 'pay-parts' });
      const dueEl = h('div', { class: 'total', id: 'pay-due' });
      const msg = h('p', { class: 'error', id: 'pay-error' });
      const { digits } = register.currency();
      const refresh = () => {
        const c = register.totals(order);
        dueEl.replaceChildren(h('span', {}, c.due < 0 ? t('To refund') : t('Due')), h('span', {}, env.money(Math.abs(c.due))));
        dueEl.dataset.minor = String(c.due);
        amount.value = formatDecimal(Math.abs(c.due), digits);
        amount.select();
        parts.replaceChildren(...order.payments.map((p, i) => h('li', {},
          h('span', {}, p.methodName), h('span', { class: 'num' }, env.money(p.tendered ?? p.amount)),
          h('button', { class: 'small', onclick: () => { order.payments.splice(i, 1); refresh(); } }, '×'))));
        if (c.due === 0 && order.payments.length) close(true);
      };
      // A card terminal's payment: the cashier sees it wait and may cancel it
      const waitEl = h('div', { id: 'pay-terminal', hidden: true });
      const onWait = (cancel) => {
        waitEl.replaceChildren(h('p', {}, t('Waiting for the card terminal')),
          h('button', { id: 'pay-cancel', onclick: () => cancel() }, t('Cancel the card payment')));
        waitEl.hidden = false;
        return () => { waitEl.hidden = true; };
      };
      let pending = false;
      const add = async (method) => {
        if (pending) return;
        msg.textContent = '';
        let value;
        try {
          value = parseDecimal(amount.value, digits);
        } catch {
          msg.textContent = t('Type an amount');
          return;
        }
        pending = true;
        try {
          const deps = { hardware: app.hardware, settings: app.settings };
          const payment = await tenderPayment({ order, method, amount: value, register, options, deps, onWait });
          env.store.update((o) => o.payments.push(payment));
        } catch (err) {
          msg.textContent = paymentError(err, method);
          return;
        } finally {
          pending = false;
        }
        // (the dialog may have been closed while the card terminal waited:
        // an approved payment stays on the order, the next F9 settles it)
        if (box.isConnected) refresh();
      };
      amount.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          add(methods[0]);
        } else if (/^F[1-4]$/.test(e.key) && methods[Number(e.key.slice(1)) - 1]) {
          e.preventDefault();
          add(methods[Number(e.key.slice(1)) - 1]);
        }
      });
      box.append(h('h2', {}, order.kind === 'return' ? t('Refund') : t('Payment')), dueEl, amount,
        h('div', { class: 'grid methods' }, methods.map((m, i) => h('button', {
          class: 'big', 'data-method': String(m.id), 'data-cash': String(m.cash === true), onclick: () => add(m),
        }, m.name, h('kbd', {}, `F${i + 1}`)))),
        waitEl, parts, msg,
        h('div', { class: 'actions' }, h('button', { onclick: () => close(false) }, t('Back'))));
      refresh();
    }, { className: 'wide', dismissable: true });
    if (done) await this.finish(order);
    else env.focusEntry();
  }

  // Save the sale (sale, receipt number and outbox entry in one
  // transaction), then the drawer and the receipt.
  async finish(order) {
    const { env } = this;
    const { store, register, app } = env;
    let result;
    try {
      result = await register.commitSale(order, store.employee, { heldUuid: store.heldUuid });
    } catch (err) {
      env.toast(t('The sale could not be saved: {reason}', { reason: err.message }), 'bad', 8000);
      return;
    }
    store.saleDone(result.journal.totals.change);
    env.focusEntry();
    app.refreshStatus();
    app.kickSoon();
    // One thing at a time on the printer's line: the drawer (kicked through
    // the printer) first, so the cashier can give change, then the receipt.
    if (order.payments.some((p) => p.cash)) {
      const r = await app.hardware.openDrawer();
      if (!r.ok) env.toast(t('Drawer: {m}', { m: r.message }), 'warn');
    }
    await printReceipt(env, result.journal, `receipt-${result.uuid}`);
  }
}

registerScreen('payment', PaymentScreen);
