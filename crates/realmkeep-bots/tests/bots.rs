//! Bots over real sockets against a node and its gateway (real PostgreSQL and Redis): they
//! register, log in, join and play through the protocol for a few seconds, every command is
//! answered, nothing is left in two places, and the report says what happened. Idle bots join
//! and stay silent, measured by a window, until they are told to stop.

use realmkeep_bots::{run, run_with, BotsConfig, Play, Stats};
use realmkeep_cache::options::RateLimitConfig;
use realmkeep_cache::{Cache, CacheOptions, NodeId, QueueKind, RateAction, SessionSecret};
use realmkeep_domain::ZoneId;
use realmkeep_gateway::{Gateway, GatewayConfig};
use realmkeep_server::{Cluster, ClusterConfig, ContentDefinitions, StoreLeaderboards};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

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

    // A second run logs into the same accounts without registering (registered once: an
    // account that did not exist would be refused at login, and that bot would not join).
    // Asked for positions, each bot stops before it logs out, and where its socket last showed
    // it standing is where its character was saved.
    bots.seconds = 4;
    bots.registered = true;
    bots.positions = true;
    let again = run(bots.clone(), false).await;
    assert_eq!(
        (again.joined as usize, again.errors),
        (BOTS, 0),
        "{again:?}"
    );
    assert!(!again.stood.is_empty(), "{again:?}");
    for s in &again.stood {
        let c = db
            .store
            .load_character(realmkeep_domain::CharacterId(s.character))
            .await
            .unwrap();
        let p = c.position;
        assert_eq!(p.zone, ZoneId(s.zone), "{s:?}");
        assert!(
            (p.x - s.x).abs() <= 0.1 && (p.y - s.y).abs() <= 0.1,
            "saved at ({}, {}), the bot stood at {s:?}",
            p.x,
            p.y
        );
    }
    bots.positions = false;

    // Idle bots join and send nothing; a window says so; a stop ends the run before its time.
    bots.play = Play::Idle;
    bots.seconds = 60;
    let stats = Arc::new(Stats::default());
    let (stop_tx, stop) = oneshot::channel::<()>();
    let stop = async move {
        let _ = stop.await;
    };
    let idle = tokio::spawn(run_with(bots, false, stats.clone(), stop));
    let started = Instant::now();
    while stats.connected.load(Ordering::Relaxed) < BOTS as u64 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "idle bots joined"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stats.take_window();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let w = stats.take_window();
    assert_eq!(
        (w.connected, w.commands, w.frames_up),
        (BOTS as u64, 0, 0),
        "{w:?}"
    );
    assert!(w.seconds >= 1.0, "{w:?}");
    stop_tx.send(()).unwrap();
    let r = idle.await.unwrap();
    assert!(r.seconds < 30.0, "stopped early: {r:?}");
    assert_eq!((r.connected_at_end, r.errors), (0, 0), "{r:?}");
    gateway.stop();
    cluster.shutdown().await;
}
