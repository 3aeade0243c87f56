//! What the simulator's integration tests share: a cluster on a fresh database and a private
//! Redis, and read-backs of the economy (test code reads the database directly, to check the
//! store independently).
#![allow(dead_code)]

use realmkeep_cache::{Cache, CacheOptions, NodeId, SessionSecret};
use realmkeep_domain::content::Content;
use realmkeep_domain::ZoneId;
use realmkeep_launcher::RedisServer;
use realmkeep_server::{Cluster, ClusterConfig};
use realmkeep_store::Store;
use realmkeep_testkit::TestDb;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const ZONES: [ZoneId; 2] = [ZoneId(1), ZoneId(2)];

pub struct Env {
    pub db: TestDb,
    pub redis: RedisServer,
    pub content: Arc<Content>,
}

impl Env {
    pub async fn new() -> Env {
        let db = realmkeep_testkit::fresh_db().await;
        let redis = realmkeep_testkit::redis();
        let content = Arc::new(realmkeep_store::seed::bundled_content().unwrap());
        Env { db, redis, content }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    /// Two zones with short timings: saves every second, a 3 s lease.
    pub async fn cluster(&self, node: &str) -> Cluster {
        let opts = CacheOptions::new(
            NodeId::parse(node).unwrap(),
            SessionSecret::new(b"sim-test-secret-sim-test-secret-0").unwrap(),
        );
        let cache = Cache::connect(&self.redis.url(), opts).await.unwrap();
        assert!(cache.wait_until_up(Duration::from_secs(20)).await);
        let config = ClusterConfig::new(node, ZONES.to_vec())
            .with_lease(Duration::from_secs(3))
            .with_save_interval(Duration::from_secs(1))
            .with_shutdown_wait(Duration::from_secs(20))
            .with_seed(11);
        Cluster::start(config, self.content.clone(), self.store().clone(), cache)
            .await
            .expect("cluster starts")
    }
}

/// Everything that holds gold and every item quantity by definition, and where the logs stand.
#[derive(Debug, Clone, PartialEq)]
pub struct Economy {
    pub gold: i64,
    pub items: BTreeMap<i32, i64>,
    pub last_log: i64,
}

pub async fn economy(store: &Store) -> Economy {
    let p = store.pool();
    let gold: i64 = sqlx::query_scalar(
        "SELECT ((SELECT coalesce(sum(gold), 0) FROM characters)
               + (SELECT coalesce(sum(gold), 0) FROM mail))::int8",
    )
    .fetch_one(p)
    .await
    .unwrap();
    let items: Vec<(i32, i64)> =
        sqlx::query_as("SELECT def_id, sum(quantity)::int8 FROM item_instances GROUP BY def_id")
            .fetch_all(p)
            .await
            .unwrap();
    let last_log: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM game_logs")
        .fetch_one(p)
        .await
        .unwrap();
    Economy {
        gold,
        items: items.into_iter().collect(),
        last_log,
    }
}

/// Gold that came into the world (loot, quests, system mail, admins) less what left it (market
/// fees, skills), by the game logs written after `since`.
pub async fn logged_gold_change(store: &Store, since: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(sum(CASE
             WHEN event_type IN ('loot_gold', 'quest_completed', 'mail_system_send', 'admin_gold')
                 THEN coalesce(gold, 0)
             WHEN event_type = 'market_buy' THEN -(details->>'fee')::int8
             WHEN event_type IN ('skill_learned', 'skill_upgraded') THEN -coalesce(gold, 0)
             ELSE 0 END), 0)::int8
         FROM game_logs WHERE id > $1",
    )
    .bind(since)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

/// Item quantities that came into the world (loot, rewards, system mail, admins) less what was
/// destroyed, by definition, by the game logs written after `since`.
pub async fn logged_item_change(store: &Store, since: i64) -> BTreeMap<i32, i64> {
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT item_def_id, sum(CASE
             WHEN event_type IN ('loot_pickup', 'quest_reward_item', 'mail_system_item',
                                 'admin_grant_item') THEN quantity
             WHEN event_type IN ('destroy', 'admin_remove_item') THEN -quantity
             ELSE 0 END)::int8
         FROM game_logs WHERE id > $1 AND item_def_id IS NOT NULL GROUP BY item_def_id",
    )
    .bind(since)
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.into_iter().filter(|r| r.1 != 0).collect()
}

#[allow(unused_imports)]
pub use realmkeep_testkit::misplaced_items;

/// Characters whose claim is held by anyone.
pub async fn claims_held(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM characters WHERE claim_holder IS NOT NULL")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// True if `game_logs` holds the trade the receipt names (either side may be the logged `a`).
pub async fn trade_logged(store: &Store, r: &realmkeep_sim::TradeReceipt) -> bool {
    let ids = |v: &[realmkeep_domain::ItemId]| {
        sqlx::types::Json(v.iter().map(|i| i.0).collect::<Vec<i64>>())
    };
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM game_logs WHERE event_type = 'trade' AND (
             (actor_character_id = $1 AND target_character_id = $2 AND details->'a_items' = $3
              AND details->'b_items' = $4 AND (details->>'a_gold')::int8 = $5
              AND (details->>'b_gold')::int8 = $6)
          OR (actor_character_id = $2 AND target_character_id = $1 AND details->'a_items' = $4
              AND details->'b_items' = $3 AND (details->>'a_gold')::int8 = $6
              AND (details->>'b_gold')::int8 = $5))",
    )
    .bind(r.a.0)
    .bind(r.b.0)
    .bind(ids(&r.a_items))
    .bind(ids(&r.b_items))
    .bind(r.a_gold)
    .bind(r.b_gold)
    .fetch_one(store.pool())
    .await
    .unwrap();
    n > 0
}
