//! Statements that join arrays of any length to the rows they lock (the batch save, the claim
//! renewal) are planned for the arrays they are given on every call. Kept prepared, PostgreSQL
//! would switch them after five calls on a connection to a plan blind to their parameters, which
//! compares every pair of array element and locked row: quadratic, 1.97 s instead of 52 ms for a
//! 5,000-fence renewal (`saves.rs`, `ARRAY_STATEMENT_PERSISTENT`).

mod support;

use realmkeep_domain::{Fence, Position, ZoneId};
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::StoreOptions;
use realmkeep_testkit::fresh_db_with;
use std::time::Duration;

const CHARACTERS: usize = 12;
/// More calls than PostgreSQL plans for the parameters before it may keep a generic plan (5).
const CALLS: usize = 8;
const LEASE: Duration = Duration::from_secs(60);

fn snapshot(fence: Fence, call: usize) -> CharacterSnapshot {
    CharacterSnapshot {
        fence,
        position: Position {
            zone: ZoneId(1),
            x: call as f32,
            y: 1.0,
            z: 0.0,
            rotation: 0.0,
        },
        health: 100,
        mana: 50,
        xp: call as i64,
        level: 1,
    }
}

#[tokio::test]
async fn renewals_and_batch_saves_never_run_under_a_plan_blind_to_their_arrays() {
    // One connection: every call below runs on it, and it is the one asked at the end.
    let db = fresh_db_with(StoreOptions {
        pool_connections_max: 1,
        ..StoreOptions::default()
    })
    .await;
    let s = &db.store;
    let mut fences = Vec::new();
    for i in 0..CHARACTERS {
        let c = support::character(s, &format!("Planned{i}")).await;
        fences.push(s.claim(c, "zone-plans", LEASE).await.unwrap());
    }
    for call in 0..CALLS {
        assert_eq!(
            s.renew(&fences, LEASE).await.unwrap(),
            vec![],
            "call {call}"
        );
        let rows: Vec<CharacterSnapshot> = fences.iter().map(|f| snapshot(*f, call)).collect();
        let r = s.save_batch(&rows).await.unwrap();
        assert_eq!(
            (r.saved.len(), r.refused.len()),
            (CHARACTERS, 0),
            "call {call}"
        );
    }
    // The connection asked is the one the calls ran on: it keeps their other statements.
    let logs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%INSERT INTO game_logs%'",
    )
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert!(
        logs > 0,
        "the claims' log statement is kept on this connection"
    );
    let kept: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
         WHERE statement ILIKE '%unnest(%' AND statement ILIKE '%join locked%'
           AND statement NOT ILIKE '%pg_prepared_statements%'",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    // (An insert fed by arrays, such as the game log's, may keep a generic plan: it joins nothing.)
    let blind: Vec<_> = kept.iter().filter(|k| k.1 > 0).collect();
    assert!(blind.is_empty(), "generic plans: {blind:#?}");
}
