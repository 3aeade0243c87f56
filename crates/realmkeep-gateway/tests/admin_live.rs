//! An operator's gold, item and position changes of a player in the world, through the admin API as a
//! script drives it: the zone holding the character runs each under its claim, the player's
//! socket is told at once, PostgreSQL has it with the operator's log row, and a refusal changes
//! nothing. (Across nodes: `nodes.rs`.)

mod support;

use realmkeep_domain::AdminRole;
use realmkeep_protocol::admin::*;
use realmkeep_protocol::ws::{GameEvent, ServerMsg};
use realmkeep_protocol::Reason;
use std::time::{Duration, Instant};
use support::admin::{login, ok, refused};
use support::{next_event, next_msg, Env};

async fn bag_of(env: &Env, c: i64) -> Vec<(i64, i32, i32)> {
    sqlx::query_as(
        "SELECT i.id, i.def_id, i.quantity FROM inventories inv
         JOIN item_instances i ON i.id = inv.item_id WHERE inv.character_id = $1 ORDER BY i.id",
    )
    .bind(c)
    .fetch_all(env.db.store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_master_changes_an_online_players_gold_and_items_and_the_player_sees_it_at_once() {
    let env = Env::new().await;
    let gm = login(&env, "gm-gwen", AdminRole::GameMaster).await;
    let moderator = login(&env, "mod-moe", AdminRole::Moderator).await;
    let mut p = env.joined("lucky", "aldor").await;
    let before = env.gold(p.id).await;
    let gold_path = format!("/v1/admin/characters/{}/gold", p.id);

    let at = Instant::now();
    let g: GoldChanged = ok(
        &env,
        "POST",
        &gold_path,
        &gm,
        r#"{"delta":250,"reason":"lost gold to a bug, ticket 42"}"#,
        200,
    )
    .await;
    assert_eq!(g.gold, before + 250);
    let shown = next_event(&mut p.ws, |e| match e {
        GameEvent::GoldChanged { gold } => Some(*gold),
        _ => None,
    })
    .await;
    assert_eq!(
        shown,
        before + 250,
        "the player's socket shows the new purse"
    );
    assert!(at.elapsed() < Duration::from_secs(2), "{:?}", at.elapsed());
    assert_eq!(env.gold(p.id).await, before + 250);
    let logs: LogPage = ok(
        &env,
        "GET",
        &format!("/v1/admin/logs?character={}&event_type=admin_gold", p.id),
        &moderator,
        "",
        200,
    )
    .await;
    assert_eq!(logs.rows.len(), 1);
    assert_eq!(logs.rows[0].details["operator"], "gm-gwen");
    assert_eq!(
        logs.rows[0].details["reason"],
        "lost gold to a bug, ticket 42"
    );

    // Refused by the rules: an overdraft changes nothing, and says why.
    let why = refused(
        &env,
        "POST",
        &gold_path,
        Some(&gm),
        r#"{"delta":-999999999,"reason":"take it all"}"#,
        400,
        Reason::GameRule,
    )
    .await;
    assert!(why.contains("gold"), "{why}");
    assert_eq!(env.gold(p.id).await, before + 250);
    // Refused by the role: a moderator changes no purse.
    refused(
        &env,
        "POST",
        &gold_path,
        Some(&moderator),
        r#"{"delta":5,"reason":"gift"}"#,
        403,
        Reason::NotAllowed,
    )
    .await;

    // An item into the bag and out again, each shown on the socket.
    let bag = bag_of(&env, p.id).await;
    let granted: ItemGranted = ok(
        &env,
        "POST",
        &format!("/v1/admin/characters/{}/items", p.id),
        &gm,
        r#"{"def":5,"quantity":1,"reason":"event prize"}"#,
        201,
    )
    .await;
    let shown = next_event(&mut p.ws, |e| match e {
        GameEvent::Items { bag, .. } => Some(bag.iter().map(|b| b.item).collect::<Vec<_>>()),
        _ => None,
    })
    .await;
    assert!(shown.contains(&granted.item));
    assert_eq!(bag_of(&env, p.id).await.len(), bag.len() + 1);
    let remove = format!(
        "/v1/admin/characters/{}/items/{}/remove",
        p.id, granted.item
    );
    let (s, b) =
        support::admin::call(&env, "POST", &remove, Some(&gm), r#"{"reason":"duped"}"#).await;
    assert_eq!(s, 204, "{b}");
    let shown = next_event(&mut p.ws, |e| match e {
        GameEvent::Items { bag, .. } => Some(bag.iter().map(|b| b.item).collect::<Vec<_>>()),
        _ => None,
    })
    .await;
    assert!(!shown.contains(&granted.item));
    assert_eq!(bag_of(&env, p.id).await, bag);
    // The same item again: it is gone, nothing changes.
    refused(
        &env,
        "POST",
        &remove,
        Some(&gm),
        r#"{"reason":"again"}"#,
        400,
        Reason::GameRule,
    )
    .await;
    assert_eq!(bag_of(&env, p.id).await, bag);

    // A teleport within the character's zone moves it live: its own view shows it there, and
    // PostgreSQL has it; to another zone it needs the character out of the world.
    let teleport = format!("/v1/admin/characters/{}/teleport", p.id);
    let zone = p.welcome.zone;
    let body = format!(r#"{{"zone":{zone},"x":40.5,"y":60.25,"reason":"stuck in a wall"}}"#);
    let (s, b) = support::admin::call(&env, "POST", &teleport, Some(&gm), &body).await;
    assert_eq!(s, 204, "{b}");
    let me = p.welcome.net_id;
    next_msg(&mut p.ws, |m| match m {
        ServerMsg::View(v) => v
            .moved
            .iter()
            .any(|mv| mv.net_id() == me && mv.x() == 40.5 && mv.y() == 60.25)
            .then_some(()),
        _ => None,
    })
    .await;
    let (x, y): (f32, f32) = sqlx::query_as(
        "SELECT x, y FROM character_positions WHERE character_id = $1 AND zone_id = $2",
    )
    .bind(p.id)
    .bind(zone)
    .fetch_one(env.db.store.pool())
    .await
    .unwrap();
    assert_eq!((x, y), (40.5, 60.25));
    let other = if zone == 1 { 2 } else { 1 };
    let why = refused(
        &env,
        "POST",
        &teleport,
        Some(&gm),
        &format!(r#"{{"zone":{other},"x":10,"y":10,"reason":"stuck"}}"#),
        409,
        Reason::CharacterOnline,
    )
    .await;
    assert!(why.contains("kick"), "{why}");

    // The socket gone, the character waits out its grace in the world: the zone still runs it.
    drop(p.ws);
    let g: GoldChanged = ok(
        &env,
        "POST",
        &gold_path,
        &gm,
        r#"{"delta":1,"reason":"after the socket dropped"}"#,
        200,
    )
    .await;
    assert_eq!(g.gold, before + 251);
    assert_eq!(env.gold(p.id).await, before + 251);
    env.stop().await;
}
