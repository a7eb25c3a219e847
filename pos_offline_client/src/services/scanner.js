// Keyboard-wedge scanners type a fast burst of keys ending in Enter. This
// reader recognises a burst wherever focus is: the first key goes through,
// the following fast keys are held back; on Enter the burst becomes a scan
// (and what reached an input is taken back out), otherwise the held keys
// are replayed into the focused field.
//
// On a busy machine a burst may stall longer than the gap between two
// keys (maxInterval); the reader then
// - times keys by the event's own time stamp (when the key was typed, not
//   when a busy page got round to it), so a page that is busy delays a
//   burst without splitting it;
// - once a burst is established (burstLength keys at scanner speed), lets
//   it go on after a stall of up to stallGap;
// - on Enter, joins the keys that went into the same field just before the
//   burst (within joinWindow) when they came at scanner speed, or when
//   `recognise` (a known code; by default a valid GTIN or receipt number)
//   accepts the joined code and not the burst alone.
// Keys a person types come well apart (about 100 ms and more): they stay
// typing.
// Depends on: a target with addEventListener (window), performance.now,
// services/barcode.js (what a code looks like).
import { isValidGtin, RECEIPT_NUMBER } from './barcode.js';

export function looksLikeCode(code) {
  return isValidGtin(code) || RECEIPT_NUMBER.test(code);
}

export class WedgeReader {
  constructor({
    target, onScan, maxInterval = 30, minLength = 4, now = () => performance.now(), flushDelay = 60,
    burstLength = 3, stallGap = 250, joinWindow = 300, recognise = looksLikeCode,
  }) {
    Object.assign(this, {
      target, onScan, maxInterval, minLength, now, flushDelay, burstLength, stallGap, joinWindow, recognise,
    });
    this.last = -Infinity;
    this.timer = null;
    this.reset();
    this.trail = { element: null, keys: [] };
    this.onKey = this.onKey.bind(this);
  }

  start() {
    this.target.addEventListener('keydown', this.onKey, true);
  }

  stop() {
    this.target.removeEventListener('keydown', this.onKey, true);
  }

  // When the key was typed: the event's time stamp (same clock as
  // performance.now) when it has one.
  time(event) {
    return typeof event.timeStamp === 'number' && event.timeStamp > 0 ? event.timeStamp : this.now();
  }

  onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const t = this.time(event);
    const gap = t - this.last;
    this.last = t;
    const established = this.buffer.length >= this.burstLength;
    const fast = gap <= (established ? this.stallGap : this.maxInterval);
    const key = event.key === 'Unidentified' ? '' : event.key;
    if (key === 'Enter') {
      const code = fast && this.buffer ? this.scanned() : null;
      if (code !== null) {
        event.preventDefault();
        event.stopImmediatePropagation();
        this.restore(code.prefix);
        this.reset();
        this.forget();
        this.onScan(code.text);
      } else {
        this.flush();
        this.forget();
      }
      return;
    }
    const ch = key.length === 1 ? key : key === 'GroupSeparator' ? '\u001d' : null;
    if (ch === null) {
      this.flush();
      this.forget();
      return;
    }
    if (!fast || !this.buffer) {
      this.flush();
      this.buffer = ch;
      this.times = [t];
      this.element = event.target;
      this.before = 'value' in (event.target || {}) ? event.target.value : null;
      this.held = '';
    } else {
      // A burst: hold the key back from the focused field.
      event.preventDefault();
      event.stopImmediatePropagation();
      this.buffer += ch;
      this.times.push(t);
      this.held += ch;
    }
    clearTimeout(this.timer);
    const wait = this.buffer.length >= this.burstLength ? Math.max(this.flushDelay, this.stallGap + 10) : this.flushDelay;
    this.timer = setTimeout(() => this.flush(), wait);
  }

  // The code of a burst ending now in Enter, {text, prefix} (prefix: the
  // keys of the field joined in front of it), or null when it is no scan.
  scanned() {
    const tail = this.buffer;
    const segments = this.segmentsBefore(this.times[0]);
    // candidates: the burst alone, then with one more segment in front
    const candidates = [{ text: tail, prefix: '', fast: true }];
    let prefix = '';
    let fast = true;
    for (const segment of segments) {
      prefix = segment + prefix;
      fast = fast && segment.length >= 2;
      candidates.push({ text: prefix + tail, prefix, fast });
    }
    // The keys at scanner speed joined; a known code may take one more
    // segment (a stall after the first key) or fewer.
    let base = 0;
    while (base + 1 < candidates.length && candidates[base + 1].fast) base += 1;
    const order = [base, base + 1, ...Array.from({ length: base }, (_, i) => base - 1 - i)]
      .filter((i) => i < candidates.length);
    let chosen = candidates[base];
    if (segments.length) {
      const known = order.find((i) => this.recognise(candidates[i].text));
      if (known !== undefined) chosen = candidates[known];
    }
    return chosen.text.length >= this.minLength ? chosen : null;
  }

  // What went into the burst's field just before it, as segments of keys
  // at scanner speed, last first: keys typed within joinWindow of each
  // other, ending within joinWindow of `start`, still at the end of the
  // field's value.
  segmentsBefore(start) {
    const { element, keys } = this.trail;
    if (!keys.length || element !== this.element || this.before === null) return [];
    const segments = [];
    let text = '';
    let next = start;
    let segment = '';
    for (let i = keys.length - 1; i >= 0; i -= 1) {
      const k = keys[i];
      const gap = next - k.t;
      if (gap > this.joinWindow) break;
      if (gap > this.maxInterval && segment) {
        segments.push(segment);
        segment = '';
      }
      if (!this.before.endsWith(k.ch + text)) break;
      segment = k.ch + segment;
      text = k.ch + text;
      next = k.t;
    }
    if (segment) segments.push(segment);
    return segments;
  }

  // Take the first key of the burst, and the joined prefix, back out of
  // the input they went into.
  restore(prefix = '') {
    const el = this.element;
    if (el && this.before !== null && 'value' in el) {
      el.value = prefix ? this.before.slice(0, -prefix.length) : this.before;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }

  // Not a scan after all: give the held keys to the field they were meant
  // for, and remember what that field received.
  flush() {
    clearTimeout(this.timer);
    const el = this.element;
    if (this.held && el && 'value' in el && typeof el.setRangeText === 'function') {
      try {
        el.setRangeText(this.held, el.selectionStart ?? el.value.length, el.selectionEnd ?? el.value.length, 'end');
      } catch {
        el.value += this.held;
      }
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }
    if (this.buffer && el) {
      if (this.trail.element !== el) this.trail = { element: el, keys: [] };
      [...this.buffer].forEach((ch, i) => this.trail.keys.push({ ch, t: this.times[i] }));
      if (this.trail.keys.length > 64) this.trail.keys.splice(0, this.trail.keys.length - 64);
    }
    this.reset();
  }

  forget() {
    this.trail = { element: null, keys: [] };
  }

  reset() {
    this.buffer = '';
    this.times = [];
    this.held = '';
    this.element = null;
    this.before = null;
  }
}
