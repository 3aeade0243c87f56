// The operator's console: plain JavaScript over the admin API (/v1/admin/, see
// /v1/admin/openapi.json). The operator's token lives in this tab's sessionStorage only and
// travels in the Authorization header, never in a URL. Every refusal is shown in words.
"use strict";

const TOKEN_KEY = "realmkeep.admin.token";
const OPERATOR_KEY = "realmkeep.admin.operator";
// Node status is read this often, and this many readings are charted (five minutes).
const STATUS_EVERY_MS = 2000;
const CHART_POINTS_MAX = 150;
const LOG_PAGE_ROWS = 50;

const $ = (sel) => document.querySelector(sel);
let current = null; // the character page shown
let logCursor = null;
let statusTimer = null;
const history = { players: [], tick: [] };

function say(text, ok) {
  const m = $("#message");
  m.textContent = text;
  m.className = ok ? "ok" : "error";
}

async function api(method, path, body) {
  const headers = { "content-type": "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = "Bearer " + token;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) {
    if (r.status === 401 && path !== "/v1/admin/sessions") showLogin();
    throw new Error((data && data.message) || ("HTTP " + r.status));
  }
  return data;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function list(sel, items) {
  const ul = $(sel);
  ul.replaceChildren(...items.map((t) => { const li = document.createElement("li"); li.textContent = t; return li; }));
  if (!items.length) { const li = document.createElement("li"); li.textContent = "none"; ul.appendChild(li); }
}

function facts(sel, pairs) {
  const dl = $(sel);
  dl.replaceChildren();
  for (const [k, v] of pairs) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v === null || v === undefined ? "—" : String(v);
    dl.append(dt, dd);
  }
}

function button(text, onclick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.type = "button";
  b.addEventListener("click", onclick);
  return b;
}

function showLogin() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(OPERATOR_KEY);
  $("#login-view").hidden = false;
  $("#console-view").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  if (statusTimer) { clearInterval(statusTimer); statusTimer = null; }
}

function showConsole(operator) {
  $("#login-view").hidden = true;
  $("#console-view").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = operator.name + " (" + operator.role + ")";
  tab("players");
}

function tab(name) {
  for (const b of document.querySelectorAll(".tab")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const p of document.querySelectorAll(".panel")) p.hidden = p.id !== "tab-" + name;
  if (name === "status") { readStatus(); if (!statusTimer) statusTimer = setInterval(readStatus, STATUS_EVERY_MS); }
}

function values(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) if (v !== "") out[k] = v;
  return out;
}

async function search(q) {
  const hits = await api("GET", "/v1/admin/players?q=" + encodeURIComponent(q));
  $("#hits tbody").replaceChildren(...hits.map((h) => row([
    h.character + (h.deleted ? " (deleted)" : ""), h.account + " #" + h.account_id, h.level, h.zone,
    button("Open", () => openCharacter(h.character_id).catch((e) => say(e.message))),
  ])));
  if (!hits.length) say("No player found for \u201c" + q + "\u201d.");
}

async function openCharacter(id) {
  const c = await api("GET", "/v1/admin/characters/" + id);
  current = c;
  $("#character").hidden = false;
  $("#c-title").textContent = c.name + " (#" + c.id + ") of account " + c.account + " (#" + c.account_id + ")";
  facts("#c-stats", [["Class", c.class], ["Kingdom", c.kingdom], ["Level", c.level], ["XP", c.xp], ["Gold", c.gold],
    ["Health", c.health], ["Mana", c.mana], ["Str/Agi/Int/Sta", [c.strength, c.agility, c.intellect, c.stamina].join(" / ")],
    ["PvP kills", c.pvp_kills], ["Guild", c.guild], ["Position", "zone " + c.position.zone + " (" + c.position.x.toFixed(1) + ", " + c.position.y.toFixed(1) + ")"]]);
  facts("#c-holder", [["In the world", c.holder.in_world ? "yes" : "no"], ["Node", c.holder.node], ["Zone", c.holder.zone],
    ["Claim epoch", c.holder.claim_epoch], ["Lease until", c.holder.lease_expires_at],
    ["Presence", c.holder.presence_node ? c.holder.presence_node + ", zone " + c.holder.presence_zone : null],
    ["Last login", c.sessions.last_login_at], ["Banned", c.sessions.banned ? "yes" : "no"]]);
  $("#c-bag tbody").replaceChildren(...c.bag.map((i) => row([i.item, i.def, i.quantity, i.slot,
    button("Remove", () => removeItem(i.item))])));
  list("#c-equipment", c.equipment.map((e) => e.slot + ": item " + e.item + " (def " + e.def + ")"));
  list("#c-skills", c.skills.map((s) => "skill " + s.skill + " level " + s.level));
  list("#c-quests", c.quests.map((q) => "quest " + q.quest + ": " + q.status + " (" + q.progress + ")"));
  const market = await api("GET", "/v1/admin/characters/" + id + "/market");
  list("#c-market", market.map((l) => l.item_name + " \u00d7" + l.quantity + " for " + l.price + " gold, until " + l.expires_at));
  const mail = await api("GET", "/v1/admin/characters/" + id + "/mail");
  list("#c-mail", mail.map((m) => (m.sender_name || m.kind) + ": " + m.subject + " (" + m.gold + " gold, " + m.items + " items" + (m.claimed ? ", claimed" : "") + ")"));
}

async function removeItem(item) {
  const reason = prompt("Why remove item " + item + "?");
  if (!reason) return;
  await act("POST", "/v1/admin/characters/" + current.id + "/items/" + item + "/remove", { reason }, "Item " + item + " removed.");
}

async function act(method, path, body, done) {
  try {
    await api(method, path, body);
    say(done, true);
    if (current) await openCharacter(current.id);
  } catch (e) {
    say(e.message);
  }
}

