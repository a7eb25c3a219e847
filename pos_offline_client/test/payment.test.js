import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  collect, methodType, paymentDriver, paymentDrivers, registerPaymentDriver, takePayment,
} from '../src/services/payment/index.js';
import { ManualDriver } from '../src/services/payment/drivers/manual.js';
import { ProxyCardTerminal } from '../src/services/payment/drivers/proxy-card-terminal.js';
import { HardwareProxy } from '../src/services/hardware.js';

const CASH = { id: 1, name: 'Cash', cash: true, type: 'cash' };
const CARD = { id: 2, name: 'Card', cash: false, type: 'card' };
const TERMINAL = { id: 3, name: 'Card terminal', cash: false, type: 'card_terminal' };

test('a method without type (an older server) is cash or other by its cash flag', () => {
  assert.equal(methodType({ id: 1, cash: true }), 'cash');
  assert.equal(methodType({ id: 2, cash: false }), 'other');
  assert.equal(methodType(TERMINAL), 'card_terminal');
});

test('the built-in drivers: manual for typed methods, the proxy for card terminals', () => {
  for (const type of ['cash', 'card', 'wallet', 'voucher', 'other']) {
    assert.deepEqual(paymentDrivers(type).map((d) => d.name), ['manual'], type);
  }
  assert.ok(paymentDriver(CASH) instanceof ManualDriver);
  assert.ok(paymentDriver(TERMINAL, { hardware: new HardwareProxy() }) instanceof ProxyCardTerminal);
});

test('the manual driver approves at once', async () => {
  const driver = paymentDriver(CARD);
  assert.equal(driver.interactive, false);
  assert.deepEqual(await takePayment(driver, 1250), { status: 'approved', message: '', reference: null });
  assert.equal((await driver.status()).status, 'ready');
});

test('a type without driver answers error, never approved', async () => {
  const r = await takePayment(paymentDriver({ id: 9, type: 'gift_card' }), 500);
  assert.equal(r.status, 'error');
  assert.match(r.message, /gift_card/);
});

test('a driver registered with a higher priority, or named by the settings, is used', async () => {
  class Fake {
    constructor(answer) { this.answer = answer; }
    async send() { return this.answer; }
  }
  const drop = registerPaymentDriver('card_terminal', () => new Fake({ status: 'approved', reference: 'A1' }), { name: 'acme', priority: 10 });
  try {
    assert.deepEqual(paymentDrivers('card_terminal').map((d) => d.name), ['acme', 'iot-proxy']);
    assert.deepEqual(await takePayment(paymentDriver(TERMINAL), 100), { status: 'approved', message: '', reference: 'A1' });
    const chosen = paymentDriver(TERMINAL, { settings: { paymentDrivers: { card_terminal: 'iot-proxy' } } });
    assert.ok(chosen instanceof ProxyCardTerminal);
  } finally {
    drop();
  }
  assert.deepEqual(paymentDrivers('card_terminal').map((d) => d.name), ['iot-proxy']);
});

test('takePayment turns a throwing or odd driver into a result', async () => {
  assert.equal((await takePayment({ send: async () => { throw new Error('boom'); } }, 100)).status, 'error');
  assert.equal((await takePayment({ send: async () => ({ status: 'maybe' }) }, 100)).status, 'error');
  assert.equal((await takePayment(new ManualDriver(CASH), 0)).status, 'error');
  assert.equal((await takePayment(new ManualDriver(CASH), 1.5)).status, 'error');
});

// A stand-in for the proxy's payment terminal API over real HTTP, so the
// driver's requests (paths, bodies, long polls) are what a proxy receives.
function standIn(outcome) {
  const payments = new Map();
  const seen = [];
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : null;
    seen.push({ method: req.method, url: req.url, body });
    const send = (code, data) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: code < 300, canRetry: false, message: data.payment?.message ?? data.message ?? '', ...data }));
    };
    const m = req.url.match(/^\/payment_terminals\/card(\/payments(?:\/([^/?]+))?(\/cancel)?)?/);
    if (!m) return send(404, { message: 'unknown payment terminal' });
    if (!m[1]) return send(200, { terminal: { name: 'card', connected: true, pending: null } });
    if (req.method === 'POST' && !m[2]) {
      const p = { payment_id: body.payment_id, amount: body.amount, currency: body.currency, status: 'pending', message: 'present the card', polls: 0 };
      payments.set(p.payment_id, p);
      return send(202, { payment: p });
    }
    const p = payments.get(decodeURIComponent(m[2]));
    if (m[3]) {
      p.status = 'cancelled';
      p.message = 'cancelled at the till';
      return send(200, { payment: p });
    }
    p.polls += 1;
    if (p.status === 'pending' && outcome !== 'never' && p.polls >= 2) {
      p.status = outcome;
      p.message = outcome;
      if (outcome === 'approved') p.auth_code = 'V123456';
    }
    return send(200, { payment: p });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    server, seen, payments, url: `http://127.0.0.1:${server.address().port}`,
  })));
}

