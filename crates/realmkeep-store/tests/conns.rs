//! The store keeps a connection whose use ended cleanly and lends it again without sqlx's
//! release check (`conns.rs`). What must hold: a kept connection is really reused; a use that
//! was cancelled, or a connection the server ended, is never lent again; a caller waiting on a
//! full pool gets the next connection freed (none is kept while it waits); the store still
//! closes, inside its runtime or outside it.

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

/// A renewal of `f` on a task of its own (it may wait on a row lock).
fn spawn_renew(
    store: &Store,
    f: Fence,
) -> tokio::task::JoinHandle<realmkeep_store::StoreResult<Vec<CharacterId>>> {
    let store = store.clone();
    tokio::spawn(async move { store.renew(&[f], LEASE).await })
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
    // An error PostgreSQL raised (a unique violation, refused as a taken name) is an answer
    // too: the connection stays kept, and the next call on it reads its own answer, not the
    // rest of the failed exchange.
    let name = realmkeep_domain::AccountName::parse("acc_Keeper").unwrap();
    let taken = store
        .create_account_with_hash(&name, "again@example.test", realmkeep_testkit::TEST_HASH)
        .await
        .unwrap_err();
    assert!(
        matches!(taken.refusal(), Some(realmkeep_store::Refusal::NameTaken)),
        "{taken}"
    );
    assert_eq!((open(&store), kept(&store)), (1, 1));
    assert_eq!(store.load_character(c).await.unwrap().id, c);
    assert!(store.renew(&[fence], LEASE).await.unwrap().is_empty());
    assert_eq!((open(&store), kept(&store)), (1, 1));
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
async fn a_terminated_backend_fails_one_call_and_no_kept_connection_is_lent_again() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let (c, d) = (
        character(&store, "Terminated").await,
        character(&store, "Second").await,
    );
    let (fc, fd) = (claim(&store, c).await, claim(&store, d).await);
    // Two renewals at once (both held on a lock, then let go): two connections kept.
    let lock = lock_rows(&db.url, &[c, d]).await;
    let (rc, rd) = (spawn_renew(&store, fc), spawn_renew(&store, fd));
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.rollback().await.unwrap();
    assert!(rc.await.unwrap().unwrap().is_empty());
    assert!(rd.await.unwrap().unwrap().is_empty());
    assert_eq!((open(&store), kept(&store)), (2, 2));

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
    // The other kept connection went back through sqlx's check with it (it was ended too), so
    // the very next call does not meet it.
    assert_eq!(kept(&store), 0, "a connection the server ended is not kept");
    let loaded = store.load_character(c).await.unwrap();
    assert_eq!(loaded.name.as_str(), "Terminated");
    assert_eq!(kept(&store), 1);
}

#[tokio::test]
async fn a_caller_waiting_on_a_full_pool_gets_the_next_connection_freed() {
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
    let (ra, rb) = (spawn_renew(&store, fa), spawn_renew(&store, fb));
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
    // With a caller waiting for the pool, the renewals' connections are not kept: they go back
    // through sqlx, which hands one to the third caller, long before the acquire timeout.
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
