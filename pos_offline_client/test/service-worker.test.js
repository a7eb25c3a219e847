// The one service worker template of the till and the counting phone: each
// build gets its precache list, its version and its own cache prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceWorkerSource } from '../build/service-worker.js';

test('the till and the phone get the same worker with their own cache names', () => {
  const till = serviceWorkerSource({ files: ['./', 'index.html', 'assets/a.js', 'sw.js', 'index.html'], prefix: 'pos-app-' });
  const phone = serviceWorkerSource({ files: ['./', 'index.html', 'assets/b.js'], prefix: 'count-app-' });
  for (const source of [till, phone]) assert.doesNotMatch(source, /__(PRECACHE|VERSION|CACHE_PREFIX)__/);
  assert.match(till, /const PREFIX = "pos-app-";/);
  assert.match(phone, /const PREFIX = "count-app-";/);
  // sw.js never precaches itself; a file listed twice is listed once
  assert.match(till, /\["\.\/","index\.html","assets\/a\.js"\]\.map/);
  // Another file list, another version (a new cache)
  const version = (s) => /const CACHE = `\$\{PREFIX\}\$\{"([0-9a-f]{12})"\}`/.exec(s)[1];
  assert.notEqual(version(till), version(phone));
  // Only its own old caches are deleted at activation
  assert.match(till, /k\.startsWith\(PREFIX\) && k !== CACHE/);
  // The same worker apart from its names
  const strip = (s) => s.replace(/const PREFIX = .*;/, '').replace(/"[0-9a-f]{12}"/, '').replace(/\[[^\]]*\]\.map/, '');
  assert.equal(strip(till), strip(phone));
});
