// The till's screens (src/ui/screens/) on happy-dom, over the real catalog,
// register and store: what the cashier sees and what each action changes.
// The e2e tests (tests/e2e) drive the same screens in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { $, $$, click, key, until } from './dom.js';
import { CASHIER, MANAGER, checkout, till } from './ui-till.js';
import { screenNames, registerScreen } from '../src/ui/registry.js';
import { bannerParts, statusParts } from '../src/ui/components/status-bar.js';
import { serverSide } from '../src/ui/screens/reports.js';
import { serverReportReceipt } from '../src/ui/print.js';
import { figuresFromWire } from '../src/sync/wire.js';
import { modalOpen } from '../src/ui/dom.js';

function type(selector, text) {
  const input = $(selector);
  input.value = text;
  return input;
}

function submit(selector, text) {
  type(selector, text).form.requestSubmit();
}

function enter(selector, text) {
  const input = type(selector, text);
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
}

async function pin(value) {
  await until(() => $('#pin'));
  submit('#pin', value);
}

test('every screen is registered by name, once', () => {
  assert.deepEqual(screenNames().sort(), ['bootstrap', 'checkout', 'enroll', 'login', 'menu', 'payment', 'reports', 'returns', 'session']);
  assert.throws(() => registerScreen('checkout', class {}), /already registered/);
});

test('the status bar says online or not, what waits to sync and who sells; the banner the quarantine', () => {
  const actions = { forceSync() {}, lock() {}, showQuarantine() {} };
  const parts = statusParts({ online: false, pending: 3, persisted: true }, { terminalName: 'BXL1', employee: CASHIER, actions });
  const byId = Object.fromEntries(parts.filter((p) => p.id).map((p) => [p.id, p]));
  assert.equal(byId.net.dataset.online, 'false');
  assert.equal(byId.unsynced.dataset.count, '3');
  assert.equal(byId.cashier.textContent, 'Bruno');
  assert.equal(bannerParts({ quarantined: 2 }, { actions })[0].id, 'quarantine-banner');
  assert.deepEqual(bannerParts({}, { actions }), []);
});

test('enroll: a scanned code enrolls at once; a failure is said', async () => {
  const t = await till();
  const asked = [];
  t.app.enroll = async (args) => {
    asked.push(args);
    throw new Error('unknown code');
  };
  t.shell.showEnroll({ database: 'demo' });
  assert.equal($('#screen').dataset.screen, 'enroll');
  await t.shell.handleCode('K7QM-3XRT');
  assert.deepEqual(asked, [{ text: 'K7QM-3XRT', database: 'demo', deviceName: 'Till' }]);
  assert.match($('#enroll-error').textContent, /unknown code/);
  t.shell.showBootstrap();
  t.shell.bootstrapProgress({ records: 500, total: 1000, rate: 100 });
  assert.equal($('#boot-progress').value, 50);
  t.shell.bootstrapProgress({ interrupted: 'offline' });
  assert.match($('#boot-text').textContent, /offline/);
});

test('login: a right PIN opens the cash session when there is none, then the checkout', async () => {
  const t = await till({ session: false });
  t.shell.showLogin();
  assert.deepEqual($$('[data-employee]').map((b) => b.textContent), ['Bruno', 'Maria']);
  click('[data-employee="7"]');
  await pin('0000');
  await until(() => $('#pin-error').textContent === 'Wrong PIN');
  submit('#pin', '1357');
  await until(() => $('#float'));
  submit('#float', '150');
  await until(() => t.shell.screen === 'checkout');
  assert.equal(t.shell.employee.id, 7);
  assert.equal((await t.register.currentSession()).opening, 15000);
  assert.equal(t.shell.store.session.opening, 15000);
  assert.equal(sessionStorage.getItem('pos-employee'), '7');
  // the lock goes back to the login, naming who locked
  t.shell.lock();
  assert.equal(t.shell.screen, 'login');
  assert.equal(t.shell.employee, null);
  assert.match($('h1').textContent, /Bruno/);
});

