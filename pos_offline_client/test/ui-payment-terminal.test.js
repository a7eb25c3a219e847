// The payment screen over the payment interface (services/payment): a
// card-terminal method waits for its driver, which the cashier may cancel;
// only an approved payment pays the order. The driver here is a test one
// registered for the type with a higher priority, as an integration's
// would be (docs/payment-terminals.md); the proxy's own driver is tested in
// payment.test.js and, in Chromium through the real proxy, by
// tests/e2e/test_pos_card_terminal.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { $, click, key, until } from './dom.js';
import { checkout, till } from './ui-till.js';
import { registerPaymentDriver } from '../src/services/payment/index.js';
import { modalOpen } from '../src/ui/dom.js';

const TERMINAL = { id: 3, name: 'Card terminal', cash: false, type: 'card_terminal' };

// A terminal the test answers: next() is the payment in flight.
function testTerminal() {
  const asked = [];
  let current = null;
  const drop = registerPaymentDriver('card_terminal', () => ({
    interactive: true,
    send(amount, context) {
      return new Promise((resolve) => {
        current = { amount, context, resolve };
        asked.push(current);
      });
    },
    async cancel() {
      current?.resolve({ status: 'cancelled' });
      return { ok: true };
    },
    async status() { return { status: 'ready' }; },
  }), { name: 'test-terminal', priority: 100 });
  return { asked, drop, answer: (r) => current.resolve(r) };
}

test('payment: a card terminal declined or cancelled leaves the order unpaid; approved, it pays', async () => {
  const terminal = testTerminal();
  try {
    const t = await till();
    t.catalog.putRecords({ payment_method: [TERMINAL] });
    checkout(t);
    await t.shell.handleCode('5410000000019');
    key('F9');
    await until(() => $('#pay-amount'));
    assert.equal($('#pay-terminal').hidden, true);

    // declined
    click('[data-method="3"]');
    await until(() => terminal.asked.length === 1 && !$('#pay-terminal').hidden);
    assert.equal(terminal.asked[0].amount, 4995);
    assert.equal(terminal.asked[0].context.currency.code, 'EUR');
    // a second click while the terminal waits starts nothing
    click('[data-method="3"]');
    terminal.answer({ status: 'declined', message: 'insufficient funds' });
    await until(() => $('#pay-error').textContent);
    assert.equal($('#pay-error').textContent, 'The card terminal declined the payment: insufficient funds');
    assert.equal($('#pay-terminal').hidden, true);
    assert.deepEqual(t.shell.order.payments, []);

    // cancelled by the cashier
    click('[data-method="3"]');
    await until(() => terminal.asked.length === 2 && $('#pay-cancel'));
    click('#pay-cancel');
    await until(() => $('#pay-error').textContent);
    assert.equal($('#pay-error').textContent, 'The card payment was cancelled');
    assert.deepEqual(t.shell.order.payments, []);
    assert.equal($('#pay-due').dataset.minor, '4995');
    assert.notEqual(terminal.asked[0].context.paymentId, terminal.asked[1].context.paymentId);

    // approved: the sale is saved with the terminal's reference
    click('[data-method="3"]');
    await until(() => terminal.asked.length === 3);
    terminal.answer({ status: 'approved', reference: 'AUTH42' });
    await until(() => t.hardware.printed.length === 1);
    assert.equal(modalOpen(), false);
    const sale = await t.register.lastReceipt();
    assert.deepEqual(sale.order.payments.map((p) => [p.method, p.amount, p.reference]), [[3, 4995, 'AUTH42']]);
    assert.equal(t.hardware.drawers, 0);
  } finally {
    terminal.drop();
  }
});
