// Who is selling: the employees of the branch with a PIN; a right PIN logs
// in (and opens the till's vault after a reload), then the cash session is
// opened if there is none, then the checkout.
import { t } from '../../lib/i18n.js';
import { h } from '../dom.js';
import { askPin } from '../dialogs/pin.js';
import { registerScreen } from '../registry.js';

export class LoginScreen {
  // props: {locked: the employee who locked the till, or null}
  constructor(env, { locked = null } = {}) {
    this.env = env;
    this.locked = locked;
  }

  render() {
    const { app, store } = this.env;
    store.setEmployee(null);
    app.refreshStatus();
    const employees = app.loginEmployees();
    return h('div', { class: 'card' },
      h('h1', {}, this.locked ? t('Locked by {name}', { name: this.locked.name }) : t('Who is selling?')),
      employees.length ? null : h('p', { class: 'error' }, t('No employee with a PIN for this branch yet.')),
      h('div', { class: 'grid employees' }, employees.map((e) => h('button', {
        class: 'big', 'data-employee': String(e.id), onclick: () => this.login(e),
      }, e.name))));
  }

  async login(employee) {
    const who = await askPin(this.env, employee);
    if (who) await this.loggedIn(who);
    return who;
  }

  async loggedIn(employee) {
    const { env } = this;
    const { register, store } = env;
    store.setEmployee(employee);
    sessionStorage.setItem('pos-employee', String(employee.id));
    await register.audit('login', { employee: employee.id });
    const session = await register.currentSession();
    if (!session && !(await env.run('session', { action: 'open' }))) return env.showLogin();
    store.setSession(session || (await register.currentSession()));
    env.show('checkout');
  }
}

registerScreen('login', LoginScreen);