test('checkout: scans and typed codes add lines the cart shows at once; unknown codes beep', async () => {
  const t = await till();
  checkout(t);
  await t.shell.handleCode('5410000000019');
  assert.equal($$('#cart tr').length, 1);
  enter('#entry', 'esp');
  await until(() => $$('#cart tr').length === 2);
  assert.equal($('#cart tr.selected').dataset.line, '1');
  assert.equal($('#total').dataset.minor, '5245');
  key('ArrowUp');
  assert.equal($('#cart tr.selected').dataset.line, '0');
  // − / + on the selected line
  click('[data-action="qty-plus"]');
  assert.equal(t.shell.order.lines[0].quantity, 2000);
  assert.equal($('#total').dataset.minor, '10240');
  await t.shell.handleCode('0000000000000');
  assert.equal(t.shell.toasts.at(-1).kind, 'bad');
  assert.equal(t.shell.beeps, 1);
  assert.equal(t.shell.order.lines.length, 2);
});

test('checkout: a line the cashier may not void needs a manager, whose approval goes with the order', async () => {
  const t = await till();
  checkout(t);
  await t.shell.handleCode('5410000000019');
  key('Delete');
  await until(() => $('[data-manager]'));
  assert.match($('#approval-detail').textContent, /Oxford Shirt × 1 at .*: void/);
  click('[data-manager="8"]');
  await pin('2468');
  await until(() => t.shell.order.lines[0].voided);
  assert.deepEqual(t.shell.order.overrides.map((o) => [o.action, o.manager, o.cashier]), [['Void line', 8, 7]]);
  assert.ok($('#cart tr').classList.contains('voided'));
  // a scan while a dialog is open is refused, not added behind it
  key('F2');
  await until(() => $('#search'));
  await t.shell.handleCode('5410000000019');
  assert.match(t.shell.toasts.at(-1).text, /not added/);
  key('Escape');
  assert.equal(t.shell.order.lines.length, 1);
});

test('payment: cash settles the sale, opens the drawer, prints, and shows the change on a new order', async () => {
  const t = await till();
  checkout(t);
  await t.shell.handleCode('5410000000019');
  key('F9');
  await until(() => $('#pay-amount'));
  assert.equal($('#pay-due').dataset.minor, '4995');
  // a card may not take more than is due
  type('#pay-amount', '60');
  click('[data-method="2"]');
  await until(() => $('#pay-error').textContent);
  assert.equal($('#pay-error').textContent, 'Only cash can exceed the amount due');
  type('#pay-amount', '50');
  click('[data-method="1"]');
  await until(() => t.hardware.printed.length === 1);
  assert.equal(modalOpen(), false);
  assert.equal(t.shell.order.lines.length, 0);
  assert.equal($('#last-change').textContent.includes('0.05'), true);
  assert.equal(t.hardware.drawers, 1);
  assert.equal(t.shell.lastPrint.ok, true);
  const sale = await t.register.lastReceipt();
  assert.equal(t.hardware.printed[0].jobId, `receipt-${sale.uuid}`);
  assert.deepEqual(sale.order.payments.map((p) => [p.method, p.amount]), [[1, 4995]]);
  // the next scan hides the change
  await t.shell.handleCode('5410000000019');
  assert.equal($('#last-change'), null);
});

