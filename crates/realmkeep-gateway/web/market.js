// The play page's marketplace (search by item and price, paged; list an item from the bag;
// buy; cancel one's own listing) and mail (the mailbox, reading, claiming attachments, deleting,
// sending gold and items; an arrival is announced).
"use strict";

// ---- marketplace -------------------------------------------------------------------------

const market = {
  query: null, // the search the page shows: { item_def, min_price, max_price }
  after: null, // the shown page's cursor (null: the first page)
  next: null, // the next page's cursor, if any
  pending: null, // the cursor of the page asked for
  mine: new Map(), // listing → { item, def, quantity, price } listed from this page
};

function optionalNumber(id) {
  const v = $(id).value.trim();
  return v === "" ? null : Number(v);
}

function searchMarket(after) {
  market.pending = after;
  send(Object.assign({ type: "search_market", after, rows: MARKET_PAGE_ROWS }, market.query), "Market search");
}

$("market-search").addEventListener("submit", (e) => {
  e.preventDefault();
  market.query = {
    item_def: optionalNumber("market-item"),
    min_price: optionalNumber("market-min"),
    max_price: optionalNumber("market-max"),
  };
  searchMarket(null);
});

$("market-next").addEventListener("click", () => market.next && searchMarket(market.next));
$("market-first").addEventListener("click", () => market.query && searchMarket(null));

function cancelListing(listing) {
  send({ type: "cancel_listing", listing }, "Cancel listing");
}

hook("data", "market_page", (d) => {
  market.after = market.pending;
  market.next = d.next;
  $("market-next").disabled = !d.next;
  $("market-first").disabled = market.after === null;
  const ul = $("market-rows");
  ul.replaceChildren();
  if (!d.rows.length) ul.append(el("li", "nothing listed"));
  const me = state.me && state.me.character;
  for (const r of d.rows) {
    const li = el("li", `#${r.listing}: ${itemName(r.item_def)} ×${r.quantity} for ${r.price} gold `, { id: "listing-" + r.listing });
    if (r.seller === me) {
      li.append("(yours) ", button("Cancel", () => cancelListing(r.listing), { id: "cancel-listing-" + r.listing }));
    } else {
      li.append(button("Buy", () => send({ type: "buy_listing", listing: r.listing }, "Buying"), { id: "buy-" + r.listing, className: "buy" }));
    }
    ul.append(li);
  }
  // A whole unfiltered result of one item, without one of my listings of it: that one is
  // sold or expired.
  const q = market.query || {};
  if (q.item_def !== null && q.min_price === null && q.max_price === null && market.after === null && !d.next) {
    for (const [listing, l] of market.mine) {
      if (l.def === q.item_def && !d.rows.some((r) => r.listing === listing)) {
        market.mine.delete(listing);
        chatLine("system", `Your listing #${listing} (${itemName(l.def)}) is gone: sold or expired.`);
      }
    }
    drawMyListings();
  }
});

function drawListItems() {
  const sel = $("market-list-item");
  const was = Number(sel.value);
  sel.replaceChildren();
  for (const i of items.bag) {
    sel.append(el("option", `${describe(i)} (slot ${i.slot})`, { value: i.item, selected: i.item === was }));
  }
}

$("market-list-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const item = Number($("market-list-item").value);
  const price = Number($("market-list-price").value);
  const i = bagItem(item);
  if (!i) return notice("List: pick an item from the bag");
  if (!Number.isInteger(price) || price < 1) return notice("List: the price is a whole number of gold, 1 or more");
  market.listing = { item, def: i.def, quantity: i.quantity, price };
  send({ type: "list_item", item, price, hours: LISTING_HOURS }, "List");
});

function drawMyListings() {
  const ul = $("my-listings");
  ul.replaceChildren();
  if (!market.mine.size) ul.append(el("li", "none from this page"));
  for (const [listing, l] of market.mine) {
    const li = el("li", `#${listing}: ${itemName(l.def)} ×${l.quantity} for ${l.price} gold `, { id: "my-listing-" + listing });
    li.append(button("Cancel", () => cancelListing(listing), { id: "cancel-mine-" + listing }));
    ul.append(li);
  }
}

hook("event", "listed", (e) => {
  const l = market.listing && market.listing.item === e.item ? market.listing : { def: 0, quantity: 1, price: 0 };
  market.mine.set(e.listing, l);
  market.listing = null;
  drawMyListings();
  chatLine("system", `Listed #${e.listing}.`);
});

