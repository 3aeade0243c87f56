//! The store and log workers against a PostgreSQL that is not there (a closed port): nothing is
//! acknowledged, saves are retried then answered "try again", critical actions are answered
//! "try again" at once once the database is known down, and held logs stay bounded.

use crate::health::StoreHealth;
use crate::limits::{LOG_BACKLOG_BATCHES_MAX, SAVE_RETRIES_MAX};
use crate::log_worker::{self, LogCtx};
use crate::messages::Control;
use crate::metrics::Metrics;
use crate::store_worker::{self, StoreCtx};
use realmkeep_domain::*;
use realmkeep_store::logs::LogEvent;
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::{Store, StoreOptions};
use realmkeep_zone::actions::{loot_gold, save_batch};
use realmkeep_zone::io::{Outcome, PersistKind, PersistRequest, RequestId, ZoneInput};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A store whose server is gone: every call fails as unavailable, quickly.
fn absent_store() -> Store {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let opts = StoreOptions {
        acquire_timeout: Duration::from_millis(200),
        ..StoreOptions::default()
    };
    Store::connect_lazy(&format!("postgres://nobody@127.0.0.1:{port}/none"), &opts).unwrap()
}

fn fence() -> Fence {
    Fence {
        character: CharacterId(1),
        epoch: ClaimEpoch(1),
    }
}

fn result(input: Control) -> (RequestId, Outcome) {
    match input {
        Control::Input(ZoneInput::StoreResult { request, outcome }) => (request, outcome),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn nothing_is_acknowledged_while_the_store_is_away() {
    let (control, mut answers) = mpsc::channel(16);
    let metrics = Arc::new(Metrics::default());
    let ctx = StoreCtx {
        zone: ZoneId(1),
        store: absent_store(),
        health: StoreHealth::new(),
        metrics: metrics.clone(),
        control,
        cancel: CancellationToken::new(),
        roster: Arc::new(crate::roster::Roster::default()),
        holder: "zone-1/test/0".into(),
    };
    let (tx, rx) = mpsc::channel(16);
    let worker = tokio::spawn(store_worker::run(Arc::new(ctx), rx));
    let snapshot = CharacterSnapshot {
        fence: fence(),
        position: Position {
            zone: ZoneId(1),
            x: 1.0,
            y: 1.0,
            z: 0.0,
            rotation: 0.0,
        },
        health: 1,
        mana: 1,
        xp: 0,
        level: 1,
    };
    let gold = PersistKind::LootGold(loot_gold::Request {
        fence: fence(),
        amount: 3,
        zone: ZoneId(1),
    });
    for (id, kind) in [
        (
            1,
            PersistKind::SaveBatch(save_batch::Request(vec![snapshot])),
        ),
        (2, gold.clone()),
    ] {
        metrics
            .counters
            .store_pending
            .fetch_add(1, Ordering::Relaxed);
        tx.send(PersistRequest {
            id: RequestId(id),
            kind,
        })
        .await
        .unwrap();
    }
    let mut got = vec![
        result(answers.recv().await.unwrap()),
        result(answers.recv().await.unwrap()),
    ];
    got.sort_by_key(|(id, _)| *id);
    assert_eq!(
        got,
        vec![
            (RequestId(1), Outcome::Unavailable),
            (RequestId(2), Outcome::Unavailable)
        ]
    );
    let c = &metrics.counters;
    assert_eq!(
        c.save_retries.load(Ordering::Relaxed),
        u64::from(SAVE_RETRIES_MAX)
    );
    assert_eq!(c.saves_failed.load(Ordering::Relaxed), 1);
    assert_eq!(c.store_pending.load(Ordering::Relaxed), 0);
    // Known down now: the next critical action is answered at once, without a try.
    metrics
        .counters
        .store_pending
        .fetch_add(1, Ordering::Relaxed);
    tx.send(PersistRequest {
        id: RequestId(3),
        kind: gold,
    })
    .await
    .unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(
        result(answers.recv().await.unwrap()),
        (RequestId(3), Outcome::Unavailable)
    );
    assert!(started.elapsed() < Duration::from_millis(50));
    assert_eq!(c.critical_ok.load(Ordering::Relaxed), 0);
    drop(tx);
    worker.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn held_logs_stay_bounded_and_the_oldest_are_dropped_and_counted() {
    let metrics = Arc::new(Metrics::default());
    let ctx = LogCtx {
        zone: ZoneId(1),
        store: absent_store(),
        health: StoreHealth::new(),
        metrics: metrics.clone(),
        cancel: CancellationToken::new(),
    };
    let (tx, rx) = mpsc::channel(4);
    let worker = tokio::spawn(log_worker::run(Arc::new(ctx), rx));
    let extra = 5;
    for _ in 0..LOG_BACKLOG_BATCHES_MAX + extra {
        tx.send(vec![LogEvent::new("monster_kill")]).await.unwrap();
    }
    let c = &metrics.counters;
    // Batches merged into one failed write count as one; at least `extra` were dropped.
    for _ in 0..100 {
        if c.log_batches_dropped.load(Ordering::Relaxed) >= extra as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(c.log_batches_dropped.load(Ordering::Relaxed) >= extra as u64);
    assert!(c.log_backlog.load(Ordering::Relaxed) <= LOG_BACKLOG_BATCHES_MAX as u64);
    assert_eq!(c.log_events_written.load(Ordering::Relaxed), 0);
    // The zone stops: what is held gets a bounded time, then is dropped and counted.
    drop(tx);
    worker.await.unwrap();
    let dropped = c.log_events_dropped.load(Ordering::Relaxed);
    assert_eq!(dropped, (LOG_BACKLOG_BATCHES_MAX + extra) as u64);
}
