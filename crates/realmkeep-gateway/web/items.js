// The play page's skill bar, bag and equipment, and trade window. What the page shows of the
// bag is always the server's: the welcome's, then each `items` event's (sent after every
// committed action that changed the bag).
"use strict";

const items = {
  bag: [], // [{ item, def, quantity, slot }] as the server last said
  equipment: [], // [{ item, def, slot }]
  selected: null, // the bag item the actions apply to
};

function bagItem(id) {
  return items.bag.find((i) => i.item === id);
}

function describe(i) {
  return `${itemName(i.def)}${i.quantity > 1 ? " ×" + i.quantity : ""}`;
}

function firstFreeSlot() {
  const taken = new Set(items.bag.map((i) => i.slot));
  for (let s = 0; s < BAG_SLOTS; s++) if (!taken.has(s)) return s;
  return null;
}

// ---- skills ------------------------------------------------------------------------------

const skills = { learned: [], list: [], readyAt: new Map() }; // readyAt: skill → when its cooldown ends (ms)

/// The skills the player may use: those learned, and the basic ones of its class (or of no
/// class) at its level, as the zone allows them.
function usableSkills() {
  const me = state.me;
  const usable = new Map(skills.learned.map((s) => [s.skill, s]));
  for (const [id, d] of defs.skill) {
    if (!d || usable.has(id)) continue;
    const mine = !d.class || d.class === me.class;
    if (mine && (d.level_req || 1) <= Number($("level").textContent)) usable.set(id, { skill: id, level: 1 });
  }
  return [...usable.values()].sort((a, b) => a.skill - b.skill);
}

function drawSkills() {
  if (!state.me) return;
  skills.list = usableSkills();
  const bar = $("skills");
  bar.replaceChildren();
  skills.list.slice(0, SKILL_KEYS_MAX).forEach((s, i) => {
    const d = skillDef(s.skill);
    const b = button("", () => useSkill(s.skill), { id: "skill-" + s.skill, className: "skill" });
    b.append(el("kbd", String(i + 1)), " ", d ? d.name : "skill " + s.skill, el("span", "", { className: "cd" }));
    bar.append(b);
  });
  tickCooldowns();
}

function tickCooldowns() {
  const now = performance.now();
  for (const s of skills.list.slice(0, SKILL_KEYS_MAX)) {
    const b = $("skill-" + s.skill);
    if (!b) continue;
    const left = (skills.readyAt.get(s.skill) || 0) - now;
    b.querySelector(".cd").textContent = left > 0 ? ` ${(left / 1000).toFixed(1)} s` : "";
    b.classList.toggle("cooling", left > 0);
  }
}
setInterval(tickCooldowns, 100);

function useSkill(skill) {
  const d = skillDef(skill);
  // Healing and self skills (range 0) need no target.
  const target = d && d.range === 0 ? null : state.target;
  send({ type: "use_skill", skill, target }, d ? d.name : "Skill", () => {
    // The server said ok: the cooldown runs from now, as long as its definition says.
    const def = skillDef(skill);
    if (def && def.cooldown_ms) skills.readyAt.set(skill, performance.now() + def.cooldown_ms);
    tickCooldowns();
  });
}

document.addEventListener("keydown", (e) => {
  if ($("game").hidden || e.ctrlKey || e.altKey || e.metaKey) return;
  if (e.target.closest && e.target.closest("input, select, textarea")) return;
  const n = Number(e.key);
  if (!Number.isInteger(n) || n < 1 || n > SKILL_KEYS_MAX) return;
  const s = skills.list[n - 1];
  if (!s) return;
  e.preventDefault();
  useSkill(s.skill);
});

// ---- bag and equipment -------------------------------------------------------------------

function setItems(bag, equipment) {
  items.bag = [...bag].sort((a, b) => a.slot - b.slot);
  items.equipment = equipment;
  if (items.selected !== null && !bagItem(items.selected)) items.selected = null;
  drawItems();
}