function num(v) { return v === undefined ? undefined : Number(v); }

async function readLogs(more) {
  const f = values($("#logs-form"));
  const p = new URLSearchParams({ limit: String(LOG_PAGE_ROWS) });
  if (f.character) p.set("character", f.character);
  if (f.event_type) p.set("event_type", f.event_type);
  if (f.from) p.set("from", new Date(f.from).toISOString());
  if (f.to) p.set("to", new Date(f.to).toISOString());
  if (more && logCursor) { p.set("before_at", logCursor.before_at); p.set("before_id", String(logCursor.before_id)); }
  const page = await api("GET", "/v1/admin/logs?" + p.toString());
  const rows = page.rows.map((r) => {
    const tr = row([r.occurred_at, r.event_type, r.actor, r.target, r.gold, r.item === null ? "" : r.item + " (def " + r.item_def + " \u00d7" + r.quantity + ")", ""]);
    tr.lastChild.className = "details";
    tr.lastChild.textContent = JSON.stringify(r.details);
    return tr;
  });
  if (more) $("#logs tbody").append(...rows); else $("#logs tbody").replaceChildren(...rows);
  logCursor = page.next;
  $("#logs-more").hidden = !page.next;
}

function chart(canvas, points, label) {
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!points.length) return;
  const max = Math.max(1, ...points);
  g.strokeStyle = "#2a5db0";
  g.beginPath();
  points.forEach((v, i) => {
    const x = (i / Math.max(1, CHART_POINTS_MAX - 1)) * canvas.width;
    const y = canvas.height - 4 - (v / max) * (canvas.height - 18);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = "#1d232a";
  g.fillText(label + ": " + points[points.length - 1] + " (max " + max + ")", 4, 12);
}

async function readStatus() {
  if ($("#tab-status").hidden) { clearInterval(statusTimer); statusTimer = null; return; }
  try {
    const s = await api("GET", "/v1/admin/status");
    facts("#node", [["Node", s.node], ["Up", Math.round(s.uptime_s) + " s"], ["Players", s.players],
      ["Saves/s", s.saves_per_s.toFixed(2)], ["Rows saved/s", s.save_rows_per_s.toFixed(1)],
      ["PostgreSQL", s.postgres_up ? "up" : "DOWN"], ["Redis", s.redis_up ? "up" : "DOWN"],
      ["Store queue / held", s.store_pending + " / " + s.store_backlog], ["Cache held", s.cache_backlog],
      ["Log held", s.log_backlog], ["Log rows in DEFAULT", s.log_default_rows]]);
    $("#zones tbody").replaceChildren(...s.zones.map((z) => row([z.zone, z.players, z.tick_p50_ms.toFixed(2), z.tick_p99_ms.toFixed(2), z.last_tick_age_ms])));
    history.players.push(s.players);
    history.tick.push(Math.max(0, ...s.zones.map((z) => z.tick_p99_ms)));
    for (const k of Object.keys(history)) while (history[k].length > CHART_POINTS_MAX) history[k].shift();
    chart($("#chart-players"), history.players, "players");
    chart($("#chart-tick"), history.tick, "tick p99 ms");
  } catch (e) {
    say(e.message);
  }
}

function on(sel, handler) {
  $(sel).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await handler(values(ev.target), ev.target); } catch (e) { say(e.message); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => tab(b.dataset.tab));
  $("#logout").addEventListener("click", async () => {
    try { await api("DELETE", "/v1/admin/sessions"); } catch (_) { /* logged out either way */ }
    showLogin();
    say("Logged out.", true);
  });
  on("#login-form", async (f) => {
    const s = await api("POST", "/v1/admin/sessions", { name: f.name, password: f.password });
    sessionStorage.setItem(TOKEN_KEY, s.token);
    sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(s.operator));
    say("Logged in.", true);
    showConsole(s.operator);
  });
  on("#search-form", (f) => search(f.q));
  on("#gold-form", (f) => act("POST", "/v1/admin/characters/" + current.id + "/gold", { delta: num(f.delta), reason: f.reason }, "Gold changed."));
  on("#item-form", (f) => act("POST", "/v1/admin/characters/" + current.id + "/items", { def: num(f.def), quantity: num(f.quantity), reason: f.reason }, "Item granted."));
  on("#teleport-form", (f) => act("POST", "/v1/admin/characters/" + current.id + "/teleport", { zone: num(f.zone), x: num(f.x), y: num(f.y), reason: f.reason }, "Teleported."));
  on("#kick-form", (f) => act("POST", "/v1/admin/accounts/" + current.account_id + "/kick", { reason: f.reason }, "Kicked."));
  on("#ban-form", (f) => act("POST", "/v1/admin/accounts/" + current.account_id + "/ban", { hours: num(f.hours) ?? null, reason: f.reason }, "Banned."));
  on("#unban-form", (f) => act("POST", "/v1/admin/accounts/" + current.account_id + "/unban", { reason: f.reason }, "Unbanned."));
  on("#logs-form", () => readLogs(false));
  $("#logs-more").addEventListener("click", () => readLogs(true).catch((e) => say(e.message)));
  on("#broadcast-form", async (f) => {
    const body = { text: f.text, maintenance_in_minutes: num(f.maintenance_in_minutes) ?? null };
    const r = await api("POST", "/v1/admin/broadcasts", body);
    say("Sent to " + r.receivers + " gateway(s).", true);
  });
  if (sessionStorage.getItem(TOKEN_KEY)) {
    api("GET", "/v1/admin/status")
      .then(() => showConsole(JSON.parse(sessionStorage.getItem(OPERATOR_KEY) || '{"name":"?","role":"?"}')))
      .catch(() => showLogin());
  } else {
    showLogin();
  }
});