test('returns: what is left of a receipt of this till, approved, becomes the order to refund', async () => {
  const t = await till();
  checkout(t);
  await t.shell.handleCode('5410000000019');
  await t.shell.handleCode('5410000000019');
  key('F9');
  await until(() => $('#pay-amount'));
  click('[data-method="1"]');
  await until(() => t.hardware.printed.length === 1);
  const { number } = await t.register.lastReceipt();
  // scanned on an empty order: its return starts
  t.shell.handleCode(number);
  await until(() => $('#return-lines'));
  assert.deepEqual($$('#return-lines li').map((li) => li.dataset.left), ['2000']);
  click('#return-ok');
  await until(() => t.shell.order.kind === 'return');
  assert.equal(t.shell.order.originalReceipt, number);
  assert.deepEqual(t.shell.order.lines.map((l) => l.quantity), [-2000]);
  assert.match($('#order-kind').textContent, new RegExp(number));
  // an unknown receipt offline: only the server would know it
  t.shell.store.clearOrder();
  await t.shell.run('returns', { number: 'ANT1-000001' });
  assert.match(t.shell.toasts.at(-1).text, /not on this till/);
});

test('held orders: a parked order comes back as the current one and leaves the list', async () => {
  const t = await till();
  checkout(t);
  await t.shell.handleCode('5410000000019');
  key('F8');
  await until(() => t.shell.order.lines.length === 0);
  assert.equal((await t.register.heldOrders()).length, 1);
  key('F8', { shiftKey: true });
  await until(() => $('[data-held-action="resume"]'));
  assert.match($('.held-items').textContent, /Oxford Shirt × 1/);
  click('[data-held-action="resume"]');
  await until(() => t.shell.order.lines.length === 1);
  assert.equal($$('#cart tr').length, 1);
  assert.equal((await t.register.heldOrders()).length, 0);
});

test('session: closing counts the cash, shows the Z report, then locks the till', async () => {
  const t = await till();
  checkout(t, MANAGER);
  key('F12');
  await until(() => $('[data-menu="Close session (Z report)"]'));
  click('[data-menu="Close session (Z report)"]');
  await until(() => $('#count-ok'));
  type('[data-denomination="1000"]', '2').dispatchEvent(new Event('input'));
  assert.match($('#count-total').textContent, /20\.00/);
  click('#count-ok');
  await until(() => $('#report'));
  assert.equal($('#report').dataset.server, 'unavailable');
  // The till's own receipt journal is checked with the Z (the close is its entry)
  await until(() => $('#report-journal'));
  assert.equal($('#report-journal').dataset.breaks, '0');
  assert.match($('#report-journal').textContent, /Receipt journal: \d+ entries, unbroken/);
  click('.modal .primary');
  await until(() => t.shell.screen === 'login');
  assert.equal(await t.register.currentSession(), null);
});

test('reports: the server\'s figures match or differ from the till\'s', () => {
  assert.deepEqual(serverSide({}, { state: 'pending' }), { state: 'pending' });
  const same = { sales: 2, total: 100 };
  assert.equal(serverSide(same, { state: 'ok', figures: same }).state, 'match');
});

test('reports: the server\'s figures are kept to reprint them through the proxy', () => {
  const figures = {
    uuid: 's-1', state: 'closed', opening: 10000, sales: 2, salesTotal: 5400, returns: 1, returnsTotal: -1200,
    net: 4200, tax: 700, taxes: [{ tax: 3, name: 'VAT 20%', base: 3500, amount: 700 }],
    payments: [{ method: 1, name: 'Cash', amount: 2800 }, { method: 2, name: 'Card', amount: 1400 }],
    cashIn: 5000, cashOut: 2000, expectedCash: 15800, counted: 16000, difference: 200,
  };
  const side = serverSide({ sales: 2 }, { state: 'ok', figures });
  assert.equal(side.comparison.serverFigures, figures);
  const receipt = serverReportReceipt('Z report', figures, { code: 'EUR', digits: 2, terminal: 'Till 1' });
  // Only keys the proxy's structured receipt takes (iot_proxy receipt.py RECEIPT_KEYS)
  const keys = ['paper_width', 'codepage', 'currency', 'labels', 'logo', 'header', 'meta', 'lines',
    'subtotal', 'discounts', 'taxes', 'total', 'payments', 'change', 'barcode', 'qr', 'footer', 'cut', 'copies'];
  assert.deepEqual(Object.keys(receipt).filter((k) => !keys.includes(k)), []);
  assert.equal(receipt.header.title, 'Z report');
  assert.deepEqual(receipt.lines, []);
  assert.equal(receipt.total, '42.00');
  assert.deepEqual(receipt.taxes, [{ label: 'VAT 20%', base: '35.00', amount: '7.00' }]);
  assert.deepEqual(receipt.payments, [{ method: 'Cash', amount: '28.00' }, { method: 'Card', amount: '14.00' }]);
  const meta = Object.fromEntries(receipt.meta.map((m) => [m.label, m.value]));
  assert.equal(meta.Terminal, 'Till 1');
  assert.equal(meta['Expected cash'], '158.00');
  assert.equal(meta['Counted cash'], '160.00');
  assert.equal(meta.Difference, '2.00');
  assert.equal(meta.Sales, '2 · 54.00');
});