function drawItems() {
  const eq = $("equipment");
  eq.replaceChildren();
  if (!items.equipment.length) eq.append(el("li", "nothing worn"));
  for (const w of items.equipment) {
    const li = el("li", `${w.slot.replace("_", " ")}: ${itemName(w.def)} `, { id: "worn-" + w.slot });
    li.append(button("Unequip", () => send({ type: "unequip", slot: w.slot, to: null }, "Unequip"), { id: "unequip-" + w.slot }));
    eq.append(li);
  }
  const ul = $("bag");
  ul.replaceChildren();
  $("bag-count").textContent = `(${items.bag.length}/${BAG_SLOTS})`;
  for (const i of items.bag) {
    const b = button(`${i.slot}: ${describe(i)}`, () => select(i.item), {
      id: "bag-item-" + i.item,
      className: "pick",
    });
    b.setAttribute("aria-pressed", i.item === items.selected ? "true" : "false");
    b.dataset.def = i.def;
    ul.append(el("li", null, {}).appendChild(b).parentNode);
  }
  drawSelected();
  drawChecks("trade-items", "trade-item-");
  drawChecks("mail-items", "mail-item-");
  fire(on.event["bag-drawn"]);
}

function drawChecks(listId, prefix) {
  const ul = $(listId);
  const checked = new Set([...ul.querySelectorAll("input:checked")].map((c) => Number(c.value)));
  ul.replaceChildren();
  for (const i of items.bag) {
    const c = el("input", null, { type: "checkbox", id: prefix + i.item, value: i.item, checked: checked.has(i.item) });
    const l = el("label", null, { className: "check" });
    l.append(c, ` ${describe(i)}`);
    ul.append(el("li").appendChild(l).parentNode);
  }
}

function checkedItems(listId) {
  return [...$(listId).querySelectorAll("input:checked")].map((c) => Number(c.value));
}

function select(id) {
  items.selected = items.selected === id ? null : id;
  for (const b of $("bag").querySelectorAll("button.pick")) {
    b.setAttribute("aria-pressed", b.id === "bag-item-" + items.selected ? "true" : "false");
  }
  drawSelected();
}

function drawSelected() {
  const i = items.selected === null ? null : bagItem(items.selected);
  $("bag-actions").hidden = !i;
  $("bag-destroy-confirm").hidden = true;
  if (!i) return;
  const d = defs.item.get(i.def);
  $("bag-selected").textContent = `${describe(i)} in slot ${i.slot} (item ${i.item})`;
  $("bag-equip").disabled = !!d && !d.equip_slot;
  $("bag-split").disabled = i.quantity < 2;
  $("bag-split-qty").max = Math.max(1, i.quantity - 1);
  $("bag-merge").disabled = !items.bag.some((o) => o.def === i.def && o.item !== i.item);
}

function selectedItem() {
  return items.selected === null ? null : bagItem(items.selected);
}

$("bag-equip").addEventListener("click", () => {
  const i = selectedItem();
  if (i) send({ type: "equip", item: i.item }, "Equip");
});

$("bag-move").addEventListener("click", () => {
  const i = selectedItem();
  const slot = Number($("bag-move-slot").value);
  if (!i) return;
  if ($("bag-move-slot").value === "" || !Number.isInteger(slot) || slot < 0 || slot >= BAG_SLOTS) {
    return notice(`Move: the bag's slots are 0 to ${BAG_SLOTS - 1}`);
  }
  send({ type: "move_item", item: i.item, slot }, "Move");
});

$("bag-split").addEventListener("click", () => {
  const i = selectedItem();
  if (!i) return;
  const quantity = Number($("bag-split-qty").value);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity >= i.quantity) {
    return notice(`Split: take 1 to ${i.quantity - 1} off this stack`);
  }
  const slot = firstFreeSlot();
  if (slot === null) return notice("Split: the bag is full");
  send({ type: "split_stack", item: i.item, quantity, slot }, "Split");
});

$("bag-merge").addEventListener("click", () => {
  const i = selectedItem();
  const onto = i && items.bag.find((o) => o.def === i.def && o.item !== i.item);
  if (onto) send({ type: "merge_stacks", from: i.item, onto: onto.item }, "Merge");
});

$("bag-destroy").addEventListener("click", () => {
  if (!selectedItem()) return;
  $("bag-destroy-confirm").hidden = false;
  $("bag-destroy-confirm").focus();
});

$("bag-destroy-confirm").addEventListener("click", () => {
  const i = selectedItem();
  $("bag-destroy-confirm").hidden = true;
  if (i) send({ type: "destroy_item", item: i.item }, "Destroy");
});

