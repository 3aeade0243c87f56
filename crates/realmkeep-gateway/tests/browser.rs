//! The play page at `/`, in Debian's Chromium (headless) driven through ChromeDriver, against a
//! real node with real PostgreSQL and Redis: a player registers, creates a character, enters
//! and walks, and the position the page shows is the one saved; two browsers see each other,
//! chat and trade. No page logs an error to the browser console. Screenshots go to the test's
//! temporary directory (and to `docs/screenshots/` with `REALMKEEP_UPDATE_SCREENSHOTS=1`).

mod support;

use fantoccini::{Client, Locator};
use std::time::{Duration, Instant};
use support::browser::*;
use support::*;

fn shown(pos: &str) -> (f32, f32) {
    let (x, y) = pos.split_once(", ").unwrap();
    (x.parse().unwrap(), y.parse().unwrap())
}

async fn saved(env: &Env, c: i64) -> (f32, f32) {
    sqlx::query_as("SELECT x, y FROM character_positions WHERE character_id = $1")
        .bind(c)
        .fetch_one(env.db.store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_enters_from_the_page_walks_and_the_saved_position_is_the_shown_one() {
    let env = Env::new().await;
    let d = driver().await;
    let c = browser(&d).await;
    c.goto(&env.gateway.base_url()).await.unwrap();
    screenshot(&c, "login").await;
    // A refusal is shown in words.
    fill(&c, "login-name", "nobody").await;
    fill(&c, "login-password", "not the password").await;
    click(&c, "login-submit").await;
    until(
        &c,
        "the refusal",
        "return document.getElementById('notice').textContent",
    )
    .await;
    assert!(text(&c, "notice")
        .await
        .contains("wrong account name or password"));

    let id = enter(&env, &c, "alice").await;
    let start = shown(&text(&c, "pos").await);
    // Two steps east with the keyboard (4 units each), on the focused canvas.
    let canvas = c.find(Locator::Id("view")).await.unwrap();
    // Each step is taken from where she stands, so the second key waits until the first step
    // has arrived on the page (a key pressed mid-walk would step from a point short of it).
    for east in [4.0_f32, 8.0] {
        canvas.send_keys("\u{E014}").await.unwrap();
        let pressed = Instant::now();
        while shown(&text(&c, "pos").await).0 < start.0 + east - 0.3 {
            assert!(
                pressed.elapsed() < WAIT,
                "the step to +{east} from {start:?} never arrived"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Once she stands (the zone saves every second here), the saved position is the shown one.
    let started = Instant::now();
    loop {
        let now = shown(&text(&c, "pos").await);
        let db = saved(&env, id).await;
        if now.0 >= start.0 + 7.5 && (db.0 - now.0).abs() < 0.11 && (db.1 - now.1).abs() < 0.11 {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "from {start:?}: saved {db:?}, shown {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    screenshot(&c, "play").await;
    // The one entry: Chromium's own line for the refused login's 401 (the page showed it in
    // words); nothing from the page.
    let errors = console_errors(&d, &c).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("/v1/sessions") && errors[0].contains("401"),
        "{errors:?}"
    );
    c.close().await.unwrap();
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_see_each_other_chat_and_trade() {
    let env = Env::new().await;
    let d = driver().await;
    let a = browser(&d).await;
    let b = browser(&d).await;
    let alice = enter(&env, &a, "alice").await;
    let bobby = enter(&env, &b, "bobby").await;
    let purse = |c: &Client| {
        let c = c.clone();
        async move { text(&c, "gold").await.parse::<i64>().unwrap() }
    };
    let (alice_gold, bobby_gold) = (purse(&a).await, purse(&b).await);
    assert!(
        alice_gold >= 40,
        "a new character has some gold: {alice_gold}"
    );

    // Each draws the other (new characters start at their kingdom's spawn, in view).
    let sees = |name: &str| {
        format!("return [...state.entities.values()].some(e => e.kind === 'player' && e.name === '{name}')")
    };
    until(&a, "alice sees bobby", &sees("bobby")).await;
    until(&b, "bobby sees alice", &sees("alice")).await;

    // A line said by alice is in bobby's chat.
    fill(&a, "chat-text", "well met, bobby").await;
    click(&a, "chat-send").await;
    until(
        &b,
        "bobby hears alice",
        "return document.getElementById('chat-log').textContent.includes('alice: well met, bobby')",
    )
    .await;

    // Alice offers 40 gold for nothing; bobby accepts; both pages show the committed purses.
    click(&a, "tab-trade").await;
    click(&b, "tab-trade").await;
    fill(&a, "trade-with", &bobby.to_string()).await;
    fill(&a, "trade-give", "40").await;
    fill(&a, "trade-want", "0").await;
    click(&a, "trade-submit").await;
    until(
        &b,
        "the offer reaches bobby",
        "return document.querySelector('.accept-trade')",
    )
    .await;
    b.find(Locator::Css(".accept-trade"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let shows =
        |gold: i64| format!("return document.getElementById('gold').textContent === '{gold}'");
    until(&a, "alice's purse", &shows(alice_gold - 40)).await;
    until(&b, "bobby's purse", &shows(bobby_gold + 40)).await;
    assert_eq!(env.gold(alice).await, alice_gold - 40, "committed");
    assert_eq!(env.gold(bobby).await, bobby_gold + 40, "committed");
    screenshot(&b, "trade").await;

    for c in [&a, &b] {
        assert_eq!(console_errors(&d, c).await, Vec::<String>::new());
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
    env.stop().await;
}

/// Fills the input `name` of the form `form` on the console.
async fn fill_field(c: &Client, form: &str, name: &str, text: &str) {
    let e = c
        .find(Locator::Css(&format!("#{form} [name='{name}']")))
        .await
        .unwrap();
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

async fn submit(c: &Client, form: &str) {
    c.find(Locator::Css(&format!("#{form} button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_grants_gold_to_and_bans_a_connected_player_from_the_console_and_the_players_page_shows_both(
) {
    let env = Env::new().await;
    realmkeep_testkit::operator(
        &env.db.store,
        "gm-mona",
        realmkeep_domain::AdminRole::GameMaster,
    )
    .await;
    let d = driver().await;
    let player = browser(&d).await;
    let console = browser(&d).await;
    enter(&env, &player, "mallory").await;

    console
        .goto(&format!("{}/admin", env.gateway.base_url()))
        .await
        .unwrap();
    fill_field(&console, "login-form", "name", "gm-mona").await;
    fill_field(
        &console,
        "login-form",
        "password",
        realmkeep_testkit::OPERATOR_PASSWORD,
    )
    .await;
    submit(&console, "login-form").await;
    until(
        &console,
        "the console",
        "return !document.getElementById('console-view').hidden",
    )
    .await;
    fill_field(&console, "search-form", "q", "mallory").await;
    submit(&console, "search-form").await;
    until(
        &console,
        "a hit",
        "return document.querySelector('#hits tbody button')",
    )
    .await;
    console
        .find(Locator::Css("#hits tbody button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        &console,
        "the character page",
        "return !document.getElementById('character').hidden",
    )
    .await;
    screenshot(&console, "admin").await;
    // Gold granted from the console reaches the open page at once, through the player's zone.
    let purse: i64 = text(&player, "gold").await.parse().unwrap();
    fill_field(&console, "gold-form", "delta", "500").await;
    fill_field(
        &console,
        "gold-form",
        "reason",
        "compensation for the outage",
    )
    .await;
    submit(&console, "gold-form").await;
    let js = format!(
        "return document.getElementById('gold').textContent === '{}'",
        purse + 500
    );
    until(&player, "the page shows the new purse", &js).await;
    let saved: i64 = sqlx::query_scalar("SELECT gold FROM characters WHERE name = 'mallory'")
        .fetch_one(env.db.store.pool())
        .await
        .unwrap();
    assert_eq!(saved, purse + 500);
    fill_field(&console, "ban-form", "reason", "botting in the market").await;
    submit(&console, "ban-form").await;
    let banned = Instant::now();
    until(
        &player,
        "the player's page says banned",
        "return document.getElementById('banner').textContent.includes('banned')",
    )
    .await;
    let took = banned.elapsed();
    eprintln!(
        "the ban reached the player's page in {:.2} s",
        took.as_secs_f64()
    );
    assert!(
        took < Duration::from_secs(1),
        "the page said banned {took:?} after the console's click"
    );
    screenshot(&player, "banned").await;
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM game_logs WHERE event_type = 'ban' AND details->>'reason' = $1",
    )
    .bind("botting in the market")
    .fetch_one(env.db.store.pool())
    .await
    .unwrap();
    assert!(logged >= 1, "the ban is in game_logs with its reason");
    for c in [&player, &console] {
        assert_eq!(console_errors(&d, c).await, Vec::<String>::new());
    }
    player.close().await.unwrap();
    console.close().await.unwrap();
    env.stop().await;
}
