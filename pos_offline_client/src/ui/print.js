// Printing through the browser when the hardware proxy does not answer:
// the receipt as HTML with its number as a Code 128 barcode (for returns).
import JsBarcode from 'jsbarcode';
import { formatDateTime, t } from '../lib/i18n.js';

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

export function reportHtml(title, r, money, device) {
  const rows = [
    [t('Terminal'), device?.terminal?.name || ''],
    [t('Opened'), formatDateTime(r.openedAt)],
    ...(r.closedAt ? [[t('Closed'), formatDateTime(r.closedAt)]] : [[t('Printed'), formatDateTime(Date.now())]]),
    [t('Sales'), `${r.sales} · ${money(r.salesTotal)}`],
    [t('Returns'), `${r.returns} · ${money(r.returnsTotal)}`],
    [t('Voided sales'), String(r.voids)],
    [t('Net sales'), money(r.net)],
    [t('Discounts'), money(r.discounts)],
    [t('Tax'), money(r.tax)],
    ...r.payments.map((p) => [p.name, money(p.amount)]),
    [t('Opening float'), money(r.opening)],
    [t('Cash in'), money(r.cashIn)],
    [t('Cash out'), money(r.cashOut)],
    [t('Expected cash'), money(r.expectedCash)],
    ...(r.counted !== undefined ? [[t('Counted cash'), money(r.counted)], [t('Difference'), money(r.difference)]] : []),
  ];
  return `<div class="receipt"><h1>${esc(title)}</h1><table class="meta">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${esc(v)}</td></tr>`).join('')}</table></div>`;
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
