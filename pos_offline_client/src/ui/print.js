// Printing through the browser when the hardware proxy does not answer:
// the receipt as HTML with its number as a Code 128 barcode (for returns).
import JsBarcode from 'jsbarcode';
import { formatDecimal } from '../lib/money.js';
import { formatDateTime, getLocale, t } from '../lib/i18n.js';
import { proxyCurrency, toProxyReceipt } from '../services/hardware.js';
import { receiptData } from '../services/receipt.js';

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

export function barcodeSvg(text) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  JsBarcode(svg, text, { format: 'CODE128', width: 2, height: 50, displayValue: true, fontSize: 14, margin: 4 });
  return svg.outerHTML;
}

export function receiptHtml(r) {
  return `<div class="receipt">
<h1>${esc(r.shop)}</h1>${r.headerLines.map((l) => `<div>${esc(l)}</div>`).join('')}
<table class="meta">${r.meta.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>
<table class="lines">${r.lines.map((l) => `<tr><td>${esc(l.name)}<br><small>${esc(l.quantity)} × ${esc(l.unitPrice)}</small></td><td class="num">${esc(l.total)}</td></tr>`).join('')}</table>
<table class="sums"><tr class="total"><td>${esc(t('Total'))} ${esc(r.currency)}</td><td class="num">${esc(r.total)}</td></tr>
${r.taxes.map((x) => `<tr><td>${esc(t('Tax'))} ${esc(x.label)} (${esc(x.base)})</td><td class="num">${esc(x.amount)}</td></tr>`).join('')}
${r.payments.map((p) => `<tr><td>${esc(p.method)}</td><td class="num">${esc(p.amount)}</td></tr>`).join('')}
${r.change ? `<tr><td>${esc(t('Change'))}</td><td class="num">${esc(r.change)}</td></tr>` : ''}</table>
<div class="barcode">${barcodeSvg(r.number)}</div>
${r.footer.map((l) => `<div class="center">${esc(l)}</div>`).join('')}
</div>`;
}

// The X/Z report. With `server` ({state, comparison} from sync/wire.js
// compareFigures), each figure the server also reports shows the server's
// value beside the till's and whether they agree; a status line says so.
export function reportHtml(title, r, money, device, server = null) {
  const cmp = server?.comparison ? new Map(server.comparison.rows.map((x) => [x.key, x])) : null;
  const count = (n) => (n === null || n === undefined ? '' : String(n));
  const rows = [
    [t('Terminal'), device?.terminal?.name || ''],
    [t('Opened'), formatDateTime(r.openedAt)],
    ...(r.closedAt ? [[t('Closed'), formatDateTime(r.closedAt)]] : [[t('Printed'), formatDateTime(Date.now())]]),
    [t('Sales'), `${r.sales} · ${money(r.salesTotal)}`, ['sales', 'salesTotal'], (c) => `${count(c.sales)} · ${money(c.salesTotal)}`],
    [t('Returns'), `${r.returns} · ${money(r.returnsTotal)}`, ['returns', 'returnsTotal'], (c) => `${count(c.returns)} · ${money(c.returnsTotal)}`],
    [t('Voided sales'), String(r.voids)],
    [t('Net sales'), money(r.net), ['net']],
    [t('Discounts'), money(r.discounts)],
    [t('Tax'), money(r.tax), ['tax']],
    ...r.payments.map((p) => [p.name, money(p.amount), [`payment:${p.method}`]]),
    ...(cmp ? server.comparison.rows.filter((x) => x.key.startsWith('payment:') && !r.payments.some((p) => `payment:${p.method}` === x.key))
      .map((x) => [x.label, money(0), [x.key]]) : []),
    [t('Opening float'), money(r.opening), ['opening']],
    [t('Cash in'), money(r.cashIn), ['cashIn']],
    [t('Cash out'), money(r.cashOut), ['cashOut']],
    [t('Expected cash'), money(r.expectedCash), ['expectedCash']],
    ...(r.counted !== undefined ? [[t('Counted cash'), money(r.counted), ['counted']], [t('Difference'), money(r.difference), ['difference']]] : []),
  ];
  const serverCell = (keys, fmt) => {
    if (!cmp) return '';
    const found = (keys || []).map((k) => cmp.get(k)).filter(Boolean);
    if (!found.length) return '<td></td><td></td>';
    const values = Object.fromEntries(found.map((x) => [x.key, x.server]));
    const text = fmt ? fmt(values) : (found[0].server === null ? '' : money(found[0].server));
    const ok = found.every((x) => x.match);
    return `<td class="num server">${esc(text)}</td><td class="${ok ? 'match' : 'differ'}" data-figure="${esc(found.map((x) => x.key).join(' '))}" data-match="${ok}">${ok ? '✓' : '≠'}</td>`;
  };
  const head = cmp ? `<tr><th></th><th class="num">${esc(t('Till'))}</th><th class="num">${esc(t('Server'))}</th><th></th></tr>` : '';
  const body = rows.map(([k, v, keys, fmt]) => `<tr><td>${esc(k)}</td><td class="num">${esc(v)}</td>${serverCell(keys, fmt)}</tr>`).join('');
  let status = '';
  if (server) {
    const text = {
      pending: t('Server figures after sync'),
      match: t('The server’s figures match the till’s'),
      differ: t('The server’s figures differ from the till’s (≠)'),
      unavailable: t('The server does not report this session’s figures'),
    }[server.state] || '';
    status = `<p class="server-figures ${esc(server.state)}" id="server-figures" data-server="${esc(server.state)}">${esc(text)}</p>`;
  }
  return `<div class="receipt"><h1>${esc(title)}</h1><table class="meta">${head}${body}</table>${status}</div>`;
}

