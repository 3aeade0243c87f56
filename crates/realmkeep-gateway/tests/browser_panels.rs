//! The play page's panels in Debian's Chromium (headless), against a real node with real
//! PostgreSQL and Redis: a market listing made in one browser is bought in the other; items are
//! equipped and stacks split from the bag panel, skills used by key and a quest abandoned; an item and gold change hands through the trade
//! window, and the two become friends from the friends panels; gold and an item sent by mail
//! from one page are claimed, read and deleted in the other. Each time the
//! database agrees with what the pages show, and no page logs an error to the console.

mod support;

use fantoccini::{Client, Locator};
use serde_json::Value;
use support::browser::*;
use support::*;

/// The listing price in the market test, and the house's cut of it (`MARKET_FEE_BPS`).
const PRICE: i64 = 100;
const FEE: i64 = PRICE * realmkeep_domain::limits::MARKET_FEE_BPS / 10_000;

async fn gold_shown(c: &Client) -> i64 {
    text(c, "gold").await.parse().unwrap()
}

async fn shows_gold(c: &Client, what: &str, gold: i64) {
    until(
        c,
        what,
        &format!("return document.getElementById('gold').textContent === '{gold}'"),
    )
    .await;
}

/// The first bag item of the page's bag (as the server last said it) that `filter` (a JS
/// expression over `i`) accepts: `{item, def, quantity, slot}`.
async fn bag_item(c: &Client, filter: &str) -> Value {
    until(
        c,
        "a bag item",
        &format!("return items.bag.find((i) => {filter}) || null"),
    )
    .await
}

fn id(v: &Value, field: &str) -> i64 {
    v[field].as_i64().unwrap()
}

/// Where item `item` is in PostgreSQL: `(character, "inventory" | "equipment")`, if held.
async fn holder(env: &Env, item: i64) -> Option<(i64, String)> {
    sqlx::query_as(
        "SELECT character_id, 'inventory' FROM inventories WHERE item_id = $1
         UNION ALL SELECT character_id, 'equipment' FROM equipment WHERE item_id = $1",
    )
    .bind(item)
    .fetch_optional(env.db.store.pool())
    .await
    .unwrap()
}

async fn click_css(c: &Client, css: &str) {
    click_at(c, Locator::Css(css)).await
}

