// The cashier's screens: enrollment, bootstrap, login, checkout, payment,
// returns, parked orders, customers, cash session and reports.
// Keyboard first (see SHORTCUTS), every action also a touch button.
import { formatDecimal, formatMoney, formatQuantity, parseDecimal, PRICE_DIGITS, QTY_DIGITS, divRound } from '../lib/money.js';
import { formatDateTime, formatRelative, getLocale, t } from '../lib/i18n.js';
import { parseBarcode } from '../services/barcode.js';
import { chooseLot, isExpired, sellBy } from '../services/catalog.js';
import { refundContext, refundLimits, refundMethods, tenderRefund } from '../services/refund.js';
import { toProxyReceipt } from '../services/hardware.js';
import { tender, labelQuantity, receiptTaxes } from '../services/pricing.js';
import { addProduct, isEmpty, newOrder, selectedLine, setQuantity, stepQuantity } from '../models/order.js';
import { $, closeAllModals, h, modalOpen, openModal } from './dom.js';
import { ProductPanel } from './product-grid.js';
import { receiptHtml, reportHtml, printHtml } from './print.js';
import { receiptFromWire, refundsFromWire, returnedByProduct, withoutReturned } from '../sync/api.js';
import { compareFigures } from '../sync/wire.js';

const PRICE_NOT_OFFLINE = 'price-not-offline';

export const SHORTCUTS = [
  ['F2', 'Search'], ['F3', 'Customer'], ['F4', 'Quantity'], ['F6', 'Discount'], ['Shift+F6', 'Order discount'],
  ['F7', 'Price'], ['F8', 'Park'], ['Shift+F8', 'Held orders'], ['F9', 'Pay'], ['F10', 'Return'],
  ['Delete', 'Void line'], ['Shift+Delete', 'Void sale'], ['F12', 'Menu'], ['F1', 'Help'],
];

export class PosUI {
  constructor(app) {
    this.app = app;
    this.reg = app.register;
    this.order = newOrder();
    this.heldUuid = null;
    this.employee = null;
    this.screen = null;
    this.lastChange = null;
    this.onKey = this.onKey.bind(this);
    document.addEventListener('keydown', this.onKey);
  }

  money(minor) {
    const { code, digits } = this.reg.currency();
    return formatMoney(minor, { currency: code, digits, locale: getLocale() });
  }

  // -- status bar ----------------------------------------------------------
  renderStatus(s) {
    const bar = $('#status');
    if (!bar) return;
    const online = s.online === true;
    const parts = [
      h('span', { class: 'brand' }, this.app.device?.terminal?.name || t('Point of sale')),
      h('span', { id: 'net', class: `pill ${online ? 'ok' : 'bad'}`, 'data-online': String(online) }, online ? t('Online') : t('Offline')),
      h('span', { id: 'unsynced', class: `pill ${s.pending ? 'warn' : ''}`, 'data-count': String(s.pending) }, t('Unsynced: {n}', { n: s.pending })),
      h('span', { id: 'lastsync', class: 'muted' }, s.lastSyncAt ? t('Last sync {when}', { when: formatRelative(Date.now() - s.lastSyncAt) }) : t('Never synced')),
      h('button', { id: 'force-sync', class: 'small', onclick: () => this.app.forceSync() }, t('Force sync')),
      h('span', { id: 'storage', class: `muted ${s.persisted ? '' : 'warn-text'}`, title: s.persisted ? '' : t('Storage may be cleared by the browser: install the app or allow persistent storage.') }, s.persisted ? t('Storage: persistent') : t('Storage: not persistent')),
      h('span', { class: 'spacer' }),
      this.employee ? h('span', { id: 'cashier' }, this.employee.name) : null,
      this.employee ? h('button', { class: 'small', onclick: () => this.lock() }, t('Lock')) : null,
    ];
    bar.replaceChildren(...parts.filter(Boolean));
    const banner = $('#banner');
    if (s.revoked) {
      banner.replaceChildren(h('div', { class: 'banner bad' }, t('This terminal\'s key was revoked: sales are kept here; enroll the terminal again to sync them.')));
    } else if (s.quarantined) {
      banner.replaceChildren(h('div', { class: 'banner bad', id: 'quarantine-banner' },
        t('{n} operation(s) rejected by the server and quarantined. A manager must fix them in the back office (Retail › Sync › Conflicts).', { n: s.quarantined }),
        h('button', { class: 'small', onclick: () => this.showQuarantine() }, t('Details'))));
    } else {
      banner.replaceChildren();
    }
  }

  async showQuarantine() {
    const items = await this.app.db.quarantine.orderBy('seq').toArray();
    // the reason is stored encrypted (it names people)
    for (const q of items) q.reason = q.reasonEnc && this.app.vault ? await this.app.vault.decrypt(q.reasonEnc).catch(() => null) : q.reason;
    await openModal((box, close) => {
      box.append(h('h2', {}, t('Rejected operations')),
        h('ul', { class: 'list' }, items.map((q) => h('li', {}, `#${q.seq} ${q.type}: ${q.reason?.code ?? ''} — ${q.reason?.message || ''}`))),
        h('div', { class: 'actions' },
          h('button', { onclick: async () => { await this.app.acknowledgeQuarantine(); close(); } }, t('Acknowledge')),
          h('button', { onclick: () => close() }, t('Close'))));
    });
  }

  toast(text, kind = 'info', ms = 3500) {
    const el = h('div', { class: `toast ${kind}`, role: 'status' }, text);
    $('#toasts').append(el);
    setTimeout(() => el.remove(), ms);
  }

  show(name, ...children) {
    this.screen = name;
    const main = $('#screen');
    main.dataset.screen = name;
    main.replaceChildren(...children);
  }

  // -- enrollment and bootstrap --------------------------------------------
  showEnroll(defaults = {}, error = '') {
    const code = h('input', { id: 'enroll-code', autocomplete: 'off', placeholder: 'K7QM-3XRT', autofocus: true });
    const db = h('input', { id: 'enroll-db', value: defaults.database || '', autocomplete: 'off' });
    const name = h('input', { id: 'enroll-name', value: defaults.deviceName || t('Till'), autocomplete: 'off' });
    const msg = h('p', { class: 'error', id: 'enroll-error' }, error);
    const submit = async (e) => {
      e?.preventDefault();
      msg.textContent = t('Enrolling…');
      try {
        await this.app.enroll({ text: code.value, database: db.value, deviceName: name.value });
      } catch (err) {
        msg.textContent = t('Enrollment failed: {reason}', { reason: err.message });
      }
    };
    this.enrollScan = (text) => {
      code.value = text;
      submit();
    };
    this.show('enroll', h('form', { class: 'card narrow', onsubmit: submit },
      h('h1', {}, t('Enroll this terminal')),
      h('p', {}, t('Type or scan the enrollment code shown in the back office (Retail › Terminals › Enrollment Code).')),
      h('label', {}, t('Enrollment code'), code),
      h('label', {}, t('Database'), db),
      h('label', {}, t('Device name'), name),
      msg,
      h('button', { class: 'primary big', type: 'submit', id: 'enroll-submit' }, t('Enroll'))));
    code.focus();
  }

  showBootstrap() {
    this.show('bootstrap', h('div', { class: 'card narrow' },
      h('h1', {}, t('Loading the catalog')),
      h('progress', { id: 'boot-progress', max: '100' }),
      h('p', { id: 'boot-text' }, t('Starting…'))));
  }

