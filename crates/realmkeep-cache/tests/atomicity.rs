//! Atomicity under concurrency: rate limits count exactly, queues never double-book a player.

mod common;

use common::*;
use realmkeep_cache::*;
use realmkeep_domain::CharacterId;
use std::collections::HashSet;
use std::time::Duration;

const HITS: usize = 200;
const LIMIT: u32 = 37;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rate_limit_hits_let_exactly_the_limit_through() {
    let server = redis();
    let mut opts = options("rl-a");
    opts.rate_limits = vec![RateLimitConfig {
        action: RateAction::Chat,
        limit: LIMIT,
        window: Duration::from_secs(60),
    }];
    // Two nodes hit the same counter, as two zone servers would.
    let a = connect(&server, opts.clone()).await;
    opts.node = NodeId::parse("rl-b").unwrap();
    let b = connect(&server, opts).await;
    let ip = "198.51.100.9".parse().unwrap();

    let tasks: Vec<_> = (0..HITS)
        .map(|i| {
            let c = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { c.rate_limits().check(ip, RateAction::Chat).await })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        let d = t.await.unwrap();
        assert!(!d.is_degraded(), "every hit was counted by Redis");
        allowed += usize::from(d.is_allowed());
    }
    assert_eq!(allowed, LIMIT as usize);
}

/// Two nodes tally hits on one address, each answering at once and counting its tally in Redis
/// a flush later: together they let through the limit and at most what each tallied in one
/// flush before it heard of the other's, and Redis holds every hit let through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_tallying_one_address_go_past_the_limit_by_a_flush_at_most() {
    const PER_ROUND: usize = 4;
    let server = redis();
    let mut opts = options("tally-a");
    opts.rate_limits = vec![RateLimitConfig {
        action: RateAction::WsMove,
        limit: LIMIT,
        window: Duration::from_secs(60),
    }];
    let a = connect(&server, opts.clone()).await;
    opts.node = NodeId::parse("tally-b").unwrap();
    let b = connect(&server, opts).await;
    let ip = "198.51.100.10".parse().unwrap();
    let mut allowed = 0;
    for _ in 0..HITS / (2 * PER_ROUND) {
        for c in [&a, &b] {
            for _ in 0..PER_ROUND {
                allowed +=
                    usize::from(c.rate_tally().hit(ip, RateAction::WsMove) == Tallied::Allowed);
            }
        }
        // Both flushes have counted (`RATE_TALLY_FLUSH_EVERY`, and a round trip).
        tokio::time::sleep(RATE_TALLY_FLUSH_EVERY * 3).await;
    }
    assert!(
        (LIMIT as usize..=LIMIT as usize + 2 * PER_ROUND).contains(&allowed),
        "{allowed} let through under a limit of {LIMIT}"
    );
    let mut r = raw(&server).await;
    let counted: u64 = redis::cmd("GET")
        .arg(keys::rate_limit(ip, RateAction::WsMove))
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(counted, allowed as u64, "every hit let through was counted");
    let d = a.rate_tally().hit(ip, RateAction::WsMove);
    assert!(
        matches!(d, Tallied::Limited { retry_after } if retry_after <= Duration::from_secs(60)),
        "{d:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_popping_one_queue_never_share_a_player() {
    const PLAYERS: i64 = 500;
    let server = redis();
    let a = connect(&server, options("mm-a")).await;
    let b = connect(&server, options("mm-b")).await;

    // Players join through both nodes while both pop.
    let joins: Vec<_> = (0..PLAYERS)
        .map(|p| {
            let c = if p % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                c.matchmaking()
                    .join(QueueKind::Dungeon, CharacterId(p))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let popper = |c: Cache| {
        tokio::spawn(async move {
            let mut groups = Vec::new();
            let mut idle = 0;
            while idle < 20 {
                match c
                    .matchmaking()
                    .pop_group(QueueKind::Dungeon)
                    .await
                    .unwrap()
                    .group
                {
                    Some(g) => {
                        groups.push(g);
                        idle = 0;
                    }
                    None => {
                        idle += 1;
                        tokio::task::yield_now().await;
                    }
                }
            }
            groups
        })
    };
    let (pa, pb) = (popper(a.clone()), popper(b.clone()));
    for j in joins {
        assert_eq!(j.await.unwrap(), QueueJoin::Joined);
    }
    let mut groups = pa.await.unwrap();
    groups.extend(pb.await.unwrap());
    while let Some(g) = a
        .matchmaking()
        .pop_group(QueueKind::Dungeon)
        .await
        .unwrap()
        .group
    {
        groups.push(g);
    }

    let mut seen = HashSet::new();
    for g in &groups {
        assert_eq!(g.len(), DUNGEON_GROUP_SIZE);
        for p in g {
            assert!(seen.insert(*p), "{p:?} is in two groups");
        }
    }
    assert_eq!(
        seen.len() as i64,
        PLAYERS,
        "everyone got a group (500 is a multiple of 5)"
    );
    assert_eq!(a.matchmaking().len(QueueKind::Dungeon).await.unwrap(), 0);
}
