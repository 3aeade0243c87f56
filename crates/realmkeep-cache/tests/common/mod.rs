//! Shared by the integration tests: a private Redis per test, a cache on it, raw reads of what
//! Redis holds (TTL/PTTL), and in-memory fakes of the PostgreSQL side only.
#![allow(dead_code)]

use futures::future::BoxFuture;
use realmkeep_cache::{
    BoxError, Cache, CacheOptions, DefinitionSource, LeaderboardKind, LeaderboardSource, NodeId,
    SessionSecret,
};
use realmkeep_domain::content::{ItemDef, SkillDef};
use realmkeep_domain::{CharacterId, ItemDefId, SkillId};
use realmkeep_launcher::{RedisOptions, RedisServer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for something that happens in the background (reconnects, sweeps).
pub const WAIT_MAX: Duration = Duration::from_secs(20);
/// A generous bound for "answered within the timeout" on a loaded machine.
pub const DEGRADED_ANSWER_MAX: Duration = Duration::from_secs(5);

pub fn redis() -> RedisServer {
    RedisServer::start(RedisOptions::for_tests()).expect("private Redis starts")
}

pub fn secret() -> SessionSecret {
    SessionSecret::new(b"a test secret that is long enough!!").unwrap()
}

/// Options for tests: short leases and checks so background work shows quickly, and a command
/// timeout generous enough for a loaded 2-core machine.
pub fn options(node: &str) -> CacheOptions {
    let mut o = CacheOptions::new(NodeId::parse(node).unwrap(), secret());
    o.command_timeout = Duration::from_secs(2);
    o.health_check_interval = Duration::from_millis(100);
    o.node_lease_ttl = Duration::from_secs(1);
    o.node_sweep_interval = Duration::from_millis(200);
    o.leaderboard_check_interval = Duration::from_millis(200);
    o
}

pub async fn connect(server: &RedisServer, opts: CacheOptions) -> Cache {
    let cache = Cache::connect(&server.url(), opts).await.unwrap();
    assert!(cache.wait_until_up(WAIT_MAX).await, "the cache connects");
    cache
}

/// A plain connection, to read back what the cache wrote.
pub async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

pub async fn cmd<T: redis::FromRedisValue>(
    c: &mut redis::aio::MultiplexedConnection,
    args: &[&str],
) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(c).await.unwrap()
}

pub async fn pttl(c: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    cmd(c, &["PTTL", key]).await
}

/// Polls `f` until it is true, at most [`WAIT_MAX`].
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !f().await {
        assert!(started.elapsed() < WAIT_MAX, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The PostgreSQL side of leaderboards, in memory.
#[derive(Default)]
pub struct FakeBoards {
    pub scores: Mutex<HashMap<LeaderboardKind, Vec<(CharacterId, f64)>>>,
    pub reads: AtomicUsize,
}

impl FakeBoards {
    pub fn with(kind: LeaderboardKind, scores: &[(i64, f64)]) -> Arc<Self> {
        let f = Self::default();
        f.scores.lock().unwrap().insert(
            kind,
            scores.iter().map(|(c, s)| (CharacterId(*c), *s)).collect(),
        );
        Arc::new(f)
    }
}

impl LeaderboardSource for FakeBoards {
    fn scores(
        &self,
        kind: LeaderboardKind,
    ) -> BoxFuture<'_, Result<Vec<(CharacterId, f64)>, BoxError>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let v = self
            .scores
            .lock()
            .unwrap()
            .get(&kind)
            .cloned()
            .unwrap_or_default();
        Box::pin(async move { Ok(v) })
    }
}

/// The PostgreSQL side of the definition tables, in memory, counting reads.
#[derive(Default)]
pub struct FakeDefs {
    pub items: HashMap<ItemDefId, ItemDef>,
    pub skills: HashMap<SkillId, SkillDef>,
    pub reads: AtomicUsize,
}

impl FakeDefs {
    pub fn bundled() -> Arc<Self> {
        let content: realmkeep_domain::content::Content =
            serde_json::from_value(sample_content()).expect("sample content parses");
        Arc::new(Self {
            items: content.items.into_iter().map(|i| (i.id, i)).collect(),
            skills: content.skills.into_iter().map(|s| (s.id, s)).collect(),
            reads: AtomicUsize::new(0),
        })
    }
}

fn sample_content() -> serde_json::Value {
    serde_json::json!({
        "items": [{"id": 1, "name": "Rusty Sword", "kind": "weapon", "equip_slot": "main_hand",
                   "max_stack": 1, "price": 10}],
        "skills": [{"id": 7, "name": "Fireball", "max_level": 5, "cooldown_ms": 3000,
                    "mana_cost": 10, "damage": 30, "range": 20.0}],
        "quests": [], "monsters": [], "zones": []
    })
}

impl DefinitionSource for FakeDefs {
    fn item_def(&self, id: ItemDefId) -> BoxFuture<'_, Result<Option<ItemDef>, BoxError>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { Ok(self.items.get(&id).cloned()) })
    }

    fn skill_def(&self, id: SkillId) -> BoxFuture<'_, Result<Option<SkillDef>, BoxError>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { Ok(self.skills.get(&id).cloned()) })
    }
}
