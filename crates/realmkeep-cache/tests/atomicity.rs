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
