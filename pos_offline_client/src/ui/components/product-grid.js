// Touch selling without a scanner: the branch's quick keys, then the
// products of a category as tiles (name, price, image when the product has
// one), one tile per template; a template with variants asks for its
// attributes in the order the server sends them (size, then colour).
// Depends on: the catalog (services/catalog.js), dom.js, i18n.
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';
import { stockBadge } from './stock-badge.js';

// Tiles of one category shown at once: the rest is found by search.
export const MAX_TILES = 60;

// Categories with at least one salable product, by name.
export function gridCategories(catalog) {
  const used = new Set();
  catalog.scanProducts(['salable', 'category'], (id, salable, category) => {
    if (salable !== false && category !== null && category !== undefined) used.add(category);
  });
  return catalog.all('category').filter((c) => used.has(c.id))
    .sort((a, b) => a.name.localeCompare(b.name));
}

// The salable products of a category, one entry per template:
// {template, name, products (its variants), image}, by name.
export function templatesIn(catalog, categoryId) {
  const byTemplate = new Map();
  const ids = [];
  catalog.scanProducts(['salable', 'category'], (id, salable, category) => {
    if (salable !== false && category === categoryId) ids.push(id);
  });
  for (const id of ids) {
    const p = catalog.map('product').get(id);
    // variants (with attribute values) share their template's tile
    const key = p.attributes?.length && p.template !== undefined ? `t${p.template}` : `p${p.id}`;
    let entry = byTemplate.get(key);
    if (!entry) {
      entry = { template: key, name: p.attributes?.length ? p.template_name || p.name : p.name, products: [], image: null };
      byTemplate.set(key, entry);
    }
    entry.products.push(catalog.get('product', p.id));
    entry.image = entry.image || p.image || null;
  }
  return [...byTemplate.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// The next attribute to pick among variants, given the values picked so
// far ({size: 'M'}): {name, label, values: [{value, text, products}]}, or
// null when one variant is left (or the variants carry no attributes).
export function nextAttribute(variants, picked = {}) {
  const left = variants.filter((p) => (p.attributes || []).every((a) => !(a.name in picked) || picked[a.name] === a.value));
  if (left.length <= 1) return null;
  const first = left.find((p) => (p.attributes || []).some((a) => !(a.name in picked)));
  const attribute = first?.attributes.find((a) => !(a.name in picked));
  if (!attribute) return null;
  const values = new Map();
  for (const p of left) {
    const a = (p.attributes || []).find((x) => x.name === attribute.name);
    if (!a) continue;
    const key = JSON.stringify(a.value);
    if (!values.has(key)) values.set(key, { value: a.value, text: a.text ?? String(a.value), products: [] });
    values.get(key).products.push(p);
  }
  return { name: attribute.name, label: attribute.label || attribute.name, values: [...values.values()] };
}

// The variants left once `picked` is applied.
export function variantsLeft(variants, picked) {
  return variants.filter((p) => (p.attributes || []).every((a) => !(a.name in picked) || picked[a.name] === a.value));
}

// The branch's quick keys whose product the till knows, in order.
export function quickKeys(catalog) {
  return catalog.all('quick_key')
    .filter((k) => catalog.get('product', k.product))
    .sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0) || a.id - b.id);
}

