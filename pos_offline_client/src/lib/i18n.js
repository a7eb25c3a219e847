// One function for every string on screen: t('key', {params}).
// Catalogues are plain objects; a missing key falls back to English, then to
// the key itself, so a forgotten translation never blanks the screen.
import en from './locales/en.js';
import fr from './locales/fr.js';

const catalogues = { en, fr };
let current = 'en';
let locale = 'en';

export function setLanguage(lang) {
  const base = String(lang || 'en').toLowerCase().split(/[-_]/)[0];
  current = catalogues[base] ? base : 'en';
  locale = lang || 'en';
  if (typeof document !== 'undefined') document.documentElement.lang = current;
}

export function language() {
  return current;
}

// The BCP 47 locale used by Intl formatters.
export function getLocale() {
  return locale;
}

export function t(key, params) {
  let text = catalogues[current][key] ?? en[key] ?? key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return text;
}

const dateFormatters = new Map();

export function formatDateTime(date, options = { dateStyle: 'short', timeStyle: 'short' }) {
  const key = `${locale}|${JSON.stringify(options)}`;
  let fmt = dateFormatters.get(key);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(locale, options);
    dateFormatters.set(key, fmt);
  }
  return fmt.format(date instanceof Date ? date : new Date(date));
}

export function formatRelative(ms) {
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const s = Math.round(ms / 1000);
  if (Math.abs(s) < 60) return rtf.format(-s, 'second');
  const m = Math.round(s / 60);
  if (Math.abs(m) < 60) return rtf.format(-m, 'minute');
  return rtf.format(-Math.round(m / 60), 'hour');
}
