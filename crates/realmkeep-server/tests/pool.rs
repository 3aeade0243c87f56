//! A busy connection pool is not an outage. In its own test binary: it stops the PostgreSQL
//! server of `realmkeep_testkit::postgres()`, which every test of a binary shares.
//!
//! With every pooled connection held, an action is answered "try again" and a join "busy", but
//! the node still believes PostgreSQL is up; once a connection frees, a join and the same action
//! go through. With PostgreSQL really stopped, the node marks it down.

mod support;

use realmkeep_domain::*;
use realmkeep_server::{HostError, Notice};
use realmkeep_store::StoreOptions;
use realmkeep_zone::io::{Action, PlayerCommand, PlayerEvent};
use std::time::Duration;
use support::*;

/// The answer to one `AcceptQuest`: accepted (true) or "try again" (false).
async fn quest_answer(rx: &mut realmkeep_server::NoticeReceiver) -> bool {
    notice(rx, "the quest answer", |n| match n {
        Notice::Event(PlayerEvent::QuestAccepted { .. }) => Some(true),
        Notice::Event(PlayerEvent::TryAgain { action }) => {
            assert_eq!(*action, Action::Quest);
            Some(false)
        }
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_pool_answers_try_again_without_marking_postgres_down() {
    let pool = 3;
    let opts = StoreOptions {
        pool_connections_max: pool,
        acquire_timeout: Duration::from_millis(500),
        ..StoreOptions::default()
    };
    let env = Env::with_db(realmkeep_testkit::fresh_db_with(opts).await).await;
    let player = character(env.store(), "Samwise").await;
    let newcomer = character(env.store(), "Rosie").await;
    let cluster = env
        .cluster_with(config("busy", &[GREENVALE]).with_lease(Duration::from_secs(30)))
        .await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut r = cluster.join(GREENVALE, player).await.unwrap();
    joined(&mut r.notices).await;

    // Long transactions hold every connection of the pool.
    let mut held = Vec::new();
    for _ in 0..pool {
        let mut tx = env.store().pool().begin().await.unwrap();
        sqlx::query("SELECT 1").execute(&mut *tx).await.unwrap();
        held.push(tx);
    }
    host.command(player, PlayerCommand::AcceptQuest { quest: QuestId(1) })
        .unwrap();
    assert!(!quest_answer(&mut r.notices).await, "try again while busy");
    let join = cluster.join(GREENVALE, newcomer).await;
    assert!(matches!(join, Err(HostError::Busy)), "{join:?}");
    assert!(
        cluster.status().await.postgres_up,
        "a busy pool is not an outage"
    );
    assert!(host.metrics().store_busy >= 1, "{:?}", host.metrics());

    // One connection frees: the join and the same action go through.
    held.pop().unwrap().rollback().await.unwrap();
    let mut rn = cluster.join(GREENVALE, newcomer).await.unwrap();
    joined(&mut rn.notices).await;
    host.command(player, PlayerCommand::AcceptQuest { quest: QuestId(1) })
        .unwrap();
    assert!(
        quest_answer(&mut r.notices).await,
        "accepted once a connection freed"
    );
    for tx in held {
        tx.rollback().await.unwrap();
    }

    // PostgreSQL really stops: that is an outage.
    tokio::task::spawn_blocking(|| realmkeep_testkit::postgres().stop())
        .await
        .unwrap();
    host.command(newcomer, PlayerCommand::AcceptQuest { quest: QuestId(1) })
        .unwrap();
    assert!(!quest_answer(&mut rn.notices).await, "try again while down");
    assert!(!cluster.status().await.postgres_up);
    let late = cluster.join(GREENVALE, character_id_unused()).await;
    assert!(matches!(late, Err(HostError::Unavailable)), "{late:?}");

    tokio::task::spawn_blocking(|| {
        realmkeep_testkit::postgres()
            .start_again()
            .expect("PostgreSQL restarts")
    })
    .await
    .unwrap();
    eventually("PostgreSQL up again", || async {
        cluster.status().await.postgres_up.then_some(())
    })
    .await;
    let reports = cluster.shutdown().await;
    assert!(reports.iter().all(|r| r.complete), "{reports:?}");
}

/// A character id nobody has: a join of it needs PostgreSQL to say so.
fn character_id_unused() -> CharacterId {
    CharacterId(i64::MAX)
}
