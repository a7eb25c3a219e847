// The order being rung up: the cart's rows (kept by line and rebuilt only
// when what they show changed: a scan touches one row, not the whole
// order), the return banner, the customer and the totals.
import { formatDecimal, formatQuantity } from '../../lib/money.js';
import { getLocale, t } from '../../lib/i18n.js';
import { PRICE_NOT_OFFLINE } from '../../models/order.js';
import { h } from '../dom.js';
import { formatters, quantityText, row } from '../format.js';

export class Cart {
  // env: {register, catalog}; onSelect(uuid), onStep(line, n): the − / +
  // buttons of the selected line.
  constructor(env, { onSelect, onStep }) {
    this.env = env;
    this.onSelect = onSelect;
    this.onStep = onStep;
    this.rows = new Map();
    this.rowsOf = null;
    this.tbody = h('tbody', { id: 'cart' });
    this.kind = h('div', { id: 'order-kind' });
    this.customer = h('div', { id: 'customer' });
    this.totals = h('div', { id: 'totals' });
  }

  table() {
    return h('table', { class: 'cart' }, h('thead', {}, h('tr', {},
      h('th', {}, t('Item')), h('th', { class: 'num' }, t('Qty')), h('th', { class: 'num' }, t('Price')), h('th', { class: 'num' }, t('Total')))),
    this.tbody);
  }

  // The cells a line shows, and the signature that says whether its row
  // must be rebuilt.
  cells(order, line, i, comp, { money, unitMinor }) {
    const { catalog } = this.env;
    const cells = [
      line.name,
      [line.code, line.lot ? t('Lot {n}', { n: line.lot.number }) : '', line.discount ? t('-{p} %', { p: formatDecimal(line.discount, 2) }) : '', line.priceOverridden ? t('price changed') : '', line.markdown ? t('markdown') : ''].filter(Boolean).join(' · '),
      quantityText(catalog, line),
      money(unitMinor(comp ? comp.unitGrossPrice : line.unitPrice)),
      line.voided ? t('void') : money(comp.amount),
      !line.voided && line.priceNotice === PRICE_NOT_OFFLINE ? t('Price not available offline') : '',
    ];
    const selected = i === order.selected;
    // − / + on the selected counted line of a sale (touch)
    const steps = selected && !line.voided && !line.weighed && order.kind === 'sale';
    const cls = `${selected ? 'selected' : ''} ${line.voided ? 'voided' : ''}`;
    return { cells, steps, cls, sig: JSON.stringify([i, cls, cells, steps]) };
  }

  rowOf(order, line, i, comp, f) {
    const { cells, steps, cls, sig } = this.cells(order, line, i, comp, f);
    let tr = this.rows.get(line.uuid);
    if (tr && tr.sig === sig) return tr;
    tr = h('tr', { class: cls, 'data-line': String(i), onclick: () => this.onSelect(line.uuid) },
      h('td', {}, h('div', {}, cells[0]), h('small', {}, cells[1]),
        cells[5] ? h('small', { class: 'price-notice', 'data-notice': line.priceNotice }, cells[5]) : null),
      h('td', { class: 'num qty' }, steps ? [
        h('button', { class: 'step', 'data-action': 'qty-minus', 'aria-label': t('One less'), onclick: (e) => { e.stopPropagation(); this.onStep(line, -1); } }, '−'),
        h('span', {}, cells[2]),
        h('button', { class: 'step', 'data-action': 'qty-plus', 'aria-label': t('One more'), onclick: (e) => { e.stopPropagation(); this.onStep(line, 1); } }, '+'),
      ] : cells[2]),
      h('td', { class: 'num' }, cells[3]), h('td', { class: 'num' }, cells[4]));
    tr.sig = sig;
    this.rows.set(line.uuid, tr);
    return tr;
  }

  // The selected row into view at the next frame: scrolling now would
  // lay the page out within the scan (most of a scan's time), and the
  // frame lays it out anyway.
  scrollToSelected() {
    if (this.scrollPending) return;
    const later = globalThis.requestAnimationFrame || ((fn) => setTimeout(fn, 0));
    this.scrollPending = true;
    later(() => {
      this.scrollPending = false;
      const sel = this.tbody.querySelector('tr.selected');
      if (sel?.isConnected && sel.scrollIntoView) sel.scrollIntoView({ block: 'nearest' });
    });
  }

  render(order, lastChange = null) {
    const { register } = this.env;
    const c = register.totals(order);
    const amounts = new Map(c.lines.map((l) => [l.line.uuid, l]));
    if (this.rowsOf !== order) {
      this.rows = new Map();
      this.rowsOf = order;
    }
    const f = formatters(register);
    const rows = order.lines.map((line, i) => this.rowOf(order, line, i, amounts.get(line.uuid), f));
    let child = this.tbody.firstChild;
    for (const tr of rows) {
      if (child === tr) child = child.nextSibling;
      else this.tbody.insertBefore(tr, child);
    }
    while (child) {
      const next = child.nextSibling;
      child.remove();
      child = next;
    }
    this.scrollToSelected();
    this.kind.replaceChildren(order.kind === 'return'
      ? h('div', { class: 'banner warn' }, t('Return of {n}', { n: order.originalReceipt || t('a sale') })) : '');
    this.customer.replaceChildren(order.customer
      ? h('div', { class: 'customer' }, t('Customer: {name}', { name: order.customer.name }))
      : h('div', { class: 'muted' }, t('No customer')));
    const m = f.money;
    this.totals.replaceChildren(...[
      row(t('Items'), formatQuantity(c.items, { locale: getLocale() })),
      c.discount ? row(t('Discount'), m(-c.discount)) : null,
      order.discount ? row(t('Order discount'), `${formatDecimal(order.discount, 2)} %`) : null,
      row(t('Tax'), m(c.tax)),
      h('div', { class: 'total', id: 'total', 'data-minor': String(c.total) }, h('span', {}, t('Total')), h('span', {}, m(c.total))),
      lastChange !== null ? h('div', { class: 'change', id: 'last-change' }, t('Change due: {amount}', { amount: m(lastChange) })) : null,
    ].filter(Boolean));
  }
}
