// The hardware proxy (iot_proxy) on 127.0.0.1: receipts, drawer, scanner
// events. Every call answers {ok, message, data} (data: the proxy's answer,
// with its canRetry); a failed print never
// loses a sale, which was committed before printing.
// Depends on: fetch, WebSocket. Settings: {url, token, printer, drawer,
// paymentTerminal} (the card terminal: services/payment/drivers/).
import { t } from '../lib/i18n.js';

export const DEFAULT_PROXY = { url: 'http://127.0.0.1:8070', token: '', printer: 'receipt', drawer: 'drawer', paymentTerminal: 'card' };

export class HardwareProxy {
  constructor(settings = {}, { fetchImpl, WebSocketImpl } = {}) {
    this.settings = { ...DEFAULT_PROXY, ...settings };
    this.fetch = fetchImpl || globalThis.fetch?.bind(globalThis);
    this.WebSocket = WebSocketImpl || globalThis.WebSocket;
    this.available = null;
    this.listeners = new Set();
    this.ws = null;
  }

  // New settings take effect at once; the scanner socket reconnects.
  configure(settings) {
    this.settings = { ...DEFAULT_PROXY, ...settings };
    this.available = null;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close();
      if (this.listeners.size) this.connect(1000);
    }
  }

  static async probe(settings, deps) {
    const r = await new HardwareProxy(settings, deps).status();
    if (r.ok) r.message = r.message || `iot-proxy ${r.data?.version || ''}`.trim();
    return r;
  }

  headers() {
    const h = { 'Content-Type': 'application/json' };
    if (this.settings.token) h.Authorization = `Bearer ${this.settings.token}`;
    return h;
  }

  async call(method, path, body, timeout = 4000) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      const res = await this.fetch(this.settings.url + path, {
        method, headers: this.headers(), body: body ? JSON.stringify(body) : undefined, signal: controller.signal,
      });
      const data = await res.json().catch(() => ({}));
      this.available = true;
      return { ok: Boolean(data.ok ?? res.ok), message: data.message || '', data };
    } catch (error) {
      this.available = false;
      return { ok: false, message: error?.name === 'AbortError' ? t('proxy timeout') : t('proxy unreachable') };
    } finally {
      clearTimeout(timer);
    }
  }

  async status() {
    const r = await this.call('GET', '/status', undefined, 1500);
    return r;
  }

  // Print a structured receipt; the job id makes a retry print once.
  printReceipt(receipt, jobId) {
    return this.call('POST', `/printers/${encodeURIComponent(this.settings.printer)}/jobs`, {
      job_id: jobId, type: 'receipt', receipt, wait: 5,
    }, 8000);
  }

  openDrawer() {
    return this.call('POST', `/drawers/${encodeURIComponent(this.settings.drawer)}/open`, {});
  }

  // Scanner events over WebSocket, reconnecting with a capped delay.
  onScan(listener) {
    this.listeners.add(listener);
    if (!this.ws) this.connect(1000);
    return () => this.listeners.delete(listener);
  }

  connect(delay) {
    if (!this.WebSocket) return;
    const url = `${this.settings.url.replace(/^http/, 'ws')}/ws${this.settings.token ? `?token=${encodeURIComponent(this.settings.token)}` : ''}`;
    let ws;
    try {
      ws = new this.WebSocket(url);
    } catch {
      return;
    }
    this.ws = ws;
    ws.onmessage = (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      if (msg.type === 'scan' && msg.data) for (const l of this.listeners) l(String(msg.data), msg.scanner);
    };
    ws.onopen = () => {
      delay = 1000;
    };
    ws.onclose = () => {
      this.ws = null;
      if (this.listeners.size) setTimeout(() => this.connect(Math.min(delay * 2, 30000)), delay);
    };
  }
}

// How the locale writes amounts of this currency, in the proxy's terms
// (symbol and its side, separators), e.g. fr-BE EUR: "27,24 €".
export function proxyCurrency(code, digits, locale = 'en') {
  try {
    const parts = new Intl.NumberFormat(locale, { style: 'currency', currency: code }).formatToParts(-1234.5);
    const at = (type) => parts.findIndex((p) => p.type === type);
    const symbol = parts[at('currency')]?.value;
    const out = { symbol: symbol || code, position: at('currency') < at('integer') ? 'before' : 'after', decimals: digits };
    const dec = parts[at('decimal')]?.value;
    const group = parts[at('group')]?.value;
    if (dec) out.decimal_separator = dec;
    if (group) out.thousands_separator = group.replace(/\s/gu, ' ');
    return out;
  } catch {
    return { symbol: code, decimals: digits };
  }
}

// The proxy's structured receipt from a committed sale (decimal strings).
export function toProxyReceipt(r) {
  return {
    currency: r.locale ? proxyCurrency(r.currency, r.digits, r.locale) : { symbol: r.currencySymbol || r.currency, decimals: r.digits },
    header: { title: r.shop, lines: r.headerLines || [] },
    meta: r.meta.map(([label, value]) => ({ label, value })),
    lines: r.lines.map((l) => ({
      name: l.name, quantity: l.quantity, unit_price: l.unitPrice, total: l.total,
      ...(l.discount ? { discount: l.discount } : {}), ...(l.note ? { note: l.note } : {}),
    })),
    taxes: r.taxes.map((t) => ({ label: t.label, base: t.base, amount: t.amount })),
    total: r.total,
    payments: r.payments.map((p) => ({ method: p.method, amount: p.amount })),
    ...(r.change ? { change: r.change } : {}),
    barcode: { type: 'CODE128', data: r.number },
    footer: r.footer || [],
  };
}
