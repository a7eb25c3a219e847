import { defineConfig } from 'vite';
import { serviceWorker } from './build/service-worker.js';

// The counting phone's page (count/), served at /count/: its own build, its
// own service worker (the till's template, build/service-worker.js) and
// cache, so it never shares the till's scope.
export default defineConfig({
  root: 'count',
  base: '/count/',
  publicDir: 'public',
  plugins: [serviceWorker({ name: 'count-service-worker', prefix: 'count-app-', publicDir: 'count/public' })],
  build: {
    outDir: '../dist-count',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
});