// Print an HTML fragment with the browser's dialog (print.css shows only it).
export function printHtml(html) {
  let area = document.getElementById('print-area');
  if (!area) {
    area = document.createElement('div');
    area.id = 'print-area';
    document.body.append(area);
  }
  area.innerHTML = html;
  setTimeout(() => window.print(), 0);
}

// A sale's receipt through the hardware proxy, or the browser's print
// dialog when the proxy does not answer (the sale is already saved).
// jobId is the proxy's idempotency key: the same sale's receipt sent
// twice (a lost answer, a retry) prints once; a reprint has its own id.
// env.lastPrint says what happened (the e2e tests read it).
export async function printReceipt(env, journal, jobId, { copy = false } = {}) {
  const { app } = env;
  const data = receiptData(journal, { register: env.register, catalog: env.catalog, device: app.device, copy });
  const r = await app.hardware.printReceipt(toProxyReceipt(data), jobId);
  env.lastPrint = { jobId, ok: r.ok, status: r.data?.status || null, message: r.message, browser: !r.ok };
  if (r.ok) {
    if (r.data?.status === 'waiting') env.toast(t('Printer: {m}. The receipt will print when the printer is back.', { m: r.message }), 'warn', 5000);
    return;
  }
  if (app.settings.browserPrint !== false) printHtml(receiptHtml(data));
  env.toast(t('Printer: {m}. Printed by the browser; reprint from the menu.', { m: r.message || t('not available') }), 'warn', 5000);
}

// The server's X/Z figures of a session (sync/wire.js figuresFromWire,
// minor units) as the hardware proxy's structured receipt: the server's
// report reprinted on the receipt printer (lines empty, the figures as
// meta, taxes per rate, payments per method, net sales as the total).
export function serverReportReceipt(title, figures, { code, digits, locale = 'en', terminal = '' }) {
  const f = (minor) => formatDecimal(minor ?? 0, digits);
  const given = (v) => v !== null && v !== undefined;
  // ASCII only: the printer's code page has no dash but the hyphen
  const range = (a, b) => (a === b ? a : `${a} - ${b}`);
  const meta = [
    ...(given(figures.zNumber) ? [[t('Z number'), String(figures.zNumber)]] : []),
    [t('Terminal'), figures.terminalName || terminal],
    ...(figures.branchName ? [[t('Branch'), figures.branchName]] : []),
    ...(figures.openedAt ? [[t('Opened'), figures.openedAt]] : []),
    ...(figures.closedAt ? [[t('Closed'), figures.closedAt]] : []),
    [t('Sales'), `${figures.sales} · ${f(figures.salesTotal)}`],
    [t('Returns'), `${figures.returns} · ${f(figures.returnsTotal)}`],
    ...(given(figures.voids) ? [[t('Voided sales'), String(figures.voids)]] : []),
    ...(given(figures.discounts) ? [[t('Discounts'), f(figures.discounts)]] : []),
    [t('Net sales'), f(figures.net)],
    [t('Tax'), f(figures.tax)],
    [t('Opening float'), f(figures.opening)],
    [t('Cash in'), f(figures.cashIn)],
    [t('Cash out'), f(figures.cashOut)],
    [t('Expected cash'), f(figures.expectedCash)],
    ...(given(figures.counted)
      ? [[t('Counted cash'), f(figures.counted)], [t('Difference'), f(figures.difference)]] : []),
    ...(figures.denominations || []).map((d) => [`${f(d.value)} × ${d.count}`, f(d.amount)]),
    ...(given(figures.grandTotal) ? [[t('Grand total'), f(figures.grandTotal)]] : []),
    ...(figures.firstReceipt ? [[t('Receipts'), range(figures.firstReceipt, figures.lastReceipt)]] : []),
    ...(figures.firstReceipt ? [[t('Missing receipts'), (figures.receiptGaps || []).map(([a, b]) => range(a, b)).join(', ') || t('none')]] : []),
    ...((figures.journalBreaks || []).length ? [[t('Journal breaks'), figures.journalBreaks.map((b) => b.receipt || `#${b.sequence}`).join(', ')]] : []),
    ...((figures.cashiers || []).length ? [[t('Cashiers'), figures.cashiers.join(', ')]] : []),
  ];
  return {
    currency: proxyCurrency(code, digits, locale),
    header: { title, lines: [`${t('Server')} · ${figures.uuid || ''}`] },
    meta: meta.map(([label, value]) => ({ label, value: String(value) })),
    lines: [],
    taxes: (figures.taxes || []).map((x) => ({ label: x.name, base: f(x.base), amount: f(x.amount) })),
    total: f(figures.net),
    payments: (figures.payments || []).map((p) => ({ method: p.name, amount: f(p.amount) })),
    footer: [`${t('Printed')} ${formatDateTime(Date.now())}`],
  };
}

// Reprint the server's report of a session through the hardware proxy
// (its own job id each time: a reprint prints again). Answers the proxy's
// {ok, message}; env.lastPrint says what happened.
export async function printServerReport(env, title, figures) {
  const { app, register } = env;
  const { code, digits } = register.currency();
  const receipt = serverReportReceipt(title, figures, {
    code, digits, locale: getLocale(), terminal: app.device?.terminal?.name || '',
  });
  const jobId = `report-${figures.uuid || 'session'}-${Date.now()}`;
  const r = await app.hardware.printReceipt(receipt, jobId);
  env.lastPrint = { jobId, ok: r.ok, status: r.data?.status || null, message: r.message, browser: false };
  env.toast(r.ok ? t('Printed') : t('Printer: {m}', { m: r.message || t('not available') }), r.ok ? 'info' : 'warn', 4000);
  return r;
}
