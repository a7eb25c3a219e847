// The checkout: the scan field, the cart, the product grid and quick keys
// (touch), the totals and one button per action, each with its key
// (dialogs/info.js SHORTCUTS). The cart follows the store.
import { t } from '../../lib/i18n.js';
import { $, h, modalOpen } from '../dom.js';
import { registerScreen } from '../registry.js';
import { priceText } from '../format.js';
import { Cart } from '../components/cart.js';
import { ProductPanel } from '../components/product-grid.js';
import { showShortcuts } from '../dialogs/info.js';
import { pickProduct, search, sellCode } from '../actions/sell.js';
import { discount, orderDiscount, priceOverride, quantity, step, voidLine, voidSale } from '../actions/lines.js';
import { customer, held, park } from '../actions/orders.js';

export class CheckoutScreen {
  constructor(env) {
    this.env = env;
    const { store } = env;
    this.cart = new Cart(env, {
      onSelect: (uuid) => store.select(store.order.lines.findIndex((l) => l.uuid === uuid)),
      onStep: (line, n) => step(env, line, n),
    });
    // Touch selling: quick keys and the product grid under the cart
    this.products = new ProductPanel({
      catalog: env.catalog,
      price: (p) => priceText(env.register, p.gross_price ?? p.list_price ?? '0'),
      onPick: (p) => pickProduct(env, p),
    });
  }

  // What each key and button does.
  actions() {
    const { env } = this;
    return {
      pay: () => env.run('payment'),
      search: () => search(env),
      customer: () => customer(env),
      quantity: () => quantity(env),
      discount: () => discount(env),
      orderDiscount: () => orderDiscount(env),
      price: () => priceOverride(env),
      park: () => park(env),
      held: () => held(env),
      ret: () => env.run('returns'),
      voidLine: () => voidLine(env),
      voidSale: () => voidSale(env),
      menu: () => env.run('menu'),
      help: () => showShortcuts(),
    };
  }

  keys(e) {
    const a = this.actions();
    const { store } = this.env;
    return {
      F1: a.help, F2: a.search, F3: a.customer, F4: a.quantity,
      F6: e.shiftKey ? a.orderDiscount : a.discount, F7: a.price,
      F8: e.shiftKey ? a.held : a.park, F9: a.pay, F10: a.ret,
      F12: a.menu, Delete: e.shiftKey ? a.voidSale : a.voidLine,
      ArrowUp: () => store.moveSelection(-1), ArrowDown: () => store.moveSelection(1),
    };
  }

  render() {
    const a = this.actions();
    const entry = h('input', { id: 'entry', autocomplete: 'off', placeholder: t('Scan, or type a barcode, SKU or name, then Enter'), 'aria-label': t('Scan or search') });
    entry.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        const v = entry.value.trim();
        entry.value = '';
        if (v) this.onScan(v, { typed: true });
      }
    });
    this.entry = entry;
    const btn = (label, key, fn, cls = '') => h('button', { class: `action ${cls}`, 'data-action': label, onclick: fn }, h('span', {}, t(label)), key ? h('kbd', {}, key) : null);
    const { cart } = this;
    return h('div', { class: 'checkout' },
      h('div', { class: 'left-pane' },
        h('section', { class: 'cart-pane' }, entry, cart.kind, cart.table()),
        this.products.render()),
      h('section', { class: 'side-pane' },
        cart.customer,
        cart.totals,
        h('div', { class: 'grid actions-grid' },
          btn('Pay', 'F9', a.pay, 'primary'),
          btn('Search', 'F2', a.search),
          btn('Quantity', 'F4', a.quantity),
          btn('Discount', 'F6', a.discount),
          btn('Order discount', '⇧F6', a.orderDiscount),
          btn('Price', 'F7', a.price),
          btn('Customer', 'F3', a.customer),
          btn('Park', 'F8', a.park),
          btn('Held orders', '⇧F8', a.held),
          btn('Return', 'F10', a.ret),
          btn('Void line', 'Del', a.voidLine),
          btn('Void sale', '⇧Del', a.voidSale, 'danger'),
          btn('Menu', 'F12', a.menu))));
  }

  mounted() {
    const { store } = this.env;
    const draw = () => this.cart.render(store.order, store.lastChange);
    this.unsubscribe = store.subscribe(draw);
    draw();
    this.entry.focus();
  }

  unmount() {
    this.unsubscribe?.();
  }

  refresh() {
    this.products.refresh();
  }

  // A scan (the wedge reader, the proxy) or what was typed in the scan field.
  async onScan(text, { typed = false } = {}) {
    const { env } = this;
    if (!env.store.employee) return;
    if (modalOpen()) {
      // A dialog that takes a scan (a receipt number) gets it; any other
      // refuses it aloud: nothing is added behind the cashier's back.
      const target = $('.modal [data-scan]');
      if (target) {
        target.value = text;
        target.form?.requestSubmit();
        return;
      }
      env.toast(t('Scan of {code} not added: close the dialog first, then scan again', { code: text }), 'bad', 5000);
      env.beep();
      return;
    }
    env.store.clearChange();
    await sellCode(env, text, { typed });
  }
}

registerScreen('checkout', CheckoutScreen);
