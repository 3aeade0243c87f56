//! The node's own job scheduler (not only the store functions it calls), run against a clock set
//! five months ahead: `game_logs` partitions exist three months past that clock, an expired
//! listing comes back by mail, expired mail goes back to its sender, and a trade whose log row
//! falls in a month without a partition still commits: the row waits in DEFAULT, the upkeep
//! raises its alert and moves the row into the month's partition when it creates it.

mod support;

use realmkeep_domain::*;
use realmkeep_server::clock::OffsetClock;
use realmkeep_server::{Cluster, JobIntervals};
use realmkeep_store::trade::TradeSide;
use realmkeep_store::Store;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::*;

/// The name of the month partition holding `at` + `months`, as `ensure_game_logs_partition` names it.
async fn partition_name(s: &Store, at: SystemTime, months: i32) -> String {
    let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    sqlx::query_scalar(
        "SELECT 'game_logs_y' || to_char((to_timestamp($1) + make_interval(months => $2))
                                         AT TIME ZONE 'UTC', 'YYYY\"m\"MM')",
    )
    .bind(secs)
    .bind(months)
    .fetch_one(s.pool())
    .await
    .unwrap()
}

async fn exists(s: &Store, table: &str) -> bool {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(s.pool())
        .await
        .unwrap()
}

/// Log rows of `event_type` whose `details->>key` is `value`.
async fn logged(s: &Store, event_type: &str, key: &str, value: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM game_logs WHERE event_type = $1 AND (details->>$2)::int8 = $3",
    )
    .bind(event_type)
    .bind(key)
    .bind(value)
    .fetch_one(s.pool())
    .await
    .unwrap()
}

/// Where the trade's log rows of `a` live, by partition.
async fn trade_rows_in(s: &Store, a: CharacterId) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tableoid::regclass::text FROM game_logs
         WHERE event_type LIKE 'trade%' AND (actor_character_id = $1 OR target_character_id = $1)",
    )
    .bind(a.0)
    .fetch_all(s.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_scheduler_runs_the_jobs_by_its_clock_months_ahead() {
    let env = Env::new().await;
    let s = env.store();
    let seller = character(s, "Sella").await;
    let sender = character(s, "Posty").await;
    let reader = character(s, "Readr").await;
    let potion: i64 = sqlx::query_scalar(
        "SELECT item_id FROM inventories WHERE character_id = $1 ORDER BY slot LIMIT 1",
    )
    .bind(seller.0)
    .fetch_one(s.pool())
    .await
    .unwrap();
    let listing = s
        .list_item(
            Actor::Offline(seller),
            ItemId(potion),
            Gold::new(50).unwrap(),
            24,
        )
        .await
        .unwrap();
    let mail = s
        .send_mail(
            Actor::Offline(sender),
            reader,
            "for you",
            "thirty gold",
            Gold::new(30).unwrap(),
            &[],
        )
        .await
        .unwrap();

    // An idempotency key and a loot key, as actions leave them.
    sqlx::query("INSERT INTO action_keys (action_key, receipt) VALUES ('old-action', '{}')")
        .execute(s.pool())
        .await
        .unwrap();
    s.pickup_loot_once(
        Actor::Offline(reader),
        realmkeep_domain::ItemDefId(200),
        realmkeep_domain::Quantity::ONE,
        None,
        "monster:1",
        "old-loot",
    )
    .await
    .unwrap();

    let ahead = Duration::from_secs(150 * 24 * 3_600);
    let every = Duration::from_millis(200);
    let config = config("jobs-node", &[GREENVALE]).with_job_intervals(JobIntervals {
        market_expiry: every,
        mail_expiry: every,
        log_partitions: every,
        key_pruning: every,
    });
    let cache = env.cache("jobs-node").await;
    let cluster = Cluster::start_with_clock(
        config,
        env.content.clone(),
        s.clone(),
        cache,
        Arc::new(OffsetClock { ahead }),
    )
    .await
    .unwrap();

    // Partitions from the clock's month to three months past it.
    let clock_now = SystemTime::now() + ahead;
    for months in 0..=3 {
        let name = partition_name(s, clock_now, months).await;
        eventually(&format!("partition {name}"), || async {
            exists(s, &name).await.then_some(())
        })
        .await;
    }
    // The listing expired by the node's clock (it lasts 24 h) and went back by mail.
    eventually("the listing back by mail", || async {
        (logged(s, "market_expire", "listing_id", listing.0).await == 1).then_some(())
    })
    .await;
    let on_market: i64 = sqlx::query_scalar("SELECT count(*) FROM marketplace_listings")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(on_market, 0);
    // The mail expired by the node's clock (it lasts 30 days) and its gold went back.
    eventually("the mail returned", || async {
        (logged(s, "mail_return", "mail_id", mail.0).await == 1).then_some(())
    })
    .await;
    // Both keys are past their retention by the node's clock and pruned.
    eventually("the old keys pruned", || async {
        let left: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM action_keys) + (SELECT count(*) FROM loot_pickups)",
        )
        .fetch_one(s.pool())
        .await
        .unwrap();
        (left == 0).then_some(())
    })
    .await;
    let jobs = cluster.job_metrics();
    assert!(
        jobs.listings_expired >= 1 && jobs.mails_expired >= 1 && jobs.keys_pruned >= 2,
        "{jobs:?}"
    );
    assert_eq!(jobs.log_default_alerts, 0, "nothing in DEFAULT yet");

    // This month's partition goes away (as after a node outlived the partitions made for it);
    // upkeep is held off meanwhile (it takes the same advisory lock) so the trade's log row
    // surely finds no partition for its month.
    let this_month = partition_name(s, SystemTime::now(), 0).await;
    let mut hold = s.pool().acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock(hashtext('realmkeep:game_logs_partitions'))")
        .execute(&mut *hold)
        .await
        .unwrap();
    // The partition's name, as PostgreSQL's own partition function makes it.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE game_logs DETACH PARTITION {this_month}"
    )))
    .execute(s.pool())
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {this_month}")))
        .execute(s.pool())
        .await
        .unwrap();
    let side = |c, gold| TradeSide {
        actor: Actor::Offline(c),
        items: vec![],
        gold: Gold::new(gold).unwrap(),
    };
    let receipt = s.trade(&side(seller, 10), &side(sender, 0)).await;
    assert!(receipt.is_ok(), "the trade commits: {receipt:?}");
    let rows = trade_rows_in(s, seller).await;
    assert!(
        !rows.is_empty() && rows.iter().all(|t| t == "game_logs_default"),
        "{rows:?}"
    );
    sqlx::query("SELECT pg_advisory_unlock(hashtext('realmkeep:game_logs_partitions'))")
        .execute(&mut *hold)
        .await
        .unwrap();
    drop(hold);

    // The upkeep alerts, creates the month's partition and moves the row into it.
    eventually("the row moved out of DEFAULT, with an alert", || async {
        let rows = trade_rows_in(s, seller).await;
        let moved = !rows.is_empty() && rows.iter().all(|t| *t == this_month);
        (moved && cluster.job_metrics().log_default_alerts >= 1).then_some(())
    })
    .await;
    let in_default: i64 = sqlx::query_scalar("SELECT count(*) FROM game_logs_default")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(in_default, 0);
    let jobs = cluster.job_metrics();
    assert!(jobs.log_default_alerts >= 1, "{jobs:?}");
    assert!(jobs.log_rows_moved >= rows.len() as u64, "{jobs:?}");
    assert!(cluster.status().await.jobs.log_default_alerts >= jobs.log_default_alerts);

    let reports = cluster.shutdown().await;
    assert!(reports.iter().all(|r| r.complete));
}
