// The local stock of a product and its low-stock mark, as a small badge
// (product tiles, search results): "12 in stock", and "low stock" when the
// local figure is under the branch's minimum (catalog.lowStock). Nothing
// for a product the till keeps no stock of.
// Depends on: the catalog (services/catalog.js), dom.js, i18n.
import { getLocale, t } from '../../lib/i18n.js';
import { formatQuantity } from '../../lib/money.js';
import { h } from '../dom.js';

export function stockBadge(catalog, productId) {
  if (!catalog.stocked(productId)) return null;
  const { quantity, known } = catalog.stockOf(productId);
  if (!known) return null;
  const mark = catalog.lowStock(productId);
  const text = t('{n} in stock', { n: formatQuantity(quantity, { locale: getLocale() }) });
  return h('small', {
    class: `stock${mark?.low ? ' low-stock' : ''}`, 'data-stock': String(quantity), 'data-low': String(Boolean(mark?.low)),
    title: mark ? t('Minimum {min}, target {target}', {
      min: formatQuantity(mark.min, { locale: getLocale() }),
      target: mark.target === null ? '—' : formatQuantity(mark.target, { locale: getLocale() }),
    }) : '',
  }, mark?.low ? `${text} · ${t('low stock')}` : text);
}
