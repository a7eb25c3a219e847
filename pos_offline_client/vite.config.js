import { defineConfig } from 'vite';
import { serviceWorker } from './build/service-worker.js';

// Emit sw.js (build/service-worker.js) with the list of files to precache
// and a version derived from their names, so every build gets its own cache.
export default defineConfig({
  base: '/pos/',
  plugins: [serviceWorker({ name: 'pos-service-worker', prefix: 'pos-app-', publicDir: 'public' })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
});
