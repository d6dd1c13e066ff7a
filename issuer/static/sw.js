// og-tickets phone service worker (scope /phone/), served by the issuer at /phone/sw.js.
//
// Network first, cache as the fallback: the phone page, its scripts, the manifest and icons are
// kept in the cache "og-phone-v1" whenever they load, so a buyer who opened the ticket once can
// show it with no signal. The bound ticket and the device key live in IndexedDB (phone.js). The
// clock request (/phone/time) is never answered from the cache.
const CACHE = 'og-phone-v1';
const ASSETS = ['/phone/phone.js', '/phone/qrcode.js', '/phone/icon-192.png', '/phone/icon-512.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(ASSETS))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith('/phone/') || url.pathname === '/phone/time' || url.pathname === '/phone/sw.js') return;
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok && res.type === 'basic') {
          const copy = res.clone();
          event.waitUntil(caches.open(CACHE).then((c) => c.put(req, copy)));
        }
        return res;
      })
      .catch(() => caches.match(req).then((hit) => hit || Response.error())),
  );
});