test('reports: the server\'s reprinted Z shows its Z number, grand total, receipts, denominations and cashiers', () => {
  const wire = {
    id: 12, uuid: 's-2', terminal: 4, state: 'closed', opening_float: '100.00', sales: 2, sales_total: '54.00',
    returns: 1, returns_total: '-12.00', net: '42.00', taxes: '7.00', tax_lines: [], payments: [],
    cash_in: '50.00', cash_out: '20.00', expected_cash: '158.00', counted_cash: '160.00', difference: '2.00',
    terminal_name: 'Till S1A', branch_name: '[S1] Shop S1', z_number: 7, grand_total: '1042.00',
    opened_at: '2026-12-05T08:00:00Z', closed_at: '2026-12-05T18:00:00Z', discounts: '6.00', voids: 1,
    first_receipt: 'S1A-000001', last_receipt: 'S1A-000005', receipt_gaps: [['S1A-000004', 'S1A-000004']],
    cashiers: ['Bruno', 'Chloé'], denominations: [{ value: '50.00', count: 3, amount: '150.00' }, { value: '10.00', count: 1, amount: '10.00' }],
    denominations_total: '160.00', journal_breaks: [{ sequence: 9, receipt: 'S1A-000005', type: 'return', message: 'gap' }],
  };
  const figures = figuresFromWire(wire, 2);
  const receipt = serverReportReceipt('Z report', figures, { code: 'EUR', digits: 2, terminal: 'Till 1' });
  const meta = Object.fromEntries(receipt.meta.map((m) => [m.label, m.value]));
  assert.equal(meta['Z number'], '7');
  assert.equal(meta.Terminal, 'Till S1A');
  assert.equal(meta.Branch, '[S1] Shop S1');
  assert.equal(meta['Grand total'], '1042.00');
  assert.equal(meta.Discounts, '6.00');
  assert.equal(meta['Voided sales'], '1');
  assert.equal(meta.Receipts, 'S1A-000001 - S1A-000005');
  assert.equal(meta['Missing receipts'], 'S1A-000004');
  assert.equal(meta['Journal breaks'], 'S1A-000005');
  assert.equal(meta.Cashiers, 'Bruno, Chloé');
  assert.equal(meta['50.00 × 3'], '150.00');
  assert.equal(meta['10.00 × 1'], '10.00');
  // A server without the reports module: the sync figures only
  const plain = serverReportReceipt('Z report', figuresFromWire({ ...wire, z_number: undefined, grand_total: undefined,
    first_receipt: undefined, cashiers: undefined, denominations: undefined, journal_breaks: undefined, voids: undefined,
    discounts: undefined, terminal_name: undefined, branch_name: undefined, opened_at: undefined, closed_at: undefined }, 2),
  { code: 'EUR', digits: 2, terminal: 'Till 1' });
  const labels = plain.meta.map((m) => m.label);
  assert.equal(labels.includes('Z number') || labels.includes('Grand total') || labels.includes('Receipts'), false);
  assert.equal(Object.fromEntries(plain.meta.map((m) => [m.label, m.value])).Terminal, 'Till 1');
});
