// The parked orders of this till: {resume: held}, {remove: held} or null.
import { formatDateTime, t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';
import { money, quantityText } from '../format.js';

// What a held order holds, as the list and the delete question say it.
export function heldItems(catalog, held) {
  return held.order.lines.filter((l) => !l.voided).map((l) => `${l.name} × ${quantityText(catalog, l)}`).join(', ');
}

export function chooseHeld(env, orders) {
  const { catalog, register } = env;
  return openModal((box, close) => {
    box.append(h('h2', {}, t('Held orders')),
      orders.length ? h('ul', { class: 'list', id: 'held-list' }, orders.map((o) => h('li', { 'data-held': o.uuid },
        h('div', { class: 'held-order' }, h('span', {}, `${formatDateTime(o.createdAt)} · ${o.employee}`),
          h('small', { class: 'held-items' }, heldItems(catalog, o))),
        h('span', { class: 'num' }, money(register, o.total)),
        h('button', { class: 'small', 'data-held-action': 'resume', onclick: () => close({ resume: o }) }, t('Resume')),
        h('button', { class: 'small danger', 'data-held-action': 'delete', onclick: () => close({ remove: o }) }, t('Delete')))))
        : h('p', {}, t('No held orders')),
      h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Close'))));
  }, { className: 'wide' });
}
