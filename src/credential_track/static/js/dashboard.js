// Keeps the dashboard current: reloads its panel (or the whole page) on a timer.
(function () {
  "use strict";
  var panel = document.getElementById("dash-panel");
  var reload = document.getElementById("dash-reload");
  var host = panel || reload;
  if (!host) { return; }
  var seconds = parseInt(host.getAttribute("data-seconds"), 10) || 30;
  function tick() {
    if (document.hidden) { return; }
    if (!panel) { window.location.reload(); return; }
    fetch(panel.getAttribute("data-url"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) { panel.innerHTML = html; panel.classList.remove("stale"); })
      .catch(function () { panel.classList.add("stale"); });
  }
  window.setInterval(tick, seconds * 1000);
}());
