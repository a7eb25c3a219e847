import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vite';

// The counting phone's page (count/), served at /count/: its own build, its
// own service worker and cache, so it never shares the till's scope.
function serviceWorker() {
  return {
    name: 'count-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = ['./', 'index.html', ...Object.keys(bundle).filter((f) => !f.endsWith('.map')), ...readdirSync('count/public')];
      const unique = [...new Set(files)].filter((f) => f !== 'sw.js');
      const version = createHash('sha256').update(unique.join('\n')).digest('hex').slice(0, 12);
      const source = readFileSync('count/sw-template.js', 'utf8')
        .replace('__PRECACHE__', JSON.stringify(unique))
        .replace('__VERSION__', JSON.stringify(version));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  root: 'count',
  base: '/count/',
  publicDir: 'public',
  plugins: [serviceWorker()],
  build: {
    outDir: '../dist-count',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
