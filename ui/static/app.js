// rackboot dashboard: the machines table, live from /api/v1/events, a
// machine's timeline, and the leases per subnet. Plain JavaScript, no
// build step; docs/observe.md describes the API it reads.
"use strict";

const $ = (sel) => document.querySelector(sel);
const machines = new Map(); // mac -> machine summary
let current = null;         // the MAC whose page is open
let timeline = [];          // its events

const MID = ["discovered", "dhcp", "boot program", "script", "kernel", "initrd"];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

async function getJSON(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || r.status + " " + r.statusText);
  return body;
}

// ---- formatting

function stateLabel(m) {
  if (m.state === "stalled" && m.stalled_at) return "stalled at " + m.stalled_at;
  return m.state || "unseen";
}
function stateBadge(m) {
  const s = m.state || "unseen";
  return el("span", { class: "state s-" + s.replace(/ /g, "-"), "data-state": s, text: stateLabel(m) });
}
function firmware(m) {
  if (!m.firmware) return "";
  return m.arch != null ? m.firmware + " / arch " + m.arch : m.firmware;
}
function reasonOf(m) {
  if (m.via === "group" && m.group) return "group " + m.group;
  return m.via || m.reason || "";
}
function profile(m) { return m.profile ? m.profile + " (" + reasonOf(m) + ")" : ""; }
function ago(t) {
  if (!t || t.startsWith("0001-") || t.startsWith("1970-")) return "";
  const s = Math.max(0, (Date.now() - Date.parse(t)) / 1000);
  if (s < 60) return Math.round(s) + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}
