// The till's layout rules (README "Layout"): sync/ imports neither
// services/ nor models/ (services may import sync/); no UI file reads the
// database; screens never import each other (the shell opens them by
// name); every UI file stays small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const SRC = new URL('../src/', import.meta.url).pathname;

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory()
    ? files(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));
}

// file (relative to src/) -> the src/ files it imports
function imports() {
  const out = new Map();
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'|^\s*import\s+'(\.[^']+)'/gm)]
      .map((m) => relative(SRC, resolve(dirname(file), m[1] || m[2])));
    out.set(relative(SRC, file), targets);
  }
  return out;
}

test('sync/ imports neither services/ nor models/', () => {
  const wrong = [...imports()].filter(([f]) => f.startsWith('sync/'))
    .flatMap(([f, targets]) => targets.filter((t) => /^(services|models)\//.test(t)).map((t) => `${f} -> ${t}`));
  assert.deepEqual(wrong, []);
});

test('no UI file reads the database, and no screen imports another', () => {
  const ui = [...imports()].filter(([f]) => f.startsWith('ui/'));
  assert.ok(ui.length > 20);
  const wrong = ui.flatMap(([f, targets]) => targets.filter((t) => t.startsWith('db/') || t === 'sync/outbox.js' || t === 'sync/engine.js').map((t) => `${f} -> ${t}`));
  assert.deepEqual(wrong, []);
  for (const [f] of ui) {
    const text = readFileSync(join(SRC, f), 'utf8');
    assert.doesNotMatch(text, /\.db\.|\bindexedDB\b/, f);
  }
  const screens = ui.filter(([f]) => f.startsWith('ui/screens/') && f !== 'ui/screens/index.js');
  const crossing = screens.flatMap(([f, targets]) => targets.filter((t) => t.startsWith('ui/screens/')).map((t) => `${f} -> ${t}`));
  assert.deepEqual(crossing, []);
});

test('every UI file stays under 250 lines', () => {
  const long = files(join(SRC, 'ui')).map((f) => [relative(SRC, f), readFileSync(f, 'utf8').split('\n').length])
    .filter(([, n]) => n > 250);
  assert.deepEqual(long, []);
});
