// Enrollment: the code from the back office (typed or scanned), the
// database and the device's name; then the catalog's first load.
import { getLocale, t } from '../../lib/i18n.js';
import { h } from '../dom.js';
import { registerScreen } from '../registry.js';

export class EnrollScreen {
  // props: {defaults: {database, deviceName}, error}
  constructor(env, { defaults = {}, error = '' } = {}) {
    this.env = env;
    this.defaults = defaults;
    this.error = error;
  }

  render() {
    const code = h('input', { id: 'enroll-code', autocomplete: 'off', placeholder: 'K7QM-3XRT', autofocus: true });
    const db = h('input', { id: 'enroll-db', value: this.defaults.database || '', autocomplete: 'off' });
    const name = h('input', { id: 'enroll-name', value: this.defaults.deviceName || t('Till'), autocomplete: 'off' });
    const msg = h('p', { class: 'error', id: 'enroll-error' }, this.error);
    this.code = code;
    this.submit = async (e) => {
      e?.preventDefault();
      msg.textContent = t('Enrolling…');
      try {
        await this.env.app.enroll({ text: code.value, database: db.value, deviceName: name.value });
      } catch (err) {
        msg.textContent = t('Enrollment failed: {reason}', { reason: err.message });
      }
    };
    return h('form', { class: 'card narrow', onsubmit: this.submit },
      h('h1', {}, t('Enroll this terminal')),
      h('p', {}, t('Type or scan the enrollment code shown in the back office (Retail › Terminals › Enrollment Code).')),
      h('label', {}, t('Enrollment code'), code),
      h('label', {}, t('Database'), db),
      h('label', {}, t('Device name'), name),
      msg,
      h('button', { class: 'primary big', type: 'submit', id: 'enroll-submit' }, t('Enroll')));
  }

  mounted() {
    this.code.focus();
  }

  // A scanned enrollment code enrolls at once.
  onScan(text) {
    this.code.value = text;
    return this.submit();
  }
}

export class BootstrapScreen {
  constructor(env) {
    this.env = env;
  }

  render() {
    this.bar = h('progress', { id: 'boot-progress', max: '100' });
    this.text = h('p', { id: 'boot-text' }, t('Starting…'));
    return h('div', { class: 'card narrow' }, h('h1', {}, t('Loading the catalog')), this.bar, this.text);
  }

  // p: {records, total, rate, done, elapsed} (sync/pull.js bootstrap), or
  // {interrupted: reason} while the snapshot waits to resume.
  progress(p) {
    const { bar, text } = this;
    if (p.interrupted !== undefined) {
      text.textContent = t('Interrupted ({reason}); resuming…', { reason: p.interrupted });
      return;
    }
    if (p.total) {
      const pct = Math.min(100, Math.round((p.records / p.total) * 100));
      bar.value = pct;
      const left = p.rate > 0 ? Math.max(0, (p.total - p.records) / p.rate) : null;
      text.textContent = t('{records} records, {pct} %, about {left} s left', { records: p.records.toLocaleString(getLocale()), pct, left: left === null ? '?' : Math.ceil(left) });
    } else {
      bar.removeAttribute('value');
      text.textContent = t('{records} records ({rate}/s)', { records: p.records.toLocaleString(getLocale()), rate: Math.round(p.rate) });
    }
    if (p.done) {
      bar.value = 100;
      text.textContent = t('{records} records loaded in {s} s', { records: p.records.toLocaleString(getLocale()), s: (p.elapsed / 1000).toFixed(1) });
    }
  }
}

registerScreen('enroll', EnrollScreen);
registerScreen('bootstrap', BootstrapScreen);
