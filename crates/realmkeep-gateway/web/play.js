// Realmkeep's reference play page: protocol v1 (docs/PROTOCOL.md) from a browser, no build step.
// The server is the authority: this page only draws what `view` says and sends commands; every
// refusal is shown in words. This file: accounts, characters, the socket and the world's
// canvas; the panels are in items.js, market.js and social.js, the shared parts in core.js.
"use strict";

const SCALE = 6; // pixels per world unit (the view radius is 48 units)
const STEP = 4; // units walked per arrow key
const MOVE_MAX = 60; // a click farther than this walks this far (the server's bound is 64)
const RECONNECT_TRIES_MAX = 8;
const CHAT_LINES_MAX = 200;
const ANSWER_EVENT_GAP_MS = 1000; // an event this soon after an answer with its reason is that answer's

function show(section) {
  for (const s of ["auth", "characters", "game"]) $(s).hidden = s !== section;
  $("logout").hidden = section === "auth";
}

async function api(method, path, body) {
  const headers = { "content-type": "application/json" };
  if (state.token) headers.authorization = "Bearer " + state.token;
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) {
    const err = new Error(data ? words(data.error, data.message) : "HTTP " + r.status);
    err.reason = data && data.error;
    throw err;
  }
  return data;
}

// ---- accounts and characters -------------------------------------------------------------

$("register-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("register-name").value.trim();
  const password = $("register-password").value;
  try {
    await api("POST", "/v1/accounts", { name, email: $("register-email").value.trim(), password });
    await login(name, password);
  } catch (err) {
    notice("Registration refused: " + err.message);
  }
});

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await login($("login-name").value.trim(), $("login-password").value);
  } catch (err) {
    notice("Login refused: " + err.message);
  }
});

async function login(name, password) {
  const s = await api("POST", "/v1/sessions", { name, password });
  state.token = s.token;
  sessionStorage.setItem("rk_token", s.token);
  $("who").textContent = name;
  notice("");
  await characters();
}

$("logout").addEventListener("click", async () => {
  state.stopped = true;
  if (state.ws && state.ws.readyState === WebSocket.OPEN) send({ type: "logout" }, "Log out");
  try {
    await api("DELETE", "/v1/sessions");
  } catch (_) {
    // the session may have ended already
  }
  state.token = null;
  sessionStorage.removeItem("rk_token");
  $("who").textContent = "";
  show("auth");
});

async function characters() {
  let list;
  try {
    list = await api("GET", "/v1/characters");
  } catch (err) {
    if (err.reason === "unauthorized") {
      state.token = null;
      sessionStorage.removeItem("rk_token");
      show("auth");
      return;
    }
    throw err;
  }
  const ul = $("character-list");
  ul.replaceChildren();
  for (const c of list) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.textContent = "Play";
    b.id = "play-" + c.id;
    b.addEventListener("click", () => play(c.id));
    li.append(`${c.name} (${c.class}, ${c.kingdom}, level ${c.level}) `, b);
    ul.append(li);
  }
  show("characters");
}

$("create-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const c = await api("POST", "/v1/characters", {
      name: $("create-name").value.trim(),
      class: $("create-class").value,
      kingdom: $("create-kingdom").value,
    });
    notice("");
    await characters();
    await play(c.id);
  } catch (err) {
    notice("Character refused: " + err.message);
  }
});

// ---- the socket --------------------------------------------------------------------------

function wsUrl() {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/ws";
}

async function play(id) {
  state.character = id;
  state.stopped = false;
  state.reconnects = 0;
  const t = await api("POST", "/v1/tickets", { character: id });
  connect(wsUrl(), t.ticket);
}

function connect(url, ticket) {
  const ws = new WebSocket(url);
  state.ws = ws;
  state.nextId = 1;
  state.pending.clear();
  state.redirect = null;
  infoReset();
  ws.addEventListener("open", () => send({ type: "join", ticket }, "Entering the world"));
  ws.addEventListener("message", (m) => {
    const frame = JSON.parse(m.data);
    onMessage(frame.msg);
  });
  ws.addEventListener("close", (e) => onClose(ws, e.code));
}

function onClose(ws, code) {
  if (ws !== state.ws) return;
  if (code === 4007 && state.redirect) {
    // Another node serves the zone: follow, with its single-use ticket.
    const r = state.redirect;
    connect(r.url, r.ticket);
    return;
  }
  if (code === 1000 || state.stopped) {
    banner("");
    characters();
    return;
  }
  if (code === 4002) return banner("You are banned.", true);
  if (code === 4001) return banner("You logged in elsewhere.", true);
  if (code === 4005) {
    banner("Your session ended. Log in again.", true);
    show("auth");
    return;
  }
  reconnect();
}

async function reconnect() {
  if (state.reconnects >= RECONNECT_TRIES_MAX) {
    banner("Disconnected. Reload the page to try again.", true);
    return;
  }
  state.reconnects += 1;
  banner(`Reconnecting… (attempt ${state.reconnects})`);
  await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** state.reconnects, 8000)));
  try {
    const t = await api("POST", "/v1/tickets", { character: state.character });
    connect(wsUrl(), t.ticket);
  } catch (err) {
    if (err.reason === "unauthorized") {
      banner("Your session ended. Log in again.", true);
      show("auth");
      return;
    }
    reconnect();
  }
}

