// The order as a whole on the checkout screen: its customer, parking it
// and resuming a held one.
import { formatDateTime, t } from '../../lib/i18n.js';
import { isEmpty } from '../../models/order.js';
import { chooseCustomer } from '../dialogs/customer.js';
import { chooseHeld, heldItems } from '../dialogs/held.js';
import { confirm } from '../dialogs/number.js';
import { money } from '../format.js';

export async function customer(env) {
  const { store } = env;
  const chosen = await chooseCustomer(env, { attached: Boolean(store.order.customer) });
  if (!chosen) return;
  store.update((order) => {
    order.customer = chosen.detach ? null : { id: chosen.id ?? null, uuid: chosen.uuid ?? null, name: chosen.name };
  });
}

export async function park(env) {
  const { store, register } = env;
  if (isEmpty(store.order)) return;
  await register.park(store.order, store.employee);
  env.toast(t('Order parked'), 'ok');
  env.newOrder();
}

export async function held(env) {
  const { store, register, catalog } = env;
  const orders = await register.heldOrders();
  const choice = await chooseHeld(env, orders);
  if (!choice) return;
  if (choice.remove) {
    const sure = await confirm(t('Delete the held order of {when} ({items}, {total})? It cannot be undone.', {
      when: formatDateTime(choice.remove.createdAt), items: heldItems(catalog, choice.remove), total: money(register, choice.remove.total),
    }), t('Delete'));
    if (!sure) return;
    await register.deleteHeld(choice.remove.uuid);
    env.toast(t('Held order deleted'));
    return;
  }
  if (!isEmpty(store.order)) await register.park(store.order, store.employee);
  // The resumed order is the current one now: it leaves the held list
  // (parked again, it comes back).
  await register.deleteHeld(choice.resume.uuid);
  store.setOrder(choice.resume.order);
}
