// Search the catalog by name, SKU or barcode: the product picked, or null.
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';
import { priceText } from '../format.js';
import { stockBadge } from '../components/stock-badge.js';

export function searchProduct(env, initial = '') {
  const { catalog, register, app } = env;
  return openModal((box, close) => {
    const input = h('input', { id: 'search', value: initial, autocomplete: 'off', placeholder: t('Name, SKU or barcode'), autofocus: true });
    const list = h('ul', { class: 'list results', id: 'search-results' });
    let results = [];
    let active = 0;
    const render = () => {
      const t0 = performance.now();
      results = catalog.search(input.value, 30);
      app.metrics?.search(performance.now() - t0);
      active = 0;
      list.replaceChildren(...results.map((p, i) => h('li', {
        class: i === active ? 'active' : '', onclick: () => close(p), 'data-product': String(p.id),
      }, ...[h('span', {}, p.name), h('small', {}, p.code || ''), stockBadge(catalog, p.id),
        h('span', { class: 'num' }, priceText(register, p.gross_price ?? '0'))].filter(Boolean))));
    };
    input.addEventListener('input', render);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = Math.max(0, Math.min(results.length - 1, active + (e.key === 'ArrowDown' ? 1 : -1)));
        [...list.children].forEach((li, i) => li.classList.toggle('active', i === active));
      } else if (e.key === 'Enter') {
        e.preventDefault();
        if (results[active]) close(results[active]);
      }
    });
    box.append(h('h2', {}, t('Search')), input, list);
    render();
  }, { className: 'wide' });
}
