//! SIGKILL a zone process mid-play: `realmkeep serve` runs two zones with simulated players that
//! trade with each other, printing every acknowledged trade; it is killed without warning. After
//! its lease expired another zone claims every character, every acknowledged trade is in
//! PostgreSQL, and no item is in two places.

use realmkeep_domain::ItemId;
use realmkeep_store::{Refusal, Store, StoreError};
use serde::Deserialize;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PLAYERS: usize = 8;
const PREFIX: &str = "crash";
/// The killed node's lease: its claims are free this long after its last renewal.
const LEASE_SECONDS: u64 = 3;
/// Acknowledged trades to wait for before the kill.
const TRADES_BEFORE_KILL: usize = 5;
/// Long enough for the slowest step on a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(120);

/// Kills the child if the test ends early.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug, Deserialize)]
struct Line {
    event: String,
    #[serde(default)]
    a: i64,
    #[serde(default)]
    b: i64,
    #[serde(default)]
    a_items: Vec<i64>,
    #[serde(default)]
    b_items: Vec<i64>,
    #[serde(default)]
    a_gold: i64,
    #[serde(default)]
    b_gold: i64,
}

/// True if `game_logs` holds the trade (either side may be the logged `a`).
async fn trade_logged(store: &Store, t: &Line) -> bool {
    let json = |v: &[i64]| sqlx::types::Json(v.to_vec());
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM game_logs WHERE event_type = 'trade' AND (
             (actor_character_id = $1 AND target_character_id = $2 AND details->'a_items' = $3
              AND details->'b_items' = $4 AND (details->>'a_gold')::int8 = $5
              AND (details->>'b_gold')::int8 = $6)
          OR (actor_character_id = $2 AND target_character_id = $1 AND details->'a_items' = $4
              AND details->'b_items' = $3 AND (details->>'a_gold')::int8 = $6
              AND (details->>'b_gold')::int8 = $5))",
    )
    .bind(t.a)
    .bind(t.b)
    .bind(json(&t.a_items))
    .bind(json(&t.b_items))
    .bind(t.a_gold)
    .bind(t.b_gold)
    .fetch_one(store.pool())
    .await
    .unwrap();
    n > 0
}

/// Where an item is: (place, owner), or none if it is nowhere.
async fn places_of(store: &Store, item: ItemId) -> Vec<(String, Option<i64>)> {
    sqlx::query_as(
        "SELECT 'inventory', character_id FROM inventories WHERE item_id = $1
         UNION ALL SELECT 'equipment', character_id FROM equipment WHERE item_id = $1
         UNION ALL SELECT 'mail', NULL::int8 FROM mail_attachments WHERE item_id = $1
         UNION ALL SELECT 'market', seller_character_id FROM marketplace_listings WHERE item_id = $1",
    )
    .bind(item.0)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_zone_process_loses_no_acknowledged_trade() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    let store = db.store.clone();
    let seeded = realmkeep_sim::seed::ensure_players(&store, PREFIX, PLAYERS)
        .await
        .unwrap();
    let log = std::env::temp_dir().join(format!("realmkeep-crash-{}.log", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args([
            "serve",
            "--database-url",
            &db.game_url,
            "--redis-url",
            &redis.url(),
        ])
        .args(["--zones", "1,2", "--node", "doomed"])
        .args(["--listen", "127.0.0.1:0"])
        .args(["--lease-seconds", &LEASE_SECONDS.to_string()])
        .args([
            "--sim-players",
            &PLAYERS.to_string(),
            "--sim-prefix",
            PREFIX,
        ])
        .env(
            "REALMKEEP_SESSION_SECRET",
            "crash-test-session-secret-0123456789",
        )
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("realmkeep serve starts");
    let stdout = child.stdout.take().unwrap();
    let mut node = Node(child);
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let fail = |why: &str| -> ! {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(40).collect();
        panic!(
            "{why}; the node's log ends with:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    };

    let mut trades: Vec<Line> = Vec::new();
    let mut ready = false;
    let started = Instant::now();
    while trades.len() < TRADES_BEFORE_KILL {
        let Some(left) = WAIT.checked_sub(started.elapsed()) else {
            fail(&format!(
                "only {} acknowledged trades in {WAIT:?} (ready: {ready})",
                trades.len()
            ));
        };
        let Ok(line) = rx.recv_timeout(left) else {
            fail("the node stopped printing");
        };
        let parsed: Line =
            serde_json::from_str(&line).unwrap_or_else(|e| fail(&format!("{line:?}: {e}")));
        match parsed.event.as_str() {
            "ready" => ready = true,
            "trade" => trades.push(parsed),
            _ => {}
        }
    }

    // SIGKILL, mid-play: no shutdown, no final saves.
    node.0.kill().unwrap();
    node.0.wait().unwrap();
    reader.join().unwrap();
    // Receipts printed before the kill count too.
    for line in rx.try_iter() {
        if let Ok(t) = serde_json::from_str::<Line>(&line) {
            if t.event == "trade" {
                trades.push(t);
            }
        }
    }

    // The dead node's claims hold until their lease runs out...
    let mut live = 0;
    for p in &seeded {
        live += usize::from(store.claim_info(p.character).await.unwrap().live);
    }
    assert!(
        live > 0,
        "no claim of the killed node was live right after the kill"
    );
    // ...then another zone wins every character.
    for p in &seeded {
        let deadline = Instant::now() + WAIT;
        loop {
            match store
                .claim(p.character, "zone-1/survivor/1", Duration::from_secs(30))
                .await
            {
                Ok(_) => break,
                Err(StoreError::Refused(Refusal::ClaimHeld)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("character {} not claimed after the lease: {e}", p.character),
            }
        }
    }

    // Every acknowledged trade is in PostgreSQL, and its items went where it says (or moved on
    // by a later logged action).
    assert!(trades.len() >= TRADES_BEFORE_KILL);
    for t in &trades {
        assert!(
            trade_logged(&store, t).await,
            "acknowledged trade not in PostgreSQL: {t:?}"
        );
        for (items, to) in [(&t.a_items, t.b), (&t.b_items, t.a)] {
            for item in items {
                let places = places_of(&store, ItemId(*item)).await;
                assert_eq!(places.len(), 1, "item {item} of {t:?} is in {places:?}");
                // Anything the receiver did with it later is logged with it as the actor.
                let moved_on: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM game_logs WHERE item_id = $1 AND actor_character_id = $2",
                )
                .bind(item)
                .bind(to)
                .fetch_one(store.pool())
                .await
                .unwrap();
                let with_receiver = places[0].0 == "inventory" && places[0].1 == Some(to);
                assert!(
                    with_receiver || moved_on > 0,
                    "item {item} of {t:?} is in {places:?}, not with {to}, and {to} never moved it"
                );
            }
        }
    }
    assert_eq!(
        realmkeep_testkit::misplaced_items(&store).await,
        0,
        "an item is not in exactly one place"
    );
    let _ = std::fs::remove_file(&log);
}
