// Realmkeep's reference play page: protocol v1 (docs/PROTOCOL.md) from a browser, no build step.
// The server is the authority: this page only draws what `view` says and sends commands; every
// refusal is shown in words.
"use strict";

const SCALE = 6; // pixels per world unit (the view radius is 48 units)
const STEP = 4; // units walked per arrow key
const MOVE_MAX = 60; // a click farther than this walks this far (the server's bound is 64)
const RECONNECT_TRIES_MAX = 8;
const CHAT_LINES_MAX = 200;

const REASONS = {
  bad_credentials: "wrong account name or password",
  name_taken: "that name is taken",
  weak_password: "the password must have 10 to 128 characters and differ from the name",
  bad_name: "names have 3 to 32 letters, digits, '-' or '_'",
  too_many_characters: "this account has all the characters it may have",
  rate_limited: "too many requests, wait a moment",
  login_backoff: "too many failed logins: wait before trying again",
  banned: "this account is banned",
  unauthorized: "your session ended, log in again",
  bad_position: "too far to walk at once",
  out_of_range: "out of range",
  no_such_target: "nothing there",
  not_allowed: "not allowed",
  dead: "you are dead",
  on_cooldown: "not ready yet",
  not_enough_mana: "not enough mana",
  game_rule: "the game does not allow it",
  try_again: "busy, try again",
  not_joined: "not in the world",
  zone_elsewhere: "that zone is on another server",
  bad_text: "that text cannot be sent",
  shutting_down: "the server is stopping",
  character_online: "that character is in the world",
};

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem("rk_token"),
  account: null,
  character: null,
  ws: null,
  nextId: 1,
  pending: new Map(),
  me: null,
  entities: new Map(),
  target: null,
  redirect: null,
  reconnects: 0,
  stopped: false,
};

function words(reason, detail) {
  return REASONS[reason] || detail || reason.replace(/_/g, " ");
}

function notice(text) {
  $("notice").textContent = text || "";
}

function banner(text, bad) {
  const b = $("banner");
  b.hidden = !text;
  b.textContent = text || "";
  b.classList.toggle("bad", !!bad);
}

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

function send(cmd, label) {
  const id = state.nextId++;
  state.pending.set(id, label || cmd.type);
  state.ws.send(JSON.stringify({ v: 1, id, cmd }));
  return id;
}

function connect(url, ticket) {
  const ws = new WebSocket(url);
  state.ws = ws;
  state.nextId = 1;
  state.pending.clear();
  state.redirect = null;
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
      if (msg.event === "mail_arrived") return chatLine("system", "A mail arrived.");
      return;
    case "data":
      return onData(msg.data);
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
  bag(w.bag);
  position();
  $("view").focus();
}

function onView(v) {
  for (const e of v.entered || []) state.entities.set(e.net_id, e);
  for (const [id, x, y, health] of v.moved || []) {
    const e = state.entities.get(id);
    if (e) Object.assign(e, { x, y, health });
  }
  for (const id of v.left || []) state.entities.delete(id);
  position();
}

function onAnswer(a) {
  const label = state.pending.get(a.id) || "That";
  state.pending.delete(a.id);
  if (a.result === "ok") return;
  if (a.result === "refused") notice(`${label}: ${words(a.reason, a.detail)}`);
  else if (a.result === "try_again") notice(`${label}: busy, try again`);
  else if (a.result === "rate_limited") notice(`${label}: too fast, wait a moment`);
}

function onEvent(e) {
  switch (e.event) {
    case "gold_changed":
      $("gold").textContent = e.gold;
      return;
    case "level_up":
      $("level").textContent = e.level;
      return chatLine("system", "Level up!");
    case "died":
      return chatLine("system", "You died.");
    case "respawned":
      return chatLine("system", "You are back.");
    case "denied":
      return notice(`${e.action}: ${words(e.reason)}`);
    case "trade_offered":
      return tradeOffered(e);
    case "trade_done":
      return chatLine("system", `Trade with ${e.with} done.`);
    case "bought":
      return chatLine("system", "Bought.");
    default:
      return;
  }
}

function onData(d) {
  if (d.kind !== "market_page") return;
  const ul = $("market-rows");
  ul.replaceChildren();
  if (!d.rows.length) ul.append(Object.assign(document.createElement("li"), { textContent: "nothing listed" }));
  for (const r of d.rows) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.textContent = "Buy";
    b.addEventListener("click", () => send({ type: "buy_listing", listing: r.listing }, "Buying"));
    li.append(`#${r.listing}: item ${r.item_def} ×${r.quantity} for ${r.price} gold `, b);
    ul.append(li);
  }
}

