// The play page's guild and friends panels (read with `guild_info` and `friend_list`, kept
// current by the server's events), quest log and leaderboards.
"use strict";

const GUILD_NEWS_MAX = 50; // lines kept in the guild panel's log

// ---- guild -------------------------------------------------------------------------------

function guildNews(text) {
  const ul = $("guild-members");
  ul.prepend(el("li", text));
  while (ul.children.length > GUILD_NEWS_MAX) ul.lastChild.remove();
}

function who() {
  const v = Number($("guild-who").value);
  if (!Number.isInteger(v) || v < 1) {
    notice("Guild: give the member's character number");
    return null;
  }
  return v;
}

function guildSend(cmd, label, done) {
  send(cmd, label, () => {
    guildNews(done);
    guildInfo();
  });
}

function guildInfo() {
  send({ type: "guild_info" }, "Guild");
}

$("guild-refresh").addEventListener("click", guildInfo);

hook("data", "guild", (d) => {
  const g = d.guild;
  $("guild-now").textContent = g ? `${g.name} (#${g.guild})` : "none";
  const ul = $("guild-roster");
  ul.replaceChildren();
  for (const m of g ? g.members : []) {
    const li = el("li", `${m.name} (#${m.character}): ${m.title || "rank " + m.rank} `, { id: "member-" + m.character });
    li.append(button("Pick", () => {
      $("guild-who").value = m.character;
      $("guild-who").focus();
    }, { title: "Fill in this member for the actions below" }));
    ul.append(li);
  }
});

$("guild-create-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = $("guild-name").value.trim();
  guildSend({ type: "guild_create", name }, "Found a guild", `You founded ${name}.`);
});

$("guild-accept-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const guild = Number($("guild-id").value);
  guildSend({ type: "guild_accept", guild }, "Join the guild", `You joined guild #${guild}.`);
});

$("guild-decline").addEventListener("click", () => {
  const guild = Number($("guild-id").value);
  if (guild > 0) guildSend({ type: "guild_decline", guild }, "Decline", `You declined guild #${guild}.`);
});

$("guild-member-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const w = who();
  if (w) guildSend({ type: "guild_invite", who: w }, "Invite", `You invited #${w}.`);
});

const memberActions = {
  "guild-kick": (w) => guildSend({ type: "guild_kick", who: w }, "Kick", `You removed #${w}.`),
  "guild-set-rank": (w) => {
    const sel = $("guild-rank");
    const rank = Number(sel.value);
    const name = sel.options[sel.selectedIndex].textContent;
    guildSend({ type: "guild_set_rank", who: w, rank }, "Promote / demote", `#${w} is now ${name}.`);
  },
  "guild-hand-over": (w) => guildSend({ type: "guild_hand_over", to: w }, "Hand over", `#${w} leads the guild.`),
};
for (const [id, act] of Object.entries(memberActions)) {
  $(id).addEventListener("click", () => {
    const w = who();
    if (w) act(w);
  });
}

$("guild-leave").addEventListener("click", () => guildSend({ type: "guild_leave" }, "Leave the guild", "You left the guild."));

$("guild-disband").addEventListener("click", () => {
  $("guild-disband-confirm").hidden = false;
  $("guild-disband-confirm").focus();
});

$("guild-disband-confirm").addEventListener("click", () => {
  $("guild-disband-confirm").hidden = true;
  guildSend({ type: "guild_disband" }, "Disband", "You disbanded the guild.");
});

hook("event", "guild_changed", () => {
  guildInfo();
  news("guild");
});

hook("event", "guild_war", (e) => {
  guildNews(e.at_war ? `At war with guild #${e.with}.` : `The war with guild #${e.with} is over.`);
  news("guild");
});

// ---- friends -----------------------------------------------------------------------------

const friends = new Map(); // character → { name, status, online } as the server last said

const FRIEND_WORDS = {
  accepted: "friend",
  requested: "asked by you",
  pending: "asks to be your friend",
  blocked: "blocked",
};

function drawFriends() {
  const ul = $("friends");
  ul.replaceChildren();
  if (!friends.size) ul.append(el("li", "no one yet"));
  for (const [id, f] of friends) {
    const online = f.online === undefined || f.online === null ? "" : f.online ? ", online" : ", offline";
    const li = el("li", `${f.name} (#${id}): ${FRIEND_WORDS[f.status] || f.status}${online} `, {
      id: "friend-" + id,
      className: f.online ? "online" : "",
    });
    li.append(button("Pick", () => {
      $("friend-who").value = id;
      $("friend-who").focus();
    }, { title: "Fill in this character for the actions above" }));
    ul.append(li);
  }
}

function friendList() {
  send({ type: "friend_list" }, "Friends");
}

