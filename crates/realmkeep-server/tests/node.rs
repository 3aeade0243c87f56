//! A node as its own process would run it: `Cluster::connect` from URLs (what `realmkeep serve`
//! does), with the cache's rebuild sources wired to the store.

mod support;

use realmkeep_server::{Cluster, Endpoints, HostError};
use realmkeep_store::StoreOptions;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_connects_from_urls_serves_and_shuts_down() {
    let env = Env::new().await;
    let c = character(env.store(), "Treebeard").await;
    let endpoints = Endpoints {
        database_url: env.db.url.clone(),
        redis_url: env.redis.url(),
        session_secret: b"test-secret-test-secret-test-secret".to_vec(),
    };
    let cluster = Cluster::connect(
        config("node-a", &[GREENVALE]),
        &endpoints,
        &StoreOptions::default(),
        env.content.clone(),
    )
    .await
    .unwrap();
    assert!(cluster.cache().wait_until_up(WAIT).await);
    let mut r = cluster.join(GREENVALE, c).await.unwrap();
    joined(&mut r.notices).await;
    assert_eq!(env.in_redis(c, GREENVALE).await, (true, true));
    assert!(matches!(
        cluster.join(ASHEN_REACH, c).await,
        Err(HostError::NoSuchZone)
    ));
    let reports = cluster.shutdown().await;
    assert!(reports.iter().all(|r| r.complete));
    assert_eq!(env.store().claim_info(c).await.unwrap().holder, None);
    // A second shutdown changes nothing and says so.
    let again = cluster.shutdown().await;
    assert!(
        again.iter().all(|r| r.complete && r.still_held == 0),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_node_name_is_refused_at_start() {
    let env = Env::new().await;
    let cache = env.cache("fine").await;
    let r = Cluster::start(
        config("no/slashes", &[GREENVALE]),
        env.content.clone(),
        env.store().clone(),
        cache,
    )
    .await;
    assert!(matches!(r, Err(HostError::Start(_))), "{r:?}");
}
