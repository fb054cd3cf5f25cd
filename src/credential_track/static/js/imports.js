// The import job page: follow a queued or running import (progress reported
// by the task on the queue) until it is done, then show its report.
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || (box.dataset.state !== "running" && box.dataset.state !== "queued")) { return; }
  var bar = document.getElementById("job-progress");
  function poll() {
    fetch(box.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.state !== box.dataset.state) { window.location.reload(); return; }
        if (s.state === "running") {
          bar.max = s.total || 1;
          bar.value = s.done;
          document.getElementById("job-done").textContent = s.done;
          document.getElementById("job-total").textContent = s.total;
        }
        setTimeout(poll, 500);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
