// Live panels of the operator console (og-tickets). Every element with data-live="URL" is
// refreshed from that URL every data-every seconds (default 3): the answer is an HTML fragment
// that replaces the panel's .panel-body only, never the page. A panel holding the field being
// typed in, or a field whose value was changed and not sent, is left alone until it is not, so
// nothing an operator types is ever lost. Loaded from /ops/console.js under the console's CSP
// (same-origin script only, nothing inline).
(function () {
  'use strict';

  function editing(panel) {
    var active = document.activeElement;
    if (active && active !== document.body && panel.contains(active) &&
        /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(active.tagName)) {
      return true;
    }
    var fields = panel.querySelectorAll('input, textarea');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === 'hidden') { continue; }
      if (f.type === 'checkbox' || f.type === 'radio') {
        if (f.checked !== f.defaultChecked) { return true; }
      } else if (f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function say(panel, text, bad) {
    var s = panel.querySelector('.live-status');
    if (!s) { return; }
    s.textContent = text;
    s.classList.toggle('stale', !!bad);
  }

  function two(n) { return (n < 10 ? '0' : '') + n; }

  function refresh(panel) {
    var url = panel.getAttribute('data-live');
    var body = panel.querySelector('.panel-body');
    if (!url || !body) { return Promise.resolve(); }
    return fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'text/html' } })
      .then(function (r) {
        if (r.redirected) { throw new Error('signed out: reload the page'); }
        if (!r.ok) { throw new Error('the console answered ' + r.status); }
        return r.text();
      })
      .then(function (html) {
        var d = new Date();
        var at = two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
        if (editing(panel)) {
          say(panel, 'Live · paused while you type (checked ' + at + ')', false);
          return;
        }
        if (body.innerHTML !== html) { body.innerHTML = html; }
        panel.setAttribute('data-updated', String(d.getTime()));
        say(panel, 'Live · updated ' + at, false);
      })
      .catch(function (e) {
        say(panel, 'Not updated: ' + e.message, true);
      });
  }

  function start(panel) {
    var every = Math.max(1, parseInt(panel.getAttribute('data-every') || '3', 10)) * 1000;
    var running = false;
    setInterval(function () {
      if (running || document.hidden) { return; }
      running = true;
      refresh(panel).then(function () { running = false; });
    }, every);
    say(panel, 'Live · every ' + every / 1000 + ' s', false);
  }

  function init() {
    var panels = document.querySelectorAll('[data-live]');
    for (var i = 0; i < panels.length; i++) { start(panels[i]); }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