hook("event", "listing_cancelled", (e) => {
  market.mine.delete(e.listing);
  const row = $("listing-" + e.listing);
  if (row) row.remove();
  drawMyListings();
  chatLine("system", `Listing #${e.listing} cancelled: the item is back in your bag.`);
});

hook("event", "bought", (e) => {
  const row = $("listing-" + e.listing);
  if (row) row.remove();
  chatLine("system", `Bought ${itemName(e.item_def)} ×${e.quantity} for ${e.price} gold.`);
});

// ---- mail --------------------------------------------------------------------------------

const mail = { listed: false };

function listMail() {
  send({ type: "list_mail" }, "Mailbox", () => {
    mail.listed = true;
  });
}

$("mail-refresh").addEventListener("click", listMail);

hook("data", "mailbox", (d) => {
  const ul = $("mail-rows");
  ul.replaceChildren();
  if (!d.mails.length) ul.append(el("li", "the mailbox is empty"));
  for (const m of d.mails) {
    const from = m.from === null ? "the game" : "#" + m.from;
    const what = [m.gold ? `${m.gold} gold` : "", m.items ? `${m.items} item(s)` : ""].filter(Boolean).join(" and ");
    const li = el("li", `From ${from}: “${m.subject}”${what ? " with " + what : ""}${m.claimed ? " (claimed)" : ""} `, {
      id: "mail-" + m.mail,
      className: m.read ? "read" : "unread",
    });
    li.append(button("Read", () => send({ type: "read_mail", mail: m.mail }, "Read"), { id: "read-" + m.mail }), " ");
    if (!m.claimed && (m.gold || m.items)) {
      li.append(button("Claim", () => send({ type: "claim_mail", mail: m.mail }, "Claim"), { id: "claim-" + m.mail }));
    } else {
      // Deleting needs a second click: a confirm that keeps the keyboard's place.
      const sure = button("Really delete", () => send({ type: "delete_mail", mail: m.mail }, "Delete"), {
        id: "delete-confirm-" + m.mail,
        className: "danger",
        hidden: true,
      });
      li.append(button("Delete…", () => {
        sure.hidden = false;
        sure.focus();
      }, { id: "delete-" + m.mail }), " ", sure);
    }
    ul.append(li);
  }
});

$("mail-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const attached = checkedItems("mail-items");
  if (attached.length > MAIL_ITEMS_MAX) return notice(`Mail: at most ${MAIL_ITEMS_MAX} items`);
  const cmd = {
    type: "send_mail",
    to: Number($("mail-to").value),
    subject: $("mail-subject").value,
    body: $("mail-body").value,
    gold: Number($("mail-gold").value) || 0,
    items: attached,
  };
  send(cmd, "Mail", () => {
    $("mail-subject").value = "";
    $("mail-body").value = "";
    $("mail-gold").value = "0";
    for (const c of $("mail-items").querySelectorAll("input")) c.checked = false;
  });
});

hook("data", "mail", (m) => {
  const box = $("mail-letter");
  box.hidden = false;
  box.replaceChildren(
    el("h3", m.subject),
    el("p", `From ${m.from === null ? "the game" : "#" + m.from}` +
      (m.claimed ? ", claimed" : m.gold || m.items ? `, with ${m.gold} gold and ${m.items} item(s) to claim` : "")),
    el("p", m.body || "(no message)", { className: "body" }),
  );
  const row = $("mail-" + m.mail);
  if (row) row.className = "read";
});

hook("event", "mail_deleted", (e) => {
  const row = $("mail-" + e.mail);
  if (row) row.remove();
  chatLine("system", `Mail #${e.mail} deleted.`);
});

hook("event", "mail_sent", (e) => chatLine("system", `Mail #${e.mail} sent.`));

hook("event", "mail_claimed", (e) => {
  chatLine("system", `Claimed mail #${e.mail}: ${e.gold} gold and ${e.items} item(s).`);
  if (mail.listed) listMail();
});

hook("event", "inbox:mail_arrived", () => {
  news("mail");
  if (mail.listed) listMail();
});

// ---- wiring ------------------------------------------------------------------------------

hook("event", "bag-drawn", drawListItems);
on.welcome.push(() => {
  drawMyListings();
});
