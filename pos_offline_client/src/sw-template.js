// Service worker of the till (/pos/) and of the counting phone (/count/):
// precaches the page so a cold reload with the server unreachable opens it
// ready to work. Only the page's own files under the scope are served from
// the cache; API calls always go to the network. build/service-worker.js
// puts the version, the files and the cache prefix in place of the names.
const PREFIX = __CACHE_PREFIX__;
const CACHE = `${PREFIX}${__VERSION__}`;
const SCOPE = new URL(self.registration.scope);
const FILES = __PRECACHE__.map((f) => new URL(f, SCOPE).href);
const SHELL = new URL('index.html', SCOPE).href;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return;
  if (request.mode === 'navigate') {
    // App shell: the cached page, whatever the path or query under the scope.
    event.respondWith(caches.match(SHELL).then((hit) => hit || fetch(request)));
    return;
  }
  event.respondWith(caches.match(request, { ignoreSearch: true }).then((hit) => hit || fetch(request)));
});