function onMessage(msg) {
  switch (msg.type) {
    case "welcome":
      return onWelcome(msg);
    case "view":
      return onView(msg);
    case "answer":
      return onAnswer(msg);
    case "chat":
      return chatLine(msg.channel, `${msg.name}: ${msg.text}`, msg.history);
    case "event":
      return onEvent(msg);
    case "inbox":
      if (msg.event === "kicked") return banner("You were removed from the game: " + msg.reason, true);
      if (msg.event === "mail_arrived") {
        notice("A mail arrived.");
        chatLine("system", "A mail arrived.");
      }
      return fire(on.event["inbox:" + msg.event], msg);
    case "data":
      return onData(msg.id, msg.data);
    case "announcement":
      return chatLine("system", "Announcement: " + (msg.text || msg.message || msg.name || msg.event));
    case "redirect":
      state.redirect = { url: msg.url, ticket: msg.ticket };
      return banner("Travelling to zone " + msg.zone + "…");
    case "closing":
      if (msg.code === 4002) banner("You are banned.", true);
      return;
    default:
      return;
  }
}

function onWelcome(w) {
  state.me = w;
  state.reconnects = 0;
  state.entities.clear();
  state.entities.set(w.net_id, { net_id: w.net_id, kind: "player", x: w.x, y: w.y, name: w.name, health: w.health, max_health: w.max_health });
  banner("");
  show("game");
  $("zone").textContent = w.zone;
  $("level").textContent = w.level;
  $("gold").textContent = w.gold;
  position();
  fire(on.welcome, w);
  pumpInfo();
  $("view").focus();
}

function onView(v) {
  const at = performance.now();
  for (const e of v.entered || []) state.entities.set(e.net_id, Object.assign(e, { vx: e.vx || 0, vy: e.vy || 0, at }));
  for (const [id, x, y, health, vx, vy] of v.moved || []) {
    const e = state.entities.get(id);
    if (e) Object.assign(e, { x, y, health, vx, vy, at });
  }
  for (const id of v.left || []) state.entities.delete(id);
  position();
}

function onAnswer(a) {
  const p = state.pending.get(a.id) || { label: "That" };
  const label = p.label;
  state.pending.delete(a.id);
  if (p.done) p.done(a);
  if (a.result === "ok") {
    if (p.ok) p.ok(a);
    return;
  }
  if (label === null) return;
  // The zone's own event about this refusal follows the answer: the answer's words stay.
  state.answered = { reason: a.result === "refused" ? a.reason : a.result, at: performance.now() };
  if (a.result === "refused") notice(`${label}: ${words(a.reason, a.detail)}`);
  else if (a.result === "try_again") notice(`${label}: busy, try again`);
  else if (a.result === "rate_limited") notice(`${label}: too fast, wait a moment`);
}

function onEvent(e) {
  switch (e.event) {
    case "gold_changed":
      $("gold").textContent = e.gold;
      break;
    case "level_up":
      $("level").textContent = e.level;
      chatLine("system", "Level up!");
      break;
    case "died":
      chatLine("system", "You died.");
      break;
    case "respawned":
      chatLine("system", "You are back.");
      break;
    case "denied":
      if (!justAnswered(e.reason)) notice(`${e.action}: ${words(e.reason)}`);
      break;
    case "refused":
      if (!justAnswered("game_rule")) notice(`${e.action}: ${e.detail}`);
      break;
    case "try_again":
      if (!justAnswered("try_again")) notice(`${e.action}: busy, try again`);
      break;
    case "throttled":
      notice("Too fast: some commands were dropped");
      break;
    default:
      break;
  }
  fire(on.event[e.event], e);
}

/// Whether an answer refused with `reason` just now (its event says the same, less well).
function justAnswered(reason) {
  const a = state.answered;
  return !!a && a.reason === reason && performance.now() - a.at < ANSWER_EVENT_GAP_MS;
}

function onData(id, d) {
  fire(on.data[d.kind], d);
}

// ---- chat --------------------------------------------------------------------------------

function chatLine(channel, text, history) {
  const li = document.createElement("li");
  li.className = channel + (history ? " history" : "");
  li.textContent = `[${channel}] ${text}`;
  const log = $("chat-log");
  log.append(li);
  while (log.children.length > CHAT_LINES_MAX) log.firstChild.remove();
  log.scrollTop = log.scrollHeight;
}

$("chat-channel").addEventListener("change", () => {
  $("chat-to").hidden = $("chat-channel").value !== "whisper";
});

$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("chat-text").value;
  const channel = $("chat-channel").value;
  if (channel === "whisper") send({ type: "whisper", to: Number($("chat-to").value), text }, "Whisper");
  else send({ type: "chat", channel, text }, "Chat");
  $("chat-text").value = "";
});

