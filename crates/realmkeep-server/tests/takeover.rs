//! A node restarted under the same name frees its dead process's claims (see
//! `crates/realmkeep/tests/restart.rs`, which SIGKILLs a real `realmkeep serve`); a node whose
//! process is alive keeps them when a second process starts under its name.

mod support;

use realmkeep_server::HostError;
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_node_keeps_its_claims_when_a_second_process_starts_under_its_name() {
    let env = Env::new().await;
    let c = character(env.store(), "Castor").await;
    let lease = Duration::from_secs(60);
    let live = env
        .cluster_with(config("twin", &[GREENVALE]).with_lease(lease))
        .await;
    let mut r = live.join(GREENVALE, c).await.unwrap();
    joined(&mut r.notices).await;
    let before = env.store().claim_info(c).await.unwrap();

    let second = env
        .cluster_with(config("twin", &[ASHEN_REACH]).with_lease(lease))
        .await;
    let after = env.store().claim_info(c).await.unwrap();
    assert!(after.live, "{after:?}");
    assert_eq!(
        (after.holder, after.epoch),
        (before.holder, before.epoch),
        "the live process's claim is untouched"
    );
    let stolen = second.join(ASHEN_REACH, c).await;
    assert!(matches!(stolen, Err(HostError::ClaimHeld)), "{stolen:?}");

    assert!(second.shutdown().await.iter().all(|r| r.complete));
    assert!(live.shutdown().await.iter().all(|r| r.complete));
    assert_eq!(env.store().claim_info(c).await.unwrap().holder, None);
}
