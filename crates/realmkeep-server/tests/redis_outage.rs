//! Redis is killed mid-play and started again (each test has its own Redis). The zone keeps
//! ticking, joins still work (the cache registers them locally, degraded), and when Redis is
//! back the node's players are registered again.

mod support;

use realmkeep_zone::io::PlayerCommand;
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_play_degrades_then_presence_comes_back() {
    let mut env = Env::new().await;
    let before = character(env.store(), "Elrond").await;
    let during = character(env.store(), "Arwen").await;
    let cluster = env.cluster("n1", &[GREENVALE]).await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut rb = cluster.join(GREENVALE, before).await.unwrap();
    joined(&mut rb.notices).await;
    assert_eq!(env.in_redis(before, GREENVALE).await, (true, true));

    env.redis.kill();
    let cache = cluster.cache().clone();
    eventually("the cache to notice", || async {
        (!cache.health().is_up()).then_some(())
    })
    .await;
    let ticks = host.metrics().ticks;
    // Joins still work, and so does play (moves, chat through the degraded cache).
    let mut rd = cluster.join(GREENVALE, during).await.unwrap();
    assert!(
        rd.latency < Duration::from_millis(200),
        "degraded join took {:?}",
        rd.latency
    );
    joined(&mut rd.notices).await;
    host.command(before, PlayerCommand::MoveTo { x: 250.0, y: 250.0 })
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(host.metrics().ticks >= ticks + 10, "the zone kept ticking");
    assert!(!cluster.status().await.redis_up);
    assert_eq!(
        env.store()
            .claim_info(during)
            .await
            .unwrap()
            .holder
            .as_deref(),
        Some(host.holder())
    );

    env.redis.start_again().expect("Redis restarts");
    for c in [before, during] {
        eventually("presence registered again", || async {
            (env.in_redis(c, GREENVALE).await == (true, true)).then_some(())
        })
        .await;
    }
    assert!(cluster.status().await.redis_up);
    host.leave(during).await.unwrap();
    eventually("the leaver out of Redis", || async {
        (env.in_redis(during, GREENVALE).await == (false, false)).then_some(())
    })
    .await;
    let reports = cluster.shutdown().await;
    assert!(reports.iter().all(|r| r.complete));
    assert_eq!(env.in_redis(before, GREENVALE).await, (false, false));
}
