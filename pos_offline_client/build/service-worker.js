// The service worker of both pages, the till (/pos/) and the counting phone
// (/count/): one template (src/sw-template.js), one generator. Each build
// emits its sw.js with the files to precache, a version derived from their
// names (hashed: every build gets its own cache) and the prefix of its cache
// names, so the two pages never delete each other's caches.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

const TEMPLATE = new URL('../src/sw-template.js', import.meta.url);

// The source of sw.js: files (the precache list, relative to the scope),
// prefix (of the cache names, e.g. 'pos-app-')
export function serviceWorkerSource({ files, prefix }) {
  const unique = [...new Set(files)].filter((f) => f !== 'sw.js');
  const version = createHash('sha256').update(unique.join('\n')).digest('hex').slice(0, 12);
  return readFileSync(TEMPLATE, 'utf8')
    .replace('__PRECACHE__', JSON.stringify(unique))
    .replace('__VERSION__', JSON.stringify(version))
    .replace('__CACHE_PREFIX__', JSON.stringify(prefix));
}

// The vite plugin: publicDir is the folder copied as is into the build
export function serviceWorker({ name, prefix, publicDir }) {
  return {
    name,
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = ['./', 'index.html', ...Object.keys(bundle).filter((f) => !f.endsWith('.map')), ...readdirSync(publicDir)];
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: serviceWorkerSource({ files, prefix }) });
    },
  };
}
