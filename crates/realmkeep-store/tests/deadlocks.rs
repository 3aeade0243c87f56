//! Lock order: every statement that locks several character rows takes them in ascending id
//! order, like the economy transactions, so renewals, batch saves and trades running together on
//! the same characters never wait on each other in a cycle. PostgreSQL counts every deadlock it
//! breaks in `pg_stat_database.deadlocks`: the count must stay at zero.

mod support;

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use realmkeep_domain::{Actor, CharacterId, Fence, Gold, Position, ZoneId};
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::trade::TradeSide;
use realmkeep_store::{Store, StoreError};
use realmkeep_testkit::fresh_db;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Characters shared by every worker: few enough that the workers meet on the same rows.
const CHARACTERS: usize = 24;
/// Rounds of each worker: a few seconds of contention in all.
const RENEWALS: usize = 150;
const BATCH_SAVES: usize = 150;
const TRADES_PER_TRADER: usize = 200;
const TRADERS: usize = 4;
/// Polls of `pg_stat_activity` while the workers' connections go away (each 50 ms).
const BACKEND_EXIT_POLLS_MAX: usize = 200;

/// The workers' pool: one connection per worker, named so the test can watch them go.
const WORKER_CONNECTIONS: u32 = 2 + TRADERS as u32;
const WORKERS: &str = "deadlock-workers";

const LEASE: Duration = Duration::from_secs(60);

async fn deadlocks(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

fn snapshot(fence: Fence, rng: &mut StdRng) -> CharacterSnapshot {
    CharacterSnapshot {
        fence,
        position: Position {
            zone: ZoneId(1),
            x: rng.random_range(0.0..100.0),
            y: rng.random_range(0.0..100.0),
            z: 0.0,
            rotation: 0.0,
        },
        health: 100,
        mana: 50,
        xp: 0,
        level: 1,
    }
}

/// An error a worker saw: a deadlock surfaces as a failed renewal or save.
fn note(errors: &mut Vec<String>, r: Result<impl Sized, StoreError>) {
    if let Err(e) = r {
        errors.push(e.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn renewals_batch_saves_and_trades_on_the_same_characters_never_deadlock() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let mut fences = Vec::with_capacity(CHARACTERS);
    for i in 0..CHARACTERS {
        let c = support::character(&store, &format!("Locker{i}")).await;
        support::set_gold(&store, c, 1_000_000).await;
        fences.push(store.claim(c, "zone-lock", LEASE).await.unwrap());
    }
    let before = deadlocks(&store).await;
    // The workers run on a pool of their own, closed at the end so that every backend flushes
    // its statistics when it exits.
    let work = Store::from_pool(
        PgPoolOptions::new()
            .max_connections(WORKER_CONNECTIONS)
            .connect_with(
                PgConnectOptions::from_str(&db.url)
                    .unwrap()
                    .application_name(WORKERS),
            )
            .await
            .unwrap(),
    );
    let mut tasks = tokio::task::JoinSet::new();
    {
        let (store, fences) = (work.clone(), fences.clone());
        tasks.spawn(async move {
            let mut rng = StdRng::seed_from_u64(1);
            let mut errors = Vec::new();
            for _ in 0..RENEWALS {
                let mut f = fences.clone();
                f.shuffle(&mut rng);
                note(&mut errors, store.renew(&f, LEASE).await);
            }
            errors
        });
    }
    {
        let (store, fences) = (work.clone(), fences.clone());
        tasks.spawn(async move {
            let mut rng = StdRng::seed_from_u64(2);
            let mut errors = Vec::new();
            for _ in 0..BATCH_SAVES {
                let mut rows: Vec<CharacterSnapshot> =
                    fences.iter().map(|f| snapshot(*f, &mut rng)).collect();
                rows.shuffle(&mut rng);
                note(&mut errors, store.save_batch(&rows).await);
            }
            errors
        });
    }
    for t in 0..TRADERS {
        let (store, fences) = (work.clone(), fences.clone());
        tasks.spawn(async move {
            let mut rng = StdRng::seed_from_u64(10 + t as u64);
            let mut errors = Vec::new();
            for _ in 0..TRADES_PER_TRADER {
                let pair: Vec<&Fence> = fences.choose_multiple(&mut rng, 2).collect();
                let side = |f: &Fence, gold: i64| TradeSide {
                    actor: Actor::Zone(*f),
                    items: Vec::new(),
                    gold: Gold::new(gold).unwrap(),
                };
                note(
                    &mut errors,
                    store.trade(&side(pair[0], 1), &side(pair[1], 0)).await,
                );
            }
            errors
        });
    }
    let mut errors = Vec::new();
    while let Some(r) = tasks.join_next().await {
        errors.extend(r.unwrap());
    }
    work.close().await;

    // A backend flushes its statistics at the latest when it exits: end any the pool left idle.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = $1",
    )
    .bind(WORKERS)
    .execute(store.pool())
    .await
    .unwrap();
    let mut others = i64::MAX;
    for _ in 0..BACKEND_EXIT_POLLS_MAX {
        others = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1",
        )
        .bind(WORKERS)
        .fetch_one(store.pool())
        .await
        .unwrap();
        if others == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(others, 0, "the workers' connections are gone");
    sqlx::query("SELECT pg_stat_force_next_flush(), pg_stat_clear_snapshot()")
        .execute(store.pool())
        .await
        .unwrap();

    let found = deadlocks(&store).await - before;
    assert_eq!(
        found, 0,
        "deadlocks broken by PostgreSQL; errors seen: {errors:?}"
    );
    assert!(errors.is_empty(), "{errors:?}");
    let total: i64 =
        sqlx::query_scalar("SELECT sum(gold)::int8 FROM characters WHERE id = ANY($1)")
            .bind(fences.iter().map(|f| f.character.0).collect::<Vec<i64>>())
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(total, 1_000_000 * CHARACTERS as i64, "trades conserve gold");
    let lost = store.renew(&fences, LEASE).await.unwrap();
    assert_eq!(lost, Vec::<CharacterId>::new(), "every claim is still held");
}
