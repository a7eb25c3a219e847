// The manual driver: the cashier takes the money (cash in the drawer) or
// reads the amount off a device or document the till does not drive (a
// stand-alone card reader, a phone, a voucher) and types it; the payment is
// approved at once. Registered for every type but card_terminal.
import { registerPaymentDriver } from '../index.js';
import { t } from '../../../lib/i18n.js';

export class ManualDriver {
  constructor(method) {
    this.method = method;
    this.interactive = false;
  }

  async send(amount) {
    return { status: 'approved', message: '', reference: null, amount };
  }

  async cancel() {
    return { ok: false, message: t('Nothing to cancel') };
  }

  async status() {
    return { status: 'ready', message: '' };
  }
}

for (const type of ['cash', 'card', 'wallet', 'voucher', 'other']) {
  registerPaymentDriver(type, (method) => new ManualDriver(method), { name: 'manual' });
}