// Ask for a template's attributes one after the other; answers the
// variant, or null when the cashier cancels.
export async function pickVariant(entry, price, catalog = null) {
  const picked = {};
  for (;;) {
    const next = nextAttribute(entry.products, picked);
    if (!next) {
      const left = variantsLeft(entry.products, picked);
      return left.length ? left[0] : null;
    }
    const choice = await openModal((box, close) => {
      const done = Object.values(picked).length
        ? h('p', { class: 'muted' }, entry.products[0].attributes.filter((a) => a.name in picked)
          .map((a) => `${a.label}: ${variantsLeft(entry.products, picked)[0].attributes.find((x) => x.name === a.name).text}`).join(' · '))
        : null;
      box.append(...[h('h2', {}, t('{name}: {attribute}', { name: entry.name, attribute: next.label })), done,
        h('div', { class: 'grid variant-values', id: 'variant-values', 'data-attribute': next.name }, next.values.map((v) => h('button', {
          class: 'big', 'data-value': String(v.value), onclick: () => close(v),
        }, ...[h('span', {}, v.text), v.products.length === 1 ? h('small', {}, price(v.products[0])) : null,
          v.products.length === 1 && catalog ? stockBadge(catalog, v.products[0].id) : null].filter(Boolean)))),
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Cancel')))].filter(Boolean));
    }, { className: 'wide' });
    if (!choice) return null;
    picked[next.name] = choice.value;
  }
}

// The panel under the cart: quick keys, category tabs, tiles.
// price(product) -> text; onPick(product) adds it to the order.
export class ProductPanel {
  constructor({ catalog, price, onPick }) {
    Object.assign(this, { catalog, price, onPick });
    this.category = null;
    this.element = h('section', { class: 'products-pane', id: 'products' });
  }

  render() {
    this.shown = this.catalog.version;
    const categories = gridCategories(this.catalog);
    if (this.category === null || !categories.some((c) => c.id === this.category)) this.category = categories[0]?.id ?? null;
    const keys = quickKeys(this.catalog);
    const tap = (fn) => ({
      // a tap keeps the focus where it was (the scan field)
      onmousedown: (e) => e.preventDefault(),
      onclick: fn,
    });
    const entries = this.category === null ? [] : templatesIn(this.catalog, this.category);
    const tiles = entries.slice(0, MAX_TILES).map((entry) => {
      const one = entry.products.length === 1 ? entry.products[0] : null;
      const prices = new Set(entry.products.map((p) => this.price(p)));
      return h('button', {
        class: 'tile', type: 'button', 'data-template': String(entry.template), 'data-variants': String(entry.products.length),
        ...tap(() => this.pick(entry)),
      },
      entry.image ? h('img', { src: entry.image, alt: '', loading: 'lazy' }) : h('span', { class: 'tile-initial', 'aria-hidden': 'true' }, entry.name.slice(0, 1)),
      h('span', { class: 'tile-name' }, entry.name),
      h('span', { class: 'tile-price' }, one || prices.size === 1 ? this.price(entry.products[0])
        : t('{n} variants', { n: entry.products.length })),
      ...(one ? [stockBadge(this.catalog, one.id)].filter(Boolean) : []));
    });
    // (replaceChildren would show a null as the text "null")
    this.element.replaceChildren(...[
      keys.length ? h('div', { class: 'quick-keys', id: 'quick-keys' }, keys.map((k) => {
        const product = this.catalog.get('product', k.product);
        return h('button', {
          class: `quick-key ${k.colour ? `colour-${k.colour}` : ''}`, type: 'button', 'data-quick-key': String(k.id), 'data-product': String(k.product),
          ...tap(() => this.onPick(product)),
        }, h('span', {}, k.label || product.name), h('small', {}, this.price(product)));
      })) : null,
      h('div', { class: 'category-tabs', id: 'category-tabs', role: 'tablist' }, categories.map((c) => h('button', {
        class: `tab ${c.id === this.category ? 'active' : ''}`, type: 'button', role: 'tab', 'data-category': String(c.id),
        'aria-selected': String(c.id === this.category),
        ...tap(() => { this.category = c.id; this.render(); }),
      }, c.name))),
      h('div', { class: 'tiles', id: 'tiles' }, tiles,
        entries.length > MAX_TILES ? h('p', { class: 'muted more' }, t('{n} more: search by name (F2)', { n: entries.length - MAX_TILES })) : null),
    ].filter(Boolean));
    return this.element;
  }

  // Render again when the catalog changed (a pull brought quick keys,
  // products or prices) and the panel is on screen.
  refresh() {
    if (!this.element.isConnected || this.shown === this.catalog.version) return;
    this.render();
  }

  async pick(entry) {
    const product = entry.products.length === 1 ? entry.products[0] : await pickVariant(entry, this.price, this.catalog);
    if (product) await this.onPick(product);
  }
}
