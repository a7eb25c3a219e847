// A return: the receipt number (scanned or typed), the lines left to
// return (this till's records and, online, the server's: services/
// returns.js), the lines picked, a manager's approval when the cashier may
// not refund; the return becomes the current order, paid back on the
// payment screen.
import { formatQuantity } from '../../lib/money.js';
import { getLocale, t } from '../../lib/i18n.js';
import { isEmpty } from '../../models/order.js';
import { findReturnable, returnOrder } from '../../services/returns.js';
import { h, openModal } from '../dom.js';
import { quantityText } from '../format.js';
import { registerScreen } from '../registry.js';

export function askReceiptNumber() {
  return openModal((box, close) => {
    const input = h('input', { id: 'return-number', 'data-scan': '1', autocomplete: 'off', placeholder: 'BXL1-000123', autofocus: true });
    box.append(h('form', { onsubmit: (e) => { e.preventDefault(); close(input.value.trim().toUpperCase()); } },
      h('h2', {}, t('Return: scan or type the receipt number')), input,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(null) }, t('Cancel')),
        h('button', { type: 'submit', class: 'primary', id: 'return-find' }, t('Find')))));
  });
}

export function pickLines(number, lines) {
  return openModal((box, close) => {
    const checks = lines.map((l) => h('input', { type: 'checkbox', checked: true, 'data-line': l.uuid }));
    box.append(h('h2', {}, t('Return from {n}', { n: number })),
      h('ul', { class: 'list', id: 'return-lines' }, lines.map((l, i) => h('li', { 'data-product': String(l.product), 'data-left': String(l.left) },
        h('label', {}, checks[i], ` ${l.name} × ${formatQuantity(l.left, { locale: getLocale() })}`)))),
      h('div', { class: 'actions' }, h('button', { id: 'return-cancel', onclick: () => close(null) }, t('Cancel')),
        h('button', { class: 'primary', id: 'return-ok', onclick: () => close(lines.filter((l, i) => checks[i].checked)) }, t('Return selected'))));
  }, { className: 'wide' });
}

// Why a receipt cannot be returned: the toast's text and how long it shows.
const REFUSED = {
  // Not this till's: only the server knows it, and it does not answer.
  unreachable: (n) => [t('Receipt {n} is not on this till: finding it needs the server, which does not answer now. Try again when online.', { n }), 8000],
  'not-found': (n) => [t('Receipt {n} not found', { n }), 3500],
  returned: (n) => [t('Everything on {n} was already returned', { n }), 3500],
};

export class ReturnsScreen {
  // props: {number}: a scanned receipt number (asked for when missing)
  constructor(env, { number = null } = {}) {
    this.env = env;
    this.number = number;
  }

  async run() {
    const { env } = this;
    const { store, register, catalog, app } = env;
    if (!isEmpty(store.order)) return env.toast(t('Finish or park this order before a return'), 'bad');
    const number = this.number || (await askReceiptNumber());
    if (!number) return;
    const found = await findReturnable(number, {
      register, catalog, online: Boolean(app.status.online),
      remote: async (n) => ({ answer: await app.remoteReceipt(n), failed: Boolean(app.remoteLookupFailed) }),
    });
    if (found.status !== 'ok') {
      const [text, ms] = REFUSED[found.status](number);
      return env.toast(text, 'bad', ms);
    }
    const picked = await pickLines(number, found.lines);
    if (!picked?.length) return;
    const ok = await env.authorize('Refund', (e) => register.can(e, 'allow_refund'), (m) => register.can(m, 'allow_refund'), { original_receipt: number },
      t('Receipt {n}: {items}', { n: number, items: picked.map((l) => `${l.name} × ${quantityText(catalog, { ...l, quantity: l.left })}`).join(', ') }));
    if (!ok) return;
    store.setOrder(returnOrder(number, found, picked, { overrides: store.order.overrides }));
  }
}

registerScreen('returns', ReturnsScreen);
