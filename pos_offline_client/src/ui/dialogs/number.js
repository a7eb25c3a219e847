// A number typed or tapped on the pad (quantity, discount, price, amount,
// weight): its value in integer units of `digits` decimals, or null.
import { parseDecimal } from '../../lib/money.js';
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';
import { pinPad } from './pin.js';

export function promptNumber(title, { value = '', id = 'number', digits = 2, allowNegative = false } = {}) {
  return openModal((box, close) => {
    const input = h('input', { id, value, inputmode: 'decimal', autocomplete: 'off', autofocus: true });
    const msg = h('p', { class: 'error' });
    const submit = (e) => {
      e.preventDefault();
      try {
        const v = parseDecimal(input.value, digits);
        if (!allowNegative && v < 0) throw new RangeError('negative');
        close(v);
      } catch {
        msg.textContent = t('Type a number');
      }
    };
    box.append(h('form', { onsubmit: submit }, h('h2', {}, title), input, pinPad(input, submit, true), msg,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(null) }, t('Cancel')),
        h('button', { type: 'submit', class: 'primary', id: `${id}-ok` }, t('OK')))));
    input.select();
  }, { className: 'pin' });
}

// A yes/no question; answers true for yes.
export function confirm(text, yes = t('OK')) {
  return openModal((box, close) => {
    box.append(h('h2', {}, t('Are you sure?')), h('p', { id: 'confirm-text' }, text),
      h('div', { class: 'actions' }, h('button', { id: 'confirm-no', onclick: () => close(false) }, t('Cancel')),
        h('button', { class: 'danger', id: 'confirm-yes', onclick: () => close(true) }, yes)));
  }).then(Boolean);
}
