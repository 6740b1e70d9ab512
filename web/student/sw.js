/*
 * Service worker of the student page: keeps the page's own files (not the
 * API, never anything with a token) in a cache so that a reload while the
 * network is down still opens the test, which then shows the answers from
 * the local journal. Network first, so a new version is picked up as soon
 * as the server answers; the cache only stands in when it does not.
 */
'use strict';

const CACHE = 'kiemtra-student-3';
// The page's files, and the shared scripts under /common/ it loads.
const SHELL = ['/student/', '/student/app.js', '/student/app.css', '/common/kt.js', '/common/render.js'];
const NETWORK_WAIT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith('kiemtra-student-') && n !== CACHE)
      .map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

function cacheKey(url) {
  // The page is one document whatever the query or hash.
  return url.pathname === '/student/index.html' ? '/student/' : url.pathname;
}

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), NETWORK_WAIT_MS);
  try {
    const res = await fetch(request, { signal: ctl.signal, cache: 'no-store' });
    if (res.ok) await cache.put(key, res.clone());
    return res;
  } catch (err) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const key = cacheKey(url);
  if (!SHELL.includes(key)) return;
  event.respondWith(networkFirst(req, key));
});
