import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vite';

// Emit sw.js with the list of files to precache and a version derived from
// their names (hashed), so every build gets its own cache.
function serviceWorker() {
  return {
    name: 'pos-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = ['./', 'index.html', ...Object.keys(bundle).filter((f) => !f.endsWith('.map')), ...readdirSync('public')];
      const unique = [...new Set(files)].filter((f) => f !== 'sw.js');
      const version = createHash('sha256').update(unique.join('\n')).digest('hex').slice(0, 12);
      const source = readFileSync('src/sw-template.js', 'utf8')
        .replace('__PRECACHE__', JSON.stringify(unique))
        .replace('__VERSION__', JSON.stringify(version));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  base: '/pos/',
  plugins: [serviceWorker()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
});
