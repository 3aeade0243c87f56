//! Shared by the server's integration tests (`mod support;`): a fresh database and a private
//! Redis per test, real content, characters made through the store, and polling helpers.
#![allow(dead_code)]

use realmkeep_cache::{keys, Cache, CacheOptions, NodeId, SessionSecret};
use realmkeep_domain::content::Content;
use realmkeep_domain::*;
use realmkeep_launcher::RedisServer;
use realmkeep_server::{Cluster, ClusterConfig, Notice};
use realmkeep_store::Store;
use realmkeep_testkit::TestDb;
use realmkeep_zone::io::PlayerEvent;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Test accounts and characters, made the same way in every crate's tests.
#[allow(unused_imports)]
pub use realmkeep_testkit::{account, character, TEST_HASH};
pub const GREENVALE: ZoneId = ZoneId(1);
pub const ASHEN_REACH: ZoneId = ZoneId(2);
/// Long enough for the slowest step of a test on a loaded 2-core machine.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Env {
    pub db: TestDb,
    pub redis: RedisServer,
    pub content: Arc<Content>,
}

impl Env {
    pub async fn new() -> Env {
        let db = realmkeep_testkit::fresh_db().await;
        Env::with_db(db).await
    }

    pub async fn with_db(db: TestDb) -> Env {
        let redis = realmkeep_testkit::redis();
        let content = Arc::new(realmkeep_store::seed::bundled_content().expect("content parses"));
        Env { db, redis, content }
    }

    pub fn store(&self) -> &Store {
        &self.db.store
    }

    pub async fn cache(&self, node: &str) -> Cache {
        let opts = CacheOptions::new(
            NodeId::parse(node).unwrap(),
            SessionSecret::new(b"test-secret-test-secret-test-secret").unwrap(),
        );
        let cache = Cache::connect(&self.redis.url(), opts).await.unwrap();
        assert!(cache.wait_until_up(WAIT).await, "Redis is up");
        cache
    }

    /// A node running `zones` with short timings: saves every second, a 3 s lease.
    pub async fn cluster(&self, node: &str, zones: &[ZoneId]) -> Cluster {
        self.cluster_with(config(node, zones)).await
    }

    pub async fn cluster_with(&self, config: ClusterConfig) -> Cluster {
        let cache = self.cache(&config.host.node).await;
        Cluster::start(config, self.content.clone(), self.store().clone(), cache)
            .await
            .expect("cluster starts")
    }

    pub async fn redis_conn(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// `player:{id}:online` exists and the player is in `zone:{zone}:players`.
    pub async fn in_redis(&self, c: CharacterId, zone: ZoneId) -> (bool, bool) {
        let mut r = self.redis_conn().await;
        let online: bool = redis::cmd("EXISTS")
            .arg(keys::presence(c))
            .query_async(&mut r)
            .await
            .unwrap();
        let member: bool = redis::cmd("SISMEMBER")
            .arg(keys::zone_players(zone))
            .arg(c.0)
            .query_async(&mut r)
            .await
            .unwrap();
        (online, member)
    }
}

pub fn config(node: &str, zones: &[ZoneId]) -> ClusterConfig {
    ClusterConfig::new(node, zones.to_vec())
        .with_lease(Duration::from_secs(3))
        .with_save_interval(Duration::from_secs(1))
        .with_shutdown_wait(Duration::from_secs(15))
        .with_seed(7)
}

/// Polls `f` until it gives `Some`, at most `WAIT`.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The next notice that `pick` accepts (others are skipped), at most `WAIT`.
pub async fn notice<T>(
    rx: &mut realmkeep_server::NoticeReceiver,
    what: &str,
    mut pick: impl FnMut(&Notice) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(n)) => {
                if let Some(v) = pick(&n) {
                    return v;
                }
            }
            Ok(None) => panic!("notices closed while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

pub async fn joined(rx: &mut realmkeep_server::NoticeReceiver) -> (f32, f32) {
    notice(rx, "Joined", |n| match n {
        Notice::Event(PlayerEvent::Joined { x, y, .. }) => Some((*x, *y)),
        _ => None,
    })
    .await
}

/// The stored position of a character in `zone` (x, y), if any.
pub async fn stored_position(store: &Store, c: CharacterId, zone: ZoneId) -> Option<(f32, f32)> {
    sqlx::query_as("SELECT x, y FROM character_positions WHERE character_id = $1 AND zone_id = $2")
        .bind(c.0)
        .bind(zone.0)
        .fetch_optional(store.pool())
        .await
        .unwrap()
}

/// Health, level, xp and zone as stored.
pub async fn stored_stats(store: &Store, c: CharacterId) -> (i32, i32, i64, i32) {
    sqlx::query_as("SELECT health, level, xp, zone_id FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(store.pool())
        .await
        .unwrap()
}
