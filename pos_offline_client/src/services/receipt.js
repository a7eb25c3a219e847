// A sale's receipt as the printers take it (the hardware proxy's, through
// services/hardware.js toProxyReceipt, and the browser's, ui/print.js).
import { divRound, formatDecimal, PRICE_DIGITS, QTY_DIGITS } from '../lib/money.js';
import { formatDateTime, getLocale, t } from '../lib/i18n.js';
import { receiptTaxes } from './pricing.js';

// ' kg' after a weighed line's quantity ('' for units).
function unitSuffix(catalog, line) {
  const product = catalog.get('product', line.product);
  const uom = catalog.get('uom', line.uom ?? product?.uom);
  return (line.weighed || uom?.digits) && uom?.symbol ? ` ${uom.symbol}` : '';
}

// j: the sale's journal (services/register.js commitSale). copy: a
// reprint, marked COPY, with the sale's own time (and the reprint's).
export function receiptData(j, { register, catalog, device, copy = false }) {
  const { code, digits } = register.currency();
  const f = (m) => formatDecimal(m, digits);
  const methods = new Map(register.paymentMethods().map((m) => [m.id, m.name]));
  const lines = j.order.lines.filter((l) => !l.voided).map((l) => {
    const comp = j.lines.find((x) => x.uuid === l.uuid);
    return {
      name: l.name + (l.lot ? ` (${t('Lot {n}', { n: l.lot.number })})` : ''),
      quantity: (formatDecimal(l.quantity, QTY_DIGITS).replace(/\.?0+$/, '') || '0') + unitSuffix(catalog, l),
      unitPrice: f(divRound(comp.unitGrossPrice, 10 ** (PRICE_DIGITS - digits))),
      total: f(comp.amount),
    };
  });
  const terminal = device.terminal;
  return {
    number: j.number, currency: code, digits, locale: getLocale(), shop: device.branch?.name || '',
    headerLines: [terminal.name, ...(copy ? [t('*** COPY ***')] : [])],
    copy,
    meta: [[t('Receipt'), j.number], [t('Date'), formatDateTime(j.clientTime ? new Date(j.clientTime) : new Date())],
      ...(copy ? [[t('Reprinted'), formatDateTime(new Date())]] : []),
      [t('Cashier'), j.employee.name],
      ...(j.order.customer ? [[t('Customer'), j.order.customer.name]] : []),
      ...(j.order.originalReceipt ? [[t('Return of'), j.order.originalReceipt]] : [])],
    lines,
    taxes: receiptTaxes(j.totals.taxes).map((x) => ({ label: x.label, base: f(x.base), amount: f(x.amount) })),
    total: f(j.totals.total),
    payments: j.order.payments.map((p) => ({ method: methods.get(p.method) || p.methodName, amount: f(p.tendered ?? p.amount) })),
    change: j.totals.change ? f(j.totals.change) : null,
    footer: [t('Thank you!')],
  };
}
