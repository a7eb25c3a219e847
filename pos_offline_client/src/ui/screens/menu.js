// The menu (F12): reprint, cash in and out, the drawer, the hardware
// proxy's settings, the X and Z reports, switching cashier, the shortcuts.
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';
import { showShortcuts } from '../dialogs/info.js';
import { printReceipt } from '../print.js';
import { registerScreen } from '../registry.js';

export class MenuScreen {
  constructor(env) {
    this.env = env;
  }

  items() {
    const { env } = this;
    return [
      ['Reprint last receipt', () => this.reprint()],
      ['Cash in', () => env.run('session', { action: 'cash_in' })],
      ['Cash out', () => env.run('session', { action: 'cash_out' })],
      ['Open drawer', () => this.openDrawer()],
      ['Hardware proxy', () => this.proxySettings()],
      ['X report', () => env.run('reports')],
      ['Close session (Z report)', () => env.run('session', { action: 'close' })],
      ['Switch cashier', () => env.lock()],
      ['Keyboard shortcuts', () => showShortcuts()],
    ];
  }

  async run() {
    const items = this.items();
    const fn = await openModal((box, close) => {
      box.append(h('h2', {}, t('Menu')), h('div', { class: 'grid menu' }, items.map(([label, f]) => h('button', { class: 'big', 'data-menu': label, onclick: () => close(f) }, t(label)))),
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Close'))));
    });
    if (fn) await fn();
  }

  async reprint() {
    const { env } = this;
    const last = await env.register.lastReceipt();
    if (!last || last.kind === 'void') return env.toast(t('No receipt to reprint'));
    await printReceipt(env, last, `receipt-${last.uuid}-copy-${Date.now()}`, { copy: true });
  }

  // Where the hardware proxy listens (iot_proxy, 127.0.0.1:8070 by default),
  // its printer and drawer names and pairing token; "Test" asks its status.
  async proxySettings() {
    const { env } = this;
    const { hardware } = env.app;
    const current = hardware.settings;
    const fields = [['url', t('Address')], ['printer', t('Printer')], ['drawer', t('Drawer')], ['token', t('Pairing token')]];
    const inputs = Object.fromEntries(fields.map(([k]) => [k, h('input', { id: `proxy-${k}`, value: current[k] || '', autocomplete: 'off', ...(k === 'token' ? { type: 'password' } : {}) })]));
    const msg = h('p', { id: 'proxy-status' });
    const values = () => Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
    const saved = await openModal((box, close) => {
      const test = async () => {
        msg.textContent = t('Asking the proxy…');
        const r = await hardware.constructor.probe(values());
        msg.textContent = r.ok ? t('Proxy answers: {m}', { m: r.message }) : t('Proxy does not answer: {m}', { m: r.message });
      };
      box.append(h('h2', {}, t('Hardware proxy')),
        h('div', { class: 'form' }, fields.map(([k, label]) => h('label', {}, label, inputs[k]))), msg,
        h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Cancel')),
          h('button', { id: 'proxy-test', onclick: test }, t('Test')),
          h('button', { class: 'primary', id: 'proxy-save', onclick: () => close(values()) }, t('Save'))));
    }, { className: 'wide' });
    if (!saved) return;
    await env.app.saveSettings({ proxy: { ...current, ...saved } });
    env.toast(t('Saved'), 'ok');
  }

  async openDrawer() {
    const { env } = this;
    const { register, app, store } = env;
    const ok = await env.authorize('Open drawer', (e) => register.can(e, 'allow_open_drawer'), (m) => register.can(m, 'allow_open_drawer'));
    if (!ok) return;
    await register.audit('open_drawer', { employee: store.employee.id, approvedBy: ok.approver.id });
    const r = await app.hardware.openDrawer();
    env.toast(r.ok ? t('Drawer opened') : t('Drawer: {m}', { m: r.message }), r.ok ? 'ok' : 'warn');
  }
}

registerScreen('menu', MenuScreen);
