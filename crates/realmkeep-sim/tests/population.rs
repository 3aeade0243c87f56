//! A small population plays two zones against real PostgreSQL and Redis: every kind of action
//! happens, the economy keeps its books, and after everyone logged out no claim is held.

mod support;

use realmkeep_sim::{Behaviour, Population, SimConfig};
use std::time::{Duration, Instant};
use support::*;

const PLAYERS: usize = 12;
/// Play at least this long, and until every kind of action happened, at most `PLAY_MAX`.
const PLAY_MIN: Duration = Duration::from_secs(8);
const PLAY_MAX: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_world_plays_and_keeps_its_books() {
    let env = Env::new().await;
    let store = env.store().clone();
    // The characters exist before the books are opened, so their starting kits are counted.
    let seeded = realmkeep_sim::seed::ensure_players(&store, "pop", PLAYERS)
        .await
        .unwrap();
    assert!(seeded.iter().all(|p| p.created));
    let before = economy(&store).await;

    let cluster = env.cluster("sim-test").await;
    let mut config = SimConfig::new("pop", 5, ZONES.to_vec());
    config.behaviour = Behaviour::lively(ZONES.to_vec());
    config.think_every_steps = 1;
    let mut pop = Population::new(cluster.clone(), &env.content, config);
    let mut receipts = pop.receipts().unwrap();
    let spawned = pop.spawn(PLAYERS, Duration::from_secs(60)).await.unwrap();
    assert_eq!(spawned.found, PLAYERS, "{spawned:?}");
    assert_eq!(spawned.joined, PLAYERS, "{spawned:?}");
    let s = pop.stats();
    assert!(
        s.real_logins >= 1 && s.sessions_valid >= PLAYERS as u64,
        "{s:?}"
    );

    let started = Instant::now();
    loop {
        pop.run_for(Duration::from_secs(1)).await;
        let s = pop.stats();
        let all = s.trades > 0
            && s.market_buys > 0
            && s.mail_claims > 0
            && s.zone_changes > 0
            && s.kills > 0;
        if (all && started.elapsed() >= PLAY_MIN) || started.elapsed() > PLAY_MAX {
            break;
        }
    }
    let s = pop.stats();
    assert!(s.trades >= 1, "no trade: {s:?}");
    assert!(s.market_buys >= 1, "no market purchase: {s:?}");
    assert!(s.mail_claims >= 1, "no mail claimed: {s:?}");
    assert!(s.zone_changes >= 1, "no zone change: {s:?}");
    assert!(s.commands > 100 && s.kills >= 1, "{s:?}");

    let out = pop.logout_all(Duration::from_secs(30)).await;
    assert_eq!(out.unconfirmed, 0, "{out:?}");
    assert_eq!(
        claims_held(&store).await,
        0,
        "a claim is still held after everyone logged out"
    );
    let s = pop.stats();
    assert_eq!(s.logouts, PLAYERS as u64, "{s:?}");
    assert_eq!(s.online, 0, "{s:?}");
    cluster.shutdown().await;

    // Every acknowledged trade is in the logs.
    let mut n = 0;
    while let Ok(r) = receipts.try_recv() {
        assert!(trade_logged(&store, &r).await, "trade not logged: {r:?}");
        n += 1;
    }
    assert!(n >= 1);

    // The books: gold and items changed by exactly what the logs say came in or went out.
    let after = economy(&store).await;
    let gold_in = logged_gold_change(&store, before.last_log).await;
    assert_eq!(after.gold - before.gold, gold_in, "gold not conserved");
    let items_in = logged_item_change(&store, before.last_log).await;
    let defs: std::collections::BTreeSet<i32> = before
        .items
        .keys()
        .chain(after.items.keys())
        .copied()
        .collect();
    for def in defs {
        let change = after.items.get(&def).unwrap_or(&0) - before.items.get(&def).unwrap_or(&0);
        assert_eq!(
            change,
            *items_in.get(&def).unwrap_or(&0),
            "items of definition {def}"
        );
    }
    assert_eq!(
        misplaced_items(&store).await,
        0,
        "an item is not in exactly one place"
    );
}
