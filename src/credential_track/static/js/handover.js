// The handover station page. The page's batch reaches every scan through
// the scan loop's context (a hidden .ctx field, data-ctx="batch": unknown
// codes are recorded as extras of this batch); this script refreshes the
// batch counts after each answer.
(function () {
  "use strict";
  var page = document.getElementById("handover-batch");
  var app = document.getElementById("scan-app");
  if (!page || !app) { return; }
  function fill(id, items, label) {
    var list = document.getElementById(id);
    if (!list || !items) { return; }
    list.textContent = "";
    items.forEach(function (it) {
      var li = document.createElement("li");
      li.textContent = label(it);
      list.appendChild(li);
    });
  }

  function refresh() {
    fetch(page.dataset.summary, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { return; }
        ["expected", "received", "missing", "extra"].forEach(function (k) {
          var el = document.getElementById("hb-" + k);
          if (el) { el.textContent = s[k]; }
        });
        // the vocabulary's labels, from the page (scan.js reads them)
        var word = window.CredTrackWords.label;
        fill("missing-list", s.missing_items, function (m) {
          return m.credential_no + " · " + word("credential_type", m.credential_type) + " · " + word("route", m.route);
        });
        fill("extra-list", s.extra_items, function (e) {
          return e.code + " · " + word("reason", e.reason) + (e.other_batch ? " (" + e.other_batch + ")" : "");
        });
      })
      .catch(function () { /* counts refresh on the next answer */ });
  }
  var card = document.getElementById("result-card");
  if (card && window.MutationObserver) {
    var timer = null;
    new MutationObserver(function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }).observe(card, { childList: true });
  }
})();
