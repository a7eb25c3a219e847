// Dialogs that only show something: the keyboard shortcuts, the
// operations the server rejected.
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';

export const SHORTCUTS = [
  ['F2', 'Search'], ['F3', 'Customer'], ['F4', 'Quantity'], ['F6', 'Discount'], ['Shift+F6', 'Order discount'],
  ['F7', 'Price'], ['F8', 'Park'], ['Shift+F8', 'Held orders'], ['F9', 'Pay'], ['F10', 'Return'],
  ['Delete', 'Void line'], ['Shift+Delete', 'Void sale'], ['F12', 'Menu'], ['F1', 'Help'],
];

export function showShortcuts() {
  return openModal((box, close) => {
    box.append(h('h2', {}, t('Keyboard shortcuts')), h('table', {}, SHORTCUTS.map(([k, l]) => h('tr', {}, h('td', {}, h('kbd', {}, k)), h('td', {}, t(l))))),
      h('div', { class: 'actions' }, h('button', { onclick: () => close() }, t('Close'))));
  });
}

// items: the quarantined operations with their reasons (services:
// Register.quarantined()); acknowledge(): mark them seen.
export function showQuarantine(items, acknowledge) {
  return openModal((box, close) => {
    box.append(h('h2', {}, t('Rejected operations')),
      h('ul', { class: 'list' }, items.map((q) => h('li', {}, `#${q.seq} ${q.type}: ${q.reason?.code ?? ''} — ${q.reason?.message || ''}`))),
      h('div', { class: 'actions' },
        h('button', { onclick: async () => { await acknowledge(); close(); } }, t('Acknowledge')),
        h('button', { onclick: () => close() }, t('Close'))));
  });
}
