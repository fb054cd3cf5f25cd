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
