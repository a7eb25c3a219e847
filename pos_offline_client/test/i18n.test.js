import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fr from '../src/lib/locales/fr.js';
import { setLanguage, t } from '../src/lib/i18n.js';

const SRC = new URL('../src/', import.meta.url).pathname;
const COUNT = new URL('../count/', import.meta.url).pathname;

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory()
    ? sources(join(dir, e.name)) : e.name.endsWith('.js') && !dir.includes('locales') ? [join(dir, e.name)] : []));
}

// Every string shown on screen: t('literal') and the labels that reach t()
// through a variable (buttons, menu items, shortcuts, approval actions).
function keysUsed(dir = SRC) {
  const keys = new Set();
  const unquote = (s) => s.replace(/\\'/g, "'");
  for (const file of sources(dir)) {
    const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/\bt\(\s*'((?:[^'\\]|\\.)*)'/g)) keys.add(unquote(m[1]));
    for (const m of text.matchAll(/\b(?:authorize|btn)\(\s*'((?:[^'\\]|\\.)*)'/g)) keys.add(unquote(m[1]));
    for (const m of text.matchAll(/\[\s*'((?:[^'\\]|\\.)*)',\s*\(\)\s*=>/g)) keys.add(unquote(m[1]));
    for (const m of text.matchAll(/\['(?:F\d+|Shift\+\w+|Delete)',\s*'((?:[^'\\]|\\.)*)'\]/g)) keys.add(unquote(m[1]));
  }
  return keys;
}

test('every string of the till has a French translation', () => {
  const keys = keysUsed();
  assert.ok(keys.size > 150, `only ${keys.size} strings found`);
  const missing = [...keys].filter((k) => !(k in fr));
  assert.deepEqual(missing, []);
});

test('French translations keep the placeholders of the English text', () => {
  const names = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [key, text] of Object.entries(fr)) assert.deepEqual(names(text), names(key), key);
});

test('t() follows the language and falls back to English', () => {
  setLanguage('fr-BE');
  assert.equal(t('Unsynced: {n}', { n: 3 }), 'Non synchronisé : 3');
  assert.equal(t('Not a known string'), 'Not a known string');
  setLanguage('nl-BE');
  assert.equal(t('Unsynced: {n}', { n: 3 }), 'Unsynced: 3');
  setLanguage('en');
});

// The counting phone's page: the t() of its scripts and the text its
// index.html names with data-i18n, data-i18n-placeholder, -label and -title
test('every string of the phone page has a French translation', () => {
  const keys = keysUsed(COUNT);
  const html = readFileSync(join(COUNT, 'index.html'), 'utf8');
  let marked = 0;
  for (const m of html.matchAll(/data-i18n(?:-placeholder|-label|-title)?="([^"]*)"/g)) {
    keys.add(m[1]);
    marked += 1;
  }
  assert.ok(marked > 30, `only ${marked} marked strings in count/index.html`);
  // Every element with text of its own is marked (its text is the key)
  for (const m of html.matchAll(/<(\w+)([^>]*)>([^<]*[A-Za-z][^<]*)</g)) {
    if (['title', 'script', 'style'].includes(m[1]) || m[2].includes(' id="net"')) continue;
    assert.match(m[2], /data-i18n="/, `not translated: <${m[1]}${m[2]}>${m[3]}`);
  }
  const missing = [...keys].filter((k) => !(k in fr));
  assert.deepEqual(missing, []);
  setLanguage('fr-FR');
  assert.equal(t('{n} lines differ', { n: 2 }), '2 lignes diffèrent');
  setLanguage('en');
});
