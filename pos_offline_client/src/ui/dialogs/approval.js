// A manager's approval when the cashier may not do `action`: the manager
// picks their name and types their PIN. `need(manager)` checks the
// manager's own rights; `summary` says exactly what is approved (which
// line, how much). The approval entry goes with the order (the sale sends
// it as an `audit` operation, sync/wire.js) and into the audit trail.
// Answers {approver, entry} (entry null when the cashier needed no
// approval), or null when refused or cancelled.
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';
import { askPin } from './pin.js';

export function managersFor(register, cashier, need) {
  return register.employees().filter((e) => register.can(e, 'allow_manager_override') && need(e) && e.id !== cashier.id);
}

export async function approve(env, action, allowed, need = () => true, detail = {}, summary = '') {
  const { register, store } = env;
  const cashier = store.employee;
  if (allowed(cashier)) return { approver: cashier, entry: null };
  const managers = managersFor(register, cashier, need);
  if (!managers.length) {
    env.toast(t('Not allowed, and no manager can authorize it'), 'bad');
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
  const ok = await askPin(env, manager, t('PIN of {name} to approve', { name: manager.name }));
  if (!ok) return null;
  const entry = { action, manager: manager.id, managerName: manager.name, cashier: cashier.id, at: Date.now(), ...detail };
  store.addOverride(entry);
  await register.audit('manager_override', entry);
  env.toast(t('Approved by {name}', { name: manager.name }), 'ok');
  return { approver: manager, entry };
}