function secs(x) { return x > 0 ? x.toFixed(1) + " s" : ""; }
function bytes(n) {
  if (!n) return "0 B";
  const u = ["B", "KB", "MB", "GB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
function detail(m) { return m.detail || m.last_error || ""; }

// ---- the machines table

function row(m) {
  const tr = el("tr", { id: "row-" + m.mac, "data-mac": m.mac, "data-state": m.state || "unseen", tabindex: "0" },
    el("td", { class: "mac" }, el("a", { href: "#/m/" + m.mac, tabindex: "-1", text: m.mac })),
    el("td", { text: m.hostname || "" }),
    el("td", { class: "st" }, stateBadge(m)),
    el("td", { text: firmware(m) }),
    el("td", { class: "addr", text: m.addr || "" }),
    el("td", { text: profile(m) }),
    el("td", { class: "detail", text: detail(m) }),
    el("td", { class: "seen", "data-t": m.last_seen || "", text: ago(m.last_seen) }),
    el("td", { class: "num", text: secs(m.boot_seconds) }));
  tr.addEventListener("click", (e) => { if (!e.target.closest("a")) open(m.mac); });
  return tr;
}

function matches(m, q) {
  if (!q) return true;
  return [m.mac, m.hostname, stateLabel(m), m.profile, m.addr, m.firmware, detail(m)]
    .some((v) => v && String(v).toLowerCase().includes(q));
}

function renderList() {
  const q = $("#filter").value.trim().toLowerCase();
  const body = $("#machines tbody");
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.mac : null;
  body.replaceChildren(...[...machines.values()].filter((m) => matches(m, q)).sort((a, b) => a.mac.localeCompare(b.mac)).map(row));
  $("#empty").hidden = machines.size > 0;
  if (focused) { const r = document.getElementById("row-" + focused); if (r) r.focus(); }
  renderCounts();
}

function updateRow(m) {
  const old = document.getElementById("row-" + m.mac);
  const q = $("#filter").value.trim().toLowerCase();
  if (!old) { renderList(); return; }
  if (!matches(m, q)) { old.remove(); return; }
  const fresh = row(m);
  fresh.classList.add("flash");
  const hadFocus = document.activeElement === old;
  old.replaceWith(fresh);
  if (hadFocus) fresh.focus();
  renderCounts();
}

function renderCounts() {
  const n = {};
  for (const m of machines.values()) { const s = m.state || "unseen"; n[s] = (n[s] || 0) + 1; }
  const mid = MID.reduce((a, s) => a + (n[s] || 0), 0);
  const parts = [machines.size + " machines"];
  if (n.booted) parts.push(n.booted + " booted");
  if (mid) parts.push(mid + " booting");
  if (n.stalled) parts.push(n.stalled + " stalled");
  if (n.failed) parts.push(n.failed + " failed");
  if (n.unseen) parts.push(n.unseen + " unseen");
  $("#counts").textContent = parts.join(" · ");
}

// ---- leases

async function loadLeases() {
  let body;
  try { body = await getJSON("/api/v1/leases"); } catch (e) { return; }
  const tb = $("#leases tbody");
  tb.replaceChildren(...body.subnets.map((s) => {
    const used = s.size ? (s.in_use + s.offered + s.quarantined) / s.size : 0;
    const bar = el("span"); bar.style.width = Math.round(used * 100) + "%";
    return el("tr", { "data-cidr": s.cidr },
      el("td", { class: "mono", text: s.cidr }), el("td", { class: "num", text: s.size }),
      el("td", { class: "num in-use", text: s.in_use }), el("td", { class: "num", text: s.offered }),
      el("td", { class: "num", text: s.quarantined }), el("td", { class: "num free", text: s.free }),
      el("td", { title: Math.round(used * 100) + "% in use" }, el("div", { class: "meter" }, bar)));
  }));
  $("#leases").hidden = !body.serving;
  $("#no-leases").hidden = body.serving;
}

// ---- a machine's page

function describe(e) {
  let asked = "", got = "";
  switch (e.kind) {
    case "dhcp": case "proxydhcp":
      asked = [e.message, e.class, e.arch != null ? "arch " + e.arch : ""].filter(Boolean).join(" ");
      if (e.reply) {
        got = [e.reply, e.kind === "dhcp" ? e.addr : "", e.file ? "boot " + e.file : "",
          e.profile ? "profile " + e.profile + " (" + (e.via === "group" ? "group " + e.group : e.via) + ")" : ""].filter(Boolean).join(", ");
        if (!e.file && e.reason) got += " — no boot: " + e.reason;
      } else got = "no answer" + (e.reason ? ": " + e.reason : "");
      break;
    case "report":
      asked = "report"; got = e.state + (e.reason ? ": " + e.reason : "");
      break;
    default:
      asked = e.file || "";
      got = e.error ? "failed: " + e.error : (e.kind === "http" ? e.status + ", " : "") + bytes(e.bytes) + " in " + (e.duration_ms / 1000).toFixed(2) + " s";
      if (e.kind === "http" && e.status >= 400 && !e.error) got = "failed: HTTP " + e.status;
  }
  return { asked, got };
}

function renderTimeline() {
  const tb = $("#timeline tbody");
  const start = timeline.length ? Date.parse(timeline[0].time) : 0;
  let prev = start;
  tb.replaceChildren(...timeline.map((e) => {
    const t = Date.parse(e.time);
    const { asked, got } = describe(e);
    const took = e.duration_ms ? e.duration_ms / 1000 : (t - prev) / 1000;
    prev = t;
    const failed = e.error || (e.kind === "http" && e.status >= 400) || e.state === "failed";
    return el("tr", { class: failed ? "err" : "", "data-kind": e.kind, "data-step": e.step || (e.kind.includes("dhcp") ? "dhcp" : e.kind) },
      el("td", { class: "mono", text: new Date(t).toLocaleTimeString([], { hour12: false }) + "." + String(t % 1000).padStart(3, "0") }),
      el("td", { class: "num", text: ((t - start) / 1000).toFixed(1) }),
      el("td", { class: "num", text: took.toFixed(2) + " s" }),
      el("td", { text: e.step || (e.kind.includes("dhcp") ? "dhcp" : e.kind === "report" ? "report" : "") }),
      el("td", { text: e.kind }), el("td", { text: asked }), el("td", { text: got }));
  }));
  $("#no-events").hidden = timeline.length > 0;
}

function renderSummary(m) {
  $("#machine-h").replaceChildren(document.createTextNode((m.hostname ? m.hostname + " — " : "") + m.mac + " "), stateBadge(m));
  const why = $("#why");
  let text = "";
  if (m.state === "failed") text = "Failed: " + (m.detail || "the system reported failed");
  else if (m.state === "stalled") text = "Stalled at " + m.stalled_at + ": " + m.detail;
  else if (m.state === "discovered" && m.detail) text = "Not answered: " + m.detail;
  else if (m.state === "unseen" && !m.profile && m.reason) text = "Would get no profile: " + m.reason;
  else if (m.last_error) text = "Last error: " + m.last_error;
  why.textContent = text;
  why.hidden = !text;
  why.className = "why" + (m.state === "stalled" ? " stalled" : "");
  const dl = $("#summary");
  const items = [["State", stateLabel(m)], ["Firmware", firmware(m)], ["Address", m.addr], ["Profile", profile(m) || m.reason],
    ["Boot file", m.boot_file], ["Boot took", secs(m.boot_seconds)], ["Boots seen", m.boots], ["First seen", ago(m.first_seen)],
    ["Last seen", ago(m.last_seen)], ["In the inventory", m.in_inventory ? "yes" : "no"]];
  const d = m.discovered;
  if (d) items.push(["Vendor class", d.vendor_class], ["UUID", d.uuid], ["Relay", d.relay],
    ["Circuit id", d.circuit_id], ["Remote id", d.remote_id], ["Discovered", ago(d.first_seen)]);
  showAdopt(m);
  dl.replaceChildren(...items.filter(([, v]) => v !== undefined && v !== "" && v !== null)
    .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]));
}

// ---- adopting a discovered machine (PUT /api/v1/machines/MAC with the
// token the user typed; the token is kept in sessionStorage, this tab only)

const TOKEN_KEY = "rackboot-admin-token";

function showAdopt(m) {
  const f = $("#adopt");
  const show = m.state === "discovered";
  if (show && f.hidden) {
    $("#adopt-token").value = sessionStorage.getItem(TOKEN_KEY) || "";
  }
  f.hidden = !show;
}

