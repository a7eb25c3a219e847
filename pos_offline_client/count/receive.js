// A transfer received on the phone: its lines (one per product and lot as
// shipped) with what arrived, in thousandths (integers, never binary
// floats), scans matched to lines, and the receipt pushed to count/receive
// (docs/sync-protocol.md § 6). Pure, no storage, no DOM.
import { isValidGtin, normalizeGtin, parseBarcode } from '../src/services/barcode.js';
import { fromMilli, toMilli } from './tally.js';

export const SHORT_TO = ['loss', 'back'];

export class Receiving {
  // transfer: a `transfer` record; draft: {lines: {move: {received,
  // damaged, short_to, reason}}} saved before (a reload)
  constructor(transfer, draft = null) {
    this.transfer = transfer;
    this.lines = transfer.lines.map((line) => {
      const saved = draft?.lines?.[line.move] || {};
      return {
        ...line,
        shipped: toMilli(line.quantity) ?? 0,
        received: saved.received ?? 0,
        damaged: saved.damaged ?? 0,
        short_to: SHORT_TO.includes(saved.short_to) ? saved.short_to : 'loss',
        reason: saved.reason || '',
      };
    });
    this.byCode = new Map();
    for (const line of this.lines) {
      for (const code of line.codes || []) {
        this.byCode.set(code, line.product);
        if (isValidGtin(code)) this.byCode.set(normalizeGtin(code), line.product);
      }
    }
  }

  // The product and lot number a scan or a typed code names:
  // {product, lotNumber} or {error: 'unknown'|'invalid'}
  resolve(raw) {
    const text = String(raw || '').trim();
    if (!text) return { error: 'invalid' };
    if (this.byCode.has(text)) return { product: this.byCode.get(text), lotNumber: null };
    const parsed = parseBarcode(text);
    if (parsed.type === 'invalid') return { error: 'invalid' };
    for (const key of parsed.keys || []) {
      if (this.byCode.has(key)) return { product: this.byCode.get(key), lotNumber: parsed.lot || null };
    }
    return { error: 'unknown' };
  }

  // The line a scan goes to: the line of its lot, else the first line of
  // the product not complete yet (the lots in the order shipped), else its
  // last line; {error: 'unknown'|'invalid'|'other_lot'} when none
  lineFor(raw) {
    const found = this.resolve(raw);
    if (found.error) return found;
    const lines = this.lines.filter((l) => l.product === found.product);
    if (found.lotNumber) {
      const line = lines.find((l) => l.lot_number === found.lotNumber);
      return line ? { line } : { error: 'other_lot', lotNumber: found.lotNumber };
    }
    return { line: lines.find((l) => l.received + l.damaged < l.shipped) || lines[lines.length - 1] };
  }

  // Add milli good units to a line
  add(line, milli) {
    line.received += milli;
    return line;
  }

  set(line, { received, damaged, short_to: shortTo, reason }) {
    line.received = received;
    line.damaged = damaged;
    line.short_to = SHORT_TO.includes(shortTo) ? shortTo : 'loss';
    line.reason = String(reason || '').trim().slice(0, 200);
    return line;
  }

  // shipped − received − damaged: > 0 short, < 0 over
  static missing(line) {
    return line.shipped - line.received - line.damaged;
  }

  // The lines that differ from what was shipped
  differences() {
    return this.lines.filter((l) => l.damaged || Receiving.missing(l));
  }

  draft() {
    const lines = {};
    for (const l of this.lines) lines[l.move] = { received: l.received, damaged: l.damaged, short_to: l.short_to, reason: l.reason };
    return { transfer: this.transfer.id, lines };
  }

  // The receipt pushed to count/receive: every line, as decimal strings
  receipt(uuid, clientTime) {
    return {
      uuid,
      transfer: this.transfer.id,
      client_time: clientTime,
      lines: this.lines.map((l) => {
        const wire = { move: l.move, received: fromMilli(l.received) };
        if (l.damaged) wire.damaged = fromMilli(l.damaged);
        if (Receiving.missing(l) > 0) wire.short_to = l.short_to;
        // Control characters are refused by the server
        const reason = l.reason.replace(/[\x00-\x1f\x7f]/g, ' ').trim(); // eslint-disable-line no-control-regex
        if (reason && (l.damaged || Receiving.missing(l))) wire.reason = reason;
        return wire;
      }),
    };
  }
}
