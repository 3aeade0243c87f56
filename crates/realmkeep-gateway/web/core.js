// Realmkeep's reference play page, shared by its scripts (loaded first): the page's state, the
// words for every reason code, the socket's send with per-request callbacks, the hooks the
// panels register on, the definitions' names cache, and the aside's tabs. Plain JavaScript,
// no build step; the scripts share the page's global scope, in the order index.html loads them.
"use strict";

// Every limit the page keeps, named.
const SKILL_KEYS_MAX = 9; // keys 1–9 use the skill bar's first nine skills
// Skill ids asked about at entry: the welcome lists learned skills only, and a class's basic
// skills are usable unlearned; the protocol has no list of skills, so the page asks for these.
const SKILL_IDS_ASKED_MAX = 16;
const INFO_IN_FLIGHT_MAX = 8; // definition questions waiting for an answer at once (the server allows 32 commands)
const INFO_QUEUE_MAX = 256; // definitions waiting to be asked for
const MARKET_PAGE_ROWS = 20; // rows per market page (the server's bound is 100)
const LISTING_HOURS = 24; // how long a listing stands (the server allows 1–168)
const LEADERBOARD_TOP = 10; // rows of a leaderboard (the top N)
const TRADE_ITEMS_MAX = 8; // items per side of a trade offer (the zone's TRADE_ITEMS_PER_SIDE_MAX)
const MAIL_ITEMS_MAX = 8; // attachments per mail (the server's MAIL_ATTACHMENTS_MAX)
const BAG_SLOTS = 60; // bag slots 0–59

const REASONS = {
  bad_credentials: "wrong account name or password",
  name_taken: "that name is taken",
  weak_password: "the password must have 10 to 128 characters and differ from the name",
  bad_name: "names have 3 to 32 letters, digits, '-' or '_'",
  bad_fields: "the request was not understood",
  too_many_characters: "this account has all the characters it may have",
  no_such_character: "no such character",
  rate_limited: "too many requests, wait a moment",
  login_backoff: "too many failed logins: wait before trying again",
  banned: "this account is banned",
  unauthorized: "your session ended, log in again",
  bad_ticket: "the entry ticket expired, try again",
  bad_position: "too far to walk at once",
  out_of_range: "out of range",
  no_such_target: "nothing there",
  not_allowed: "not allowed",
  dead: "you are dead",
  on_cooldown: "not ready yet",
  not_enough_mana: "not enough mana",
  reserved: "someone else is already doing that",
  invalid: "that cannot be done this way",
  blocked: "they do not accept that from you",
  game_rule: "the game does not allow it",
  try_again: "busy, try again",
  not_joined: "not in the world",
  zone_elsewhere: "that zone is on another server",
  bad_text: "that text cannot be sent",
  shutting_down: "the server is stopping",
  character_online: "that character is in the world",
  internal: "the server failed; nothing changed",
};

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem("rk_token"),
  character: null,
  ws: null,
  nextId: 1,
  pending: new Map(), // request id → { label, ok, done }
  me: null,
  entities: new Map(),
  target: null,
  redirect: null,
  reconnects: 0,
  stopped: false,
  answered: null, // the last refusal answered: { reason, at }
};

function words(reason, detail) {
  const w = REASONS[reason] || (reason ? reason.replace(/_/g, " ") : "refused");
  return detail && reason !== "bad_position" ? `${w} (${detail})` : w;
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

/// An element with text and properties: `el("li", "text")`, `el("button", "Buy", { id })`.
function el(tag, text, props) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  return Object.assign(e, props || {});
}

function button(text, onClick, props) {
  const b = el("button", text, Object.assign({ type: "button" }, props || {}));
  b.addEventListener("click", onClick);
  return b;
}