async function adopt(e) {
  e.preventDefault();
  const mac = current, out = $("#adopt-result");
  const token = $("#adopt-token").value.trim();
  const body = { profile: $("#adopt-profile").value.trim() };
  if ($("#adopt-hostname").value.trim()) body.hostname = $("#adopt-hostname").value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  out.className = "adopt-result"; out.textContent = "adopting…";
  let r, res;
  try {
    r = await fetch("/api/v1/machines/" + encodeURIComponent(mac), {
      method: "PUT", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: "Bearer " + token },
    });
    res = await r.json().catch(() => ({}));
  } catch (err) { out.className = "adopt-result err"; out.textContent = "cannot reach rackboot: " + err.message; return; }
  if (r.ok) {
    out.className = "adopt-result ok";
    out.textContent = "adopted: " + mac + " boots profile " + body.profile + " on its next retry";
    if (mac === current) showMachine(mac);
    return;
  }
  if (r.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  const fields = (res.errors || []).map((x) => (x.field ? x.field + ": " : "") + x.message);
  out.className = "adopt-result err";
  out.textContent = [res.error || r.status + " " + r.statusText, ...fields].join(" — ");
}

async function showMachine(mac) {
  if (current !== mac) $("#adopt-result").textContent = "";
  current = mac;
  $("#list-view").hidden = true;
  $("#machine-view").hidden = false;
  try {
    const m = await getJSON("/api/v1/machines/" + encodeURIComponent(mac));
    if (current !== mac) return;
    timeline = m.events || [];
    delete m.events;
    machines.set(m.mac, Object.assign(machines.get(m.mac) || {}, m));
    renderSummary(machines.get(m.mac));
    renderTimeline();
  } catch (err) {
    $("#machine-h").textContent = mac;
    $("#why").hidden = false; $("#why").textContent = err.message;
    $("#summary").replaceChildren(); timeline = []; renderTimeline();
  }
  $("#back").focus();
}

function showList() {
  current = null;
  $("#machine-view").hidden = true;
  $("#list-view").hidden = false;
  renderList();
}

function open(mac) { location.hash = "#/m/" + mac; }

function route() {
  const m = location.hash.match(/^#\/m\/(.+)$/);
  if (m) showMachine(decodeURIComponent(m[1])); else showList();
}

// ---- live updates

function connect() {
  const es = new EventSource("/api/v1/events");
  const live = $("#live");
  es.onopen = () => { live.textContent = "live"; live.className = "live on"; loadMachines(); };
  es.onerror = () => { live.textContent = "reconnecting…"; live.className = "live off"; };
  es.addEventListener("machine", (msg) => {
    const c = JSON.parse(msg.data);
    const m = Object.assign(machines.get(c.machine.mac) || { in_inventory: false }, c.machine);
    if (!c.machine.stalled_at) delete m.stalled_at;
    machines.set(m.mac, m);
    if (current === m.mac) {
      if (c.event) { timeline.push(c.event); renderTimeline(); }
      renderSummary(m);
    } else if (current === null) updateRow(m);
    if (c.event && c.event.kind === "dhcp") scheduleLeases();
  });
  es.addEventListener("dropped", () => loadMachines());
}

let leaseTimer = null;
function scheduleLeases() { if (!leaseTimer) leaseTimer = setTimeout(() => { leaseTimer = null; loadLeases(); }, 1000); }

async function loadMachines() {
  try {
    const body = await getJSON("/api/v1/machines");
    machines.clear();
    for (const m of body.machines) machines.set(m.mac, m);
    if (current === null) renderList();
  } catch (e) { $("#counts").textContent = "cannot read the machines: " + e.message; }
}

// ---- keyboard

function moveFocus(d) {
  const rows = [...document.querySelectorAll("#machines tbody tr")];
  if (!rows.length) return;
  const i = rows.indexOf(document.activeElement);
  rows[Math.max(0, Math.min(rows.length - 1, i < 0 ? 0 : i + d))].focus();
}

document.addEventListener("keydown", (e) => {
  const typing = e.target.tagName === "INPUT";
  if (e.key === "Escape") { if (typing) { e.target.blur(); } else if (current) location.hash = "#/"; return; }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (current === null) {
    if (e.key === "/") { e.preventDefault(); $("#filter").focus(); }
    else if (e.key === "j" || e.key === "ArrowDown") { e.preventDefault(); moveFocus(1); }
    else if (e.key === "k" || e.key === "ArrowUp") { e.preventDefault(); moveFocus(-1); }
    else if (e.key === "Enter" && document.activeElement.dataset.mac) open(document.activeElement.dataset.mac);
  } else if (e.key === "Backspace") location.hash = "#/";
});

$("#filter").addEventListener("input", renderList);
$("#adopt").addEventListener("submit", adopt);
window.addEventListener("hashchange", route);
setInterval(() => {
  for (const td of document.querySelectorAll("td.seen")) td.textContent = ago(td.dataset.t);
  if (current && machines.get(current)) renderSummary(machines.get(current));
}, 5000);
setInterval(loadLeases, 15000);

loadMachines().then(route);
loadLeases();
connect();
