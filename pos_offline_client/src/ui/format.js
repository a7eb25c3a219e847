// How the till shows money and quantities (Intl through lib/money.js).
import { divRound, formatMoney, formatQuantity, parseDecimal, PRICE_DIGITS } from '../lib/money.js';
import { getLocale } from '../lib/i18n.js';
import { h } from './dom.js';

export function money(register, minor) {
  const { code, digits } = register.currency();
  return formatMoney(minor, { currency: code, digits, locale: getLocale() });
}

// money() and unitMinor() with the currency looked up once (a render of
// the whole cart).
export function formatters(register) {
  const { code, digits } = register.currency();
  const locale = getLocale();
  const scale = 10 ** (PRICE_DIGITS - digits);
  return {
    money: (minor) => formatMoney(minor, { currency: code, digits, locale }),
    unitMinor: (price) => divRound(price, scale),
  };
}

// A unit price (4 decimals) in the currency's minor units.
export function unitMinor(register, price) {
  return divRound(price, 10 ** (PRICE_DIGITS - register.currency().digits));
}

// A price of the catalog (a decimal string, 4 decimals) as money.
export function priceText(register, text) {
  return money(register, unitMinor(register, parseDecimal(text ?? '0', PRICE_DIGITS)));
}

function uomOf(catalog, line) {
  const product = catalog.get('product', line.product);
  return catalog.get('uom', line.uom ?? product?.uom);
}

// A line's quantity as shown: with its unit when it is not counted in
// units (0.755 kg).
export function quantityText(catalog, line) {
  const uom = uomOf(catalog, line);
  const digits = line.weighed ? 3 : Math.max(0, Math.min(3, uom?.digits ?? 0));
  const text = formatQuantity(line.quantity, { locale: getLocale(), digits });
  const counted = !line.weighed && (!uom || !uom.digits);
  return counted || !uom?.symbol ? text : `${text} ${uom.symbol}`;
}

export function row(label, value) {
  return h('div', { class: 'row' }, h('span', {}, label), h('span', {}, value));
}
