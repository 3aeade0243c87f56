//! PostgreSQL goes away mid-play and comes back. In its own test binary: the PostgreSQL server
//! of `realmkeep_testkit::postgres()` is shared by every test of a binary.
//!
//! While it is away: the zone keeps ticking, critical actions are answered "try again", dirty
//! positions stay dirty, a logout waits (the character is not released without its final save).
//! When it is back: the backlog drains, positions are saved, the logout completes, and the same
//! critical action succeeds.

mod support;

use realmkeep_domain::*;
use realmkeep_server::{HostError, Notice};
use realmkeep_store::StoreOptions;
use realmkeep_zone::io::{Action, LeftReason, PlayerCommand, PlayerEvent};
use std::time::Duration;
use support::*;

async fn stop_postgres() {
    tokio::task::spawn_blocking(|| realmkeep_testkit::postgres().stop())
        .await
        .unwrap();
}

async fn start_postgres() {
    tokio::task::spawn_blocking(|| {
        realmkeep_testkit::postgres()
            .start_again()
            .expect("PostgreSQL restarts")
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_mid_play_nothing_is_lost_and_the_backlog_drains() {
    let opts = StoreOptions {
        acquire_timeout: Duration::from_secs(1),
        ..StoreOptions::default()
    };
    let env = Env::with_db(realmkeep_testkit::fresh_db_with(opts).await).await;
    let stays = character(env.store(), "Aragorn").await;
    let leaves = character(env.store(), "Bilbo").await;
    let newcomer = character(env.store(), "Frodo").await;
    // A lease longer than the outage, so the claims outlive it.
    let cluster = env
        .cluster_with(config("n1", &[GREENVALE]).with_lease(Duration::from_secs(30)))
        .await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut rs = cluster.join(GREENVALE, stays).await.unwrap();
    let mut rl = cluster.join(GREENVALE, leaves).await.unwrap();
    let (x0, y0) = joined(&mut rs.notices).await;
    joined(&mut rl.notices).await;

    stop_postgres().await;
    let ticks_before = host.metrics().ticks;

    // Play on: move both, ask for a quest (a critical action), and log one out.
    let goal = (x0 + 20.0, y0 + 5.0);
    host.command(
        stays,
        PlayerCommand::MoveTo {
            x: goal.0,
            y: goal.1,
        },
    )
    .unwrap();
    host.command(leaves, PlayerCommand::MoveTo { x: x0 - 8.0, y: y0 })
        .unwrap();
    let last = eventually("both to arrive", || async {
        let (a, b) = host
            .inspect(move |z| (z.player(stays), z.player(leaves)))
            .await
            .unwrap();
        let (a, b) = (a?, b?);
        ((a.x - goal.0).abs() < 0.01 && (b.x - (x0 - 8.0)).abs() < 0.01).then_some((b.x, b.y))
    })
    .await;
    host.command(stays, PlayerCommand::AcceptQuest { quest: QuestId(1) })
        .unwrap();
    let try_again = notice(&mut rs.notices, "TryAgain", |n| match n {
        Notice::Event(PlayerEvent::TryAgain { action }) => Some(*action),
        Notice::Event(PlayerEvent::QuestAccepted { .. }) => panic!("acknowledged without a commit"),
        _ => None,
    })
    .await;
    assert_eq!(try_again, Action::Quest);
    host.leave(leaves).await.unwrap();
    // A join needs PostgreSQL: answered "try again" at once, nothing claimed.
    let started = std::time::Instant::now();
    let late = cluster.join(GREENVALE, newcomer).await;
    assert!(matches!(late, Err(HostError::Unavailable)), "{late:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Several seconds without PostgreSQL.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let m = host.metrics();
    assert!(
        m.ticks >= ticks_before + 40,
        "the zone kept ticking: {} → {}",
        ticks_before,
        m.ticks
    );
    assert!(m.critical_unavailable >= 1, "{m:?}");
    assert!(
        m.save_retries >= 1 || m.saves_failed >= 1,
        "saves are being retried: {m:?}"
    );
    assert!(m.last_error.is_some());
    assert_eq!(
        host.player_count(),
        2,
        "no one is released without a final save"
    );
    assert!(rl
        .notices
        .try_recv()
        .map_or(true, |n| !matches!(n, Notice::Left(_))));
    let pending = host
        .inspect(move |z| z.player(stays).map(|p| p.dirty || p.save_in_flight))
        .await
        .unwrap();
    assert_eq!(
        pending,
        Some(true),
        "the moved character is still waiting for its save"
    );

    start_postgres().await;

    // The logout completes with its final save; the position saved is the last one.
    let reason = notice(&mut rl.notices, "Left after the restart", |n| match n {
        Notice::Left(r) => Some(*r),
        _ => None,
    })
    .await;
    assert_eq!(reason, LeftReason::Released { transfer_to: None });
    let stored = stored_position(env.store(), leaves, GREENVALE)
        .await
        .unwrap();
    assert!((stored.0 - last.0).abs() < 0.01, "{stored:?} vs {last:?}");
    assert_eq!(env.store().claim_info(leaves).await.unwrap().holder, None);
    // The dirty position drains.
    eventually("the held position to be saved", || async {
        let (sx, sy) = stored_position(env.store(), stays, GREENVALE).await?;
        ((sx - goal.0).abs() < 0.01 && (sy - goal.1).abs() < 0.01).then_some(())
    })
    .await;
    // The same critical action now succeeds (a player told "try again" tries again).
    let mut accepted = false;
    for _ in 0..5 {
        host.command(stays, PlayerCommand::AcceptQuest { quest: QuestId(1) })
            .unwrap();
        accepted = notice(&mut rs.notices, "the quest answer", |n| match n {
            Notice::Event(PlayerEvent::QuestAccepted { .. }) => Some(true),
            Notice::Event(PlayerEvent::TryAgain { .. }) => Some(false),
            _ => None,
        })
        .await;
        if accepted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(accepted, "the quest is accepted once PostgreSQL is back");
    // And the join that was refused now works.
    let mut rn = cluster.join(GREENVALE, newcomer).await.unwrap();
    joined(&mut rn.notices).await;
    assert_eq!(
        env.store()
            .claim_info(stays)
            .await
            .unwrap()
            .holder
            .as_deref(),
        Some(host.holder())
    );
    let status = cluster.status().await;
    assert!(status.postgres_up);
    eventually("the store queue to drain", || async {
        let m = host.metrics();
        (m.store_pending == 0 && m.store_backlog == 0).then_some(())
    })
    .await;
    let reports = cluster.shutdown().await;
    assert!(reports.iter().all(|r| r.complete), "{reports:?}");
}
