// A till for the UI's unit tests: the real catalog, register (IndexedDB
// through fake-indexeddb) and shell on happy-dom's page; the app around
// them answers what main.js's App would (PINs are checked by a list here,
// the hardware proxy records what it was asked).
import { freshDb, testVault } from './helpers.js';
import { page } from './dom.js';
import { Catalog } from '../src/services/catalog.js';
import { Register } from '../src/services/register.js';
import { closeAllModals } from '../src/ui/dom.js';
import { Shell } from '../src/ui/shell.js';

export const CASHIER = { id: 7, name: 'Bruno', pin_hash: 'x', permissions: { allow_void: false, allow_refund: true } };
export const MANAGER = { id: 8, name: 'Maria', pin_hash: 'x', permissions: { allow_manager_override: true, allow_void: true, allow_refund: true, allow_close_session: true, max_discount: '100' } };
const PINS = new Map([[7, '1357'], [8, '2468']]);

export const records = () => ({
  payment_method: [{ id: 1, name: 'Cash', cash: true }, { id: 2, name: 'Card', cash: false }],
  company: [{ id: 1, currency: 'EUR', currency_digits: 2 }],
  employee: [CASHIER, MANAGER],
  product: [
    { id: 1, name: 'Oxford Shirt', type: 'goods', gross_price: '49.9500', taxes: [], uom: 1, default_uom: 1, code: 'SHIRT', barcodes: ['5410000000019'] },
    { id: 2, name: 'Espresso', type: 'goods', gross_price: '2.5000', taxes: [], uom: 1, default_uom: 1, code: 'ESP', barcodes: [] },
  ],
  uom: [{ id: 1, name: 'Unit', symbol: 'u', digits: 0 }],
});

class TestShell extends Shell {
  constructor(app) {
    super(app);
    this.toasts = [];
  }

  toast(text, kind = 'info') {
    this.toasts.push({ text, kind });
  }

  beep() {
    this.beeps = (this.beeps || 0) + 1;
  }
}

let last = null;

export async function till({ session = true } = {}) {
  // one till on the page at a time: the last test's stops hearing keys
  last?.destroy();
  page();
  closeAllModals();
  sessionStorage.clear();
  const db = await freshDb();
  const vault = await testVault();
  const catalog = new Catalog();
  catalog.putRecords(records());
  const device = { terminal: { id: 4, name: 'BXL1', receipt_prefix: 'BXL1' }, branch: null };
  const register = new Register({ db, vault, catalog, device });
  const hardware = {
    settings: {},
    drawers: 0,
    printed: [],
    async openDrawer() { this.drawers += 1; return { ok: true }; },
    async printReceipt(receipt, jobId) { this.printed.push({ receipt, jobId }); return { ok: true, data: { status: 'printed' } }; },
  };
  const app = {
    db, vault, catalog, register, device, hardware,
    settings: { browserPrint: false },
    status: { online: false },
    metrics: { search() {} },
    guard: { async check() { return { ok: true }; } },
    refreshed: 0,
    refreshStatus() { this.refreshed += 1; },
    kickSoon() {},
    forceSync() {},
    async acknowledgeQuarantine() {},
    async remoteReceipt() { return null; },
    async serverFigures() { return { state: 'unavailable', reason: 'server' }; },
    loginEmployees: () => register.employees(),
    managers: (except) => register.employees().filter((e) => register.can(e, 'allow_manager_override') && e.id !== except),
    async tryPin(id, pin) {
      return PINS.get(id) === pin ? { ok: true, employee: catalog.get('employee', id) } : { ok: false, wrong: true, waitMs: 0 };
    },
  };
  if (session) await register.openSession(0, CASHIER);
  const shell = new TestShell(app);
  last = shell;
  app.ui = shell;
  return { db, catalog, register, app, shell, hardware };
}

// Log `employee` in straight to the checkout (the login screen's own test
// goes through the PIN).
export function checkout(t, employee = CASHIER) {
  t.shell.store.setEmployee(employee);
  return t.shell.show('checkout');
}