// ---- trade -------------------------------------------------------------------------------

function offerText(o) {
  const parts = [];
  if (o.gold) parts.push(`${o.gold} gold`);
  for (const id of o.items) {
    const mineItem = bagItem(id);
    parts.push(mineItem ? describe(mineItem) : `item #${id}`);
  }
  return parts.length ? parts.join(", ") : "nothing";
}

function numbers(text) {
  return text
    .split(/[ ,]+/)
    .filter((t) => t !== "")
    .map(Number);
}

$("trade-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const give = { items: checkedItems("trade-items"), gold: Number($("trade-give").value) || 0 };
  const wantItems = numbers($("trade-want-items").value);
  if (wantItems.some((n) => !Number.isInteger(n) || n < 1)) return notice("Trade: want items are item numbers, e.g. 12, 14");
  if (give.items.length > TRADE_ITEMS_MAX || wantItems.length > TRADE_ITEMS_MAX) {
    return notice(`Trade: at most ${TRADE_ITEMS_MAX} items a side`);
  }
  const want = { items: wantItems, gold: Number($("trade-want").value) || 0 };
  const withId = Number($("trade-with").value);
  send({ type: "trade", with: withId, give, want }, "Trade offer", () => {
    const p = $("trade-mine");
    p.textContent = `You offer #${withId} ${offerText(give)} for ${offerText(want)}; it stands 30 s, until they offer the mirror (a new offer replaces it). `;
    p.append(button("Withdraw", () => {
      send({ type: "trade_cancel", with: withId }, "Withdraw the offer", () => {
        p.textContent = `You withdrew your offer to #${withId}.`;
      });
    }, { id: "trade-cancel" }));
  });
});

hook("event", "trade_offered", (e) => {
  for (const old of $("trades").querySelectorAll(`li[data-from="${e.from}"]`)) old.remove(); // replaced
  const li = el("li", `#${e.from} offers ${offerText(e.give)} for ${offerText(e.want)} `);
  li.dataset.from = e.from;
  // Accepting is offering the mirror of the offer: what they give is what I want.
  li.append(
    button("Accept", () => {
      send({ type: "trade", with: e.from, give: e.want, want: e.give }, "Trade");
      li.remove();
    }, { className: "accept-trade" }),
    " ",
    button("Change…", () => {
      // A counter-offer: the form holds the mirror, to be changed and sent.
      $("trade-with").value = e.from;
      $("trade-give").value = e.want.gold;
      $("trade-want").value = e.give.gold;
      $("trade-want-items").value = e.give.items.join(", ");
      for (const c of $("trade-items").querySelectorAll("input")) c.checked = e.want.items.includes(Number(c.value));
      li.remove();
      $("trade-give").focus();
    }, { className: "change-trade" }),
    " ",
    button("Decline", () => li.remove(), { className: "decline-trade" }),
  );
  $("trades").append(li);
  news("trade");
  notice(`#${e.from} offers you a trade (Trade tab).`);
});

hook("event", "trade_cancelled", (e) => {
  for (const li of $("trades").querySelectorAll(`li[data-from="${e.from}"]`)) li.remove();
  notice(`#${e.from} withdrew their trade offer.`);
});

hook("event", "trade_done", (e) => {
  $("trade-mine").textContent = "";
  $("trade-result").textContent = `Trade with #${e.with} done (reference ${e.trade}).`;
  chatLine("system", `Trade with #${e.with} done.`);
  for (const c of $("trade-items").querySelectorAll("input")) c.checked = false;
  $("trade-want-items").value = "";
  news("trade");
});

// ---- wiring ------------------------------------------------------------------------------

hook("event", "items", (e) => setItems(e.bag, e.equipment));
on.welcome.push((w) => {
  skills.learned = w.skills;
  for (let id = 1; id <= SKILL_IDS_ASKED_MAX; id++) askInfo("skill", id);
  setItems(w.bag, w.equipment);
  drawSkills();
});
hook("event", "level_up", drawSkills);
redraws.add(() => {
  // A name arrived: draw again, keeping the keyboard's place.
  const focused = document.activeElement && document.activeElement.id;
  drawItems();
  drawSkills();
  if (focused && $(focused) && document.activeElement !== $(focused)) $(focused).focus();
});