  bootstrapProgress(p) {
    const bar = $('#boot-progress');
    const text = $('#boot-text');
    if (!bar) return;
    if (p.total) {
      const pct = Math.min(100, Math.round((p.records / p.total) * 100));
      bar.value = pct;
      const left = p.rate > 0 ? Math.max(0, (p.total - p.records) / p.rate) : null;
      text.textContent = t('{records} records, {pct} %, about {left} s left', { records: p.records.toLocaleString(getLocale()), pct, left: left === null ? '?' : Math.ceil(left) });
    } else {
      bar.removeAttribute('value');
      text.textContent = t('{records} records ({rate}/s)', { records: p.records.toLocaleString(getLocale()), rate: Math.round(p.rate) });
    }
    if (p.done) {
      bar.value = 100;
      text.textContent = t('{records} records loaded in {s} s', { records: p.records.toLocaleString(getLocale()), s: (p.elapsed / 1000).toFixed(1) });
    }
  }

  // -- login, lock ---------------------------------------------------------
  showLogin(locked = null) {
    this.employee = null;
    this.app.refreshStatus();
    const employees = this.app.loginEmployees();
    this.show('login', h('div', { class: 'card' },
      h('h1', {}, locked ? t('Locked by {name}', { name: locked.name }) : t('Who is selling?')),
      employees.length ? null : h('p', { class: 'error' }, t('No employee with a PIN for this branch yet.')),
      h('div', { class: 'grid employees' }, employees.map((e) => h('button', {
        class: 'big', 'data-employee': String(e.id), onclick: () => this.askPin(e),
      }, e.name)))));
  }