// ---- panels ------------------------------------------------------------------------------

function chatLine(channel, text, history) {
  const li = document.createElement("li");
  li.className = channel + (history ? " history" : "");
  li.textContent = `[${channel}] ${text}`;
  const log = $("chat-log");
  log.append(li);
  while (log.children.length > CHAT_LINES_MAX) log.firstChild.remove();
  log.scrollTop = log.scrollHeight;
}

function bag(items) {
  const ul = $("bag");
  ul.replaceChildren();
  for (const i of items || []) {
    const li = document.createElement("li");
    li.textContent = `item ${i.item} (kind ${i.def}) ×${i.quantity}, slot ${i.slot}`;
    ul.append(li);
  }
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

$("market-search").addEventListener("submit", (e) => {
  e.preventDefault();
  const item = Number($("market-item").value);
  send({ type: "search_market", item_def: item, min_price: null, max_price: null, after: null, rows: 20 }, "Market search");
});

$("trade-form").addEventListener("submit", (e) => {
  e.preventDefault();
  send({
    type: "trade",
    with: Number($("trade-with").value),
    give: { items: [], gold: Number($("trade-give").value) },
    want: { items: [], gold: Number($("trade-want").value) },
  }, "Trade offer");
});

function tradeOffered(e) {
  const li = document.createElement("li");
  const b = document.createElement("button");
  b.textContent = "Accept";
  b.className = "accept-trade";
  // Accepting is offering the mirror of the offer: what they give is what I want.
  b.addEventListener("click", () => {
    send({ type: "trade", with: e.from, give: e.want, want: e.give }, "Trade");
    li.remove();
  });
  li.append(`${e.from} offers ${e.give.gold} gold and ${e.give.items.length} items for ${e.want.gold} gold and ${e.want.items.length} items `, b);
  $("trades").append(li);
}

// ---- the world ---------------------------------------------------------------------------

function mine() {
  return state.me && state.entities.get(state.me.net_id);
}

function position() {
  const m = mine();
  if (!m) return;
  $("pos").textContent = `${m.x.toFixed(1)}, ${m.y.toFixed(1)}`;
  $("hp").textContent = `${m.health}/${state.me.max_health}`;
}

function walkTo(x, y) {
  const m = mine();
  if (!m) return;
  const dx = x - m.x;
  const dy = y - m.y;
  const d = Math.hypot(dx, dy);
  if (d > MOVE_MAX) {
    x = m.x + (dx / d) * MOVE_MAX;
    y = m.y + (dy / d) * MOVE_MAX;
  }
  send({ type: "move_to", x, y }, "Walking");
}

const canvas = $("view");
canvas.addEventListener("click", (e) => {
  const m = mine();
  if (!m) return;
  const r = canvas.getBoundingClientRect();
  const x = m.x + (e.clientX - r.left - canvas.width / 2) / SCALE;
  const y = m.y + (e.clientY - r.top - canvas.height / 2) / SCALE;
  for (const ent of state.entities.values()) {
    if (ent.kind !== "player" && Math.hypot(ent.x - x, ent.y - y) < 1.5) {
      if (ent.kind === "monster") {
        state.target = ent.net_id;
        $("target").textContent = "monster " + ent.net_id;
        send({ type: "attack", target: ent.net_id }, "Attack");
      } else {
        send({ type: "pick_up", loot: ent.net_id }, "Pick up");
      }
      return;
    }
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
  walkTo(m.x + d[0] * STEP, m.y + d[1] * STEP);
});

function draw() {
  const g = canvas.getContext("2d");
  g.fillStyle = "#24331f";
  g.fillRect(0, 0, canvas.width, canvas.height);
  const m = mine();
  if (m) {
    const ox = canvas.width / 2 - m.x * SCALE;
    const oy = canvas.height / 2 - m.y * SCALE;
    g.strokeStyle = "#2c3d26";
    const grid = 8 * SCALE;
    for (let x = ((ox % grid) + grid) % grid; x < canvas.width; x += grid) g.strokeRect(x, 0, 0, canvas.height);
    for (let y = ((oy % grid) + grid) % grid; y < canvas.height; y += grid) g.strokeRect(0, y, canvas.width, 0);
    g.font = "11px system-ui";
    g.textAlign = "center";
    for (const e of state.entities.values()) {
      const x = ox + e.x * SCALE;
      const y = oy + e.y * SCALE;
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
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);

if (state.token) characters().catch((err) => notice(err.message));
else show("auth");
