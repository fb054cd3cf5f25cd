// The scan loop of every station page (capture, acceptance, bagging, sealing,
// loading, arrival, pull; handover uses it too).
//
// One input keeps the focus; each Enter is one scan with a fresh nonce.
// Scans wait in a queue kept in localStorage (the source of truth, so a
// reload or a crash loses nothing) and are sent strictly in order, one at a
// time. While the server cannot be reached they stay queued and are re-sent
// with their original nonce: the server answers a repeated nonce with its
// first answer, so nothing is counted twice.
//
// A scan the server refuses as malformed (a 4xx other than sign-in, CSRF or
// rate limit) is set aside: taken out of the queue, listed under "Set aside"
// with the server's words, and the next scans go on. A scan the server fails
// on (5xx) is retried; after SET_ASIDE_AFTER failures in a row the next scan
// is tried instead, and if the server answers that one, the failing scan is
// set aside too (the server is up: the fault is in that scan). The operator
// may send a set-aside scan again (same nonce) or dismiss it.
//
// Other page scripts hook in through window.CredTrackScan:
//   CredTrackScan.addHandler(fn)  fn(code) returns true when it consumed the code
//   CredTrackScan.enqueue(code, context, action)
//   document "scan:result" event, detail {scan, body, kind}
// Context fields: any element with class "ctx" and data-ctx="<key>" adds its
// value to the scan's context.
// The page's words for its scripts: window.CredTrackWords.label(kind, code)
// gives the label of a code from the vocabulary the page embeds
// (#vocabulary, templates/station/_scan_texts.html), and .clock(date) the
// time on the configured clock (#scan-texts data-zone), not the device's.
(function () {
  "use strict";
  if (window.CredTrackWords) { return; }
  var el = document.getElementById("vocabulary");
  var vocabulary = {};
  try { vocabulary = el ? JSON.parse(el.dataset.json) : {}; } catch (e) { vocabulary = {}; }
  var textsEl = document.getElementById("scan-texts");
  var zone = textsEl && textsEl.dataset.zone;
  var lang = document.documentElement.lang || "zh-CN";
  var format = null;
  try {
    format = new Intl.DateTimeFormat(lang, { timeZone: zone || undefined, hour: "2-digit", minute: "2-digit",
                                             second: "2-digit", hourCycle: "h23" });
  } catch (e) { format = null; }
  window.CredTrackWords = {
    vocabulary: vocabulary,
    label: function (kind, code) {
      var table = vocabulary[kind] || {};
      return code === null || code === undefined ? "" : (table[code] || String(code));
    },
    clock: function (date) { return format ? format.format(date) : date.toISOString().slice(11, 19); }
  };
})();

