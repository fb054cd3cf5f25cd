// The import job page: follow a running import until it is done, then show its report.
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || box.dataset.state !== "running") { return; }
  var bar = document.getElementById("job-progress");
  function poll() {
    fetch(box.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.state !== "running") { window.location.reload(); return; }
        bar.max = s.total || 1;
        bar.value = s.done;
        document.getElementById("job-done").textContent = s.done;
        document.getElementById("job-total").textContent = s.total;
        setTimeout(poll, 500);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
