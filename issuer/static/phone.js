// og-tickets: "Use this phone as my ticket" (issue 11). Served by the issuer at /phone/phone.js.
//
// The phone makes an ECDSA P-256 key pair with WebCrypto (private key non-extractable), keeps it
// in IndexedDB with the issuer-signed bound ticket, and shows a QR code that changes every
// rotation period: OGR: + base45(bound ticket 133 bytes || time 4 bytes || signature 64 bytes),
// the signature (P1363 r||s) over "og-tickets rotating-code v1\0" || issuer signature || time.
// The time is the phone clock corrected by the offset learnt from the issuer, rounded down to
// the period. The next code is signed and laid out before its step begins, so at the step only
// the canvas is drawn. Works offline once the page was opened (service worker /phone/sw.js).
(() => {
  'use strict';
  const root = document.getElementById('phone');
  if (!root) return;
  const serial = Number(root.dataset.serial);
  // Every sentence shown comes from the server, in the page's language (data-words).
  let words = {};
  try {
    words = JSON.parse(root.dataset.words || '{}');
  } catch (_) {
    words = {};
  }
  const say = (key, vars) =>
    String(words[key] || key).replace(/\{(\w+)\}/g, (m, name) => (vars && name in vars ? String(vars[name]) : m));
  const DB = 'og-phone';
  const STORE = 'tickets';
  const CACHE = 'og-phone-v1';
  const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
  const DOMAIN = new TextEncoder().encode('og-tickets rotating-code v1\0');
  // What the page did, for people debugging and for the browser test.
  const stats = (window.ogPhone = { renders: [], painted: [], text: null, step: null, live: false, sw: null, error: null });

  const $ = (id) => document.getElementById(id);
  const status = (text, bad) => {
    const s = $('phone-status');
    s.textContent = text;
    s.className = bad ? 'notice error' : 'notice';
    s.hidden = !text;
  };

  // RFC 9285 base45, the alphabet of the QR alphanumeric mode.
  function base45(bytes) {
    let out = '';
    let i = 0;
    for (; i + 1 < bytes.length; i += 2) {
      let n = bytes[i] * 256 + bytes[i + 1];
      const c = n % 45;
      n = (n - c) / 45;
      const d = n % 45;
      const e = (n - d) / 45;
      out += ALPHABET[c] + ALPHABET[d] + ALPHABET[e];
    }
    if (i < bytes.length) {
      const n = bytes[i];
      out += ALPHABET[n % 45] + ALPHABET[(n - (n % 45)) / 45];
    }
    return out;
  }

  function fromB64url(s) {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '==='.slice((b64.length + 3) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function toB64url(bytes) {
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function idb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function load() {
    const db = await idb();
    return new Promise((resolve, reject) => {
      const req = db.transaction(STORE).objectStore(STORE).get(serial);
      req.onsuccess = () => resolve(req.result || null);
      req.onerror = () => reject(req.error);
    });
  }

  async function save(rec) {
    const db = await idb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).put(rec, serial);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }

  // The key tag the issuer and the gates name this phone by: SHA-256(compressed key)[0..6], hex.
  async function keyTag(raw) {
    const compressed = concat(new Uint8Array([raw[64] & 1 ? 3 : 2]), raw.subarray(1, 33));
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', compressed));
    return Array.from(h.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // Learns the offset of this phone's clock from the issuer's (kept for when there is no network).
  async function syncClock(rec) {
    try {
      const t0 = Date.now();
      const res = await fetch('/phone/time', { cache: 'no-store', credentials: 'omit' });
      const t1 = Date.now();
      if (!res.ok) return;
      const j = await res.json();
      rec.offsetMs = j.now_ms - (t0 + t1) / 2;
      await save(rec);
    } catch (_) {
      // Offline: the offset learnt last time stays.
    }
  }

  async function postKey(raw) {
    const send = () =>
      fetch(`/api/v1/tickets/${serial}/binding`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ public_key: toB64url(raw) }),
      });
    let res = await send();
    if (res.status === 401) {
      // The 5-minute access token expired: refresh it with the refresh cookie, once.
      await fetch('/api/v1/auth/refresh', { method: 'POST', credentials: 'same-origin' });
      res = await send();
    }
    return res;
  }

  async function bind() {
    const button = $('bind');
    button.disabled = true;
    try {
      status(say('creating'));
      const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
      const t0 = Date.now();
      const res = await postKey(raw);
      const t1 = Date.now();
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        const code = body && body.error ? body.error.code : null;
        const why = (words.errors && words.errors[code]) || say('answered', { status: res.status });
        if (res.status === 401) {
          status(say('sessionEnded'), true);
        } else {
          status(say('bindFailed', { why }), true);
        }
        button.disabled = false;
        return;
      }
      const rec = {
        serial,
        privateKey: pair.privateKey,
        publicRaw: raw,
        tag: await keyTag(raw),
        bound: fromB64url(body.bound_ticket),
        period: body.rotation_period_secs,
        offsetMs: body.issuer_time_ms - (t0 + t1) / 2,
        holder: body.holder_name,
      };
      await save(rec);
      root.dataset.boundTag = rec.tag;
      status(body.replaced_phone ? say('replaced') : '');
      start(rec);
    } catch (e) {
      stats.error = String(e);
      status(say('bindFailed', { why: String(e) }), true);
      button.disabled = false;
    }
  }

  // Signs the code of `step` and lays it out as one path of dark runs at the canvas's scale, so
  // drawing it at its step is one fill.
  async function codeFor(rec, step, size) {
    const time = new Uint8Array(4);
    new DataView(time.buffer).setUint32(0, step);
    const msg = concat(DOMAIN, rec.bound.subarray(69, 133), time);
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, rec.privateKey, msg));
    const text = 'OGR:' + base45(concat(rec.bound, time, sig));
    const qr = qrcode(0, 'M');
    qr.addData(text, 'Alphanumeric');
    qr.make();
    const n = qr.getModuleCount();
    const quiet = 4;
    const scale = Math.max(1, Math.floor(size / (n + 2 * quiet)));
    const off = Math.floor((size - n * scale) / 2);
    const path = new Path2D();
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        if (!qr.isDark(r, c)) continue;
        let end = c;
        while (end + 1 < n && qr.isDark(r, end + 1)) end++;
        path.rect(off + c * scale, off + r * scale, (end - c + 1) * scale, scale);
        c = end;
      }
    }
    return { step, text, path, modules: n };
  }

  function draw(canvas, code) {
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = '#000';
    ctx.fill(code.path);
  }

  // The code's time in the page's language and the venue's zone (the page says which).
  function stepTime(step) {
    const lang = document.documentElement.lang || undefined;
    try {
      return new Date(step * 1000).toLocaleTimeString(lang, { timeZone: root.dataset.zone || undefined });
    } catch (_) {
      return new Date(step * 1000).toLocaleTimeString(lang);
    }
  }

  let timer = null;

  function start(rec) {
    // The period the issuer states on the page (cached with it offline), else the binding's.
    const period = Number(root.dataset.period) || rec.period || 5;
    const canvas = $('code');
    const now = () => Date.now() + (rec.offsetMs || 0);
    const stepAt = (ms) => Math.floor(ms / 1000 / period) * period;
    $('bind-box').hidden = true;
    $('live').hidden = false;
    if (rec.holder) $('holder').textContent = rec.holder;
    stats.live = true;
    let next = null;

    const prepare = async (step) => {
      try {
        next = await codeFor(rec, step, canvas.width);
      } catch (e) {
        stats.error = String(e);
      }
    };

    const tick = async (expected) => {
      // A timer may fire a little before the step it was set for: wait for it rather than
      // drawing the previous step again.
      if (expected !== undefined && now() < expected * 1000) {
        clearTimeout(timer);
        timer = setTimeout(() => tick(expected), Math.max(1, expected * 1000 - now()));
        return;
      }
      const step = stepAt(now());
      if (!next || next.step !== step) await prepare(step);
      if (next && next.step === step) {
        draw(canvas, next);
        const late = now() - step * 1000;
        stats.renders.push(Math.round(late * 10) / 10);
        if (stats.renders.length > 200) stats.renders.shift();
        // The frame that shows it: the next animation frame after the drawing.
        requestAnimationFrame(() => {
          stats.painted.push(Math.round((now() - step * 1000) * 10) / 10);
          if (stats.painted.length > 200) stats.painted.shift();
          // Text changes (layout) after the code's frame, not before it.
          $('step').textContent = stepTime(step);
        });
        stats.text = next.text;
        stats.step = step;
        canvas.dataset.step = String(step);
      }
      // Sign and lay out the following code now; at its step only the drawing is left.
      const following = step + period;
      prepare(following);
      clearTimeout(timer);
      timer = setTimeout(() => tick(following), Math.max(0, following * 1000 - now()));
    };

    // The bar is a CSS animation run by the compositor (no script per frame), restarted in step
    // with the corrected clock.
    const bar = $('bar');
    const syncBar = () => {
      const ms = now() % (period * 1000);
      bar.style.animation = 'none';
      void bar.offsetWidth;
      bar.style.animation = `og-bar ${period}s linear ${-ms}ms infinite`;
    };
    syncBar();
    stats.syncBar = syncBar;
    tick();
  }

  async function keepOffline() {
    if (!('serviceWorker' in navigator)) {
      stats.sw = 'unsupported';
      return;
    }
    try {
      await navigator.serviceWorker.register('/phone/sw.js', { scope: '/phone/' });
      stats.sw = 'registered';
      if (navigator.onLine) {
        const manifest = document.querySelector('link[rel=manifest]');
        const cache = await caches.open(CACHE);
        await cache.addAll([location.pathname, '/phone/phone.js', '/phone/qrcode.js', manifest.href]);
        stats.sw = 'cached';
      }
    } catch (e) {
      stats.sw = `failed: ${e}`;
    }
  }

  async function main() {
    if (!window.crypto || !crypto.subtle || !window.indexedDB) {
      status(say('noCrypto'), true);
      return;
    }
    $('bind').addEventListener('click', bind);
    keepOffline();
    const rec = await load();
    if (!rec) {
      $('bind-box').hidden = false;
      return;
    }
    const current = root.dataset.boundTag;
    if (current !== undefined && current !== '' && current !== rec.tag) {
      $('bind-box').hidden = false;
      status(say('movedAway'), true);
      return;
    }
    await syncClock(rec);
    start(rec);
  }

  main().catch((e) => {
    stats.error = String(e);
    status(say('wentWrong', { why: String(e) }), true);
  });
})();