(function () {
  "use strict";
  var app = document.getElementById("scan-app");
  if (!app) { return; }
  var ds = app.dataset;
  var station = ds.station;
  var action = ds.action;
  var endpoint = ds.endpoint;
  var lang = ds.lang || "zh";
  // refusals that stop the line (the station pages say which; other pages
  // using the loop get the same default)
  var stopReasons = (ds.stopReasons || "wrong_route seal_mismatch revoked on_hold").split(" ").filter(Boolean);
  // every word comes from the page: its sentences (#scan-texts, through
  // gettext) and the vocabulary's labels of the codes (#vocabulary); the
  // script keeps none of its own
  var textsEl = document.getElementById("scan-texts");
  var texts = textsEl ? textsEl.dataset : {};
  var word = window.CredTrackWords.label;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var input = document.getElementById("scan-input");
  var form = document.getElementById("scan-form");
  var card = document.getElementById("result-card");
  var recent = document.getElementById("recent");
  var net = document.getElementById("net-status");
  var overlay = document.getElementById("stop-overlay") || buildOverlay();
  // Each tab has its own queue (its id lives in sessionStorage, so it
  // survives reloads): a scan is sent and shown by the tab it was made in.
  // A tab that has not been seen for a while (closed, crashed) leaves its
  // queue behind; the next tab of the station adopts it.
  var queuePrefix = "credtrack.queue." + station + ".";
  var tabId = sessionStorage.getItem("credtrack.tab");
  if (!tabId) { tabId = nonce().slice(0, 12); sessionStorage.setItem("credtrack.tab", tabId); }
  var queueKey = queuePrefix + tabId;
  var aliveKey = "credtrack.alive." + tabId;
  var countKey = "credtrack.counts." + station;
  var listKey = "credtrack.recent." + station;
  var stopKey = "credtrack.stop." + station;
  var asideKey = "credtrack.aside." + station;
  var counts = loadFrom(sessionStorage, countKey, { ok: 0, warn: 0, stop: 0 });
  var recentItems = loadFrom(sessionStorage, listKey, []);
  var stopped = loadFrom(sessionStorage, stopKey, null);
  var handlers = [];
  var sending = false;
  var retryDelay = 500;
  var retryTimer = null;
  var REQUEST_TIMEOUT_MS = 15000;
  var HEARTBEAT_MS = 3000;
  var ORPHAN_AFTER_MS = 15000;
  var SET_ASIDE_AFTER = 3; // server errors in a row on the head of the queue before the next scan is tried
  var headFailures = 0;
  var headStatus = 500;
  var asidePanel = document.getElementById("aside") || buildAside();
  var offlineChecks = document.getElementById("offline-checks");

  function loadFrom(store, key, fallback) {
    try { var v = JSON.parse(store.getItem(key)); return v === null ? fallback : v; } catch (e) { return fallback; }
  }
  // the stop notice, for pages whose template has none
  function buildOverlay() {
    var o = document.createElement("div");
    o.id = "stop-overlay";
    o.className = "stop-overlay";
    o.hidden = true;
    var box = document.createElement("div");
    box.className = "stop-box";
    [["div", "stop-title", "", texts.lineStopped], ["div", "stop-message", "stop-message", ""],
     ["div", "stop-code", "stop-code", ""], ["button", "", "stop-ack", texts.stopAck]].forEach(function (d) {
      var el = document.createElement(d[0]);
      if (d[1]) { el.className = d[1]; }
      if (d[2]) { el.id = d[2]; }
      if (d[0] === "button") { el.type = "button"; }
      el.textContent = d[3];
      box.appendChild(el);
    });
    o.appendChild(box);
    app.appendChild(o);
    return o;
  }
  // the set-aside list, for pages whose template has none
  function buildAside() {
    var box = document.createElement("div");
    box.id = "aside";
    box.className = "aside";
    box.hidden = true;
    var title = document.createElement("div");
    title.id = "aside-title";
    title.className = "aside-title";
    var list = document.createElement("ol");
    list.id = "aside-list";
    box.appendChild(title);
    box.appendChild(list);
    recent.parentNode.insertBefore(box, recent);
    return box;
  }
  function readAside() { return loadFrom(localStorage, asideKey, []); }
  function writeAside(a) { localStorage.setItem(asideKey, JSON.stringify(a)); }
  function setAside(scan, message) {
    writeQueue(readQueue().filter(function (q) { return q.nonce !== scan.nonce; }));
    var aside = readAside().filter(function (a) { return a.scan.nonce !== scan.nonce; });
    aside.unshift({ scan: scan, message: message, at: window.CredTrackWords.clock(new Date()) });  // the configured clock
    writeAside(aside.slice(0, 50));
  }
  function resend(nonceValue) {
    var aside = readAside();
    var entry = aside.filter(function (a) { return a.scan.nonce === nonceValue; })[0];
    writeAside(aside.filter(function (a) { return a.scan.nonce !== nonceValue; }));
    if (entry) { var q = readQueue(); q.push(entry.scan); writeQueue(q); }
    render();
    pump();
  }
  function dismiss(nonceValue) {
    writeAside(readAside().filter(function (a) { return a.scan.nonce !== nonceValue; }));
    render();
  }
  function renderAside() {
    var aside = readAside();
    asidePanel.hidden = aside.length === 0;
    document.getElementById("aside-title").textContent = fmt(texts.asideTitle, { n: aside.length });
    var list = document.getElementById("aside-list");
    list.textContent = "";
    aside.forEach(function (a) {
      var li = document.createElement("li");
      li.dataset.nonce = a.scan.nonce;
      var what = document.createElement("span");
      what.textContent = a.at + "  " + a.scan.code + " — " + a.message + " ";
      li.appendChild(what);
      [["resend", texts.asideResend, resend], ["dismiss", texts.asideDismiss, dismiss]].forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "aside-" + b[0] + " secondary";
        btn.textContent = b[1];
        btn.addEventListener("click", function () { b[2](a.scan.nonce); });
        li.appendChild(btn);
      });
      list.appendChild(li);
    });
  }
  function readQueue() { return loadFrom(localStorage, queueKey, []); }
  function writeQueue(q) { localStorage.setItem(queueKey, JSON.stringify(q)); }
  function heartbeat() { localStorage.setItem(aliveKey, String(Date.now())); }
  function adoptOrphans() {
    var keys = [];
    for (var i = 0; i < localStorage.length; i++) { keys.push(localStorage.key(i)); }
    keys.forEach(function (key) {
      if (key === queueKey) { return; }
      var owner = key.indexOf(queuePrefix) === 0 ? key.slice(queuePrefix.length) : null;
      var legacy = key === "credtrack.queue." + station; // one queue per station, before tabs had their own
      if (owner === null && !legacy) { return; }
      var seen = owner ? Number(localStorage.getItem("credtrack.alive." + owner)) || 0 : 0;
      if (Date.now() - seen < ORPHAN_AFTER_MS) { return; }
      var items = loadFrom(localStorage, key, []);
      if (items.length) { writeQueue(readQueue().concat(items)); }
      localStorage.removeItem(key);
      if (owner) { localStorage.removeItem("credtrack.alive." + owner); }
    });
  }
  function saveSession() {
    sessionStorage.setItem(countKey, JSON.stringify(counts));
    sessionStorage.setItem(listKey, JSON.stringify(recentItems));
    sessionStorage.setItem(stopKey, JSON.stringify(stopped));
  }
  function nonce() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function context() {
    var ctx = {};
    document.querySelectorAll(".ctx[data-ctx]").forEach(function (el) {
      var v = (el.value || "").trim();
      if (v) { ctx[el.dataset.ctx] = v; }
    });
    return ctx;
  }
  function fmt(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (_m, k) { return values[k] === undefined ? "" : values[k]; });
  }

  // Web Audio: ok = one short high beep, warning = two mid beeps, stop = a long low buzz.
  var audio = null;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var plan = { ok: [[1320, 0, 0.09]], warn: [[660, 0, 0.12], [660, 0.2, 0.12]], stop: [[160, 0, 0.7]],
                   queued: [[440, 0, 0.06]] }[kind];
      plan.forEach(function (p) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = kind === "stop" ? "square" : "sine";
        osc.frequency.value = p[0];
        gain.gain.value = 0.25;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + p[1]);
        osc.stop(audio.currentTime + p[1] + p[2]);
      });
    } catch (e) { /* no audio device: the card still shows */ }
  }

  function kindOf(body) {
    if (body.result === "ok") { return "ok"; }
    return body.reason === "already_done" ? "warn" : "stop";
  }

  // Links a result offers (print paths are fixed by the printing service).
  function linksFor(scan, body) {
    var links = [];
    if (body.result !== "ok") { return links; }
    if (scan.action === "capture" && body.item) {
      links.push([texts.printLabel, "/print/labels/" + encodeURIComponent(body.item.credential_no) + ".pdf"]);
    }
    if (scan.action === "seal" && body.bag) {
      links.push([texts.printBagLabel, "/print/bags/" + encodeURIComponent(body.bag.code) + "/label.pdf"]);
      links.push([texts.printManifest, "/print/bags/" + encodeURIComponent(body.bag.code) + "/manifest.pdf"]);
    }
    return links;
  }

  function setCard(kind, message, detail, links) {
    card.className = "result-card " + kind;
    card.textContent = "";
    var msg = document.createElement("div");
    msg.className = "message";
    msg.textContent = message;
    card.appendChild(msg);
    if (detail) {
      var d = document.createElement("div");
      d.className = "code";
      d.textContent = detail;
      card.appendChild(d);
    }
    (links || []).forEach(function (l) {
      var a = document.createElement("a");
      a.className = "button print-link";
      a.href = l[1]; // printed from a hidden frame of this page (print.js)
      a.textContent = l[0];
      card.appendChild(a);
    });
  }

  // A local notice (not a scan): shown on the card, never counted.
  function notice(kind, message, detail) {
    setCard(kind, message, detail, []);
    card.dataset.result = "";
    card.dataset.reason = "";
    if (kind !== "idle") { beep(kind); }
  }

  function show(scan, body) {
    var kind = kindOf(body);
    counts[kind] += 1;
    var message = body.message || body.error || "";
    var what = scan.code;
    if (body.item && body.item.status) { what += " → " + word("status", body.item.status); }
    if (body.bag && scan.action !== "bag" && scan.action !== "unbag") { what += " · " + body.bag.code; }
    if (body.replayed) { what += " · " + texts.replayed; }
    setCard(kind, message, what, linksFor(scan, body));
    card.dataset.reason = body.reason || "";
    card.dataset.result = body.result || "";
    recentItems.unshift({ code: scan.code, action: scan.action, kind: kind, message: message,
                          at: window.CredTrackWords.clock(new Date()) });
    recentItems = recentItems.slice(0, 30);
    if (kind === "stop" && stopReasons.indexOf(body.reason) >= 0) {
      stopped = { reason: body.reason, message: message, code: scan.code };
    }
    saveSession();
    beep(kind);
    render();
    document.dispatchEvent(new CustomEvent("scan:result", { detail: { scan: scan, body: body, kind: kind } }));
  }

  function render() {
    var pending = readQueue().length;
    document.getElementById("count-ok").textContent = counts.ok;
    document.getElementById("count-warn").textContent = counts.warn;
    document.getElementById("count-stop").textContent = counts.stop;
    document.getElementById("count-pending").textContent = pending;
    recent.textContent = "";
    recentItems.forEach(function (r) {
      var li = document.createElement("li");
      li.className = r.kind;
      li.textContent = r.at + "  " + r.code + " — " + r.message;
      recent.appendChild(li);
    });
    overlay.hidden = !stopped;
    app.classList.toggle("stopped", !!stopped);
    if (stopped) {
      document.getElementById("stop-message").textContent = stopped.message;
      document.getElementById("stop-code").textContent = stopped.code;
    }
    if (!net.hidden) { net.textContent = fmt(net.dataset.template, { n: pending }); }
    renderAside();
  }

  function setNet(state) {
    // state: null (fine), "offline", "session"
    var wasFine = !net.dataset.state;
    var pending = readQueue();
    if (state && wasFine && pending.length) {
      // scans taken while the first one was still on its way: none counted yet
      setCard("queued", fmt(texts.queued, { n: pending.length }), pending[pending.length - 1].code, []);
      beep("queued");
    }
    net.hidden = !state;
    net.dataset.state = state || "";
    if (offlineChecks) { offlineChecks.hidden = state !== "offline"; }
    net.dataset.template = state === "session" ? texts.session : texts.offline;
    app.classList.toggle("offline", !!state);
    render();
  }

  function retryLater() {
    sending = false;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(pump, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 4000);
  }

  function pump() {
    if (sending) { return; }
    var queue = readQueue();
    if (queue.length === 0) { render(); return; }
    sending = true;
    // the head keeps failing on the server: try the next scan, to tell a
    // scan the server cannot process from a server that is down
    var probe = headFailures >= SET_ASIDE_AFTER && queue.length > 1;
    var head = queue[0];
    var scan = probe ? queue[1] : head;
    // a server that hangs is treated like one that is down: give up on this
    // attempt and re-send (same nonce) later
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, REQUEST_TIMEOUT_MS) : null;
    fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      signal: abort ? abort.signal : undefined,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": lang,
                 "Accept": "application/json" },
      body: JSON.stringify({ code: scan.code, action: scan.action, station: scan.station, nonce: scan.nonce,
                             context: scan.context, scanned_at: scan.scanned_at })
    }).then(function (resp) {
      clearTimeout(timer);
      var type = resp.headers.get("Content-Type") || "";
      if (resp.status >= 500) { var e = new Error("server"); e.status = resp.status; throw e; }
      if (resp.status === 429) { throw new Error("retry"); }
      if (type.indexOf("application/json") < 0) { return { session: true }; }
      return resp.json().then(function (body) {
        // 401/403, or a 400 from the CSRF check (no field, or csrf_token):
        // the sign-in is gone or stale, not the scan: keep it and try again
        if (resp.status === 401 || resp.status === 403 || (resp.status === 400 && body.field === "csrf_token")) {
          return { session: true };
        }
        return { status: resp.status, body: body };
      });
    }).then(function (r) {
      if (r.session) { setNet("session"); refreshToken(); retryDelay = 2000; retryLater(); return; }
      if (probe) {
        // the server answered the next scan: the head is what it cannot process
        setAside(head, fmt(texts.asideServer, { status: headStatus }));
      }
      headFailures = 0;
      if (r.status !== 200) {
        // malformed, which no retry mends: set aside, shown, and the line goes on
        r.body.result = "rejected";
        setAside(scan, r.body.error || r.body.message || ("HTTP " + r.status));
      } else {
        // decided: drop it, by nonce, as another tab of this station may have done so already
        writeQueue(readQueue().filter(function (q) { return q.nonce !== scan.nonce; }));
      }
      retryDelay = 500;
      setNet(null);
      show(scan, r.body);
      sending = false;
      pump();
    }).catch(function (err) {
      clearTimeout(timer);
      if (err && err.message === "server") {
        if (probe) {
          headFailures = 0; // the next scan fails too: the server is down, not one scan
        } else {
          headFailures += 1;
          headStatus = err.status;
        }
      }
      setNet("offline");
      retryLater();
    });
  }

  // After a new sign-in (in this or another tab) the page's CSRF token is
  // stale: read the current one from a fresh copy of this page.
  function refreshToken() {
    fetch(location.href, { credentials: "same-origin" }).then(function (resp) {
      return resp.text();
    }).then(function (html) {
      var m = /name="csrf-token" content="([^"]+)"/.exec(html);
      if (m) { csrf = m[1]; }
    }).catch(function () {});
  }

  function enqueue(code, ctx, act) {
    var queue = readQueue();
    queue.push({ code: code, action: act || action, station: station, nonce: nonce(), context: ctx || {},
                 scanned_at: new Date().toISOString() });
    writeQueue(queue);
    if (net.dataset.state) {
      // not confirmed yet: say the scan is kept, not that it counted
      setCard("queued", fmt(texts.queued, { n: queue.length }), code, []);
      beep("queued");
    }
    render();
    pump();
  }

  function clearStop() {
    stopped = null;
    saveSession();
    render();
    notice("idle", texts.resumed, "");
    input.focus();
  }

  function handle(code) {
    if (stopped) {
      // the line is stopped: nothing is taken until the operator confirms
      beep("stop");
      overlay.classList.remove("flash");
      void overlay.offsetWidth;
      overlay.classList.add("flash");
      return;
    }
    for (var i = 0; i < handlers.length; i++) {
      if (handlers[i](code)) { return; }
    }
    enqueue(code, context());
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = input.value.trim();
    input.value = "";
    if (code) { handle(code); }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && stopped) { ev.preventDefault(); clearStop(); }
  });
  document.getElementById("stop-ack").addEventListener("click", clearStop);

  // the scan input keeps the focus unless the operator works in a field
  function isField(el) {
    return el && el.classList && (el.classList.contains("ctx") || el.classList.contains("edit") ||
      el.tagName === "SELECT" || el.tagName === "TEXTAREA");
  }
  document.addEventListener("click", function (ev) {
    if (!isField(ev.target) && ev.target.tagName !== "A" && ev.target.tagName !== "BUTTON") { input.focus(); }
  });
  input.addEventListener("blur", function () {
    setTimeout(function () { if (!isField(document.activeElement)) { input.focus(); } }, 0);
  });
  document.querySelectorAll(".ctx").forEach(function (el) {
    el.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); input.focus(); } });
  });
  window.addEventListener("online", function () { retryDelay = 500; clearTimeout(retryTimer); pump(); });
  // another tab of this station queued or sent scans
  heartbeat();
  adoptOrphans();
  setInterval(function () { heartbeat(); adoptOrphans(); if (!sending) { pump(); } probe(); }, HEARTBEAT_MS);

  // Offline with nothing to send (a page loaded from this device's copy,
  // static/js/station-sw.js): ask the server now and then whether it is back.
  function probe() {
    if (net.dataset.state !== "offline" || sending || readQueue().length) { return; }
    fetch(location.href, { method: "HEAD", credentials: "same-origin", cache: "no-store" }).then(function (resp) {
      if (resp.status < 500 && net.dataset.state === "offline") { setNet(null); }
    }).catch(function () {});
  }
  if (document.documentElement.dataset.offlineCopy) { setNet("offline"); }

  // Camera: where the browser reads barcodes itself, codes feed the same loop.
  var camBtn = document.getElementById("camera-btn");
  if (camBtn && "BarcodeDetector" in window && navigator.mediaDevices) {
    camBtn.hidden = false;
    var video = document.getElementById("camera-view");
    var stream = null, detector = null, last = { code: "", at: 0 };
    var tick = function () {
      if (!stream) { return; }
      detector.detect(video).then(function (codes) {
        codes.forEach(function (c) {
          var now = Date.now();
          if (c.rawValue && (c.rawValue !== last.code || now - last.at > 2500)) {
            last = { code: c.rawValue, at: now };
            handle(c.rawValue.trim());
          }
        });
      }).catch(function () {}).then(function () { setTimeout(tick, 250); });
    };
    camBtn.addEventListener("click", function () {
      if (stream) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        stream = null; video.hidden = true; return;
      }
      detector = new window.BarcodeDetector();
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
        stream = s; video.srcObject = s; video.hidden = false; video.play(); tick();
      }).catch(function () { notice("stop", texts.noCamera, ""); });
    });
  }

  window.CredTrackScan = {
    addHandler: function (fn) { handlers.push(fn); },
    enqueue: enqueue,
    notice: notice,
    focus: function () { input.focus(); },
    texts: texts,
    station: station,
    action: action
  };
  render();
  input.focus();
  pump();
})();
