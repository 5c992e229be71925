// tabforge dashboard: the little interaction server-rendered pages need.
// Compare: the ticked runs become /compare?runs=a,b. Live progress: the
// runs page follows /events (Server-Sent Events) while runs are running:
// each running run's duration, stage, trials and best value so far.
"use strict";
(function () {
  const form = document.getElementById("compare-form");
  if (form) {
    form.addEventListener("submit", function (ev) {
      const ids = Array.from(form.querySelectorAll("input.pick:checked")).map(function (c) { return c.value; });
      if (ids.length < 2) {
        ev.preventDefault();
        window.alert("Tick two or more runs to compare.");
        return;
      }
      document.getElementById("compare-runs").value = ids.join(",");
    });
  }
  function progressText(p) {
    const parts = [];
    if (p.stage) {
      parts.push(p.stage + " (stage " + (p.step + 1) + " of " + p.total + ")");
    }
    if (p.trials) {
      parts.push(p.trials + " trials" + (p.budget ? " (budget " + p.budget + " per model)" : ""));
    }
    if (typeof p.best === "number") {
      parts.push("best " + p.best.toFixed(4));
    }
    return parts.length ? " · " + parts.join(" · ") : "";
  }
  const table = document.getElementById("runs");
  if (!table || !table.querySelector("td.status.running") || !window.EventSource) {
    return;
  }
  const shown = new Set(Array.from(table.querySelectorAll("td.status.running")).map(function (td) { return td.parentElement.dataset.run; }));
  const src = new EventSource("events");
  src.addEventListener("running", function (ev) {
    const live = JSON.parse(ev.data);
    const ids = new Set(live.map(function (p) { return p.id; }));
    for (const p of live) {
      const row = table.querySelector('tr[data-run="' + CSS.escape(p.id) + '"]');
      if (row) {
        row.querySelector("td.duration").textContent = Math.round(p.seconds) + "s";
        const prog = row.querySelector(".progress");
        if (prog) {
          prog.textContent = progressText(p);
        }
      }
    }
    for (const id of shown) {
      if (!ids.has(id)) { // a run finished: show its result
        src.close();
        window.location.reload();
        return;
      }
    }
  });
})();
