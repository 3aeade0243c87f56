//! The store keeps a connection whose use ended cleanly and lends it again without sqlx's
//! release check (`conns.rs`). What must hold: a kept connection is really reused; a use that
//! was cancelled, or a connection the server ended, is never lent again; a caller waiting on a
//! full pool gets a connection kept meanwhile; the store still closes, inside its runtime or
//! outside it.

use realmkeep_domain::{CharacterId, Fence};
use realmkeep_store::{Store, StoreOptions};
use realmkeep_testkit::{character, fresh_db, fresh_db_with};
use std::time::{Duration, Instant};

const LEASE: Duration = Duration::from_secs(30);

fn kept(store: &Store) -> usize {
    store.kept_connections()
}

/// Connections the pool has open (`Store::pool` would hand the kept ones back first).
fn open(store: &Store) -> u32 {
    store.pool_gauges().0
}

/// Another client of the same database, holding `characters`' row locks in an open transaction.
async fn lock_rows(url: &str, ids: &[CharacterId]) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let other = Store::connect(url, &StoreOptions::default()).await.unwrap();
    let mut tx = other.pool().begin().await.unwrap();
    sqlx::query("SELECT id FROM characters WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids.iter().map(|c| c.0).collect::<Vec<i64>>())
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    tx
}

async fn claim(store: &Store, c: CharacterId) -> Fence {
    store.claim(c, "zone-conns", LEASE).await.unwrap()
}

#[tokio::test]
async fn a_connection_is_kept_after_a_clean_use_and_lent_again() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let c = character(&store, "Keeper").await;
    let fence = claim(&store, c).await;
    for _ in 0..20 {
        assert!(store.renew(&[fence], LEASE).await.unwrap().is_empty());
        store.load_character(c).await.unwrap();
    }
    // One caller at a time: one connection did all of it, and is kept, not in sqlx's queue.
    assert_eq!(open(&store), 1, "{:?}", store.pool_gauges());
    assert_eq!(kept(&store), 1);
    // Kept by the store, so counted as idle by its gauges.
    assert_eq!(store.pool_gauges().1, 1);
    // A refusal is an answer too: the connection stays kept.
    let other = character(&store, "Other").await;
    let stale = Fence {
        character: other,
        epoch: realmkeep_domain::ClaimEpoch(99),
    };
    assert_eq!(store.renew(&[stale], LEASE).await.unwrap(), vec![other]);
    assert_eq!(open(&store), 1);
    assert_eq!(kept(&store), 1);
}

#[tokio::test]
async fn a_use_cancelled_mid_statement_is_not_kept_and_the_next_use_reads_its_own_answer() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let c = character(&store, "Cancelled").await;
    let fence = claim(&store, c).await;
    assert_eq!(kept(&store), 1);

    let lock = lock_rows(&db.url, &[c]).await;
    // The renewal waits on the row lock; its caller gives up (a timeout drops the future).
    let gave_up = tokio::time::timeout(Duration::from_millis(300), store.renew(&[fence], LEASE))
        .await
        .is_err();
    assert!(gave_up, "the renewal was meant to wait on the lock");
    // Its connection went back through sqlx's check, not onto the kept stack.
    assert_eq!(kept(&store), 0);
    lock.rollback().await.unwrap();

    // What comes next reads its own answers, not the cancelled statement's.
    let loaded = store.load_character(c).await.unwrap();
    assert_eq!(loaded.name.as_str(), "Cancelled");
    assert!(store.renew(&[fence], LEASE).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_connection_whose_backend_was_terminated_fails_once_and_is_never_lent_again() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let c = character(&store, "Terminated").await;
    store.load_character(c).await.unwrap();
    assert_eq!((open(&store), kept(&store)), (1, 1));

    // An operator (or a failover) ends every session of the game's database.
    let admin = Store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()) t",
    )
    .bind(&db.name)
    .fetch_one(admin.pool())
    .await
    .unwrap();
    assert!(ended >= 1);
    admin.close().await;

    let err = store.load_character(c).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert_eq!(kept(&store), 0, "a connection the server ended is not kept");
    let loaded = store.load_character(c).await.unwrap();
    assert_eq!(loaded.name.as_str(), "Terminated");
    assert_eq!(kept(&store), 1);
}

#[tokio::test]
async fn a_caller_waiting_on_a_full_pool_gets_a_connection_kept_meanwhile() {
    let opts = StoreOptions {
        pool_connections_max: 2,
        acquire_timeout: Duration::from_secs(4),
        ..StoreOptions::default()
    };
    let db = fresh_db_with(opts).await;
    let store = db.store.clone();
    let (a, b) = (
        character(&store, "Blocked").await,
        character(&store, "Also").await,
    );
    let (fa, fb) = (claim(&store, a).await, claim(&store, b).await);

    // Both connections wait on the lock; a third caller waits for the pool.
    let lock = lock_rows(&db.url, &[a, b]).await;
    let renew = |f: Fence| {
        let store = store.clone();
        tokio::spawn(async move { store.renew(&[f], LEASE).await })
    };
    let (ra, rb) = (renew(fa), renew(fb));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(open(&store), 2);
    let third = {
        let store = store.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            (store.load_character(a).await, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.rollback().await.unwrap();

    assert!(ra.await.unwrap().unwrap().is_empty());
    assert!(rb.await.unwrap().unwrap().is_empty());
    // Both connections went onto the kept stack, not back to the pool: the third caller is
    // woken by that, long before the pool's acquire timeout.
    let (loaded, waited) = third.await.unwrap();
    assert_eq!(loaded.unwrap().name.as_str(), "Blocked");
    assert!(waited < Duration::from_secs(2), "waited {waited:?}");
}

#[tokio::test]
async fn a_store_with_kept_connections_closes() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let c = character(&store, "Closing").await;
    store.load_character(c).await.unwrap();
    assert_eq!(kept(&store), 1);
    tokio::time::timeout(Duration::from_secs(10), store.close())
        .await
        .expect("close returns with connections kept");
    assert_eq!((open(&store), kept(&store)), (0, 0));
}

#[test]
fn a_store_dropped_outside_its_runtime_lets_its_kept_connections_go() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(async {
        let db = fresh_db().await;
        let c = character(&db.store, "Outlived").await;
        db.store.load_character(c).await.unwrap();
        assert_eq!(kept(&db.store), 1);
        db
    });
    drop(rt);
    // sqlx's release spawns a task; with no runtime left the store closes them itself.
    drop(db);
}
