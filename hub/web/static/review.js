// The review queue at the speed of reading: accept or reject without a page load, several at once,
// from the keyboard. Without JavaScript the same buttons post the form (one commit per click).
(function () {
  "use strict";
  var form = document.getElementById("review-queue");
  if (!form || !window.fetch) return;
  var csrf = form.querySelector("input[name=csrf]").value;
  var live = document.getElementById("review-live");
  var reviewedWord = (document.currentScript && document.currentScript.dataset.reviewed) || "reviewed";
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll("tr[data-suggestion]:not(.done)")); };
  var current = null;

  function say(text) { if (live) live.textContent = text; }

  function focusRow(row) {
    if (!row) return;
    if (current) current.classList.remove("current");
    current = row;
    row.classList.add("current");
    row.focus();
  }

  function send(body, done) {
    return fetch("/api/review", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json"},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error("[" + (j.code || r.status) + "] " + (j.detail || r.statusText));
        return j;
      });
    }).then(function (j) { done(j); say(j.reviewed + " " + reviewedWord); })
      .catch(function (e) { say(e.message); var p = document.getElementById("review-message") || document.createElement("p");
        p.id = "review-message"; p.className = "error"; p.setAttribute("role", "alert"); p.textContent = e.message;
        form.parentNode.insertBefore(p, form); });
  }

  function mark(rowsDone, action) {
    var next = null;
    rowsDone.forEach(function (row) {
      row.classList.add("done", action === "accept" ? "accepted" : "rejected");
      var cell = row.querySelector(".review-status");
      if (cell) cell.textContent = action === "accept" ? "accepted" : "rejected";
      var box = row.querySelector("input[type=checkbox]");
      if (box) { box.checked = false; box.disabled = true; }
    });
    var left = rows();
    if (left.length) { next = left[0]; focusRow(next); }
  }

  function review(action, list) {
    if (!list.length) return;
    send({actions: list.map(function (row) { return {action: action, suggestion: row.dataset.suggestion}; })},
         function () { mark(list, action); });
  }

  function selected() {
    return Array.prototype.slice.call(document.querySelectorAll("input[name=selected]:checked"))
      .map(function (box) { return box.closest("tr"); });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[form=review-queue]");
    if (!button) return;
    var value = button.value || "";
    var verb = value.split("|")[0], target = value.slice(verb.length + 1);
    var action = verb.split("-")[0];
    var list;
    if (verb.indexOf("-selected") > 0) list = selected();
    else if (verb.indexOf("-record") > 0) list = rows().filter(function (r) { return r.closest("section") === button.closest("section"); });
    else list = rows().filter(function (r) { return r.dataset.suggestion === target; });
    e.preventDefault();
    review(action, list);
  });

  document.addEventListener("keydown", function (e) {
    if (e.target.matches("input[type=url], input[type=text], textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    var all = rows();
    var i = all.indexOf(current);
    switch (e.key) {
      case "j": case "ArrowDown": focusRow(all[Math.min(i + 1, all.length - 1)] || all[0]); break;
      case "k": case "ArrowUp": focusRow(all[Math.max(i - 1, 0)]); break;
      case "a": if (current) review("accept", [current]); break;
      case "r": if (current) review("reject", [current]); break;
      case "x": if (current) { var b = current.querySelector("input[type=checkbox]"); if (b) b.checked = !b.checked; } break;
      case "A": review("accept", selected()); break;
      case "R": review("reject", selected()); break;
      default: return;
    }
    e.preventDefault();
  });
  focusRow(rows()[0]);
}());
