//! Shared by the gateway's tests (`mod support;`): a fresh database, a private Redis, a node
//! with both zones and a gateway on a loopback port; clients through real sockets.
#![allow(dead_code)]

pub mod admin;
pub mod browser;

use realmkeep_cache::options::RateLimitConfig;
use realmkeep_cache::{Cache, CacheOptions, NodeId, QueueKind, RateAction, SessionSecret};
use realmkeep_domain::ZoneId;
use realmkeep_gateway::{Gateway, GatewayConfig};
use realmkeep_launcher::RedisServer;
use realmkeep_protocol::client::{Http, Incoming, PlainSocket};
use realmkeep_protocol::ws::{Answer, Command, ServerFrame, ServerMsg, Welcome};
use realmkeep_server::{Cluster, ClusterConfig};
use realmkeep_testkit::TestDb;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(20);
/// The dungeon queue's instance zone in `Env::with_dungeon`.
pub const DUNGEON_ZONE: ZoneId = ZoneId(2);
pub const PASSWORD: &str = "a long enough password";

pub struct Env {
    pub db: TestDb,
    pub redis: RedisServer,
    pub cluster: Cluster,
    pub gateway: Gateway,
    pub http: Http,
}

/// Rate limits high enough that the tests' own traffic from 127.0.0.1 never meets them, except
/// those a test sets lower.
pub fn generous(mut over: Vec<RateLimitConfig>) -> Vec<RateLimitConfig> {
    for a in RateAction::ALL {
        if !over.iter().any(|c| c.action == *a) {
            over.push(RateLimitConfig {
                action: *a,
                limit: 100_000,
                window: Duration::from_secs(60),
            });
        }
    }
    over
}

impl Env {
    pub async fn new() -> Env {
        Env::with(
            generous(vec![]),
            GatewayConfig::new("127.0.0.1:0".parse().unwrap()),
        )
        .await
    }

    pub async fn with(limits: Vec<RateLimitConfig>, config: GatewayConfig) -> Env {
        Env::build(limits, config, None).await
    }

    /// A node whose matchmaker sends full dungeon groups of `group_size` to zone 2.
    pub async fn with_dungeon(group_size: usize) -> Env {
        let config = GatewayConfig::new("127.0.0.1:0".parse().unwrap());
        Env::build(generous(vec![]), config, Some(group_size)).await
    }

    async fn build(
        limits: Vec<RateLimitConfig>,
        config: GatewayConfig,
        dungeon_group: Option<usize>,
    ) -> Env {
        let db = realmkeep_testkit::fresh_db().await;
        let redis = realmkeep_testkit::redis();
        let zones = vec![ZoneId(1), ZoneId(2)];
        let node = Node::start(&db, &redis, "gw1", zones, limits, config, dungeon_group).await;
        Env {
            http: Http::new(&node.gateway.base_url()),
            db,
            redis,
            cluster: node.cluster,
            gateway: node.gateway,
        }
    }

    /// Two nodes on one PostgreSQL and Redis, each with its gateway: this one (`gw1`) serves
    /// zone 1, the other (`gw2`) zone 2.
    pub async fn two_nodes() -> (Env, Node) {
        let db = realmkeep_testkit::fresh_db().await;
        let redis = realmkeep_testkit::redis();
        let config = || GatewayConfig::new("127.0.0.1:0".parse().unwrap());
        let one = Node::start(
            &db,
            &redis,
            "gw1",
            vec![ZoneId(1)],
            generous(vec![]),
            config(),
            None,
        )
        .await;
        let two = Node::start(
            &db,
            &redis,
            "gw2",
            vec![ZoneId(2)],
            generous(vec![]),
            config(),
            None,
        )
        .await;
        let env = Env {
            http: Http::new(&one.gateway.base_url()),
            db,
            redis,
            cluster: one.cluster,
            gateway: one.gateway,
        };
        (env, two)
    }

    /// Registers `name`, logs in and creates a character named like the account: the token
    /// and the character id.
    pub async fn player(&self, name: &str) -> (String, i64) {
        self.http
            .new_player(name, PASSWORD, "warrior", "aldor")
            .await
            .expect("registered, logged in, character created")
    }

