// Selling on the checkout screen: a scan or a typed code, a product picked
// on the grid or in the search, with its lot (first expiring first out; an
// expired lot needs a manager). Each answers when the line is in the order.
import { formatQuantity } from '../../lib/money.js';
import { getLocale, t } from '../../lib/i18n.js';
import { parseBarcode } from '../../services/barcode.js';
import { chooseLot, isExpired, lotMarkdown, sellBy } from '../../services/catalog.js';
import { labelQuantity } from '../../services/pricing.js';
import { addProduct, isEmpty, PRICE_NOT_OFFLINE } from '../../models/order.js';
import { promptNumber } from '../dialogs/number.js';
import { searchProduct } from '../dialogs/search.js';

const INVALID = {
  date: 'Invalid barcode {code} (impossible date)',
  'price-check-digit': 'Invalid barcode {code} (price check digit)',
};

// What a code sells: {product, opts, parsed}, {receipt: number}, or
// {error: text} (the toast), {search: text} when typed and unknown.
export function resolveCode(env, text, { typed = false } = {}) {
  const { catalog: cat, register, app } = env;
  const parsed = parseBarcode(text, { rules: app.settings.variableRules });
  let product;
  const opts = {};
  switch (parsed.type) {
    case 'gtin':
      product = cat.lookup(parsed.keys) || cat.byCode(text);
      break;
    case 'variable': {
      product = cat.lookup([parsed.key]) || cat.lookup(parsed.keys);
      if (product && parsed.kind === 'weight') {
        opts.quantity = parsed.quantity;
        opts.weighed = true;
      } else if (product && parsed.kind === 'price') {
        // quantity = embedded price / unit price (tax included), the
        // line priced as any other (services/pricing.js labelQuantity)
        const qty = labelQuantity(parsed.amount, product.gross_price, register.currency().digits);
        if (!qty) return { error: t('No price for {name}', { name: product.name }) };
        opts.quantity = qty;
        opts.weighed = true;
      }
      break;
    }
    case 'gs1':
      product = cat.lookup(parsed.keys);
      if (product && parsed.quantity) {
        opts.quantity = parsed.quantity;
        opts.weighed = true;
      }
      break;
    case 'receipt':
      return { receipt: parsed.number };
    case 'invalid':
      return { error: t(INVALID[parsed.reason] || 'Invalid barcode {code} (check digit)', { code: text }), beep: true };
    default:
      product = cat.byCode(text) || cat.lookup([text]);
      if (!product && typed) return { search: text };
  }
  if (!product) return { error: t('Unknown barcode {code}', { code: text }), beep: true };
  return { product, opts, parsed };
}

// Sell what a code names; a receipt number starts its return.
export async function sellCode(env, text, { typed = false } = {}) {
  const r = resolveCode(env, text, { typed });
  if (r.receipt) {
    if (isEmpty(env.store.order)) return env.run('returns', { number: r.receipt });
    env.toast(t('Finish or park this order before a return'), 'bad');
    return;
  }
  if (r.error) {
    env.toast(r.error, 'bad');
    if (r.beep) env.beep();
    return;
  }
  if (r.search !== undefined) return search(env, r.search);
  await addWithLot(env, r.product, r.opts, r.parsed);
}

export async function addWithLot(env, product, opts, parsed = {}) {
  const { catalog, register, store } = env;
  const today = register.today();
  const hasLots = product.lot_required || catalog.lotsOf(product.id).length > 0;
  let lot = null;
  let lotAuto = false;
  if (parsed.lot) {
    lot = catalog.lotByNumber(product.id, parsed.lot) || { id: null, number: parsed.lot, expiration_date: parsed.expiry || null };
    if (lot.id === null) env.toast(t('Lot {n} is not known here; the server will check it', { n: parsed.lot }), 'warn');
  } else if (hasLots) {
    const choice = chooseLot(catalog, product.id, today);
    lot = choice.lot || choice.expired || null;
    lotAuto = Boolean(choice.lot);
  }
  if (lot && isExpired(lot, today)) {
    const ok = await env.authorize('Sell an expired lot', () => false, () => true, { product: product.id, lotId: lot.id, lot_number: lot.number, expiry: sellBy(lot) },
      t('{name}, lot {n}, expired on {date}', { name: product.name, n: lot.number, date: sellBy(lot) }));
    if (!ok) {
      env.toast(t('Lot {n} of {name} expired on {date}: not sold', { n: lot.number, name: product.name, date: sellBy(lot) }), 'bad', 6000);
      return;
    }
  }
  // A near-expiry lot with a markdown in the branch sells at its price
  // (not on a return: it gives back what the sale was paid)
  const markdown = lot && lot.id !== null && opts.unitPrice === undefined ? lotMarkdown(catalog.get('lot', lot.id) || lot, today) : null;
  const line = store.update((order) => {
    const qty = order.kind === 'return' ? -(opts.quantity ?? 1000) : opts.quantity;
    const added = addProduct(order, product, {
      ...opts, quantity: qty ?? 1000, lot: lot && lot.id !== null ? lot : null, catalog, markdown: order.kind === 'return' ? null : markdown,
    });
    if (lotAuto) added.lotAuto = true;
    if (lot && lot.id === null) order.lines[order.selected].lotNumber = lot.number;
    return added;
  });
  priceNotice(env, line);
  stockWarning(env, line.product);
}

// A product tapped on the grid or a quick key: one unit, or the weight
// the cashier types for a product sold by weight (kg).
export async function pickProduct(env, product) {
  const uom = env.catalog.get('uom', product.uom);
  if (uom?.digits > 0) {
    const quantity = await promptNumber(t('Weight of {name} ({unit})', { name: product.name, unit: uom.symbol || uom.name }), { id: 'weight', digits: 3 });
    if (!quantity) return;
    return addWithLot(env, product, { quantity, weighed: true });
  }
  return addWithLot(env, product, {});
}

export async function search(env, initial = '') {
  const product = await searchProduct(env, initial);
  if (product) await addWithLot(env, product, {});
  env.focusEntry();
}

// Selling beyond the local stock warns; it never blocks (a sale is a fact).
export function stockWarning(env, productId) {
  const { catalog, register, store } = env;
  if (!register.shortfall(store.order, productId)) return;
  const left = Math.max(0, catalog.stockOf(productId).quantity);
  const name = catalog.get('product', productId)?.name ?? `#${productId}`;
  env.toast(t('Only {n} of {name} in stock here: selling more anyway', { n: formatQuantity(left, { locale: getLocale() }), name }), 'warn', 5000);
}

// A line sold at the product's own price because the branch's price at
// its quantity needs the server: the cashier is told (the sale goes on;
// the office sees it as price drift). `before`: the line's notice before
// the change (none for a line just added or scanned again).
export function priceNotice(env, line, before = null) {
  if (line.priceNotice === PRICE_NOT_OFFLINE && before !== PRICE_NOT_OFFLINE) {
    env.toast(t('Price not available offline: {name} is sold at its usual price', { name: line.name }), 'warn', 6000);
  }
}