test('the card terminal driver: approved after the customer presents the card', async () => {
  const proxy = await standIn('approved');
  try {
    const hardware = new HardwareProxy({ url: proxy.url });
    const driver = paymentDriver(TERMINAL, { hardware });
    assert.equal((await driver.status()).status, 'ready');
    const r = await takePayment(driver, -1250, { paymentId: 'pay-1', currency: { code: 'EUR', digits: 2 }, reference: 'S1A-000001' });
    assert.deepEqual(r, { status: 'approved', message: 'approved', reference: 'V123456' });
    assert.deepEqual(proxy.seen[1].body, { payment_id: 'pay-1', amount: '-12.50', currency: 'EUR', reference: 'S1A-000001' });
    assert.match(proxy.seen[2].url, /^\/payment_terminals\/card\/payments\/pay-1\?wait=\d+$/);
  } finally {
    proxy.server.close();
  }
});

test('the card terminal driver: declined leaves nothing paid', async () => {
  const proxy = await standIn('declined');
  try {
    const driver = paymentDriver(TERMINAL, { hardware: new HardwareProxy({ url: proxy.url }) });
    const r = await takePayment(driver, 500, { paymentId: 'pay-2' });
    assert.equal(r.status, 'declined');
  } finally {
    proxy.server.close();
  }
});

test('the card terminal driver: cancel() stops the payment in flight', async () => {
  const proxy = await standIn('never');
  try {
    const driver = new ProxyCardTerminal(TERMINAL, { hardware: new HardwareProxy({ url: proxy.url }), pollSeconds: 0 });
    const pending = takePayment(driver, 500, { paymentId: 'pay-3' });
    while (!proxy.payments.has('pay-3')) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await driver.cancel()).ok, true);
    assert.equal((await pending).status, 'cancelled');
    assert.equal((await driver.cancel()).ok, false);
  } finally {
    proxy.server.close();
  }
});

test('the card terminal driver: no answer in time is a timeout, and the payment is cancelled', async () => {
  const proxy = await standIn('never');
  try {
    const driver = new ProxyCardTerminal(TERMINAL, { hardware: new HardwareProxy({ url: proxy.url }), pollSeconds: 0, timeoutMs: 50 });
    const r = await takePayment(driver, 500, { paymentId: 'pay-4' });
    assert.equal(r.status, 'timeout');
    assert.equal(proxy.payments.get('pay-4').status, 'cancelled');
  } finally {
    proxy.server.close();
  }
});

test('the card terminal driver: no proxy, no payment', async () => {
  const driver = paymentDriver(TERMINAL, { hardware: new HardwareProxy({ url: 'http://127.0.0.1:9' }) });
  const r = await takePayment(driver, 500, { paymentId: 'pay-5' });
  assert.equal(r.status, 'error');
  assert.equal((await driver.status()).status, 'unavailable');
});

test('collect: the payment step waits on an interactive driver and may cancel it', async () => {
  const events = [];
  let release;
  const drop = registerPaymentDriver('voucher', () => ({
    interactive: true,
    send: () => new Promise((resolve) => { release = resolve; }),
    cancel: async () => { events.push('cancel'); release({ status: 'cancelled' }); return { ok: true }; },
  }), { name: 'slow', priority: 5 });
  try {
    const r = await collect({ id: 5, type: 'voucher' }, 300, {
      onWait: (cancel) => { events.push('wait'); setTimeout(cancel, 5); return () => events.push('done'); },
    });
    assert.equal(r.status, 'cancelled');
    assert.deepEqual(events, ['wait', 'cancel', 'done']);
  } finally {
    drop();
  }
  // a manual method never waits
  const r = await collect(CASH, 300, { onWait: () => assert.fail('no wait for cash') });
  assert.equal(r.status, 'approved');
});