    /// A socket joined with `character`: the socket and the welcome.
    pub async fn join(&self, token: &str, character: i64) -> (PlainSocket, Welcome) {
        let (mut ws, answer) = PlainSocket::join(&self.http, token, character)
            .await
            .expect("join answered");
        assert_eq!(answer, Answer::Ok, "joined");
        let welcome = ws
            .backlog
            .iter()
            .find_map(|f| match &f.msg {
                ServerMsg::Welcome(w) => Some((**w).clone()),
                _ => None,
            })
            .expect("a welcome before the answer");
        ws.backlog.clear();
        (ws, welcome)
    }

    pub async fn stop(self) {
        self.gateway.stop();
        self.cluster.shutdown().await;
    }
}

/// A node (its zones and its gateway) against the test's PostgreSQL and Redis.
pub struct Node {
    pub cluster: Cluster,
    pub gateway: Gateway,
}

impl Node {
    async fn start(
        db: &TestDb,
        redis: &RedisServer,
        name: &str,
        zones: Vec<ZoneId>,
        limits: Vec<RateLimitConfig>,
        config: GatewayConfig,
        dungeon_group: Option<usize>,
    ) -> Node {
        let content = Arc::new(realmkeep_store::seed::bundled_content().expect("content parses"));
        let mut opts = CacheOptions::new(
            NodeId::parse(name).unwrap(),
            SessionSecret::new(b"test-secret-test-secret-test-secret").unwrap(),
        );
        opts.rate_limits = limits;
        if let Some(n) = dungeon_group {
            opts.dungeon_queue.group_size = n;
        }
        // As a serving node has them: leaderboards rebuilt from PostgreSQL, definitions read
        // through from the content.
        let opts = opts
            .with_leaderboard_source(Arc::new(realmkeep_server::StoreLeaderboards(
                db.store.clone(),
            )))
            .with_definition_source(Arc::new(realmkeep_server::ContentDefinitions(
                content.clone(),
            )));
        let cache = Cache::connect(&redis.url(), opts).await.unwrap();
        assert!(cache.wait_until_up(WAIT).await, "Redis is up");
        let config_cluster = ClusterConfig::new(name, zones)
            .with_lease(Duration::from_secs(3))
            .with_save_interval(Duration::from_secs(1))
            .with_shutdown_wait(Duration::from_secs(15))
            .with_seed(7);
        let config_cluster = match dungeon_group {
            Some(_) => config_cluster.with_instance_zone(QueueKind::Dungeon, DUNGEON_ZONE),
            None => config_cluster,
        };
        // As a serving node connects: a role in `realmkeep_game`, which cannot rewrite game_logs.
        let cluster = Cluster::start(config_cluster, content, db.game_store().await, cache)
            .await
            .expect("cluster starts");
        let gateway = Gateway::start(cluster.clone(), config)
            .await
            .expect("gateway starts");
        Node { cluster, gateway }
    }

    pub async fn stop(self) {
        self.gateway.stop();
        self.cluster.shutdown().await;
    }
}

/// The next frame whose message `pick` accepts, at most `WAIT` (others are dropped).
pub async fn next_msg<T>(ws: &mut PlainSocket, mut pick: impl FnMut(&ServerMsg) -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < WAIT, "timed out waiting for a message");
        match ws.next().await.expect("socket alive") {
            Incoming::Frame(ServerFrame { msg, .. }) => {
                if let Some(v) = pick(&msg) {
                    return v;
                }
            }
            Incoming::Closed(c) => panic!("closed ({c:?}) while waiting"),
        }
    }
}

