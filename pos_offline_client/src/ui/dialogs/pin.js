// The PIN dialog, through the guard of services/pin.js: a wait after a
// wrong PIN that doubles each time, a lockout that a manager's PIN lifts.
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';

export function pinPad(input, submit, decimal = false) {
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

// Ask `employee` for their PIN: the employee record when right, null when
// cancelled. `purpose`: 'login', 'override' or 'unlock' (in the audit of
// a wrong PIN). A locked-out employee is first unlocked by a manager.
export async function askPin(env, employee, title, purpose = title ? 'override' : 'login') {
  const { app } = env;
  const first = await app.guard.check(employee.id);
  if (first.locked) return (await unlockDialog(env, employee)) ? askPin(env, employee, title, purpose) : null;
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
        msg.textContent = wrong ? t('Wrong PIN: try again in {s} s', { s: left }) : t('Try again in {s} s', { s: left });
        timer = setTimeout(tick, Math.min(1000, until - Date.now()));
      };
      tick();
    };
    const submit = async (e) => {
      e?.preventDefault();
      if (ok.disabled) return;
      msg.textContent = t('Checking…');
      const r = await app.tryPin(employee.id, input.value, purpose);
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
  if (result?.locked) return (await unlockDialog(env, employee)) ? askPin(env, employee, title, purpose) : null;
  return result;
}

// A locked employee: a manager's PIN lifts the lockout (logged).
export async function unlockDialog(env, employee) {
  const { app } = env;
  const managers = app.managers(employee.id);
  const manager = await openModal((box, close) => {
    box.append(h('h2', { id: 'pin-locked' }, t('{name} is locked out after too many wrong PINs', { name: employee.name })),
      h('p', {}, managers.length ? t('A manager unlocks with their PIN:') : t('No manager can unlock at this till.')),
      h('div', { class: 'grid employees' }, managers.map((m) => h('button', {
        class: 'big', 'data-unlock-manager': String(m.id), onclick: () => close(m),
      }, m.name))),
      h('div', { class: 'actions' }, h('button', { onclick: () => close(null) }, t('Cancel'))));
  });
  if (!manager) return false;
  const approved = await askPin(env, manager, t('PIN of {name} to unlock {who}', { name: manager.name, who: employee.name }), 'unlock');
  if (!approved) return false;
  if (!(await app.unlockEmployee(employee.id, approved))) {
    env.toast(t('{name} may not unlock PINs', { name: approved.name }), 'bad');
    return false;
  }
  env.toast(t('{name} unlocked', { name: employee.name }), 'ok');
  return true;
}