/// Sends a command; `ok` runs when the server answers `ok` (a refusal is shown in words, but
/// for a `label` of null: the page's own questions), `done` on any answer.
function send(cmd, label, ok, done) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
    if (label !== null) notice(`${label || cmd.type}: not connected`);
    return 0;
  }
  const id = state.nextId++;
  state.pending.set(id, { label: label === null ? null : label || cmd.type, ok, done });
  state.ws.send(JSON.stringify({ v: 1, id, cmd }));
  return id;
}

/// What the panels listen to: `on.event.items.push(fn)`, `on.data.mailbox.push(fn)`,
/// `on.welcome.push(fn)`.
const on = { welcome: [], event: {}, data: {} };

function hook(kind, name, fn) {
  const table = on[kind];
  (table[name] = table[name] || []).push(fn);
}

function fire(list, arg) {
  for (const fn of list || []) fn(arg);
}

// ---- definitions' names ------------------------------------------------------------------

const defs = { item: new Map(), skill: new Map() }; // id → definition (null while asked)
const infoQueue = [];
let infoInFlight = 0;
const redraws = new Set(); // panels to draw again when a definition arrives

function askInfo(kind, id) {
  if (defs[kind].has(id) || infoQueue.length >= INFO_QUEUE_MAX) return;
  defs[kind].set(id, null);
  infoQueue.push([kind, id]);
  pumpInfo();
}

function pumpInfo() {
  while (infoInFlight < INFO_IN_FLIGHT_MAX && infoQueue.length && state.ws && state.ws.readyState === WebSocket.OPEN) {
    const [kind, id] = infoQueue.shift();
    infoInFlight += 1;
    const cmd = kind === "item" ? { type: "item_info", item_def: id } : { type: "skill_info", skill: id };
    if (!send(cmd, null, null, infoAnswered)) infoInFlight -= 1;
  }
}

/// A new connection: questions lost with the old one are asked again.
function infoReset() {
  infoInFlight = 0;
  infoQueue.length = 0;
  for (const kind of ["item", "skill"]) {
    for (const [id, d] of defs[kind]) if (!d) defs[kind].delete(id);
  }
}

function infoAnswered() {
  if (infoInFlight > 0) infoInFlight -= 1;
  pumpInfo();
}

function itemName(def) {
  const d = defs.item.get(def);
  if (d) return d.name;
  askInfo("item", def);
  return "item " + def;
}

function skillDef(skill) {
  const d = defs.skill.get(skill);
  if (!d) askInfo("skill", skill);
  return d;
}

let redrawing = false;

/// Draws the panels again once for all the names that arrived in this frame.
function redrawSoon() {
  if (redrawing) return;
  redrawing = true;
  requestAnimationFrame(() => {
    redrawing = false;
    for (const fn of redraws) fn();
  });
}

hook("data", "item_info", (d) => {
  defs.item.set(d.item_def, d.definition);
  redrawSoon();
});
hook("data", "skill_info", (d) => {
  defs.skill.set(d.skill, d.definition);
  redrawSoon();
});

// ---- the aside's tabs --------------------------------------------------------------------

function openTab(name) {
  for (const t of document.querySelectorAll("#tabs [role=tab]")) {
    const selected = t.dataset.tab === name;
    t.setAttribute("aria-selected", selected ? "true" : "false");
    t.tabIndex = selected ? 0 : -1;
    if (selected) t.classList.remove("news");
    $("panel-" + t.dataset.tab).hidden = !selected;
  }
}

/// Marks a tab that has something new while another is open.
function news(name) {
  const t = $("tab-" + name);
  if (t && t.getAttribute("aria-selected") !== "true") t.classList.add("news");
}

$("tabs").addEventListener("click", (e) => {
  const t = e.target.closest("[role=tab]");
  if (t) openTab(t.dataset.tab);
});

$("tabs").addEventListener("keydown", (e) => {
  if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
  const tabs = [...document.querySelectorAll("#tabs [role=tab]")];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  const next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
  openTab(next.dataset.tab);
  next.focus();
  e.preventDefault();
});