// Through a portal to another zone: saved and released here; a new welcome follows on this
// socket, or a redirect to the node that serves the zone, which the page follows (no reload).
$("travel-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const to = Number($("travel-zone").value);
  send({ type: "change_zone", to }, `Travel to zone ${to}`);
});

// ---- the world ---------------------------------------------------------------------------

function mine() {
  return state.me && state.entities.get(state.me.net_id);
}

// Dead reckoning: an entity is where it was last told plus its velocity times the time since
// (the server tells it again when that belief drifts, and a stop as a velocity of zero).
function here(e, now = performance.now()) {
  const t = e.at === undefined ? 0 : (now - e.at) / 1000;
  return [e.x + (e.vx || 0) * t, e.y + (e.vy || 0) * t];
}

function position() {
  const m = mine();
  if (!m) return;
  const [x, y] = here(m);
  $("pos").textContent = `${x.toFixed(1)}, ${y.toFixed(1)}`;
  $("hp").textContent = `${m.health}/${state.me.max_health}`;
}

function walkTo(x, y) {
  const m = mine();
  if (!m) return;
  const [mx, my] = here(m);
  const dx = x - mx;
  const dy = y - my;
  const d = Math.hypot(dx, dy);
  if (d > MOVE_MAX) {
    x = mx + (dx / d) * MOVE_MAX;
    y = my + (dy / d) * MOVE_MAX;
  }
  send({ type: "move_to", x, y }, "Walking");
}

const canvas = $("view");
canvas.addEventListener("click", (e) => {
  const m = mine();
  if (!m) return;
  // The canvas may be drawn smaller than its 640×480 (to fit the window): back to its pixels.
  const r = canvas.getBoundingClientRect();
  const px = ((e.clientX - r.left) * canvas.width) / r.width;
  const py = ((e.clientY - r.top) * canvas.height) / r.height;
  const [mx, my] = here(m);
  const x = mx + (px - canvas.width / 2) / SCALE;
  const y = my + (py - canvas.height / 2) / SCALE;
  for (const ent of state.entities.values()) {
    const [ex, ey] = here(ent);
    if (ent.net_id === m.net_id || Math.hypot(ex - x, ey - y) >= 1.5) continue;
    if (ent.kind === "player") {
      // Another player: the target of skills (and of an attack, where the rules allow it),
      // and the one the trade window offers to.
      state.target = ent.net_id;
      $("target").textContent = `${ent.name} (#${ent.character})`;
      $("trade-with").value = ent.character;
      return;
    }
    if (ent.kind === "monster") {
      state.target = ent.net_id;
      $("target").textContent = "monster " + ent.net_id;
      send({ type: "attack", target: ent.net_id }, "Attack");
    } else {
      send({ type: "pick_up", loot: ent.net_id }, "Pick up");
    }
    return;
  }
  walkTo(x, y);
});

canvas.addEventListener("keydown", (e) => {
  const m = mine();
  if (!m) return;
  const dirs = { ArrowUp: [0, -1], w: [0, -1], ArrowDown: [0, 1], s: [0, 1], ArrowLeft: [-1, 0], a: [-1, 0], ArrowRight: [1, 0], d: [1, 0] };
  const d = dirs[e.key];
  if (!d) return;
  e.preventDefault();
  const [mx, my] = here(m);
  walkTo(mx + d[0] * STEP, my + d[1] * STEP);
});

function draw() {
  const g = canvas.getContext("2d");
  g.fillStyle = "#24331f";
  g.fillRect(0, 0, canvas.width, canvas.height);
  const m = mine();
  const now = performance.now();
  if (m) {
    const [mx, my] = here(m, now);
    const ox = canvas.width / 2 - mx * SCALE;
    const oy = canvas.height / 2 - my * SCALE;
    g.strokeStyle = "#2c3d26";
    const grid = 8 * SCALE;
    for (let x = ((ox % grid) + grid) % grid; x < canvas.width; x += grid) g.strokeRect(x, 0, 0, canvas.height);
    for (let y = ((oy % grid) + grid) % grid; y < canvas.height; y += grid) g.strokeRect(0, y, canvas.width, 0);
    g.font = "11px system-ui";
    g.textAlign = "center";
    for (const e of state.entities.values()) {
      const [ex, ey] = here(e, now);
      const x = ox + ex * SCALE;
      const y = oy + ey * SCALE;
      const self = e.net_id === state.me.net_id;
      g.fillStyle = e.kind === "monster" ? "#d0483c" : e.kind === "loot" ? "#e8c547" : self ? "#5fd35f" : "#5f9fff";
      g.beginPath();
      g.arc(x, y, e.kind === "loot" ? 3 : 5, 0, Math.PI * 2);
      g.fill();
      if (e.net_id === state.target) {
        g.strokeStyle = "#fff";
        g.stroke();
      }
      if (e.kind === "player") {
        g.fillStyle = "#e8e6e1";
        g.fillText(e.name, x, y - 8);
      }
    }
  }
  if (m && (m.vx || m.vy)) position();
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);

if (state.token) characters().catch((err) => notice(err.message));
else show("auth");
