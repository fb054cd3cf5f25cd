// What each station action adds to the shared scan loop (scan.js):
// capture (recipient data, corrections, waybill or F2), bag/unbag (the bag
// in use), seal/arrive (bag, then seal), load (the trip), accept (weight).
(function () {
  "use strict";
  var loop = window.CredTrackScan;
  if (!loop) { return; }
  var t = loop.texts;
  var word = window.CredTrackWords.label;
  var action = loop.action;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var lang = document.getElementById("scan-app").dataset.lang || "zh";
  var BAG = /^BAG-\d{6,}$/i;
  var TRIP = /^TRIP-\d{6,}$/i;
  var WAYBILL = /^([A-Z]{2}\d{9}[A-Z]{2}|\d{13})$/i;

  function api(method, path, body) {
    return fetch("/api/v1" + path, {
      method: method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": lang },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (resp) {
      return resp.json().then(function (data) { return { ok: resp.ok, status: resp.status, data: data }; });
    });
  }

  // ---- bag and unbag: the bag in use ---------------------------------------
  if (action === "bag" || action === "unbag") {
    var bagInput = document.getElementById("ctx-bag");
    var showBag = function (bag) {
      if (!bag) { return; }
      document.getElementById("bag-panel").hidden = false;
      document.getElementById("bag-code").textContent = bag.code;
      document.getElementById("bag-route").textContent = word("route", bag.route);
      document.getElementById("bag-count").textContent = bag.item_count;
      document.getElementById("bag-state").textContent = word("bag_state", bag.state);
      document.getElementById("bag-label-link").href = "/print/bags/" + encodeURIComponent(bag.code) + "/label.pdf";
      document.getElementById("bag-manifest-link").href = "/print/bags/" + encodeURIComponent(bag.code) + "/manifest.pdf";
    };
    var loadBag = function (code) {
      api("GET", "/station/bags/" + encodeURIComponent(code)).then(function (r) {
        if (r.ok) { showBag(r.data); }
      }).catch(function () { /* offline: the panel fills in with the next answer */ });
    };
    loop.addHandler(function (code) {
      if (!BAG.test(code)) { return false; }
      bagInput.value = code.toUpperCase();
      loop.notice("idle", t.bagSet, bagInput.value);
      loadBag(bagInput.value);
      return true;
    });
    document.addEventListener("scan:result", function (ev) {
      var bag = ev.detail.body.bag;
      if (bag && bag.code === bagInput.value.trim().toUpperCase()) { showBag(bag); }
    });
    if (bagInput.value) { loadBag(bagInput.value.trim()); }
  }

  // ---- load: the trip in use -----------------------------------------------
  if (action === "load") {
    var tripInput = document.getElementById("ctx-trip");
    loop.addHandler(function (code) {
      if (!TRIP.test(code)) { return false; }
      tripInput.value = code.toUpperCase();
      loop.notice("idle", t.tripSet, tripInput.value);
      return true;
    });
  }

  // ---- seal and arrive: the bag label, then its seal -------------------------
  if (action === "seal" || action === "arrive") {
    var pendingBag = null;
    var box = document.getElementById("pending-bag");
    var setPending = function (code) {
      pendingBag = code;
      box.hidden = !code;
      document.getElementById("pending-bag-code").textContent = code || "";
    };
    loop.addHandler(function (code) {
      if (BAG.test(code)) {
        setPending(code.toUpperCase());
        loop.notice("idle", t.nowSeal, pendingBag);
        return true;
      }
      if (pendingBag) {
        var bag = pendingBag;
        setPending(null);
        loop.enqueue(bag, { seal: code.toUpperCase() });
        return true;
      }
      return false; // anything else: sent as is, the server names the problem
    });
  }

  // ---- accept: an optional weight for the next item --------------------------
  if (action === "accept") {
    var weight = document.getElementById("ctx-weight_g");
    loop.addHandler(function (code) {
      var w = weight.value.trim();
      loop.enqueue(code, w ? { weight_g: w } : {});
      weight.value = ""; // a weight is for one item
      return true;
    });
  }

  // ---- capture: recipient data, corrections, then the waybill ----------------
  if (action === "capture") {
    var panel = document.getElementById("capture-panel");
    var pending = null; // the credential number waiting for its waybill
    var fields = panel.querySelectorAll("input.edit");
    var note = document.getElementById("cap-note");
    var original = {};

    var holder = document.getElementById("cap-holder");
    var status = document.getElementById("cap-status");
    // Every new scan starts from an empty panel: nothing of the previous
    // holder may remain under another number (a correction saved there
    // would write one person's data onto another).
    var wipe = function () {
      original = null;
      panel.hidden = true;
      panel.classList.remove("problems");
      document.getElementById("cap-credential").textContent = "";
      holder.textContent = "";
      status.textContent = "";
      note.textContent = "";
      fields.forEach(function (el) {
        el.value = "";
        var label = document.getElementById("field-" + el.dataset.field);
        label.classList.remove("has-problem");
        label.querySelector(".problem").textContent = "";
      });
    };
    var fill = function (view) {
      original = view.recipient;
      panel.hidden = false;
      document.getElementById("cap-credential").textContent = view.credential_no;
      holder.textContent = view.holder_name + (view.organization ? " · " + view.organization : "");
      status.textContent = word("status", view.status);
      fields.forEach(function (el) {
        var name = el.dataset.field;
        el.value = view.recipient[name] || "";
        var problem = view.problems[name];
        var label = document.getElementById("field-" + name);
        label.classList.toggle("has-problem", !!problem);
        var shown = problem ? (t["problem_" + problem] || problem) : "";
        if (problem === "unprintable" && view.unprintable && view.unprintable[name]) {
          shown += ": " + Array.from(view.unprintable[name]).map(function (ch) {
            return ch + " U+" + ch.codePointAt(0).toString(16).toUpperCase();
          }).join(", ");
        }
        label.querySelector(".problem").textContent = shown;
      });
      panel.classList.toggle("problems", Object.keys(view.problems).length > 0);
    };
    var clear = function () {
      pending = null;
      wipe(); // recipient data is shown only while its item is being captured
    };
    var toPrint = {}; // credential numbers allocated with F2: their label prints once captured
    var bind = function (waybill) {
      var code = pending;
      clear();
      if (!waybill) { toPrint[code] = true; }
      loop.enqueue(code, waybill ? { waybill: waybill.toUpperCase() } : {});
    };
    document.addEventListener("scan:result", function (ev) {
      var d = ev.detail;
      if (d.scan.action !== "capture" || !toPrint[d.scan.code]) { return; }
      delete toPrint[d.scan.code];
      if (d.body.result === "ok" && d.body.item && window.CredTrackPrint) {
        // printed from this page: the scan field keeps the focus
        window.CredTrackPrint.print("/print/labels/" + encodeURIComponent(d.body.item.credential_no) + ".pdf");
      }
    });
    // An item the capture step cannot take (unknown, before or past capture,
    // held, revoked): sent as the capture scan it is, so the server refuses
    // it like any refused scan (its words, the red card, the buzz, the
    // counters, the line stopped for a revoked or held item, the refusal in
    // the audit trail). No waybill goes with it: nothing is allocated.
    var refuse = function (code) {
      clear();
      loop.enqueue(code, {});
    };

    loop.addHandler(function (code) {
      if (WAYBILL.test(code)) {
        if (!pending) { loop.notice("stop", t.scanCredentialFirst, code); return true; }
        bind(code);
        return true;
      }
      var replaced = pending && pending !== code;
      clear();
      if (BAG.test(code) || TRIP.test(code)) { return false; }
      pending = code;
      loop.notice("idle", replaced ? t.credentialReplaced : t.lookingUp, code);
      api("GET", "/station/capture/" + encodeURIComponent(code) + "?station=" + encodeURIComponent(loop.station)).then(function (r) {
        if (pending !== code) { return; }
        if (r.ok && r.data.recipient && !r.data.hold && !r.data.revoked) { fill(r.data); return; }
        if (r.ok || r.status === 404) { refuse(code); return; }
        // the station may not read it (403, 400): the server's words, as a refusal
        clear();
        loop.notice("stop", r.data.error || t.lookupFailed, code);
      }).catch(function () {
        if (pending !== code) { return; }
        // offline: no data to show; a waybill can still be bound and the
        // server decides the scan when it is back
        loop.notice("queued", t.lookupFailed, code);
      });
      return true;
    });

    document.getElementById("cap-allocate").addEventListener("click", function () {
      if (pending) { bind(null); } else { loop.notice("stop", t.scanCredentialFirst, ""); }
      loop.focus();
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "F2") {
        ev.preventDefault();
        if (pending) { bind(null); } else { loop.notice("stop", t.scanCredentialFirst, ""); }
        loop.focus();
      }
    });
    document.getElementById("cap-save").addEventListener("click", function () {
      if (!pending || !original) { return; }
      var changes = {};
      fields.forEach(function (el) {
        var name = el.dataset.field;
        if (el.value.trim() !== (original[name] || "")) { changes[name] = el.value.trim(); }
      });
      if (Object.keys(changes).length === 0) { note.textContent = t.nothingChanged; loop.focus(); return; }
      var code = pending;
      api("POST", "/station/recipient/" + encodeURIComponent(code), { changes: changes, station: loop.station })
        .then(function (r) {
          if (r.ok) {
            if (pending !== code) { return; }
            fill(r.data);
            note.textContent = r.data.result === "unchanged" ? t.nothingChanged
              : r.data.result === "intercept_requested" ? t.interceptRequested : t.saved;
            loop.focus();
          }
          else {
            note.textContent = r.data.error || "";
            var label = r.data.field && document.getElementById("field-" + r.data.field);
            if (label) { label.classList.add("has-problem"); label.querySelector("input").focus(); }
          }
        }).catch(function () { note.textContent = t.lookupFailed; });
    });
    fields.forEach(function (el) {
      el.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") { ev.preventDefault(); document.getElementById("cap-save").click(); }
      });
    });
  }
})();
