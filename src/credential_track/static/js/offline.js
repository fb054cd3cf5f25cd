// The station pages as an offline-capable web app: registers the station
// service worker (/station/sw.js) and asks it to keep this page, the home,
// the scan pages this page links to and their assets in the device's cache,
// so they load while the server is unreachable. Marks <html
// data-offline-ready> once they are kept. On signing out the copies are
// dropped. A page served from the cache (<html data-offline-copy>) without
// the scan loop shows #offline-copy; the scan loop shows its own state.
(function () {
  "use strict";
  var root = document.documentElement;
  var CACHE = "credtrack-station-v1"; // the worker's (station-sw.js)
  // per station: another station's pages are kept at once after a change
  var stationEl = document.querySelector(".station-code");
  var KEPT_KEY = "credtrack.offline.kept." + (stationEl ? stationEl.textContent.trim() : "");
  var REKEEP_MS = 10 * 60 * 1000;
  var banner = document.getElementById("offline-copy");
  if (root.dataset.offlineCopy && banner && !document.getElementById("scan-app")) { banner.hidden = false; }
  if (!window.isSecureContext || !("serviceWorker" in navigator) || !window.caches) {
    // a service worker needs HTTPS (or this machine itself): say so, instead of failing later
    var unsafe = document.getElementById("offline-unsafe");
    if (unsafe) { unsafe.hidden = false; }
    return;
  }

  document.addEventListener("submit", function (ev) {
    var action = ev.target.getAttribute && ev.target.getAttribute("action");
    if (!action || !/\/logout$/.test(action)) { return; }
    caches.delete(CACHE);
    Object.keys(localStorage).forEach(function (k) {
      if (k.indexOf("credtrack.offline.kept.") === 0) { localStorage.removeItem(k); }
    });
  });
  if (root.dataset.offlineCopy) { return; } // nothing fresh to keep

  // the station's other pages are fetched again at most every 10 minutes
  // (a scan page is opened many times a shift); this page each time
  var all = Date.now() - (Number(localStorage.getItem(KEPT_KEY)) || 0) > REKEEP_MS;
  function pages() {
    var urls = [location.href];
    if (all) {
      urls.push(new URL("/station/home", location.href).href);
      document.querySelectorAll('a[href^="/station/scan?action="], a[href^="/station/home"]').forEach(function (a) {
        urls.push(a.href);
      });
    }
    document.querySelectorAll('link[rel="stylesheet"][href], script[src]').forEach(function (el) {
      urls.push(el.href || el.src);
    });
    return urls.filter(function (u, i) { return urls.indexOf(u) === i; });
  }

  navigator.serviceWorker.addEventListener("message", function (ev) {
    if (ev.data && ev.data.kept) {
      if (all) { localStorage.setItem(KEPT_KEY, String(Date.now())); }
      root.dataset.offlineReady = "1";
    }
  });
  navigator.serviceWorker.register("/station/sw.js", { scope: "/station/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (reg) {
    // the worker fetches and keeps them: leaving this page does not cut it short
    reg.active.postMessage({ keep: pages() });
  }).catch(function () { /* no offline copy on this device: the page works as before */ });
})();
