// The handover station page. Loaded before scan.js (the shared scan loop):
// it adds the page's batch to the context of every handover scan sent to
// the scan endpoint (so unknown codes are recorded as extras of this batch),
// and refreshes the batch counts after each answer.
(function () {
  "use strict";
  var page = document.getElementById("handover-batch");
  var app = document.getElementById("scan-app");
  if (!page || !app) { return; }
  var batch = page.dataset.batch;
  var endpoint = app.dataset.endpoint;
  var plainFetch = window.fetch.bind(window);

  window.fetch = function (url, opts) {
    if (url === endpoint && opts && opts.method === "POST" && typeof opts.body === "string") {
      try {
        var body = JSON.parse(opts.body);
        if (body.action === "handover") {
          body.context = body.context || {};
          if (!body.context.batch) { body.context.batch = batch; }
          opts = Object.assign({}, opts, { body: JSON.stringify(body) });
        }
      } catch (e) { /* not JSON: send as it is */ }
    }
    return plainFetch(url, opts);
  };

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
    plainFetch(page.dataset.summary, { credentials: "same-origin", headers: { Accept: "application/json" } })
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
