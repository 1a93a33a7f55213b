// The class page: the view the server embedded, then every view it
// streams (server-sent events; the browser reconnects by itself). All text
// from learners goes in through textContent, never as HTML.
"use strict";
const board = document.getElementById("board");
const T = JSON.parse(board.dataset.words);
let view = JSON.parse(board.dataset.view);
let opened = null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function minutes(s) {
  if (!s) return "";
  const m = Math.floor(s / 60), sec = Math.floor(s % 60);
  return m + ":" + String(sec).padStart(2, "0");
}

function render(v) {
  const rows = document.getElementById("rows");
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.learner : null;
  rows.replaceChildren();
  let stuck = 0, finished = 0;
  for (const r of v.learners) {
    const tr = el("tr");
    tr.tabIndex = 0;
    tr.dataset.learner = r.learner;
    tr.dataset.step = r.step || 0;
    tr.dataset.updated = r.updated || "";
    if (r.stuck) { tr.classList.add("stuck"); stuck++; }
    if (r.finished) finished++;
    const name = el("td", "learner", r.learner);
    if (r.stuck) name.append(el("span", "badge", T.stuck));
    if (r.finished) name.append(el("span", "badge done", T.finished));
    tr.append(name, el("td", "lab", r.lab || ""));
    const step = el("td", "step", r.lab ? (r.finished ? r.steps + "/" + r.steps : r.step + "/" + r.steps) : "");
    if (r.claimed > r.step) step.append(el("span", "claims", T.claims + " " + r.claimed));
    tr.append(step);
    const cells = el("td", "cells");
    for (let i = 0; i < (r.steps || 0); i++) {
      const c = el("span", "cell");
      if (r.done && r.done[i]) c.classList.add("done");
      else if (i + 1 === r.step) c.classList.add("now");
      c.title = T.step + " " + (i + 1);
      cells.append(c);
    }
    tr.append(cells, el("td", "on-step", r.finished ? "" : minutes(r.on_step)));
    tr.append(el("td", "help", r.hints + " / " + r.solves));
    const verdict = el("td", "verdict verdict-" + (r.verdict || "none").replace(" ", "-"), r.verdict || "");
    tr.append(verdict);
    const text = r.stuck_why ? r.stuck_why + (r.last_fail ? ": " + r.last_fail : "") : (r.found || r.last_fail || "");
    const last = el("td", "found");
    last.append(el("div", "clamp", text)); // three lines; the whole text in the history and the title
    last.title = text;
    tr.append(last);
    tr.addEventListener("click", () => openHistory(r.learner));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openHistory(r.learner); } });
    rows.append(tr);
    if (focused === r.learner) tr.focus();
  }
  document.getElementById("empty").hidden = v.learners.length > 0;
  document.getElementById("summary").textContent =
    v.learners.length + " " + T.learners + " · " + finished + " " + T.finished + " · " + stuck + " " + T.stuck;
  const counts = document.getElementById("counts");
  counts.replaceChildren();
  for (const lab of v.labs) {
    const t = el("table", "lab-counts");
    t.dataset.lab = lab.id;
    t.append(el("caption", "", lab.title));
    const head = el("tr"), on = el("tr"), past = el("tr");
    head.append(el("th", "", T.step));
    on.append(el("th", "", T.onStep));
    past.append(el("th", "", T.onOrPast));
    lab.steps.forEach((s, i) => {
      const th = el("th", "", String(i + 1));
      th.title = s.title;
      head.append(th);
      on.append(el("td", "on", String(s.on)));
      past.append(el("td", "past", String(s.on + s.past)));
    });
    t.append(head, on, past);
    counts.append(t);
  }
  board.dataset.generated = v.generated;
}

async function openHistory(learner) {
  opened = learner;
  const d = document.getElementById("history");
  document.getElementById("history-title").textContent = T.history + ": " + learner;
  const list = document.getElementById("history-events");
  list.replaceChildren();
  const res = await fetch("/api/history/" + encodeURIComponent(learner));
  if (res.ok) {
    for (const e of await res.json()) {
      const li = el("li", "event " + e.what, new Date(e.at).toLocaleTimeString() + " · " + e.lab + " " + T.step + " " + e.step + " · " + e.what + (e.detail ? ": " + e.detail : ""));
      list.append(li);
    }
  }
  if (!d.open) d.showModal();
}

document.getElementById("history").addEventListener("close", () => {
  const tr = document.querySelector('tr[data-learner="' + CSS.escape(opened || "") + '"]');
  if (tr) tr.focus();
});

function connect() {
  const es = new EventSource("/api/stream");
  const offline = document.getElementById("offline");
  es.addEventListener("view", (e) => {
    offline.hidden = true;
    view = JSON.parse(e.data);
    render(view);
  });
  es.addEventListener("open", () => { offline.hidden = true; });
  es.addEventListener("error", () => {
    offline.hidden = false;
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000); // a refused reconnect: try again
  });
}

render(view);
connect();
// Time on step moves without events.
setInterval(() => {
  const now = Date.now(), gen = Date.parse(view.generated);
  for (const tr of document.querySelectorAll("#rows tr")) {
    const r = view.learners.find((x) => x.learner === tr.dataset.learner);
    if (r && !r.finished && r.on_step) tr.querySelector(".on-step").textContent = minutes(r.on_step + (now - gen) / 1000);
  }
}, 1000);
