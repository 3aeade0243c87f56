//! The save pipeline end to end, against a real PostgreSQL and Redis and the real zone:
//! join, leave, periodic and immediate saves, transfers, lost claims and claim races.

mod support;

use realmkeep_domain::*;
use realmkeep_server::{HostError, Notice};
use realmkeep_zone::io::{LeftReason, PlayerCommand};
use std::time::Duration;
use support::*;

/// Walks the player a few steps east and waits until the zone shows it moved.
async fn walk(host: &realmkeep_server::ZoneHost, c: CharacterId, dx: f32) -> (f32, f32) {
    let start = host
        .inspect(move |z| z.player(c).map(|p| (p.x, p.y)))
        .await
        .unwrap()
        .unwrap();
    let goal = (start.0 + dx, start.1);
    host.command(
        c,
        PlayerCommand::MoveTo {
            x: goal.0,
            y: goal.1,
        },
    )
    .unwrap();
    eventually("the player to arrive", || async {
        let p = host.inspect(move |z| z.player(c)).await.unwrap()?;
        ((p.x - goal.0).abs() < 0.01 && (p.y - goal.1).abs() < 0.01).then_some((p.x, p.y))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_claims_loads_and_registers_then_leave_saves_releases_and_unregisters() {
    let env = Env::new().await;
    let c = character(env.store(), "Arwen").await;
    let cluster = env.cluster("n1", &[GREENVALE]).await;
    let host = cluster.zone(GREENVALE).unwrap().clone();

    let mut receipt = cluster.join(GREENVALE, c).await.unwrap();
    assert!(
        receipt.latency < Duration::from_millis(200),
        "join took {:?}",
        receipt.latency
    );
    joined(&mut receipt.notices).await;
    let claim = env.store().claim_info(c).await.unwrap();
    assert_eq!(claim.holder.as_deref(), Some(host.holder()));
    assert!(claim.live);
    assert_eq!(claim.epoch, receipt.fence.epoch.0);
    assert_eq!(env.in_redis(c, GREENVALE).await, (true, true));
    assert!(host.holder().starts_with("zone-1/n1/"));

    let (x, y) = walk(&host, c, 12.0).await;
    let health = host
        .inspect(move |z| z.player(c).unwrap().health)
        .await
        .unwrap();
    host.leave(c).await.unwrap();
    let reason = notice(&mut receipt.notices, "Left", |n| match n {
        Notice::Left(r) => Some(*r),
        _ => None,
    })
    .await;
    assert_eq!(reason, LeftReason::Released { transfer_to: None });

    // The final save is in PostgreSQL and the claim is released, in the same transaction.
    let claim = env.store().claim_info(c).await.unwrap();
    assert_eq!(claim.holder, None);
    let (sx, sy) = stored_position(env.store(), c, GREENVALE).await.unwrap();
    assert!(
        (sx - x).abs() < 0.01 && (sy - y).abs() < 0.01,
        "stored ({sx}, {sy}) vs ({x}, {y})"
    );
    assert_eq!(stored_stats(env.store(), c).await.0, health);
    eventually("removal from Redis", || async {
        (env.in_redis(c, GREENVALE).await == (false, false)).then_some(())
    })
    .await;
    eventually("the roster to empty", || async {
        (host.player_count() == 0).then_some(())
    })
    .await;
    let m = host.metrics();
    assert_eq!((m.joins, m.leaves, m.releases_ok), (1, 1, 1));
    assert!(m.ticks > 0 && m.tick.count > 0 && m.join.count == 1);

    let reports = cluster.shutdown().await;
    assert!(reports.iter().all(|r| r.complete && r.still_held == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_batch_saves_write_positions_while_playing() {
    let env = Env::new().await;
    let c = character(env.store(), "Boromir").await;
    let cluster = env.cluster("n1", &[GREENVALE]).await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut receipt = cluster.join(GREENVALE, c).await.unwrap();
    joined(&mut receipt.notices).await;
    let (x, y) = walk(&host, c, -15.0).await;
    eventually("a batch save of the new position", || async {
        let (sx, sy) = stored_position(env.store(), c, GREENVALE).await?;
        ((sx - x).abs() < 0.01 && (sy - y).abs() < 0.01).then_some(())
    })
    .await;
    // Still playing: the claim is held, and it was a batch save, not a release.
    assert_eq!(
        env.store().claim_info(c).await.unwrap().holder.as_deref(),
        Some(host.holder())
    );
    let m = host.metrics();
    assert!(m.save_rows_ok >= 1 && m.releases_ok == 0, "{m:?}");
    cluster.shutdown().await;
    assert_eq!(env.store().claim_info(c).await.unwrap().holder, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_releases_before_the_destination_claims() {
    let env = Env::new().await;
    let c = character(env.store(), "Gimli").await;
    let cluster = env.cluster("n1", &[GREENVALE, ASHEN_REACH]).await;
    let (a, b) = (
        cluster.zone(GREENVALE).unwrap().clone(),
        cluster.zone(ASHEN_REACH).unwrap().clone(),
    );
    let mut receipt = cluster.join(GREENVALE, c).await.unwrap();
    joined(&mut receipt.notices).await;

    // Watch the claim as fast as the database answers, during the whole transfer.
    let store = env.store().clone();
    let stop = tokio_util::sync::CancellationToken::new();
    let watching = stop.clone();
    let watcher = tokio::spawn(async move {
        let mut seen: Vec<Option<String>> = Vec::new();
        while !watching.is_cancelled() {
            let holder = store.claim_info(c).await.unwrap().holder;
            if seen.last() != Some(&holder) {
                seen.push(holder);
            }
        }
        seen
    });
    cluster.transfer(c, GREENVALE, ASHEN_REACH).await.unwrap();
    let reason = notice(&mut receipt.notices, "Left", |n| match n {
        Notice::Left(r) => Some(*r),
        _ => None,
    })
    .await;
    assert_eq!(
        reason,
        LeftReason::Released {
            transfer_to: Some(ASHEN_REACH)
        }
    );
    let (x, y) = joined(&mut receipt.notices).await;
    assert_eq!((x, y), (64.0, 64.0), "placed at the destination's entry");
    eventually("the destination's claim", || async {
        let h = env.store().claim_info(c).await.unwrap().holder;
        (h.as_deref() == Some(b.holder())).then_some(())
    })
    .await;
    stop.cancel();
    let seen = watcher.await.unwrap();
    assert_eq!(
        seen,
        vec![
            Some(a.holder().to_string()),
            None,
            Some(b.holder().to_string())
        ],
        "the holder changes only through a release"
    );
    assert_eq!(env.in_redis(c, ASHEN_REACH).await, (true, true));
    assert!(!env.in_redis(c, GREENVALE).await.1);
    assert_eq!((a.player_count(), b.player_count()), (0, 1));
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_zone_has_its_save_refused_and_despawns_the_character() {
    let env = Env::new().await;
    let c = character(env.store(), "Faramir").await;
    // A long lease: the renewer stays quiet, so the refused batch save is what notices.
    let cluster = env
        .cluster_with(config("n1", &[GREENVALE]).with_lease(Duration::from_secs(60)))
        .await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut receipt = cluster.join(GREENVALE, c).await.unwrap();
    joined(&mut receipt.notices).await;
    let before = stored_position(env.store(), c, GREENVALE).await.unwrap();

    // Another zone steals the claim behind this one's back (as after an expired lease).
    sqlx::query(
        "UPDATE characters SET claim_holder = 'thief', claim_epoch = claim_epoch + 1,
                claim_expires_at = now() + interval '1 hour' WHERE id = $1",
    )
    .bind(c.0)
    .execute(env.store().pool())
    .await
    .unwrap();
    host.command(
        c,
        PlayerCommand::MoveTo {
            x: before.0 + 10.0,
            y: before.1,
        },
    )
    .unwrap();

    let reason = notice(&mut receipt.notices, "Left", |n| match n {
        Notice::Left(r) => Some(*r),
        _ => None,
    })
    .await;
    assert_eq!(reason, LeftReason::ClaimLost);
    assert!(host.metrics().save_rows_refused >= 1);
    eventually("the roster to empty", || async {
        (host.player_count() == 0).then_some(())
    })
    .await;
    assert_eq!(
        env.store().claim_info(c).await.unwrap().holder.as_deref(),
        Some("thief")
    );
    assert_eq!(
        stored_position(env.store(), c, GREENVALE).await.unwrap(),
        before,
        "nothing written"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_renewer_reports_a_stolen_claim() {
    let env = Env::new().await;
    let c = character(env.store(), "Eowyn").await;
    let cluster = env.cluster("n1", &[GREENVALE]).await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut receipt = cluster.join(GREENVALE, c).await.unwrap();
    joined(&mut receipt.notices).await;
    // Standing still (nothing to save): only the renewal can find out.
    sqlx::query(
        "UPDATE characters SET claim_holder = 'thief', claim_epoch = claim_epoch + 1 WHERE id = $1",
    )
    .bind(c.0)
    .execute(env.store().pool())
    .await
    .unwrap();
    let reason = notice(&mut receipt.notices, "Left", |n| match n {
        Notice::Left(r) => Some(*r),
        _ => None,
    })
    .await;
    assert_eq!(reason, LeftReason::ClaimLost);
    assert_eq!(host.metrics().claims_lost, 1);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_zones_racing_for_one_character_exactly_one_wins() {
    let env = Env::new().await;
    let c = character(env.store(), "Legolas").await;
    let n1 = env.cluster("n1", &[GREENVALE]).await;
    let n2 = env.cluster("n2", &[GREENVALE]).await;
    let (r1, r2) = tokio::join!(n1.join(GREENVALE, c), n2.join(GREENVALE, c));
    let (winner, loser) = match (&r1, &r2) {
        (Ok(_), Err(e)) => (&n1, e),
        (Err(e), Ok(_)) => (&n2, e),
        other => panic!("exactly one join must win: {other:?}"),
    };
    assert!(matches!(loser, HostError::ClaimHeld), "{loser:?}");
    let holder = env.store().claim_info(c).await.unwrap().holder;
    assert_eq!(
        holder.as_deref(),
        Some(winner.zone(GREENVALE).unwrap().holder())
    );
    n1.shutdown().await;
    n2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_refuses_joins_and_releases_everyone() {
    let env = Env::new().await;
    let a = character(env.store(), "Merry").await;
    let b = character(env.store(), "Pippin").await;
    let late = character(env.store(), "Sam").await;
    let cluster = env.cluster("n1", &[GREENVALE, ASHEN_REACH]).await;
    let mut ra = cluster.join(GREENVALE, a).await.unwrap();
    let mut rb = cluster.join(ASHEN_REACH, b).await.unwrap();
    joined(&mut ra.notices).await;
    joined(&mut rb.notices).await;
    let reports = cluster.shutdown().await;
    assert_eq!(reports.len(), 2);
    assert!(
        reports.iter().all(|r| r.complete && r.still_held == 0),
        "{reports:?}"
    );
    for c in [a, b] {
        assert_eq!(env.store().claim_info(c).await.unwrap().holder, None);
    }
    assert!(matches!(
        cluster.join(GREENVALE, late).await,
        Err(HostError::ShuttingDown)
    ));
    assert_eq!(env.store().claim_info(late).await.unwrap().holder, None);
    assert_eq!(env.in_redis(a, GREENVALE).await, (false, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_zones_players_and_health() {
    let env = Env::new().await;
    let c = character(env.store(), "Frodo").await;
    let cluster = env.cluster("n1", &[GREENVALE, ASHEN_REACH]).await;
    let mut r = cluster.join(ASHEN_REACH, c).await.unwrap();
    joined(&mut r.notices).await;
    let s = cluster.status().await;
    assert_eq!(s.node, "n1");
    assert!(s.postgres_up && s.redis_up);
    assert_eq!(s.players, 1);
    let zone = s.zones.iter().find(|z| z.zone == ASHEN_REACH).unwrap();
    assert_eq!(zone.players, 1);
    assert!(zone.tick.count > 0 && zone.tick.p99_us >= zone.tick.p50_us);
    assert!(serde_json::to_string(&s)
        .unwrap()
        .contains("\"postgres_up\":true"));
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnected_character_stays_for_its_grace_period_then_leaves_saved() {
    let env = Env::new().await;
    let c = character(env.store(), "Galadriel").await;
    let cluster = env.cluster("n1", &[GREENVALE]).await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut r = cluster.join(GREENVALE, c).await.unwrap();
    joined(&mut r.notices).await;
    let (x, _) = walk(&host, c, 7.0).await;

    // A reconnect within the grace period keeps the character.
    let disconnected = |want: bool| {
        let host = host.clone();
        async move {
            let d = host
                .inspect(move |z| z.player(c).map(|p| p.disconnected))
                .await
                .unwrap();
            (d == Some(want)).then_some(())
        }
    };
    host.disconnect(c).await.unwrap();
    eventually("the zone to see the disconnect", || disconnected(true)).await;
    host.reconnect(c).await.unwrap();
    eventually("the zone to see the reconnect", || disconnected(false)).await;

    // Gone for good: it leaves after the grace period, with its final save.
    host.disconnect(c).await.unwrap();
    let started = tokio::time::Instant::now();
    let grace = Duration::from_millis(realmkeep_zone::limits::DISCONNECT_GRACE_MS);
    let reason = tokio::time::timeout(grace + WAIT, async {
        loop {
            if let Some(Notice::Left(reason)) = r.notices.recv().await {
                return reason;
            }
        }
    })
    .await
    .expect("left after the grace period");
    assert!(
        started.elapsed() >= grace - Duration::from_secs(1),
        "left too early: {:?}",
        started.elapsed()
    );
    assert_eq!(reason, LeftReason::Released { transfer_to: None });
    assert_eq!(env.store().claim_info(c).await.unwrap().holder, None);
    let (sx, _) = stored_position(env.store(), c, GREENVALE).await.unwrap();
    assert!((sx - x).abs() < 0.01);
    cluster.shutdown().await;
}
