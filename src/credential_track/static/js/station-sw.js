// The station pages' service worker (served as /station/sw.js, scope
// /station/): the station shell keeps loading while the server cannot be
// reached.
//
// Station pages (navigations under /station/) and static assets are fetched
// from the server first; each good answer is kept in this device's cache.
// When the server cannot be reached, the kept copy is served, marked
// data-offline-copy on <html> so the page says plainly that it is offline
// and which checks wait for the server. The API, print documents and every
// other page always go to the server: no answer holding personal data is
// ever kept here. The scans themselves wait in the page's localStorage
// queue, as without this worker (static/js/scan.js).
"use strict";

var CACHE = "credtrack-station-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("credtrack-station-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// a kept page, as served while offline: marked, without the flash messages
// of the moment it was kept
function offlineCopy(resp) {
  return resp.text().then(function (html) {
    html = html.replace("<html", '<html data-offline-copy="1"')
      .replace(/<p class="flash[^"]*">[\s\S]*?<\/p>/g, "");
    return new Response(html, { status: 200, headers: resp.headers });
  });
}

function keep(req, resp) {
  var copy = resp.clone();
  caches.open(CACHE).then(function (c) { return c.put(req, copy); }).catch(function () {});
}

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  if (req.method !== "GET") { return; }
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  var page = req.mode === "navigate" && url.pathname.indexOf("/station/") === 0;
  var asset = url.pathname.indexOf("/static/") === 0;
  if (!page && !asset) { return; }
  ev.respondWith(fetch(req).then(function (resp) {
    var html = (resp.headers.get("Content-Type") || "").indexOf("text/html") === 0;
    if (resp.status === 200 && (asset || html)) { keep(req, resp); }
    return resp;
  }).catch(function () {
    return caches.open(CACHE).then(function (c) {
      return c.match(req, { ignoreVary: true }).then(function (hit) {
        if (hit) { return page ? offlineCopy(hit) : hit; }
        if (!page) { return Response.error(); }
        // a station page never kept: the station's home, if it was
        return c.match(new URL("/station/home", self.location.origin).href, { ignoreVary: true }).then(function (home) {
          return home ? offlineCopy(home) : Response.error();
        });
      });
    });
  }));
});

// The page asks the worker to keep its station's pages ({keep: [urls]}):
// done here, not in the page, so that leaving the page does not cut it
// short. Each page's own scripts and styles are kept with it; one page that
// fails (gone, signed out) does not stop the rest. Answers {kept: true}.
var ASSET = /<(?:script\b[^>]*?\ssrc|link\b[^>]*?rel="stylesheet"[^>]*?\shref)="([^"]+)"/g;

function keepAll(urls) {
  return caches.open(CACHE).then(function (cache) {
    var seen = {};
    function one(u) {
      if (seen[u]) { return Promise.resolve(); }
      seen[u] = true;
      return fetch(u, { credentials: "same-origin" }).then(function (resp) {
        if (resp.status !== 200 || resp.redirected) { return; }
        var html = (resp.headers.get("Content-Type") || "").indexOf("text/html") === 0;
        var done = cache.put(u, resp.clone());
        if (!html) { return done; }
        return resp.text().then(function (text) {
          var found = [], m;
          ASSET.lastIndex = 0;
          while ((m = ASSET.exec(text)) !== null) { found.push(new URL(m[1].replace(/&amp;/g, "&"), u).href); }
          return Promise.all([done].concat(found.map(one)));
        });
      }).catch(function () {});
    }
    return Promise.all(urls.map(one));
  });
}

self.addEventListener("message", function (ev) {
  if (!ev.data || !ev.data.keep) { return; }
  ev.waitUntil(keepAll(ev.data.keep).then(function () {
    if (ev.source) { ev.source.postMessage({ kept: true }); }
  }));
});

