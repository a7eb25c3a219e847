// The cash session: opening it with the float, cash in and out, closing it
// with the cash counted (a manager's approval when the cashier may not),
// then its Z report (screens/reports.js) and the lock.
import { parseDecimal } from '../../lib/money.js';
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';
import { promptNumber } from '../dialogs/number.js';
import { registerScreen } from '../registry.js';

export const DENOMINATIONS = ['500', '200', '100', '50', '20', '10', '5', '2', '1', '0.50', '0.20', '0.10', '0.05', '0.02', '0.01'];

// The cash counted by denomination: {total, denominations: [[minor, n]]}.
export function countCash(env) {
  const { digits } = env.register.currency();
  const denoms = (env.app.settings.denominations || DENOMINATIONS).map((d) => parseDecimal(d, digits));
  return openModal((box, close) => {
    const inputs = denoms.map((d) => h('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', 'data-denomination': String(d), value: '0' }));
    const totalEl = h('div', { class: 'total', id: 'count-total' });
    const sum = () => denoms.reduce((s, d, i) => s + d * (Number.parseInt(inputs[i].value, 10) || 0), 0);
    const refresh = () => totalEl.replaceChildren(h('span', {}, t('Counted')), h('span', {}, env.money(sum())));
    inputs.forEach((i) => i.addEventListener('input', refresh));
    box.append(h('h2', {}, t('Count the cash')), h('div', { class: 'grid denominations' }, denoms.map((d, i) => h('label', {}, env.money(d), inputs[i]))), totalEl,
      h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Cancel')),
        h('button', { class: 'primary', id: 'count-ok', onclick: () => close({ total: sum(), denominations: denoms.map((d, i) => [d, Number.parseInt(inputs[i].value, 10) || 0]).filter(([, n]) => n) }) }, t('Close the session'))));
    refresh();
  }, { className: 'wide' });
}

export class SessionScreen {
  // props: {action: 'open' | 'cash_in' | 'cash_out' | 'close'}
  constructor(env, { action }) {
    this.env = env;
    this.action = action;
  }

  run() {
    return {
      open: () => this.open(), cash_in: () => this.cashMove('cash_in'), cash_out: () => this.cashMove('cash_out'), close: () => this.close(),
    }[this.action]();
  }

  // true once opened, false when the cashier cancelled.
  async open() {
    const { env } = this;
    const amount = await promptNumber(t('Open the cash session: float in the drawer'), { id: 'float', digits: env.register.currency().digits });
    if (amount === null) return false;
    const session = await env.register.openSession(amount, env.store.employee);
    env.store.setSession(session);
    env.app.refreshStatus();
    return true;
  }

  async cashMove(kind) {
    const { env } = this;
    const { register, app } = env;
    const types = register.transferTypes();
    const amount = await promptNumber(kind === 'cash_in' ? t('Cash in: amount') : t('Cash out: amount'), { id: 'cash-amount', digits: register.currency().digits });
    if (!amount) return;
    await register.cashMove(kind, amount, types[0]?.id ?? null, '', env.store.employee);
    app.hardware.openDrawer();
    env.toast(t('Recorded'), 'ok');
    app.refreshStatus();
  }

  async close() {
    const { env } = this;
    const { register, app, store } = env;
    const ok = await env.authorize('Close session', (e) => register.can(e, 'allow_close_session'), (m) => register.can(m, 'allow_close_session'));
    if (!ok) return;
    const counted = await countCash(env);
    if (counted === null) return;
    const z = await register.closeSession(counted.total, counted.denominations, store.employee);
    store.setSession(null);
    app.refreshStatus();
    app.kickSoon();
    await env.run('reports', { title: t('Z report'), report: z, session: z.session });
    env.lock();
  }
}

registerScreen('session', SessionScreen);
