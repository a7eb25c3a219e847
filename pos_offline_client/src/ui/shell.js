// The till's shell (window.pos.ui): the status bar, toasts, the screen on
// show (opened by name, ui/registry.js), scans and keys routed to it, the
// lock. It is the `env` every screen, dialog and action gets: the app's
// services (register, catalog, hardware) and the store.
import { $, closeAllModals, h, modalOpen } from './dom.js';
import { Store } from './store.js';
import { screenClass } from './registry.js';
import { money } from './format.js';
import { renderStatusBar } from './components/status-bar.js';
import { approve } from './dialogs/approval.js';
import { showQuarantine } from './dialogs/info.js';
import './screens/index.js';

export class Shell {
  constructor(app, { store = new Store(), target = document } = {}) {
    this.app = app;
    this.store = store;
    this.target = target;
    this.current = null;
    this.lastPrint = null;
    this.status = null;
    this.onKey = this.onKey.bind(this);
    target.addEventListener('keydown', this.onKey);
    // the cashier's name in the status bar follows who is logged in
    let employee = store.employee;
    store.subscribe(() => {
      if (store.employee === employee) return;
      employee = store.employee;
      if (this.status) this.renderStatus(this.status);
    });
  }

  get register() {
    return this.app.register;
  }

  get catalog() {
    return this.app.catalog;
  }

  // What the e2e tests and the benchmark read: the order being rung up, who
  // sells, which screen shows.
  get order() {
    return this.store.order;
  }

  get employee() {
    return this.store.employee;
  }

  get screen() {
    return this.current?.name ?? null;
  }

  destroy() {
    this.target.removeEventListener('keydown', this.onKey);
    this.current?.unmount?.();
  }

  money(minor) {
    return money(this.register, minor);
  }

  toast(text, kind = 'info', ms = 3500) {
    const el = h('div', { class: `toast ${kind}`, role: 'status' }, text);
    $('#toasts')?.append(el);
    setTimeout(() => el.remove(), ms);
  }

  beep() {
    try {
      this.audio = this.audio || new AudioContext();
      const o = this.audio.createOscillator();
      o.frequency.value = 220;
      o.connect(this.audio.destination);
      o.start();
      o.stop(this.audio.currentTime + 0.15);
    } catch {
      // no sound available
    }
  }

  // -- screens ---------------------------------------------------------------
  // A screen that fills #screen (enroll, bootstrap, login, checkout).
  show(name, props = {}) {
    this.current?.unmount?.();
    const Screen = screenClass(name);
    const screen = new Screen(this, props);
    screen.name = name;
    this.current = screen;
    const main = $('#screen');
    main.dataset.screen = name;
    main.replaceChildren(...[screen.render()].flat().filter(Boolean));
    screen.mounted?.();
    return screen;
  }

  // A screen over the current one (payment, returns, session, reports,
  // menu): answers what its run() answers.
  run(name, props = {}) {
    const Screen = screenClass(name);
    return new Screen(this, props).run();
  }

  showEnroll(defaults = {}, error = '') {
    return this.show('enroll', { defaults, error });
  }

  showBootstrap() {
    return this.show('bootstrap');
  }

  // p: the bootstrap's progress (sync/pull.js), or {interrupted: reason}.
  bootstrapProgress(p) {
    if (this.screen === 'bootstrap') this.current.progress(p);
  }

  showLogin(locked = null) {
    return this.show('login', { locked });
  }

  // -- what every screen uses ---------------------------------------------------
  renderStatus(s) {
    this.status = s;
    renderStatusBar($('#status'), $('#banner'), s, {
      terminalName: this.app.device?.terminal?.name,
      employee: this.store.employee,
      actions: { forceSync: () => this.app.forceSync(), lock: () => this.lock(), showQuarantine: () => this.showQuarantine() },
    });
  }

  async showQuarantine() {
    const items = await this.register.quarantined();
    await showQuarantine(items, () => this.app.acknowledgeQuarantine());
  }

  // A manager's approval when the cashier may not (dialogs/approval.js).
  authorize(action, allowed, need, detail, summary) {
    return approve(this, action, allowed, need, detail, summary);
  }

  newOrder() {
    this.store.clearOrder();
    this.focusEntry();
  }

  focusEntry() {
    $('#entry')?.focus();
  }

  lock() {
    closeAllModals();
    const who = this.store.employee;
    sessionStorage.removeItem('pos-employee');
    this.showLogin(who);
  }

  // The screen on show refreshes what the server may have changed (the
  // product grid after a pull).
  refresh() {
    this.current?.refresh?.();
  }

  // A scan from the wedge reader or the proxy, or what was typed in the
  // scan field: the screen on show takes it.
  handleCode(text, options = {}) {
    return this.current?.onScan?.(text, options);
  }

  // -- keys ------------------------------------------------------------------
  onKey(e) {
    // A key a dialog handled (a payment method's F-key that settled the
    // sale and closed the dialog) is not a shortcut too.
    if (e.defaultPrevented) return;
    if (!this.current?.keys || !this.store.employee || modalOpen()) return;
    // Delete in a field with text edits the text; on an empty scan field
    // it voids the selected line.
    if (e.key === 'Delete' && !e.shiftKey && isTextField(e.target) && e.target.value) return;
    const fn = this.current.keys(e)[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  }
}

export function isTextField(el) {
  return Boolean(el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit'].includes(el.type))));
}