  // A PIN through the guard of services/pin.js: a wait after a wrong PIN
  // that doubles each time, a lockout that a manager's PIN lifts.
  async askPin(employee, title, purpose = title ? 'override' : 'login') {
    const first = await this.app.guard.check(employee.id);
    if (first.locked) return (await this.unlockDialog(employee)) ? this.askPin(employee, title, purpose) : null;
    let timer = null;
    const result = await openModal((box, close) => {
      const input = h('input', { id: 'pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: '8', autofocus: true });
      const msg = h('p', { class: 'error', id: 'pin-error' });
      const ok = h('button', { class: 'primary', type: 'submit', id: 'pin-ok' }, t('OK'));
      const wait = (ms, wrong) => {
        ok.disabled = true;
        input.disabled = true;
        const until = Date.now() + ms;
        const tick = () => {
          const left = Math.ceil((until - Date.now()) / 1000);
          if (left <= 0) {
            ok.disabled = false;
            input.disabled = false;
            msg.textContent = wrong ? t('Wrong PIN') : '';
            input.focus();
            return;
          }
          msg.textContent = t(wrong ? 'Wrong PIN: try again in {s} s' : 'Try again in {s} s', { s: left });
          timer = setTimeout(tick, Math.min(1000, until - Date.now()));
        };
        tick();
      };
      const submit = async (e) => {
        e?.preventDefault();
        if (ok.disabled) return;
        msg.textContent = t('Checking…');
        const r = await this.app.tryPin(employee.id, input.value, purpose);
        input.value = '';
        if (r.ok) close(r.employee);
        else if (r.locked) close({ locked: true });
        else if (r.waitMs > 0) wait(r.waitMs, r.wrong);
        else {
          msg.textContent = t('Wrong PIN');
          input.focus();
        }
      };
      box.append(h('form', { onsubmit: submit },
        h('h2', {}, title || t('PIN of {name}', { name: employee.name })), input, pinPad(input, submit), msg,
        h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(null) }, t('Cancel')), ok)));
      if (first.waitMs > 0) wait(first.waitMs, true);
    }, { className: 'pin' });
    clearTimeout(timer);
    if (result?.locked) return (await this.unlockDialog(employee)) ? this.askPin(employee, title, purpose) : null;
    if (result && !title) this.loggedIn(result);
    return result;
  }

  // A locked employee: a manager's PIN lifts the lockout (logged).
  async unlockDialog(employee) {
    const managers = this.app.managers(employee.id);
    const manager = await openModal((box, close) => {
      box.append(h('h2', { id: 'pin-locked' }, t('{name} is locked out after too many wrong PINs', { name: employee.name })),
        h('p', {}, managers.length ? t('A manager unlocks with their PIN:') : t('No manager can unlock at this till.')),
        h('div', { class: 'grid employees' }, managers.map((m) => h('button', {
          class: 'big', 'data-unlock-manager': String(m.id), onclick: () => close(m),
        }, m.name))),
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Cancel'))));
    });
    if (!manager) return false;
    const approved = await this.askPin(manager, t('PIN of {name} to unlock {who}', { name: manager.name, who: employee.name }), 'unlock');
    if (!approved) return false;
    if (!(await this.app.unlockEmployee(employee.id, approved))) {
      this.toast(t('{name} may not unlock PINs', { name: approved.name }), 'bad');
      return false;
    }
    this.toast(t('{name} unlocked', { name: employee.name }), 'ok');
    return true;
  }

  async loggedIn(employee) {
    this.employee = employee;
    sessionStorage.setItem('pos-employee', String(employee.id));
    await this.reg.audit('login', { employee: employee.id });
    const session = await this.reg.currentSession();
    if (!session) {
      const ok = await this.openSessionDialog();
      if (!ok) return this.showLogin();
    }
    this.showCheckout();
  }

  lock() {
    closeAllModals();
    const who = this.employee;
    this.employee = null;
    sessionStorage.removeItem('pos-employee');
    this.showLogin(who);
  }

  // -- manager override ----------------------------------------------------
  // Ask for a manager's PIN when the cashier may not do `action`. `need`
  // checks the manager's own rights. Logged in the audit trail.
  // The approval entry (this.lastOverride) goes with the order: the sale
  // sends it to the server as an `audit` operation (sync/wire.js).
  // `summary`: what exactly the manager approves (which line, how much),
  // shown under the title.
  async authorize(action, allowed, need = () => true, detail = {}, summary = '') {
    this.lastOverride = null;
    if (allowed(this.employee)) return this.employee;
    const managers = this.reg.employees().filter((e) => this.reg.can(e, 'allow_manager_override') && need(e) && e.id !== this.employee.id);
    if (!managers.length) {
      this.toast(t('Not allowed, and no manager can authorize it'), 'bad');
      return null;
    }
    const manager = await openModal((box, close) => {
      box.append(h('h2', {}, t('Manager approval: {action}', { action: t(action) })),
        summary ? h('p', { class: 'approval-detail', id: 'approval-detail' }, summary) : null,
        h('div', { class: 'grid employees' }, managers.map((m) => h('button', {
          class: 'big', 'data-manager': String(m.id), onclick: () => close(m),
        }, m.name))),
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Cancel'))));
    });
    if (!manager) return null;
    const ok = await this.askPin(manager, t('PIN of {name} to approve', { name: manager.name }));
    if (!ok) return null;
    const entry = { action, manager: manager.id, managerName: manager.name, cashier: this.employee.id, at: Date.now(), ...detail };
    this.order.overrides.push(entry);
    this.lastOverride = entry;
    await this.reg.audit('manager_override', entry);
    this.toast(t('Approved by {name}', { name: manager.name }), 'ok');
    return manager;
  }

  // -- checkout ------------------------------------------------------------
  showCheckout() {
    const entry = h('input', { id: 'entry', autocomplete: 'off', placeholder: t('Scan, or type a barcode, SKU or name, then Enter'), 'aria-label': t('Scan or search') });
    entry.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        const v = entry.value.trim();
        entry.value = '';
        if (v) this.handleCode(v, { typed: true });
      }
    });
    const btn = (label, key, fn, cls = '') => h('button', { class: `action ${cls}`, 'data-action': label, onclick: fn }, h('span', {}, t(label)), key ? h('kbd', {}, key) : null);
    // Touch selling: quick keys and the product grid under the cart
    // (ui/product-grid.js)
    const digits = this.reg.currency().digits;
    this.products = new ProductPanel({
      catalog: this.app.catalog,
      price: (p) => this.money(divRound(parseDecimal(p.gross_price ?? p.list_price ?? '0', PRICE_DIGITS), 10 ** (PRICE_DIGITS - digits))),
      onPick: (p) => this.pickProduct(p),
    });
    this.show('checkout', h('div', { class: 'checkout' },
      h('div', { class: 'left-pane' },
        h('section', { class: 'cart-pane' },
          entry,
          h('div', { id: 'order-kind' }),
          h('table', { class: 'cart' }, h('thead', {}, h('tr', {},
            h('th', {}, t('Item')), h('th', { class: 'num' }, t('Qty')), h('th', { class: 'num' }, t('Price')), h('th', { class: 'num' }, t('Total')))),
          h('tbody', { id: 'cart' }))),
        this.products.render()),
      h('section', { class: 'side-pane' },
        h('div', { id: 'customer' }),
        h('div', { id: 'totals' }),
        h('div', { class: 'grid actions-grid' },
          btn('Pay', 'F9', () => this.pay(), 'primary'),
          btn('Search', 'F2', () => this.search()),
          btn('Quantity', 'F4', () => this.quantity()),
          btn('Discount', 'F6', () => this.discount()),
          btn('Order discount', '⇧F6', () => this.orderDiscount()),
          btn('Price', 'F7', () => this.priceOverride()),
          btn('Customer', 'F3', () => this.customer()),
          btn('Park', 'F8', () => this.park()),
          btn('Held orders', '⇧F8', () => this.held()),
          btn('Return', 'F10', () => this.startReturn()),
          btn('Void line', 'Del', () => this.voidLine()),
          btn('Void sale', '⇧Del', () => this.voidSale(), 'danger'),
          btn('Menu', 'F12', () => this.menu())))));
    this.renderOrder();
    entry.focus();
  }

  renderOrder() {
    const tbody = $('#cart');
    if (!tbody) return;
    const c = this.reg.totals(this.order);
    const amounts = new Map(c.lines.map((l) => [l.line.uuid, l]));
    // Rows are kept by line and rebuilt only when what they show changed:
    // a scan touches one row, not the whole order (scan-to-line latency).
    if (this.rowsOf !== this.order) {
      this.rows = new Map();
      this.rowsOf = this.order;
    }
    const digits = this.reg.currency().digits;
    const rows = this.order.lines.map((line, i) => {
      const comp = amounts.get(line.uuid);
      const cells = [
        line.name,
        [line.code, line.lot ? t('Lot {n}', { n: line.lot.number }) : '', line.discount ? t('-{p} %', { p: formatDecimal(line.discount, 2) }) : '', line.priceOverridden ? t('price changed') : ''].filter(Boolean).join(' · '),
        this.quantityText(line),
        this.money(divRound(comp ? comp.unitGrossPrice : line.unitPrice, 10 ** (PRICE_DIGITS - digits))),
        line.voided ? t('void') : this.money(comp.amount),
        !line.voided && line.priceNotice === PRICE_NOT_OFFLINE ? t('Price not available offline') : '',
      ];
      const selected = i === this.order.selected;
      // − / + on the selected counted line of a sale (touch)
      const steps = selected && !line.voided && !line.weighed && this.order.kind === 'sale';
      const cls = `${selected ? 'selected' : ''} ${line.voided ? 'voided' : ''}`;
      const sig = JSON.stringify([i, cls, cells, steps]);
      let tr = this.rows.get(line.uuid);
      if (!tr || tr.sig !== sig) {
        tr = h('tr', {
          class: cls, 'data-line': String(i),
          onclick: () => { this.order.selected = this.order.lines.findIndex((l) => l.uuid === line.uuid); this.renderOrder(); },
        },
        h('td', {}, h('div', {}, cells[0]), h('small', {}, cells[1]),
          cells[5] ? h('small', { class: 'price-notice', 'data-notice': line.priceNotice }, cells[5]) : null),
        h('td', { class: 'num qty' }, steps ? [
          h('button', { class: 'step', 'data-action': 'qty-minus', 'aria-label': t('One less'), onclick: (e) => { e.stopPropagation(); this.step(line, -1); } }, '−'),
          h('span', {}, cells[2]),
          h('button', { class: 'step', 'data-action': 'qty-plus', 'aria-label': t('One more'), onclick: (e) => { e.stopPropagation(); this.step(line, 1); } }, '+'),
        ] : cells[2]),
        h('td', { class: 'num' }, cells[3]), h('td', { class: 'num' }, cells[4]));
        tr.sig = sig;
        this.rows.set(line.uuid, tr);
      }
      return tr;
    });
    let child = tbody.firstChild;
    for (const tr of rows) {
      if (child === tr) {
        child = child.nextSibling;
      } else {
        tbody.insertBefore(tr, child);
      }
    }
    while (child) {
      const next = child.nextSibling;
      child.remove();
      child = next;
    }
    const sel = tbody.querySelector('tr.selected');
    if (sel) sel.scrollIntoView({ block: 'nearest' });
    $('#order-kind').replaceChildren(this.order.kind === 'return'
      ? h('div', { class: 'banner warn' }, t('Return of {n}', { n: this.order.originalReceipt || t('a sale') })) : '');
    $('#customer').replaceChildren(this.order.customer
      ? h('div', { class: 'customer' }, t('Customer: {name}', { name: this.order.customer.name }))
      : h('div', { class: 'muted' }, t('No customer')));
    $('#totals').replaceChildren(...[
      row(t('Items'), formatQuantity(c.items, { locale: getLocale() })),
      c.discount ? row(t('Discount'), this.money(-c.discount)) : null,
      this.order.discount ? row(t('Order discount'), `${formatDecimal(this.order.discount, 2)} %`) : null,
      row(t('Tax'), this.money(c.tax)),
      h('div', { class: 'total', id: 'total', 'data-minor': String(c.total) }, h('span', {}, t('Total')), h('span', {}, this.money(c.total))),
      this.lastChange !== null ? h('div', { class: 'change', id: 'last-change' }, t('Change due: {amount}', { amount: this.money(this.lastChange) })) : null,
    ].filter(Boolean));
  }

  // A scan from the wedge reader or the proxy, or what was typed in #entry.
  async handleCode(text, { typed = false } = {}) {
    if (this.screen === 'enroll') return this.enrollScan?.(text);
    if (this.screen !== 'checkout' || !this.employee) return;
    if (modalOpen()) {
      // A dialog that takes a scan (a receipt number) gets it; any other
      // refuses it aloud: nothing is added behind the cashier's back.
      const target = document.querySelector('.modal [data-scan]');
      if (target) {
        target.value = text;
        target.form?.requestSubmit();
        return;
      }
      this.toast(t('Scan of {code} not added: close the dialog first, then scan again', { code: text }), 'bad', 5000);
      beep();
      return;
    }
    this.lastChange = null;
    const parsed = parseBarcode(text, { rules: this.app.settings.variableRules });
    const cat = this.app.catalog;
    let product = null;
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
          const { digits } = this.reg.currency();
          const qty = labelQuantity(parsed.amount, product.gross_price, digits);
          if (!qty) {
            this.toast(t('No price for {name}', { name: product.name }), 'bad');
            return;
          }
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
        if (isEmpty(this.order)) return this.startReturn(parsed.number);
        this.toast(t('Finish or park this order before a return'), 'bad');
        return;
      case 'invalid':
        this.toast(t({
          date: 'Invalid barcode {code} (impossible date)',
          'price-check-digit': 'Invalid barcode {code} (price check digit)',
        }[parsed.reason] || 'Invalid barcode {code} (check digit)', { code: text }), 'bad');
        beep();
        return;
      default:
        product = cat.byCode(text) || cat.lookup([text]);
        if (!product && typed) return this.search(text);
    }
    if (!product) {
      this.toast(t('Unknown barcode {code}', { code: text }), 'bad');
      beep();
      return;
    }
    await this.addWithLot(product, opts, parsed);
  }

  async addWithLot(product, opts, parsed = {}) {
    const today = this.reg.today();
    const hasLots = product.lot_required || this.app.catalog.lotsOf(product.id).length > 0;
    let lot = null;
    let lotAuto = false;
    if (parsed.lot) {
      lot = this.app.catalog.lotByNumber(product.id, parsed.lot)
        || { id: null, number: parsed.lot, expiration_date: parsed.expiry || null };
      if (lot.id === null) this.toast(t('Lot {n} is not known here; the server will check it', { n: parsed.lot }), 'warn');
    } else if (hasLots) {
      const choice = chooseLot(this.app.catalog, product.id, today);
      lot = choice.lot || choice.expired || null;
      lotAuto = Boolean(choice.lot);
    }
    if (lot && isExpired(lot, today)) {
      const ok = await this.authorize('Sell an expired lot', () => false, () => true, { product: product.id, lotId: lot.id, lot_number: lot.number, expiry: sellBy(lot) },
        t('{name}, lot {n}, expired on {date}', { name: product.name, n: lot.number, date: sellBy(lot) }));
      if (!ok) {
        this.toast(t('Lot {n} of {name} expired on {date}: not sold', { n: lot.number, name: product.name, date: sellBy(lot) }), 'bad', 6000);
        return;
      }
    }
    const qty = this.order.kind === 'return' ? -(opts.quantity ?? 1000) : opts.quantity;
    const line = addProduct(this.order, product, { ...opts, quantity: qty ?? 1000, lot: lot && lot.id !== null ? lot : null, catalog: this.app.catalog });
    if (lotAuto) line.lotAuto = true;
    this.priceNotice(line);
    this.stockWarning(line.product);
    if (lot && lot.id === null) this.order.lines[this.order.selected].lotNumber = lot.number;
    this.renderOrder();
  }

  // A product tapped on the grid or a quick key: one unit, or the weight
  // the cashier types for a product sold by weight (kg).
  async pickProduct(product) {
    const uom = this.app.catalog.get('uom', product.uom);
    if (uom?.digits > 0) {
      const quantity = await this.promptNumber(t('Weight of {name} ({unit})', { name: product.name, unit: uom.symbol || uom.name }), { id: 'weight', digits: 3 });
      if (!quantity) return;
      return this.addWithLot(product, { quantity, weighed: true });
    }
    return this.addWithLot(product, {});
  }

  async search(initial = '') {
    const product = await openModal((box, close) => {
      const input = h('input', { id: 'search', value: initial, autocomplete: 'off', placeholder: t('Name, SKU or barcode'), autofocus: true });
      const list = h('ul', { class: 'list results', id: 'search-results' });
      let results = [];
      let active = 0;
      const render = () => {
        const t0 = performance.now();
        results = this.app.catalog.search(input.value, 30);
        this.app.metrics.search(performance.now() - t0);
        active = 0;
        list.replaceChildren(...results.map((p, i) => h('li', {
          class: i === active ? 'active' : '', onclick: () => close(p), 'data-product': String(p.id),
        }, h('span', {}, p.name), h('small', {}, p.code || ''), h('span', { class: 'num' }, this.money(divRound(parseDecimal(p.gross_price ?? '0', PRICE_DIGITS), 10 ** (PRICE_DIGITS - this.reg.currency().digits)))))));
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
    if (product) await this.addWithLot(product, {});
    $('#entry')?.focus();
  }

  async promptNumber(title, { value = '', id = 'number', digits = 2, allowNegative = false } = {}) {
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

  async quantity() {
    const line = selectedLine(this.order);
    if (!line) return;
    const v = await this.promptNumber(t('Quantity of {name}', { name: line.name }), { value: formatDecimal(Math.abs(line.quantity), 3).replace(/\.?0+$/, ''), id: 'qty', digits: 3 });
    if (v === null || v === 0) return;
    const before = line.priceNotice ?? null;
    setQuantity(line, this.order.kind === 'return' ? -Math.abs(v) : v, this.app.catalog);
    this.priceNotice(line, before);
    this.stockWarning(line.product);
    this.renderOrder();
  }

  // Selling beyond the local stock warns; it never blocks (a sale is a fact).
  stockWarning(productId) {
    if (!this.reg.shortfall(this.order, productId)) return;
    const left = Math.max(0, this.app.catalog.stockOf(productId).quantity);
    const name = this.app.catalog.get('product', productId)?.name ?? `#${productId}`;
    this.toast(t('Only {n} of {name} in stock here: selling more anyway', { n: formatQuantity(left, { locale: getLocale() }), name }), 'warn', 5000);
  }

  // The selected line's − / + buttons: one unit less or more.
  step(line, n) {
    const before = line.priceNotice ?? null;
    if (!stepQuantity(line, n, this.app.catalog)) return;
    this.priceNotice(line, before);
    if (n > 0) this.stockWarning(line.product);
    this.renderOrder();
  }

  // A line sold at the product's own price because the branch's price at
  // its quantity needs the server: the cashier is told (the sale goes on;
  // the office sees it as price drift). `before`: the line's notice before
  // the change (none for a line just added or scanned again).
  priceNotice(line, before = null) {
    if (line.priceNotice === PRICE_NOT_OFFLINE && before !== PRICE_NOT_OFFLINE) {
      this.toast(t('Price not available offline: {name} is sold at its usual price', { name: line.name }), 'warn', 6000);
    }
  }

  async discount() {
    const line = selectedLine(this.order);
    if (!line) return;
    const bp = await this.promptNumber(t('Discount % on {name}', { name: line.name }), { id: 'discount' });
    if (bp === null) return;
    if (bp > 10000) return this.toast(t('A discount is at most 100 %'), 'bad');
    const ok = await this.authorize('Discount', (e) => bp <= this.reg.maxDiscountBp(e), (m) => bp <= this.reg.maxDiscountBp(m), { discount: formatDecimal(bp, 2), line: line.uuid, product: line.product },
      this.lineSummary(line, t('{p} % off', { p: formatDecimal(bp, 2) }), (amount) => divRound(amount * bp, 10000)));
    if (!ok) return;
    line.discount = bp;
    this.renderOrder();
  }

  async orderDiscount() {
    if (isEmpty(this.order)) return;
    const bp = await this.promptNumber(t('Discount % on the whole order'), { id: 'order-discount' });
    if (bp === null) return;
    if (bp > 10000) return this.toast(t('A discount is at most 100 %'), 'bad');
    const ok = await this.authorize('Order discount', (e) => bp <= this.reg.maxDiscountBp(e), (m) => bp <= this.reg.maxDiscountBp(m), { discount: formatDecimal(bp, 2) },
      t('{p} % off the whole order of {total}', { p: formatDecimal(bp, 2), total: this.money(this.reg.totals(this.order).total) }));
    if (!ok) return;
    this.order.discount = bp;
    this.renderOrder();
  }

  async priceOverride() {
    const line = selectedLine(this.order);
    if (!line) return;
    const ok = await this.authorize('Price override', (e) => this.reg.can(e, 'allow_price_override'), (m) => this.reg.can(m, 'allow_price_override'), { line: line.uuid },
      this.lineSummary(line, t('new unit price')));
    if (!ok) return;
    const approval = this.lastOverride;
    const v = await this.promptNumber(t('Unit price of {name}', { name: line.name }), { id: 'price', digits: PRICE_DIGITS });
    if (v === null) return;
    if (approval) Object.assign(approval, { product: line.product, from: formatDecimal(line.unitPrice, PRICE_DIGITS), price: formatDecimal(v, PRICE_DIGITS) });
    line.unitPrice = v;
    line.priceOverridden = true;
    this.renderOrder();
  }

  async voidLine() {
    const line = selectedLine(this.order);
    if (!line) return;
    const ok = await this.authorize('Void line', (e) => this.reg.can(e, 'allow_void'), (m) => this.reg.can(m, 'allow_void'), { line: line.uuid, product: line.product },
      this.lineSummary(line, t('void')));
    if (!ok) return;
    line.voided = true;
    this.renderOrder();
  }

  async voidSale() {
    if (!this.order.lines.length) return;
    const ok = await this.authorize('Void sale', (e) => this.reg.can(e, 'allow_void'), (m) => this.reg.can(m, 'allow_void'), {},
      t('The whole sale: {n} line(s), {total}', { n: this.order.lines.filter((l) => !l.voided).length, total: this.money(this.reg.totals(this.order).total) }));
    if (!ok) return;
    if (this.order.payments.length) return this.toast(t('Payments were taken: refund them first'), 'bad');
    const r = await this.reg.voidOrder(this.order, this.employee, 'voided at the till', { heldUuid: this.heldUuid });
    this.toast(t('Sale voided ({n})', { n: this.reg.receiptNumber(r.receiptNumber) }), 'warn');
    this.newOrder();
    this.app.refreshStatus();
  }

  newOrder() {
    this.order = newOrder();
    this.heldUuid = null;
    this.renderOrder();
    $('#entry')?.focus();
  }

  // -- customers -----------------------------------------------------------
  async customer() {
    const chosen = await openModal((box, close) => {
      const input = h('input', { id: 'customer-search', autocomplete: 'off', placeholder: t('Name, e-mail or phone'), autofocus: true });
      const list = h('ul', { class: 'list' });
      const render = async () => {
        const found = await this.reg.searchCustomers(input.value);
        list.replaceChildren(...found.map((c) => h('li', { onclick: () => close(c) }, h('span', {}, c.name), h('small', {}, [c.email, c.phone].filter(Boolean).join(' · ')))));
      };
      input.addEventListener('input', render);
      const name = h('input', { id: 'new-customer-name', autocomplete: 'off' });
      const email = h('input', { id: 'new-customer-email', type: 'email', autocomplete: 'off' });
      const phone = h('input', { id: 'new-customer-phone', type: 'tel', autocomplete: 'off' });
      const create = async (e) => {
        e.preventDefault();
        if (!name.value.trim()) return;
        close(await this.reg.createCustomer({ name: name.value.trim(), email: email.value.trim(), phone: phone.value.trim() }, this.employee));
      };
      box.append(h('h2', {}, t('Customer')), input, list,
        h('form', { class: 'inline-form', onsubmit: create }, h('h3', {}, t('New customer')),
          h('label', {}, t('Name'), name), h('label', {}, t('E-mail'), email), h('label', {}, t('Phone'), phone),
          h('button', { type: 'submit', id: 'create-customer' }, t('Create and attach'))),
        h('div', { class: 'actions' },
          this.order.customer ? h('button', { onclick: () => close({ detach: true }) }, t('Detach')) : null,
          h('button', { onclick: () => close(null) }, t('Cancel'))));
      render();
    }, { className: 'wide' });
    if (!chosen) return;
    this.order.customer = chosen.detach ? null : { id: chosen.id ?? null, uuid: chosen.uuid ?? null, name: chosen.name };
    this.renderOrder();
  }

  // -- park / resume -------------------------------------------------------
  async park() {
    if (isEmpty(this.order)) return;
    await this.reg.park(this.order, this.employee);
    this.toast(t('Order parked'), 'ok');
    this.newOrder();
  }

  async held() {
    const orders = await this.reg.heldOrders();
    const items = (o) => o.order.lines.filter((l) => !l.voided)
      .map((l) => `${l.name} × ${this.quantityText(l)}`).join(', ');
    const choice = await openModal((box, close) => {
      box.append(h('h2', {}, t('Held orders')),
        orders.length ? h('ul', { class: 'list', id: 'held-list' }, orders.map((o) => h('li', { 'data-held': o.uuid },
          h('div', { class: 'held-order' }, h('span', {}, `${formatDateTime(o.createdAt)} · ${o.employee}`),
            h('small', { class: 'held-items' }, items(o))),
          h('span', { class: 'num' }, this.money(o.total)),
          h('button', { class: 'small', 'data-held-action': 'resume', onclick: () => close({ resume: o }) }, t('Resume')),
          h('button', { class: 'small danger', 'data-held-action': 'delete', onclick: () => close({ remove: o }) }, t('Delete')))))
          : h('p', {}, t('No held orders')),
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Close'))));
    }, { className: 'wide' });
    if (!choice) return;
    if (choice.remove) {
      const sure = await this.confirm(t('Delete the held order of {when} ({items}, {total})? It cannot be undone.', {
        when: formatDateTime(choice.remove.createdAt), items: items(choice.remove), total: this.money(choice.remove.total),
      }), t('Delete'));
      if (!sure) return;
      await this.reg.deleteHeld(choice.remove.uuid);
      this.toast(t('Held order deleted'));
      return;
    }
    if (!isEmpty(this.order)) await this.reg.park(this.order, this.employee);
    // The resumed order is the current one now: it leaves the held list
    // (parked again, it comes back).
    await this.reg.deleteHeld(choice.resume.uuid);
    this.order = choice.resume.order;
    this.heldUuid = null;
    this.renderOrder();
  }

  // A yes/no question; answers true for yes.
  confirm(text, yes = t('OK')) {
    return openModal((box, close) => {
      box.append(h('h2', {}, t('Are you sure?')), h('p', { id: 'confirm-text' }, text),
        h('div', { class: 'actions' }, h('button', { id: 'confirm-no', onclick: () => close(false) }, t('Cancel')),
          h('button', { class: 'danger', id: 'confirm-yes', onclick: () => close(true) }, yes)));
    }).then(Boolean);
  }

  // What an approval is about for a line: "Oxford Shirt (M, White) ×
  // 2 at 49.95 €, line 99.90 €: 10 % off (−9.99 €)". `amountOf` gives the
  // money the action moves from the line's amount, when it has one.
  lineSummary(line, what, amountOf = null) {
    const c = this.reg.totals(this.order).lines.find((x) => x.line.uuid === line.uuid);
    const unit = divRound(c ? c.unitGrossPrice : line.unitPrice, 10 ** (PRICE_DIGITS - this.reg.currency().digits));
    const amount = c ? c.amount : 0;
    const head = t('{name} × {qty} at {price}, line {amount}', { name: line.name, qty: this.quantityText(line), price: this.money(unit), amount: this.money(amount) });
    const moved = amountOf ? ` (−${this.money(amountOf(amount))})` : '';
    return `${head}: ${what}${moved}`;
  }

  // ' kg' after a weighed line's quantity on a receipt ('' for units).
  unitSuffix(line) {
    const product = this.app.catalog.get('product', line.product);
    const uom = this.app.catalog.get('uom', line.uom ?? product?.uom);
    return (line.weighed || uom?.digits) && uom?.symbol ? ` ${uom.symbol}` : '';
  }

  // A line's quantity as shown: with its unit when it is not counted in
  // units (0.755 kg).
  quantityText(line) {
    const product = this.app.catalog.get('product', line.product);
    const uom = this.app.catalog.get('uom', line.uom ?? product?.uom);
    const digits = line.weighed ? 3 : Math.max(0, Math.min(3, uom?.digits ?? 0));
    const text = formatQuantity(line.quantity, { locale: getLocale(), digits });
    const counted = !line.weighed && (!uom || !uom.digits);
    return counted || !uom?.symbol ? text : `${text} ${uom.symbol}`;
  }

  // -- returns -------------------------------------------------------------
  async startReturn(number) {
    if (!isEmpty(this.order)) return this.toast(t('Finish or park this order before a return'), 'bad');
    if (!number) {
      number = await openModal((box, close) => {
        const input = h('input', { id: 'return-number', 'data-scan': '1', autocomplete: 'off', placeholder: 'BXL1-000123', autofocus: true });
        box.append(h('form', { onsubmit: (e) => { e.preventDefault(); close(input.value.trim().toUpperCase()); } },
          h('h2', {}, t('Return: scan or type the receipt number')), input,
          h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(null) }, t('Cancel')),
            h('button', { type: 'submit', class: 'primary', id: 'return-find' }, t('Find')))));
      });
      if (!number) return;
    }
    let original = await this.reg.findReceipt(number);
    const mine = await this.reg.returnsOf(number);
    // Online, the server also knows the returns other tills made
    const remote = this.app.status.online ? await this.app.remoteReceipt(number) : null;
    if (!original && remote) original = remote.order ? remote : receiptFromWire(remote, this.app.catalog, { localReturns: mine.numbers, digits: this.reg.currency().digits });
    if (!original && (!this.app.status.online || this.app.remoteLookupFailed)) {
      // Not this till's: only the server knows it, and it does not answer.
      return this.toast(t('Receipt {n} is not on this till: finding it needs the server, which does not answer now. Try again when online.', { n: number }), 'bad', 8000);
    }
    if (!original || original.kind === 'void') return this.toast(t('Receipt {n} not found', { n: number }), 'bad');
    let lines = original.order.lines.filter((l) => !l.voided).map((l) => ({ ...l, left: Math.abs(l.quantity) - (mine.byLine.get(l.uuid) || 0) })).filter((l) => l.left > 0);
    if (!original.remote && remote?.receipt) lines = withoutReturned(lines, returnedByProduct(remote, { localReturns: mine.numbers }));
    if (!lines.length) return this.toast(t('Everything on {n} was already returned', { n: number }), 'bad');
    const picked = await openModal((box, close) => {
      const checks = lines.map((l) => h('input', { type: 'checkbox', checked: true, 'data-line': l.uuid }));
      box.append(h('h2', {}, t('Return from {n}', { n: number })),
        h('ul', { class: 'list', id: 'return-lines' }, lines.map((l, i) => h('li', { 'data-product': String(l.product), 'data-left': String(l.left) },
          h('label', {}, checks[i], ` ${l.name} × ${formatQuantity(l.left, { locale: getLocale() })}`)))),
        h('div', { class: 'actions' }, h('button', { id: 'return-cancel', onclick: () => close(null) }, t('Cancel')),
          h('button', { class: 'primary', id: 'return-ok', onclick: () => close(lines.filter((l, i) => checks[i].checked)) }, t('Return selected'))));
    }, { className: 'wide' });
    if (!picked?.length) return;
    const ok = await this.authorize('Refund', (e) => this.reg.can(e, 'allow_refund'), (m) => this.reg.can(m, 'allow_refund'), { original_receipt: number },
      t('Receipt {n}: {items}', { n: number, items: picked.map((l) => `${l.name} × ${this.quantityText({ ...l, quantity: l.left })}`).join(', ') }));
    if (!ok) return;
    const order = newOrder('return');
    order.originalReceipt = number;
    order.discount = original.order.discount || 0;
    order.customer = original.order.customer || null;
    order.overrides = this.order.overrides;
    // Where the refund may go: the original's payments, less what its
    // earlier returns refunded (services/refund.js)
    order.refund = refundContext({ originalPayments: original.order.payments, earlierRefunds: [...mine.payments, ...refundsFromWire(remote, { localReturns: mine.numbers, digits: this.reg.currency().digits })] });
    for (const l of picked) {
      order.lines.push({ ...l, uuid: crypto.randomUUID(), quantity: -l.left, returnOf: l.uuid, left: undefined });
    }
    order.selected = order.lines.length - 1;
    this.order = order;
    this.renderOrder();
  }

  // -- payment -------------------------------------------------------------
  async pay() {
    if (isEmpty(this.order)) return;
    let methods = this.reg.paymentMethods();
    // A refund goes to cash, or to the original sale's non-cash methods
    // when the branch says so, up to what was paid with each
    const branch = this.app.catalog.get('branch', this.app.device?.branch?.id) ?? this.app.catalog.all('branch')[0];
    const refundTo = this.order.kind === 'return' ? branch?.refund_to ?? 'cash' : null;
    const limits = () => refundLimits({ methods: this.reg.paymentMethods(), policy: refundTo, context: this.order.refund ?? null, order: this.order });
    if (refundTo) methods = refundMethods(methods, limits());
    if (!methods.length) return this.toast(t('No payment method is configured'), 'bad');
    const done = await openModal((box, close) => {
      const amount = h('input', { id: 'pay-amount', inputmode: 'decimal', autocomplete: 'off', autofocus: true });
      const parts = h('ul', { class: 'list', id: 'pay-parts' });
      const dueEl = h('div', { class: 'total', id: 'pay-due' });
      const msg = h('p', { class: 'error', id: 'pay-error' });
      const { digits } = this.reg.currency();
      const refresh = () => {
        const c = this.reg.totals(this.order);
        dueEl.replaceChildren(h('span', {}, c.due < 0 ? t('To refund') : t('Due')), h('span', {}, this.money(Math.abs(c.due))));
        dueEl.dataset.minor = String(c.due);
        amount.value = formatDecimal(Math.abs(c.due), digits);
        amount.select();
        parts.replaceChildren(...this.order.payments.map((p, i) => h('li', {},
          h('span', {}, p.methodName), h('span', { class: 'num' }, this.money(p.tendered ?? p.amount)),
          h('button', { class: 'small', onclick: () => { this.order.payments.splice(i, 1); refresh(); } }, '×'))));
        if (c.due === 0 && this.order.payments.length) close(true);
      };
      const add = (method) => {
        msg.textContent = '';
        let value;
        try {
          value = parseDecimal(amount.value, digits);
        } catch {
          msg.textContent = t('Type an amount');
          return;
        }
        try {
          const asked = { method: method.id, amount: value, cash: method.cash === true };
          const p = refundTo ? tenderRefund(this.order, asked, limits(), this.reg.pricingOptions()) : tender(this.order, asked, this.reg.pricingOptions());
          this.order.payments.push({ ...p, methodName: method.name, cash: method.cash === true });
        } catch (err) {
          msg.textContent = {
            'over-tender': t('Only cash can exceed the amount due'),
            'refund-limit': t('Nothing more can be refunded to {method}: refund in cash', { method: method.name }),
            'refund-method': t('This return cannot be refunded to {method}', { method: method.name }),
          }[err.message] ?? t('Nothing to pay');
          return;
        }
        refresh();
      };
      amount.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          add(methods[0]);
        } else if (/^F[1-4]$/.test(e.key) && methods[Number(e.key.slice(1)) - 1]) {
          e.preventDefault();
          add(methods[Number(e.key.slice(1)) - 1]);
        }
      });
      box.append(h('h2', {}, this.order.kind === 'return' ? t('Refund') : t('Payment')), dueEl, amount,
        h('div', { class: 'grid methods' }, methods.map((m, i) => h('button', {
          class: 'big', 'data-method': String(m.id), 'data-cash': String(m.cash === true), onclick: () => add(m),
        }, m.name, h('kbd', {}, `F${i + 1}`)))),
        parts, msg,
        h('div', { class: 'actions' }, h('button', { onclick: () => close(false) }, t('Back'))));
      refresh();
    }, { className: 'wide', dismissable: true });
    if (done) await this.finish();
    else $('#entry')?.focus();
  }

  async finish() {
    const order = this.order;
    let result;
    try {
      result = await this.reg.commitSale(order, this.employee, { heldUuid: this.heldUuid });
    } catch (err) {
      this.toast(t('The sale could not be saved: {reason}', { reason: err.message }), 'bad', 8000);
      return;
    }
    this.lastChange = result.journal.totals.change || null;
    this.newOrder();
    this.app.refreshStatus();
    this.app.kickSoon();
    // One thing at a time on the printer's line: the drawer (kicked through
    // the printer) first, so the cashier can give change, then the receipt.
    if (order.payments.some((p) => p.cash)) {
      const r = await this.app.hardware.openDrawer();
      if (!r.ok) this.toast(t('Drawer: {m}', { m: r.message }), 'warn');
    }
    await this.printReceipt(result.journal, `receipt-${result.uuid}`);
  }

  // copy: a reprint, marked COPY, with the sale's own time (and the
  // reprint's).
  receiptData(j, { copy = false } = {}) {
    const { code, digits } = this.reg.currency();
    const f = (m) => formatDecimal(m, digits);
    const methods = new Map(this.reg.paymentMethods().map((m) => [m.id, m.name]));
    const lines = j.order.lines.filter((l) => !l.voided).map((l) => {
      const comp = j.lines.find((x) => x.uuid === l.uuid);
      return {
        name: l.name + (l.lot ? ` (${t('Lot {n}', { n: l.lot.number })})` : ''),
        quantity: (formatDecimal(l.quantity, QTY_DIGITS).replace(/\.?0+$/, '') || '0') + this.unitSuffix(l),
        unitPrice: f(divRound(comp.unitGrossPrice, 10 ** (PRICE_DIGITS - digits))),
        total: f(comp.amount),
      };
    });
    const terminal = this.app.device.terminal;
    return {
      number: j.number, currency: code, digits, locale: getLocale(), shop: this.app.device.branch?.name || '',
      headerLines: [terminal.name, ...(copy ? [t('*** COPY ***')] : [])],
      copy,
      meta: [[t('Receipt'), j.number], [t('Date'), formatDateTime(j.clientTime ? new Date(j.clientTime) : new Date())],
        ...(copy ? [[t('Reprinted'), formatDateTime(new Date())]] : []),
        [t('Cashier'), j.employee.name],
        ...(j.order.customer ? [[t('Customer'), j.order.customer.name]] : []),
        ...(j.order.originalReceipt ? [[t('Return of'), j.order.originalReceipt]] : [])],
      lines,
      taxes: receiptTaxes(j.totals.taxes).map((x) => ({ label: x.label, base: f(x.base), amount: f(x.amount) })),
      total: f(j.totals.total),
      payments: j.order.payments.map((p) => ({ method: methods.get(p.method) || p.methodName, amount: f(p.tendered ?? p.amount) })),
      change: j.totals.change ? f(j.totals.change) : null,
      footer: [t('Thank you!')],
    };
  }

  // jobId is the proxy's idempotency key: the same sale's receipt sent
  // twice (a lost answer, a retry) prints once; a reprint has its own id.
  async printReceipt(journal, jobId, { copy = false } = {}) {
    const data = this.receiptData(journal, { copy });
    const r = await this.app.hardware.printReceipt(toProxyReceipt(data), jobId);
    this.lastPrint = { jobId, ok: r.ok, status: r.data?.status || null, message: r.message, browser: !r.ok };
    if (r.ok) {
      if (r.data?.status === 'waiting') this.toast(t('Printer: {m}. The receipt will print when the printer is back.', { m: r.message }), 'warn', 5000);
      return;
    }
    if (this.app.settings.browserPrint !== false) printHtml(receiptHtml(data, this.money.bind(this)));
    this.toast(t('Printer: {m}. Printed by the browser; reprint from the menu.', { m: r.message || t('not available') }), 'warn', 5000);
  }

  // -- menu, cash, reports -------------------------------------------------
  async menu() {
    const items = [
      ['Reprint last receipt', () => this.reprint()],
      ['Cash in', () => this.cashMove('cash_in')],
      ['Cash out', () => this.cashMove('cash_out')],
      ['Open drawer', () => this.openDrawer()],
      ['Hardware proxy', () => this.proxySettings()],
      ['X report', () => this.xReport()],
      ['Close session (Z report)', () => this.closeSession()],
      ['Switch cashier', () => this.lock()],
      ['Keyboard shortcuts', () => this.help()],
    ];
    const fn = await openModal((box, close) => {
      box.append(h('h2', {}, t('Menu')), h('div', { class: 'grid menu' }, items.map(([label, f]) => h('button', { class: 'big', 'data-menu': label, onclick: () => close(f) }, t(label)))),
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Close'))));
    });
    if (fn) await fn();
  }

  help() {
    return openModal((box, close) => {
      box.append(h('h2', {}, t('Keyboard shortcuts')), h('table', {}, SHORTCUTS.map(([k, l]) => h('tr', {}, h('td', {}, h('kbd', {}, k)), h('td', {}, t(l))))),
        h('div', { class: 'actions' }, h('button', { onclick: () => close() }, t('Close'))));
    });
  }

  async reprint() {
    const last = await this.reg.lastReceipt();
    if (!last || last.kind === 'void') return this.toast(t('No receipt to reprint'));
    await this.printReceipt(last, `receipt-${last.uuid}-copy-${Date.now()}`, { copy: true });
  }

  // Where the hardware proxy listens (iot_proxy, 127.0.0.1:8070 by default),
  // its printer and drawer names and pairing token; "Test" asks its status.
  async proxySettings() {
    const current = this.app.hardware.settings;
    const fields = [['url', t('Address')], ['printer', t('Printer')], ['drawer', t('Drawer')], ['token', t('Pairing token')]];
    const inputs = Object.fromEntries(fields.map(([k]) => [k, h('input', { id: `proxy-${k}`, value: current[k] || '', autocomplete: 'off', ...(k === 'token' ? { type: 'password' } : {}) })]));
    const msg = h('p', { id: 'proxy-status' });
    const values = () => Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
    const saved = await openModal((box, close) => {
      const test = async () => {
        msg.textContent = t('Asking the proxy…');
        const r = await this.app.hardware.constructor.probe(values());
        msg.textContent = r.ok ? t('Proxy answers: {m}', { m: r.message }) : t('Proxy does not answer: {m}', { m: r.message });
      };
      box.append(h('h2', {}, t('Hardware proxy')),
        h('div', { class: 'form' }, fields.map(([k, label]) => h('label', {}, label, inputs[k]))), msg,
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Cancel')),
          h('button', { id: 'proxy-test', onclick: test }, t('Test')),
          h('button', { class: 'primary', id: 'proxy-save', onclick: () => close(values()) }, t('Save'))));
    }, { className: 'wide' });
    if (!saved) return;
    await this.app.saveSettings({ proxy: { ...current, ...saved } });
    this.toast(t('Saved'), 'ok');
  }

  async openDrawer() {
    const ok = await this.authorize('Open drawer', (e) => this.reg.can(e, 'allow_open_drawer'), (m) => this.reg.can(m, 'allow_open_drawer'));
    if (!ok) return;
    await this.reg.audit('open_drawer', { employee: this.employee.id, approvedBy: ok.id });
    const r = await this.app.hardware.openDrawer();
    this.toast(r.ok ? t('Drawer opened') : t('Drawer: {m}', { m: r.message }), r.ok ? 'ok' : 'warn');
  }

  async cashMove(kind) {
    const types = this.reg.transferTypes();
    const amount = await this.promptNumber(kind === 'cash_in' ? t('Cash in: amount') : t('Cash out: amount'), { id: 'cash-amount', digits: this.reg.currency().digits });
    if (!amount) return;
    await this.reg.cashMove(kind, amount, types[0]?.id ?? null, '', this.employee);
    this.app.hardware.openDrawer();
    this.toast(t('Recorded'), 'ok');
    this.app.refreshStatus();
  }

  async openSessionDialog() {
    const amount = await this.promptNumber(t('Open the cash session: float in the drawer'), { id: 'float', digits: this.reg.currency().digits });
    if (amount === null) return false;
    await this.reg.openSession(amount, this.employee);
    this.app.refreshStatus();
    return true;
  }

  async xReport() {
    const session = await this.reg.currentSession();
    if (!session) return;
    const r = await this.reg.report(session);
    await this.showReport(t('X report'), r, { session: session.uuid });
  }

  async closeSession() {
    const ok = await this.authorize('Close session', (e) => this.reg.can(e, 'allow_close_session'), (m) => this.reg.can(m, 'allow_close_session'));
    if (!ok) return;
    const counted = await this.countCash();
    if (counted === null) return;
    const z = await this.reg.closeSession(counted.total, counted.denominations, this.employee);
    this.app.refreshStatus();
    this.app.kickSoon();
    await this.showReport(t('Z report'), z, { session: z.session });
    this.lock();
  }

  countCash() {
    const { digits } = this.reg.currency();
    const denoms = (this.app.settings.denominations || ['500', '200', '100', '50', '20', '10', '5', '2', '1', '0.50', '0.20', '0.10', '0.05', '0.02', '0.01'])
      .map((d) => parseDecimal(d, digits));
    return openModal((box, close) => {
      const inputs = denoms.map((d) => h('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', 'data-denomination': String(d), value: '0' }));
      const totalEl = h('div', { class: 'total', id: 'count-total' });
      const sum = () => denoms.reduce((s, d, i) => s + d * (Number.parseInt(inputs[i].value, 10) || 0), 0);
      const refresh = () => totalEl.replaceChildren(h('span', {}, t('Counted')), h('span', {}, this.money(sum())));
      inputs.forEach((i) => i.addEventListener('input', refresh));
      box.append(h('h2', {}, t('Count the cash')), h('div', { class: 'grid denominations' }, denoms.map((d, i) => h('label', {}, this.money(d), inputs[i]))), totalEl,
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Cancel')),
          h('button', { class: 'primary', id: 'count-ok', onclick: () => close({ total: sum(), denominations: denoms.map((d, i) => [d, Number.parseInt(inputs[i].value, 10) || 0]).filter(([, n]) => n) }) }, t('Close the session'))));
      refresh();
    }, { className: 'wide' });
  }

  // The report, and beside it the server's figures of the session once the
  // server has all the till recorded (asked again until then, while open).
  async showReport(title, r, { session = null } = {}) {
    const money = this.money.bind(this);
    let server = session ? { state: 'pending' } : null;
    let html = reportHtml(title, r, money, this.app.device, server);
    let open = true;
    const body = h('div', { class: 'report', id: 'report', 'data-server': server?.state || '' });
    const render = () => {
      html = reportHtml(title, r, money, this.app.device, server);
      body.innerHTML = html;
      body.dataset.server = server?.state || '';
    };
    const follow = async () => {
      let kicked = false;
      while (open) {
        const answer = await this.app.serverFigures(session);
        if (!open) return;
        if (answer.state === 'ok') {
          const comparison = compareFigures(r, answer.figures);
          server = { state: comparison.match ? 'match' : 'differ', comparison };
        } else {
          server = { state: answer.state };
        }
        render();
        if (answer.state !== 'pending') return;
        if (!kicked) {
          this.app.forceSync();
          kicked = true;
        }
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
    };
    await openModal((box, close) => {
      render();
      box.append(body, h('div', { class: 'actions' },
        h('button', { onclick: () => printHtml(html) }, t('Print')),
        h('button', { class: 'primary', onclick: () => close() }, t('Close'))));
      if (session) follow().catch(() => {});
    }, { className: 'wide' });
    open = false;
  }

  // -- keyboard ------------------------------------------------------------
  onKey(e) {
    // A key a dialog handled (a payment method's F-key that settled the
    // sale and closed the dialog) is not a shortcut too.
    if (e.defaultPrevented) return;
    if (this.screen !== 'checkout' || !this.employee || modalOpen()) return;
    // Delete in a field with text edits the text; on an empty scan field
    // it voids the selected line.
    if (e.key === 'Delete' && !e.shiftKey && isTextField(e.target) && e.target.value) return;
    const map = {
      F1: () => this.help(), F2: () => this.search(), F3: () => this.customer(), F4: () => this.quantity(),
      F6: () => (e.shiftKey ? this.orderDiscount() : this.discount()), F7: () => this.priceOverride(),
      F8: () => (e.shiftKey ? this.held() : this.park()), F9: () => this.pay(), F10: () => this.startReturn(),
      F12: () => this.menu(), Delete: () => (e.shiftKey ? this.voidSale() : this.voidLine()),
      ArrowUp: () => this.moveSelection(-1), ArrowDown: () => this.moveSelection(1),
    };
    const fn = map[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  }

  moveSelection(step) {
    const n = this.order.lines.length;
    if (!n) return;
    this.order.selected = Math.max(0, Math.min(n - 1, this.order.selected + step));
    this.renderOrder();
  }
}

function isTextField(el) {
  return Boolean(el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit'].includes(el.type))));
}

function row(label, value) {
  return h('div', { class: 'row' }, h('span', {}, label), h('span', {}, value));
}

function pinPad(input, submit, decimal = false) {
  const keys = ['7', '8', '9', '4', '5', '6', '1', '2', '3', decimal ? '.' : 'C', '0', '⌫'];
  return h('div', { class: 'pad' }, keys.map((k) => h('button', {
    type: 'button', tabindex: '-1',
    onclick: () => {
      if (k === '⌫') input.value = input.value.slice(0, -1);
      else if (k === 'C') input.value = '';
      else input.value += k;
      input.focus();
    },
  }, k)), h('button', { type: 'button', class: 'primary', tabindex: '-1', onclick: (e) => submit(e) }, '↵'));
}

let audio;
function beep() {
  try {
    audio = audio || new AudioContext();
    const o = audio.createOscillator();
    o.frequency.value = 220;
    o.connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.15);
  } catch {
    // no sound available
  }
}
