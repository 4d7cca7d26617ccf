// The console's only script: "select all" on the dead-letter list, and a task's progress.
// No inline script anywhere (the Content-Security-Policy forbids it); what this needs comes
// from data- attributes.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-select-all");
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (b) {
        b.checked = box.checked;
      });
    });
  });
  var task = document.getElementById("task");
  if (!task) return;
  var words = { running: task.dataset.running, finished: task.dataset.finished, stopped: task.dataset.stopped,
                stopping: task.dataset.stopping, interrupted: task.dataset.interrupted };
  function poll() {
    fetch(task.dataset.progressUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        document.getElementById("task-bar").value = p.done;
        document.getElementById("task-done").textContent = p.done;
        document.getElementById("task-replayed").textContent = p.replayed;
        document.getElementById("task-failed").textContent = p.failed;
        document.getElementById("task-state").textContent = words[p.state] || p.state;
        if (p.state === "running" || p.state === "stopping") setTimeout(poll, 500);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
});
