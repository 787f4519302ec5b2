/* Vigil pages: progressive enhancement only. Every page works without this script. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The header's tenant filter applies as soon as it changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Assessment: show the fields of the chosen decision, and the severity the matrix derives.
  var assessment = document.getElementById("assessment");
  if (assessment) {
    var matrix = document.getElementById("severity-matrix");
    var output = document.getElementById("derived-severity");
    var impact = assessment.querySelector("[name=impact]");
    var urgency = assessment.querySelector("[name=urgency]");
    var refresh = function () {
      var checked = assessment.querySelector("[name=decision]:checked");
      var decision = checked ? checked.value : "";
      assessment.querySelectorAll("[data-when-decision]").forEach(function (block) {
        block.hidden = decision !== "" && block.getAttribute("data-when-decision") !== decision;
      });
      if (!matrix) { return; }
      var found = "";
      matrix.querySelectorAll(".matrix__cell").forEach(function (cell) {
        var row = cell.dataset.impact === impact.value;
        var col = cell.dataset.urgency === urgency.value;
        cell.classList.toggle("is-on", row && col);
        cell.classList.toggle("is-row", row);
        cell.classList.toggle("is-col", col);
        if (row && col) { found = cell.textContent.trim(); }
      });
      matrix.classList.toggle("matrix--partial", !found && (impact.value || urgency.value));
      output.textContent = found ? "→ " + found : "";
    };
    assessment.addEventListener("change", refresh);
    refresh();
  }

  // Deadline countdowns tick every 30 seconds (the server's text is the fallback).
  var countdowns = document.querySelectorAll(".countdown[data-due]");
  var span = function (ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days) { return days + " d " + hours + " h"; }
    if (hours) { return hours + " h " + (mins < 10 ? "0" : "") + mins + " min"; }
    return mins + " min";
  };
  var tick = function () {
    var now = Date.now();
    countdowns.forEach(function (el) {
      var left = Date.parse(el.dataset.due) - now;
      if (isNaN(left)) { return; }
      var tone = left < 6 * 3600e3 ? "red" : left < 24 * 3600e3 ? "amber" : "green";
      el.className = "countdown countdown--" + tone;
      el.textContent = left < 0 ? "overdue by " + span(left) : span(left) + " left";
    });
  };
  if (countdowns.length && document.documentElement.lang === "en") { setInterval(tick, 30000); }

  // Evidence upload with a progress bar (XMLHttpRequest upload events); without it, a plain form post.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    if (!window.FormData || !window.XMLHttpRequest) { return; }
    form.addEventListener("submit", function (event) {
      var file = form.querySelector("input[type=file]");
      if (!file || !file.files.length) { return; }  // the server explains what is missing
      event.preventDefault();
      var progress = form.querySelector(".progress");
      var bar = progress.querySelector("progress");
      var text = progress.querySelector(".progress__text");
      var errors = form.querySelector(".upload__errors");
      var button = form.querySelector("button[type=submit]");
      progress.hidden = false;
      errors.hidden = true;
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var pct = Math.round((e.loaded / e.total) * 100);
        bar.value = pct;
        text.textContent = pct + " %";
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status < 300 && body.redirect) {
          text.textContent = "Stored. Reloading…";
          var target = new URL(body.redirect, window.location.href);
          if (target.pathname === window.location.pathname) {
            window.location.hash = target.hash;
            window.location.reload();
          } else {
            window.location.assign(target.href);
          }
          return;
        }
        var messages = [];
        Object.keys(body.errors || {}).forEach(function (k) { messages = messages.concat(body.errors[k]); });
        errors.textContent = messages.join(" ") || ("Upload failed (" + xhr.status + ").");
        errors.hidden = false;
        button.disabled = false;
      });
      xhr.addEventListener("error", function () {
        errors.textContent = "The upload was interrupted. Try again.";
        errors.hidden = false;
        button.disabled = false;
      });
      xhr.send(new FormData(form));
    });
  });
})();

// Second increment: print buttons, copy buttons, selects that apply on change.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.getAttribute("data-copy"));
      if (!input) { return; }
      input.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
  document.querySelectorAll("select[data-autosubmit-select]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