$("friends-refresh").addEventListener("click", friendList);

hook("data", "friends", (d) => {
  friends.clear();
  for (const f of d.friends) friends.set(f.character, { name: f.name, status: f.status, online: f.online });
  drawFriends();
});

function friendOp(op, label) {
  const other = Number($("friend-who").value);
  if (!Number.isInteger(other) || other < 1) return notice("Friends: give the character's number");
  send({ type: "friend", other, op }, label);
}

$("friend-form").addEventListener("submit", (e) => {
  e.preventDefault();
  friendOp("request", "Friend request");
});
$("friend-accept").addEventListener("click", () => friendOp("accept", "Accept friend"));
$("friend-remove").addEventListener("click", () => friendOp("remove", "Remove friend"));
$("friend-block").addEventListener("click", () => friendOp("block", "Block"));
$("friend-unblock").addEventListener("click", () => friendOp("unblock", "Unblock"));

hook("event", "friend_changed", friendList);

hook("event", "friend_online", (e) => {
  const f = friends.get(e.friend);
  if (f) {
    f.online = e.online;
    drawFriends();
  }
  chatLine("system", `${f ? f.name : "Friend #" + e.friend} is ${e.online ? "online" : "offline"}.`);
  news("friends");
});

// ---- quests ------------------------------------------------------------------------------

const quests = new Map(); // quest → { status, progress }

function drawQuests() {
  const ul = $("quests");
  ul.replaceChildren();
  if (!quests.size) ul.append(el("li", "no quests taken"));
  for (const [id, q] of [...quests].sort((a, b) => a[0] - b[0])) {
    const li = el("li", `Quest ${id}: ${q.status.replace(/_/g, " ")}, progress ${q.progress} `, { id: "quest-" + id });
    if (q.status !== "completed") {
      li.append(
        button("Complete", () => send({ type: "complete_quest", quest: id }, "Complete quest"), { id: "complete-" + id }),
        " ",
        button("Abandon", () => send({ type: "abandon_quest", quest: id }, "Abandon quest"), { id: "abandon-" + id }),
      );
    }
    ul.append(li);
  }
}

$("quest-form").addEventListener("submit", (e) => {
  e.preventDefault();
  send({ type: "accept_quest", quest: Number($("quest-id").value) }, "Accept quest");
});
$("quest-complete").addEventListener("click", () => {
  send({ type: "complete_quest", quest: Number($("quest-id").value) }, "Complete quest");
});

hook("event", "quest_accepted", (e) => {
  quests.set(e.quest, { status: "active", progress: 0 });
  drawQuests();
});
hook("event", "quest_progress", (e) => {
  const q = quests.get(e.quest) || { status: "active" };
  q.progress = e.progress;
  quests.set(e.quest, q);
  drawQuests();
  news("quests");
});
hook("event", "quest_abandoned", (e) => {
  quests.delete(e.quest);
  drawQuests();
  chatLine("system", `Quest ${e.quest} abandoned.`);
});
hook("event", "quest_completed", (e) => {
  const q = quests.get(e.quest) || { progress: 0 };
  q.status = "completed";
  quests.set(e.quest, q);
  drawQuests();
  chatLine("system", `Quest ${e.quest} completed.`);
});

// ---- leaderboards ------------------------------------------------------------------------

function leaderboard(board) {
  send({ type: "leaderboard", board, top: LEADERBOARD_TOP }, "Leaderboard");
}

$("rank-level").addEventListener("click", () => leaderboard("level"));
$("rank-pvp").addEventListener("click", () => leaderboard("pvp"));

function characterName(id) {
  if (state.me && id === state.me.character) return state.me.name + " (you)";
  for (const e of state.entities.values()) if (e.kind === "player" && e.character === id) return e.name;
  return "#" + id;
}

hook("data", "leaderboard", (d) => {
  $("rank-title").textContent = d.board === "pvp" ? `PvP: the top ${LEADERBOARD_TOP}` : `Levels: the top ${LEADERBOARD_TOP}`;
  const ol = $("rank-rows");
  ol.replaceChildren();
  if (!d.top.length) ol.append(el("li", "no one ranked yet"));
  for (const r of d.top) ol.append(el("li", `${r.rank}. ${characterName(r.character)}: ${r.score}`));
  $("rank-me").textContent = d.me ? `You: rank ${d.me.rank}, ${d.me.score}` : "You are not ranked yet.";
});

// ---- wiring ------------------------------------------------------------------------------

on.welcome.push((w) => {
  quests.clear();
  for (const q of w.quests) quests.set(q.quest, { status: q.status, progress: q.progress });
  drawQuests();
  guildInfo();
  friendList();
});