/// What must not change when bad input is refused: the characters (but their lease and save
/// time), items, gold, logs, listings and mail in PostgreSQL, and the keys in Redis (but the
/// rate-limit counters, which count the refusals themselves).
pub async fn fingerprint(env: &Env) -> (String, Vec<String>) {
    let pg: String = sqlx::query_scalar(
        "SELECT md5(concat_ws('|',
            (SELECT string_agg(concat_ws(',', id, name, level, xp, gold, health, mana, zone_id, claim_epoch, claim_holder, deleted_at), ';' ORDER BY id) FROM characters),
            (SELECT string_agg(concat_ws(',', character_id, x, y), ';' ORDER BY character_id) FROM character_positions),
            (SELECT string_agg(concat_ws(',', id, location), ';' ORDER BY id) FROM item_instances),
            (SELECT count(*) FROM game_logs),
            (SELECT count(*) FROM accounts),
            (SELECT string_agg(password_hash, ';' ORDER BY id) FROM accounts)))",
    )
    .fetch_one(env.db.store.pool())
    .await
    .unwrap();
    let mut r = redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut r)
        .await
        .unwrap();
    keys.retain(|k| !k.starts_with("rate_limit:"));
    keys.sort();
    (pg, keys)
}

impl Env {
    /// `player`, retried while connection slots are still being given back.
    pub async fn player_when_free(&self, name: &str) -> (String, i64) {
        let started = Instant::now();
        loop {
            if self.gateway.open_connections() < 8 {
                return self.player(name).await;
            }
            assert!(started.elapsed() < WAIT, "connection slots come back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A player joined over a socket, with what the tests need of it.
pub struct Joined {
    pub token: String,
    pub id: i64,
    pub ws: PlainSocket,
    pub welcome: Welcome,
}

impl Env {
    /// Registers, creates a character in `kingdom` and joins it.
    pub async fn joined(&self, name: &str, kingdom: &str) -> Joined {
        self.http
            .register(name, &format!("{name}@example.com"), PASSWORD)
            .await
            .expect("registered");
        let token = self
            .http
            .login(name, PASSWORD)
            .await
            .expect("logged in")
            .token;
        let c = self
            .http
            .create_character(&token, name, "warrior", kingdom)
            .await
            .expect("character created");
        let (ws, welcome) = self.join(&token, c.id).await;
        Joined {
            token,
            id: c.id,
            ws,
            welcome,
        }
    }

    pub async fn gold(&self, c: i64) -> i64 {
        sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
            .bind(c)
            .fetch_one(self.db.store.pool())
            .await
            .unwrap()
    }

    pub async fn set_gold(&self, c: i64, gold: i64) {
        sqlx::query("UPDATE characters SET gold = $2 WHERE id = $1")
            .bind(c)
            .bind(gold)
            .execute(self.db.store.pool())
            .await
            .unwrap();
    }
}

/// Times `ask` sends a command again after `rate_limited`.
const ASK_RATE_LIMITED_TRIES: u32 = 10;

/// Sends `cmd` and returns its answer and the data sent with it (if any).
pub async fn ask(
    ws: &mut PlainSocket,
    cmd: Command,
) -> (Answer, Option<realmkeep_protocol::ws::Data>) {
    // As a well-behaved client: a command refused `rate_limited` is sent again after the wait
    // it was given. The tests' rate limits are generous, so this is the zone's bound on
    // commands per player per tick, which a test asking as fast as the answers come can meet
    // (the zone answers between ticks); tests of the limits themselves do not use `ask`.
    let mut tries = 0;
    let (id, answer) = loop {
        let id = ws.send(cmd.clone()).await.unwrap();
        match ws.answer(id).await.unwrap() {
            Answer::RateLimited { retry_after_ms } if tries < ASK_RATE_LIMITED_TRIES => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(retry_after_ms)).await;
            }
            answer => break (id, answer),
        }
    };
    let data = ws.backlog.iter().find_map(|f| match &f.msg {
        ServerMsg::Data { id: i, data } if *i == id => Some(data.clone()),
        _ => None,
    });
    (answer, data)
}

/// The next game event that `pick` accepts.
pub async fn next_event<T>(
    ws: &mut PlainSocket,
    mut pick: impl FnMut(&realmkeep_protocol::ws::GameEvent) -> Option<T>,
) -> T {
    next_msg(ws, |m| match m {
        ServerMsg::Event(e) => pick(e),
        _ => None,
    })
    .await
}
