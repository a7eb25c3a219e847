// The card terminal of the hardware proxy (iot_proxy: `[[payment_terminals]]`,
// HTTP API in iot_proxy/README.md "Payment terminals"): the till sends the
// amount, the customer presents the card on the terminal, the proxy answers
// approved, declined, cancelled or timeout. Registered for the type
// card_terminal. The terminal's name is the proxy setting `paymentTerminal`
// (default "card").
// Depends on: the HardwareProxy service (deps.hardware: call()).
import { registerPaymentDriver } from '../index.js';
import { formatDecimal } from '../../../lib/money.js';
import { t } from '../../../lib/i18n.js';

const FINAL = new Set(['approved', 'declined', 'cancelled', 'timeout']);

export class ProxyCardTerminal {
  // options: pollSeconds (long-poll of one status request), timeoutMs (the
  // longest a payment may take before the till cancels it), retries (status
  // requests that may fail in a row before the till gives up).
  constructor(method, { hardware, terminal, pollSeconds = 10, timeoutMs = 180_000, retries = 3 } = {}) {
    this.method = method;
    this.hardware = hardware;
    this.terminal = terminal || hardware?.settings?.paymentTerminal || 'card';
    this.pollSeconds = pollSeconds;
    this.timeoutMs = timeoutMs;
    this.retries = retries;
    this.interactive = true;
    this.current = null;
  }

  path(suffix = '') {
    return `/payment_terminals/${encodeURIComponent(this.terminal)}${suffix}`;
  }

  // context: {paymentId (the idempotency key: the same id again is the
  // same payment), currency: {code, digits}, reference (the receipt or
  // order it pays)}.
  async send(amount, context = {}) {
    if (!this.hardware) return { status: 'error', message: t('No hardware proxy is configured') };
    const paymentId = context.paymentId || globalThis.crypto.randomUUID();
    const { code = 'EUR', digits = 2 } = context.currency || {};
    this.current = paymentId;
    try {
      const started = await this.hardware.call('POST', this.path('/payments'), {
        payment_id: paymentId, amount: formatDecimal(amount, digits), currency: code,
        ...(context.reference ? { reference: String(context.reference).slice(0, 64) } : {}),
      }, 8000);
      let payment = started.data?.payment;
      if (!payment) return { status: 'error', message: started.message || t('proxy unreachable') };
      const deadline = Date.now() + this.timeoutMs;
      let failures = 0;
      while (!FINAL.has(payment.status)) {
        if (Date.now() > deadline) {
          // Too late for the till; the card may have been approved meanwhile
          const c = await this.cancel();
          if (c.payment?.status !== 'approved') return { status: 'timeout', message: t('The card terminal did not answer in time') };
          payment = c.payment;
          break;
        }
        const r = await this.hardware.call('GET', this.path(`/payments/${encodeURIComponent(paymentId)}?wait=${this.pollSeconds}`), undefined, (this.pollSeconds + 5) * 1000);
        if (r.data?.payment) {
          payment = r.data.payment;
          failures = 0;
        } else if (++failures > this.retries) {
          return { status: 'error', message: t('Lost contact with the card terminal: check it before taking the payment again ({reason})', { reason: r.message }) };
        }
      }
      return { status: payment.status, message: payment.message || '', reference: payment.auth_code || payment.payment_id };
    } finally {
      this.current = null;
    }
  }

  async cancel() {
    if (!this.current || !this.hardware) return { ok: false, message: t('Nothing to cancel') };
    const r = await this.hardware.call('POST', this.path(`/payments/${encodeURIComponent(this.current)}/cancel`), {});
    return { ok: r.ok, message: r.message, payment: r.data?.payment ?? null };
  }

  async status() {
    if (!this.hardware) return { status: 'unavailable', message: t('No hardware proxy is configured') };
    const r = await this.hardware.call('GET', this.path(), undefined, 3000);
    const terminal = r.data?.terminal;
    if (!terminal) return { status: 'unavailable', message: r.message };
    return { status: terminal.connected === false ? 'unavailable' : (terminal.pending ? 'busy' : 'ready'), message: terminal.error || '' };
  }
}

registerPaymentDriver('card_terminal', (method, deps) => new ProxyCardTerminal(method, deps), { name: 'iot-proxy' });