async fn no_console_errors(d: &Driver, pages: &[&Client]) {
    for c in pages {
        assert_eq!(console_errors(d, c).await, Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_market_listing_made_in_one_browser_is_bought_in_the_other() {
    let env = Env::new().await;
    let d = driver().await;
    let a = browser(&d).await;
    let b = browser(&d).await;
    let alice = enter(&env, &a, "alice").await;
    let bobby = enter(&env, &b, "bobby").await;
    let alice_gold = env.gold(alice).await;
    let bobby_gold = gold_shown(&b).await;
    assert!(bobby_gold >= PRICE, "a new character can pay: {bobby_gold}");

    // Alice lists an item of her bag at a price.
    let wares = bag_item(&a, "true").await;
    let (item, def) = (id(&wares, "item"), id(&wares, "def"));
    click(&a, "tab-market").await;
    click_css(&a, &format!("#market-list-item option[value='{item}']")).await;
    fill(&a, "market-list-price", &PRICE.to_string()).await;
    click(&a, "market-list-submit").await;
    let listing = until(&a, "alice's listing", "return [...market.mine.keys()][0]")
        .await
        .as_i64()
        .unwrap();
    until(
        &a,
        "the item leaves alice's bag",
        &format!("return !document.getElementById('bag-item-{item}')"),
    )
    .await;
    assert_eq!(holder(&env, item).await, None, "in the market's escrow");

    // Bobby searches that item and buys it.
    click(&b, "tab-market").await;
    fill(&b, "market-item", &def.to_string()).await;
    click(&b, "market-search-submit").await;
    until(
        &b,
        "the listing in bobby's search",
        &format!("return document.getElementById('buy-{listing}')"),
    )
    .await;
    screenshot(&b, "market").await;
    click(&b, &format!("buy-{listing}")).await;
    shows_gold(&b, "bobby paid", bobby_gold - PRICE).await;
    click(&b, "tab-bag").await;
    until(
        &b,
        "the item in bobby's bag",
        &format!("return document.getElementById('bag-item-{item}')"),
    )
    .await;

    // Alice searches again: her listing is gone (sold).
    fill(&a, "market-item", &def.to_string()).await;
    click(&a, "market-search-submit").await;
    until(
        &a,
        "alice's search comes back empty",
        "return document.getElementById('market-rows').textContent.includes('nothing listed')",
    )
    .await;
    until(
        &a,
        "alice's listing is no longer hers",
        &format!("return !document.getElementById('my-listing-{listing}')"),
    )
    .await;

    // The database agrees: bobby's character holds the item, the gold moved less the fee.
    assert_eq!(
        holder(&env, item).await,
        Some((bobby, "inventory".to_string()))
    );
    assert_eq!(env.gold(bobby).await, bobby_gold - PRICE);
    assert_eq!(env.gold(alice).await, alice_gold + PRICE - FEE);
    no_console_errors(&d, &[&a, &b]).await;
    a.close().await.unwrap();
    b.close().await.unwrap();
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bag_panel_equips_and_splits_skills_go_by_key_and_a_quest_is_abandoned() {
    let env = Env::new().await;
    let d = driver().await;
    let c = browser(&d).await;
    let me = enter(&env, &c, "alice").await;
    let weapon = until(
        &c,
        "a weapon worn",
        "return items.equipment.find((w) => w.slot === 'main_hand') || null",
    )
    .await;
    let weapon = id(&weapon, "item");

    // Off, into the bag; then on again from the bag panel.
    click(&c, "unequip-main_hand").await;
    until(
        &c,
        "the weapon in the bag",
        &format!("return document.getElementById('bag-item-{weapon}')"),
    )
    .await;
    assert_eq!(
        holder(&env, weapon).await,
        Some((me, "inventory".to_string()))
    );
    click(&c, &format!("bag-item-{weapon}")).await;
    click(&c, "bag-equip").await;
    until(
        &c,
        "the weapon worn again",
        &format!("return items.equipment.some((w) => w.item === {weapon})"),
    )
    .await;
    assert_eq!(
        holder(&env, weapon).await,
        Some((me, "equipment".to_string())),
        "equipped, says the database"
    );

    // Two off a stack into a new one.
    let stack = bag_item(&c, "i.quantity > 2").await;
    let (item, def, quantity) = (
        id(&stack, "item"),
        id(&stack, "def"),
        id(&stack, "quantity"),
    );
    click(&c, &format!("bag-item-{item}")).await;
    fill(&c, "bag-split-qty", "2").await;
    click(&c, "bag-split").await;
    until(
        &c,
        "two stacks on the page",
        &format!("return items.bag.filter((i) => i.def === {def}).length === 2"),
    )
    .await;
    let mut stacks: Vec<i32> = sqlx::query_scalar(
        "SELECT i.quantity FROM inventories inv JOIN item_instances i ON i.id = inv.item_id
         WHERE inv.character_id = $1 AND i.def_id = $2",
    )
    .bind(me)
    .bind(def as i32)
    .fetch_all(env.db.store.pool())
    .await
    .unwrap();
    stacks.sort();
    assert_eq!(
        stacks,
        vec![2, quantity as i32 - 2],
        "two stacks in the database"
    );

    // The skill bar: a warrior's basic skills, by key. Second Wind (a self heal, the second
    // key) is used: its cooldown counts down from the server's `ok`; used again, the refusal
    // is shown in words.
    until(
        &c,
        "the skill bar",
        "return document.getElementById('skills').textContent.includes('Second Wind')",
    )
    .await;
    let canvas = c.find(Locator::Id("view")).await.unwrap();
    canvas.send_keys("2").await.unwrap();
    until(
        &c,
        "the cooldown counting",
        "return document.querySelector('#skill-5 .cd').textContent.trim().endsWith(' s')",
    )
    .await;
    canvas.send_keys("2").await.unwrap();
    until(
        &c,
        "the refusal in words",
        "return document.getElementById('notice').textContent === 'Second Wind: not ready yet'",
    )
    .await;
    screenshot(&c, "bag").await;

    // The quest log: a quest accepted, then abandoned; PostgreSQL has it no more.
    click(&c, "tab-quests").await;
    fill(&c, "quest-id", "1").await;
    click(&c, "quest-accept").await;
    until(
        &c,
        "the quest in the log",
        "return document.getElementById('abandon-1')",
    )
    .await;
    click(&c, "abandon-1").await;
    until(
        &c,
        "the quest gone",
        "return !document.getElementById('quest-1')",
    )
    .await;
    let quests: i64 = sqlx::query_scalar("SELECT count(*) FROM quests WHERE character_id = $1")
        .bind(me)
        .fetch_one(env.db.store.pool())
        .await
        .unwrap();
    assert_eq!(quests, 0, "abandoned in the database");
    no_console_errors(&d, &[&c]).await;
    c.close().await.unwrap();
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_changes_hands_through_the_trade_window_and_the_two_become_friends() {
    let env = Env::new().await;
    let d = driver().await;
    let a = browser(&d).await;
    let b = browser(&d).await;
    let alice = enter(&env, &a, "alice").await;
    let bobby = enter(&env, &b, "bobby").await;
    let (alice_gold, bobby_gold) = (gold_shown(&a).await, gold_shown(&b).await);
    let given = id(&bag_item(&a, "true").await, "item");

    // A first offer (5 gold for nothing), withdrawn: bobby's window drops it, in words.
    click(&a, "tab-trade").await;
    click(&b, "tab-trade").await;
    fill(&a, "trade-with", &bobby.to_string()).await;
    fill(&a, "trade-give", "5").await;
    click(&a, "trade-submit").await;
    until(
        &b,
        "the first offer reaches bobby",
        "return document.querySelector('.accept-trade')",
    )
    .await;
    until(
        &a,
        "the withdraw button",
        "return document.getElementById('trade-cancel')",
    )
    .await;
    click(&a, "trade-cancel").await;
    until(
        &b,
        "the offer withdrawn",
        "return !document.querySelector('.accept-trade') && document.getElementById('notice').textContent.includes('withdrew')",
    )
    .await;

    // Alice gives an item for 10 of bobby's gold; bobby accepts in his trade window.
    click(&a, &format!("trade-item-{given}")).await;
    fill(&a, "trade-give", "0").await;
    fill(&a, "trade-want", "10").await;
    click(&a, "trade-submit").await;
    until(
        &b,
        "the offer reaches bobby",
        "return document.querySelector('.accept-trade')",
    )
    .await;
    click_css(&b, ".accept-trade").await;
    for (c, who) in [(&a, "alice"), (&b, "bobby")] {
        until(
            c,
            &format!("{who} sees the trade done"),
            "return document.getElementById('trade-result').textContent.includes('done')",
        )
        .await;
    }
    shows_gold(&a, "alice's purse", alice_gold + 10).await;
    shows_gold(&b, "bobby's purse", bobby_gold - 10).await;
    until(
        &b,
        "the item in bobby's bag",
        &format!("return items.bag.some((i) => i.item === {given})"),
    )
    .await;
    until(
        &a,
        "the item out of alice's bag",
        &format!("return !items.bag.some((i) => i.item === {given})"),
    )
    .await;
    assert_eq!(
        holder(&env, given).await,
        Some((bobby, "inventory".to_string()))
    );
    assert_eq!(env.gold(alice).await, alice_gold + 10);
    assert_eq!(env.gold(bobby).await, bobby_gold - 10);

    // Friends, from the friends panels: alice asks, bobby reads his list and accepts; each
    // shows the other as a friend in the world.
    click(&a, "tab-friends").await;
    click(&b, "tab-friends").await;
    fill(&a, "friend-who", &bobby.to_string()).await;
    click(&a, "friend-request").await;
    let says = |who: i64, what: &str| {
        format!("const e = document.getElementById('friend-{who}'); return e && e.textContent.includes('{what}')")
    };
    until(&a, "alice asked", &says(bobby, "asked by you")).await;
    click(&b, "friends-refresh").await;
    until(&b, "bobby is asked", &says(alice, "asks to be your friend")).await;
    fill(&b, "friend-who", &alice.to_string()).await;
    click(&b, "friend-accept").await;
    until(&b, "bobby's friend", &says(alice, "friend, online")).await;
    click(&a, "friends-refresh").await;
    until(&a, "alice's friend", &says(bobby, "friend, online")).await;
    no_console_errors(&d, &[&a, &b]).await;
    a.close().await.unwrap();
    b.close().await.unwrap();
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gold_and_an_item_sent_by_mail_from_one_page_are_claimed_read_and_deleted_in_the_other() {
    let env = Env::new().await;
    let d = driver().await;
    let a = browser(&d).await;
    let b = browser(&d).await;
    let alice = enter(&env, &a, "alice").await;
    let bobby = enter(&env, &b, "bobby").await;
    let (alice_gold, bobby_gold) = (gold_shown(&a).await, gold_shown(&b).await);
    let sent = id(&bag_item(&a, "true").await, "item");

    click(&a, "tab-mail").await;
    fill(&a, "mail-to", &bobby.to_string()).await;
    fill(&a, "mail-gold", "25").await;
    fill(&a, "mail-subject", "for the road").await;
    fill(&a, "mail-body", "spend it well").await;
    click(&a, &format!("mail-item-{sent}")).await;
    click(&a, "mail-send").await;
    shows_gold(&a, "alice paid", alice_gold - 25).await;
    until(
        &a,
        "the item left alice's bag",
        &format!("return !items.bag.some((i) => i.item === {sent})"),
    )
    .await;

    // Bobby's page says a mail arrived; he opens the mailbox and claims it.
    until(
        &b,
        "the arrival notice",
        "return document.getElementById('notice').textContent.includes('mail arrived')",
    )
    .await;
    click(&b, "tab-mail").await;
    click(&b, "mail-refresh").await;
    let claim = until(
        &b,
        "the mail in bobby's mailbox",
        "const b = document.querySelector('#mail-rows button[id^=claim-]'); return b && b.id",
    )
    .await;
    assert!(text(&b, "mail-rows").await.contains("for the road"));
    click(&b, claim.as_str().unwrap()).await;
    shows_gold(&b, "bobby's purse", bobby_gold + 25).await;
    until(
        &b,
        "the item in bobby's bag",
        &format!("return items.bag.some((i) => i.item === {sent})"),
    )
    .await;
    until(
        &b,
        "the mail shown claimed",
        "return document.getElementById('mail-rows').textContent.includes('(claimed)')",
    )
    .await;
    // He reads it, then deletes it (a second click confirms); the database has it no more.
    let mail: i64 = claim.as_str().unwrap()["claim-".len()..].parse().unwrap();
    click(&b, &format!("read-{mail}")).await;
    until(
        &b,
        "the letter shown",
        "return document.getElementById('mail-letter').textContent.includes('spend it well')",
    )
    .await;
    screenshot(&b, "mail").await;
    click(&b, &format!("delete-{mail}")).await;
    click(&b, &format!("delete-confirm-{mail}")).await;
    until(
        &b,
        "the mail gone from the mailbox",
        &format!("return !document.getElementById('mail-{mail}')"),
    )
    .await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM mail WHERE id = $1")
        .bind(mail)
        .fetch_one(env.db.store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "deleted in the database");
    assert_eq!(env.gold(alice).await, alice_gold - 25);
    assert_eq!(env.gold(bobby).await, bobby_gold + 25);
    assert_eq!(
        holder(&env, sent).await,
        Some((bobby, "inventory".to_string()))
    );
    no_console_errors(&d, &[&a, &b]).await;
    a.close().await.unwrap();
    b.close().await.unwrap();
    env.stop().await;
}
