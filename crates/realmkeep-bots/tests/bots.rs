//! Bots over real sockets against a node and its gateway (real PostgreSQL and Redis): they
//! register, log in, join and play through the protocol for a few seconds, every command is
//! answered, nothing is left in two places, and the report says what happened.

use realmkeep_bots::{run, BotsConfig};
use realmkeep_cache::options::RateLimitConfig;
use realmkeep_cache::{Cache, CacheOptions, NodeId, QueueKind, RateAction, SessionSecret};
use realmkeep_domain::ZoneId;
use realmkeep_gateway::{Gateway, GatewayConfig};
use realmkeep_server::{Cluster, ClusterConfig, ContentDefinitions, StoreLeaderboards};
use std::sync::Arc;
use std::time::Duration;

const BOTS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_register_join_and_play_through_the_socket() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    let content = Arc::new(realmkeep_store::seed::bundled_content().unwrap());
    let mut opts = CacheOptions::new(
        NodeId::parse("bots").unwrap(),
        SessionSecret::new(b"bots-test-session-secret-0123456789").unwrap(),
    );
    // The bots all come from 127.0.0.1: as a benchmark would, the test lets them register.
    opts.rate_limits = RateAction::ALL
        .iter()
        .map(|a| RateLimitConfig {
            action: *a,
            limit: 100_000,
            window: Duration::from_secs(60),
        })
        .collect();
    let opts = opts
        .with_leaderboard_source(Arc::new(StoreLeaderboards(db.store.clone())))
        .with_definition_source(Arc::new(ContentDefinitions(content.clone())));
    let cache = Cache::connect(&redis.url(), opts).await.unwrap();
    assert!(cache.wait_until_up(Duration::from_secs(20)).await);
    // Dungeon groups the bots queue for are sent to zone 2.
    let config = ClusterConfig::new("bots", vec![ZoneId(1), ZoneId(2)])
        .with_seed(3)
        .with_instance_zone(QueueKind::Dungeon, ZoneId(2));
    let cluster = Cluster::start(config, content, db.store.clone(), cache)
        .await
        .unwrap();
    let gateway = Gateway::start(
        cluster.clone(),
        GatewayConfig::new("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap();

    let mut bots = BotsConfig::new(&gateway.base_url(), BOTS, 11, 8);
    bots.think_every = Duration::from_millis(200);
    let report = run(bots.clone(), false).await;
    assert_eq!(report.joined as usize, BOTS, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(report.commands >= BOTS as u64 * 10, "{report:?}");
    let answered = report.ok + report.refused + report.try_again + report.rate_limited;
    assert!(
        answered * 10 >= report.commands * 9,
        "nearly every command answered: {report:?}"
    );
    assert!(report.ok > 0 && report.rtt_p50_ms > 0.0, "{report:?}");
    assert_eq!(report.connected_at_end, 0, "all logged out");
    assert_eq!(realmkeep_testkit::misplaced_items(&db.store).await, 0);

    // A second run logs into the same accounts (registered once).
    bots.seconds = 2;
    let again = run(bots, false).await;
    assert_eq!(
        (again.joined as usize, again.errors),
        (BOTS, 0),
        "{again:?}"
    );
    gateway.stop();
    cluster.shutdown().await;
}
