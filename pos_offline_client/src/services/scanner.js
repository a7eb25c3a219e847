// Keyboard-wedge scanners type a fast burst of keys ending in Enter. This
// reader recognises a burst wherever focus is: the first key goes through,
// the following fast keys are held back; on Enter the burst becomes a scan
// (and what reached an input is taken back out), otherwise the held keys
// are replayed into the focused field.
// Depends on: a target with addEventListener (window), performance.now.
export class WedgeReader {
  constructor({ target, onScan, maxInterval = 30, minLength = 4, now = () => performance.now(), flushDelay = 60 }) {
    Object.assign(this, { target, onScan, maxInterval, minLength, now, flushDelay });
    this.buffer = '';
    this.last = 0;
    this.element = null;
    this.before = null;
    this.timer = null;
    this.onKey = this.onKey.bind(this);
  }

  start() {
    this.target.addEventListener('keydown', this.onKey, true);
  }

  stop() {
    this.target.removeEventListener('keydown', this.onKey, true);
  }

  onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const t = this.now();
    const fast = t - this.last <= this.maxInterval;
    this.last = t;
    const key = event.key === 'Unidentified' ? '' : event.key;
    if (key === 'Enter') {
      if (fast && this.buffer.length >= this.minLength) {
        event.preventDefault();
        event.stopImmediatePropagation();
        const code = this.buffer;
        this.restore();
        this.reset();
        this.onScan(code);
      } else {
        this.flush();
      }
      return;
    }
    const ch = key.length === 1 ? key : key === 'GroupSeparator' ? '\u001d' : null;
    if (ch === null) {
      this.flush();
      return;
    }
    if (!fast || !this.buffer) {
      this.flush();
      this.buffer = ch;
      this.element = event.target;
      this.before = 'value' in (event.target || {}) ? event.target.value : null;
      this.held = '';
    } else {
      // A burst: hold the key back from the focused field.
      event.preventDefault();
      event.stopImmediatePropagation();
      this.buffer += ch;
      this.held += ch;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.flushDelay);
  }

  // Take the first key of the burst back out of the input it went into.
  restore() {
    const el = this.element;
    if (el && this.before !== null && 'value' in el) {
      el.value = this.before;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }
  }

  // Not a scan after all: give the held keys to the field they were meant for.
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
    this.reset();
  }

  reset() {
    this.buffer = '';
    this.held = '';
    this.element = null;
    this.before = null;
  }
}
