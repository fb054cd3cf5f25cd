// The scan loop of every station page.
// One input keeps the focus; each Enter is one scan with a fresh nonce.
// Scans wait in a queue kept in localStorage and are sent strictly in order,
// one at a time; while the server cannot be reached they stay queued (also
// across a reload) and are re-sent with their original nonce, so nothing is
// lost and nothing is counted twice.
(function () {
  "use strict";
  var app = document.getElementById("scan-app");
  if (!app) { return; }
  var station = app.dataset.station;
  var action = app.dataset.action;
  var endpoint = app.dataset.endpoint;
  var lang = app.dataset.lang || "zh";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var input = document.getElementById("scan-input");
  var form = document.getElementById("scan-form");
  var card = document.getElementById("result-card");
  var recent = document.getElementById("recent");
  var net = document.getElementById("net-status");
  var queueKey = "credtrack.queue." + station;
  var countKey = "credtrack.counts." + station;
  var queue = load(queueKey, []);
  var counts = load(countKey, { ok: 0, warn: 0, stop: 0 });
  var sending = false;
  var retryDelay = 1000;
  var pendingBag = null; // seal/arrive: the bag scanned, waiting for its seal

  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function save() {
    localStorage.setItem(queueKey, JSON.stringify(queue));
    localStorage.setItem(countKey, JSON.stringify(counts));
  }
  function nonce() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function ctxValue(name) {
    var el = document.getElementById("ctx-" + name);
    return el ? el.value.trim() : "";
  }
  function context() {
    var ctx = {};
    ["bag", "trip", "seal", "waybill", "weight_g"].forEach(function (k) {
      var v = ctxValue(k);
      if (v) { ctx[k] = v; }
    });
    return ctx;
  }

  // Web Audio: ok = one short high beep, warning = two beeps, stop = a low buzz.
  var audio = null;
  function beep(kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var plan = { ok: [[880, 0, 0.12]], warn: [[600, 0, 0.12], [600, 0.18, 0.12]], stop: [[180, 0, 0.6]] }[kind];
      plan.forEach(function (p) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = kind === "stop" ? "square" : "sine";
        osc.frequency.value = p[0];
        gain.gain.value = 0.2;
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

  function show(scanItem, body) {
    var kind = kindOf(body);
    counts[kind] += 1;
    card.className = "result-card " + kind;
    card.textContent = "";
    var code = document.createElement("div");
    code.className = "code";
    code.textContent = scanItem.code + (body.item && body.item.status ? " → " + body.item.status : "");
    var msg = document.createElement("div");
    msg.className = "message";
    msg.textContent = body.message || body.error || "";
    card.appendChild(msg);
    card.appendChild(code);
    card.dataset.reason = body.reason || "";
    card.dataset.result = body.result || "";
    var li = document.createElement("li");
    li.className = kind;
    li.textContent = scanItem.code + " — " + (body.message || body.error || "");
    recent.insertBefore(li, recent.firstChild);
    while (recent.children.length > 30) { recent.removeChild(recent.lastChild); }
    beep(kind);
    render();
  }

  function render() {
    document.getElementById("count-ok").textContent = counts.ok;
    document.getElementById("count-warn").textContent = counts.warn;
    document.getElementById("count-stop").textContent = counts.stop;
    document.getElementById("count-pending").textContent = queue.length;
  }

  function offline(on) {
    net.hidden = !on;
    if (on) { net.textContent = app.dataset.offline + " (" + queue.length + " " + app.dataset.pending + ")"; }
    app.classList.toggle("offline", on);
  }

  function pump() {
    if (sending || queue.length === 0) { render(); return; }
    sending = true;
    var item = queue[0];
    fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept-Language": lang },
      body: JSON.stringify(item)
    }).then(function (resp) {
      if (resp.status >= 500 || resp.status === 401) { throw new Error("retry"); }
      return resp.json().then(function (body) { return { status: resp.status, body: body }; });
    }).then(function (r) {
      queue.shift();
      save();
      offline(false);
      retryDelay = 1000;
      if (r.status !== 200) { r.body.result = "rejected"; }
      show(item, r.body);
      sending = false;
      pump();
    }).catch(function () {
      sending = false;
      offline(true);
      setTimeout(pump, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  function enqueue(code, ctx) {
    queue.push({ code: code, action: action, station: station, nonce: nonce(), context: ctx,
                 scanned_at: new Date().toISOString() });
    save();
    render();
    pump();
  }

  function handle(code) {
    var upper = code.toUpperCase();
    // a bag or trip label scanned where a context is expected sets it
    if ((action === "bag" || action === "unbag") && upper.indexOf("BAG-") === 0) {
      document.getElementById("ctx-bag").value = upper; return;
    }
    if (action === "load" && upper.indexOf("TRIP-") === 0) {
      document.getElementById("ctx-trip").value = upper; return;
    }
    if ((action === "seal" || action === "arrive") && !ctxValue("seal")) {
      // two-step: scan the bag, then the seal
      if (upper.indexOf("BAG-") === 0) { pendingBag = upper; card.className = "result-card idle"; card.textContent = upper + " …"; return; }
      if (pendingBag) { var bag = pendingBag; pendingBag = null; enqueue(bag, { seal: code }); return; }
    }
    enqueue(code, context());
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = input.value.trim();
    input.value = "";
    if (code) { handle(code); }
  });
  // the scan input keeps the focus unless the operator is in a context field
  document.addEventListener("click", function (ev) {
    if (!ev.target.classList.contains("ctx")) { input.focus(); }
  });
  input.addEventListener("blur", function () {
    setTimeout(function () {
      var a = document.activeElement;
      if (!a || !a.classList || !a.classList.contains("ctx")) { input.focus(); }
    }, 0);
  });
  document.querySelectorAll(".ctx").forEach(function (el) {
    el.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); input.focus(); } });
  });
  window.addEventListener("online", pump);
  render();
  input.focus();
  pump();
})();
