// The workspace's only script: keyboard triage on the inbox and saving every action at once.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var statusLine = document.getElementById("status");
  var KEYS = { p: "pick", s: "skip", l: "later" };

  function say(text, isError) {
    if (!statusLine) return;
    statusLine.textContent = text;
    statusLine.classList.toggle("error", !!isError);
    clearTimeout(say.timer);
    say.timer = setTimeout(function () { statusLine.textContent = ""; }, isError ? 8000 : 2500);
  }

  function entries() { return Array.prototype.slice.call(document.querySelectorAll(".entry")); }
  function current() { return document.querySelector(".entry.current"); }

  function move(step) {
    var all = entries();
    if (!all.length) return;
    var index = all.indexOf(current());
    var next = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
    if (index >= 0) all[index].classList.remove("current");
    all[next].classList.add("current");
    all[next].focus({ preventScroll: true });
    all[next].scrollIntoView({ block: "nearest" });
  }

  function save(entry, fields) {
    if (!entry || !entry.dataset.triage) return Promise.resolve();
    entry.setAttribute("aria-busy", "true");
    return fetch(entry.dataset.triage, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(fields)
    }).then(function (response) {
      return response.json().catch(function () { return { error: "HTTP " + response.status }; }).then(function (data) {
        entry.removeAttribute("aria-busy");
        if (!response.ok) { say("저장 실패: " + (data.error || response.status), true); return; }
        var badge = entry.querySelector(".decision");
        if (badge) { badge.textContent = data.label; badge.dataset.decision = data.decision; }
        entry.classList.remove("is-pick", "is-skip", "is-later");
        entry.classList.add("is-" + data.decision);
        var who = entry.querySelector(".who");
        if (who) who.textContent = data.user + " " + data.at_local;
        entry.dataset.saved = data.decision;
        say(data.label + " — " + data.user + " " + data.at_local);
      });
    }).catch(function () {
      entry.removeAttribute("aria-busy");
      say("저장 실패: 서버에 연결할 수 없습니다", true);
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    var key = event.key;
    if (key === "j") { move(1); event.preventDefault(); }
    else if (key === "k") { move(-1); event.preventDefault(); }
    else if (KEYS[key]) { var entry = current(); if (entry) { save(entry, { decision: KEYS[key] }); event.preventDefault(); } }
    else if (key === "o" || key === "Enter") {
      var open = current();
      if (open && open.dataset.href && key === "o") { window.location.href = open.dataset.href; event.preventDefault(); }
    }
  });

  // Buttons and the note form: the same POST, without leaving the page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("triage-form")) return;
    var entry = form.closest(".entry");
    if (!entry) return;
    event.preventDefault();
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "decision" || name === "category_override" || name === "note") fields[name] = value;
    });
    save(entry, fields).then(function () {
      if (form.classList.contains("triage-detail")) window.location.reload();
    });
  });

  document.addEventListener("click", function (event) {
    var entry = event.target.closest && event.target.closest(".entries .entry");
    if (!entry) return;
    entries().forEach(function (e) { e.classList.remove("current"); });
    entry.classList.add("current");
  });
})();
