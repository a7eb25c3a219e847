// Find, create or detach the order's customer: the customer chosen,
// {detach: true}, or null.
import { t } from '../../lib/i18n.js';
import { h, openModal } from '../dom.js';

export function chooseCustomer(env, { attached = false } = {}) {
  const { register, store } = env;
  return openModal((box, close) => {
    const input = h('input', { id: 'customer-search', autocomplete: 'off', placeholder: t('Name, e-mail or phone'), autofocus: true });
    const list = h('ul', { class: 'list' });
    const render = async () => {
      const found = await register.searchCustomers(input.value);
      list.replaceChildren(...found.map((c) => h('li', { onclick: () => close(c) }, h('span', {}, c.name), h('small', {}, [c.email, c.phone].filter(Boolean).join(' · ')))));
    };
    input.addEventListener('input', render);
    const name = h('input', { id: 'new-customer-name', autocomplete: 'off' });
    const email = h('input', { id: 'new-customer-email', type: 'email', autocomplete: 'off' });
    const phone = h('input', { id: 'new-customer-phone', type: 'tel', autocomplete: 'off' });
    const create = async (e) => {
      e.preventDefault();
      if (!name.value.trim()) return;
      close(await register.createCustomer({ name: name.value.trim(), email: email.value.trim(), phone: phone.value.trim() }, store.employee));
    };
    box.append(h('h2', {}, t('Customer')), input, list,
      h('form', { class: 'inline-form', onsubmit: create }, h('h3', {}, t('New customer')),
        h('label', {}, t('Name'), name), h('label', {}, t('E-mail'), email), h('label', {}, t('Phone'), phone),
        h('button', { type: 'submit', id: 'create-customer' }, t('Create and attach'))),
      h('div', { class: 'actions' },
        attached ? h('button', { onclick: () => close({ detach: true }) }, t('Detach')) : null,
        h('button', { onclick: () => close(null) }, t('Cancel'))));
    render();
  }, { className: 'wide' });
}
