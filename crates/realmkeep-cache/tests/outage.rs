//! Redis dies mid-test: every feature answers in degraded mode within the timeout; Redis comes
//! back: subscriptions resume, presence is registered again, leaderboards are rebuilt.

mod common;

use common::*;
use realmkeep_cache::options::COMMAND_TIMEOUT;
use realmkeep_cache::*;
use realmkeep_domain::{AccountId, CharacterId, CharacterName, ItemDefId, SkillId, ZoneId};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Runs `f` and checks it answered within the generous bound.
async fn timed<T>(what: &str, f: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let v = f.await;
    assert!(
        started.elapsed() < DEGRADED_ANSWER_MAX,
        "{what} took {:?}",
        started.elapsed()
    );
    v
}

fn outage_options(node: &str) -> CacheOptions {
    let mut o = options(node);
    o.command_timeout = COMMAND_TIMEOUT;
    o
}

async fn wait_down(cache: &Cache) {
    let mut rx = cache.watch_health();
    tokio::time::timeout(WAIT_MAX, rx.wait_for(|h| !h.is_up()))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_redis_mid_test_then_restart() {
    let mut server = redis();
    let boards = FakeBoards::with(LeaderboardKind::Level, &[(1, 12.0), (2, 40.0), (3, 7.0)]);
    let defs = FakeDefs::bundled();
    let opts = outage_options("zone-node")
        .with_leaderboard_source(boards.clone())
        .with_definition_source(defs.clone());
    let cache = connect(&server, opts).await;
    let z = ZoneId(1);
    cache
        .presence()
        .enter_zone(CharacterId(1), z)
        .await
        .unwrap();
    cache
        .presence()
        .enter_zone(CharacterId(2), z)
        .await
        .unwrap();
    let before = cache.sessions().issue(AccountId(1)).await;
    eventually("the first leaderboard build", || async {
        matches!(cache.leaderboards().top(LeaderboardKind::Level, 3).await, Ok(v) if v.len() == 3)
    })
    .await;
    let mut sub = cache.subscribe([Channel::GlobalChat]).unwrap();
    assert_eq!(
        sub.recv().await.unwrap(),
        SubscriberEvent::Connected { resumed: false }
    );

    server.kill();

    // Right after the kill, before or after the watcher notices: degraded answers, in time.
    let check = timed(
        "session validate",
        cache.sessions().validate(before.token.as_str()),
    )
    .await;
    assert!(
        matches!(
            check,
            SessionCheck::Valid {
                account: AccountId(1),
                degraded: true,
                ..
            }
        ),
        "{check:?}"
    );
    wait_down(&cache).await;
    assert!(matches!(cache.health(), Health::Down { .. }));

    let ip = "203.0.113.5".parse().unwrap();
    let d = timed(
        "rate limit",
        cache.rate_limits().check(ip, RateAction::Login),
    )
    .await;
    assert!(d.is_allowed() && d.is_degraded());
    for _ in 1..rate_limit_default(RateAction::Login) {
        cache.rate_limits().check(ip, RateAction::Login).await;
    }
    let d = cache.rate_limits().check(ip, RateAction::Login).await;
    assert!(
        !d.is_allowed() && d.is_degraded(),
        "the local limiter enforces the limit"
    );

    // Tallied hits are counted in the local windows while Redis is down, a flush later.
    let degraded_before = cache.metrics().degraded_answers;
    let moves = rate_limit_default(RateAction::WsMove) as usize;
    let tally = || cache.rate_tally().hit(ip, RateAction::WsMove);
    assert_eq!(tally(), Tallied::Allowed);
    tokio::time::sleep(RATE_TALLY_FLUSH_EVERY * 4).await;
    assert!(
        cache.metrics().degraded_answers > degraded_before,
        "the flush counted locally"
    );
    let allowed = (1..moves + 5)
        .filter(|_| tally() == Tallied::Allowed)
        .count();
    assert_eq!(allowed, moves - 1, "the limit holds with Redis down");
    assert!(matches!(tally(), Tallied::Limited { .. }));

    let cd = cache.cooldowns();
    let started = timed(
        "cooldown",
        cd.try_start(CharacterId(1), SkillId(7), Duration::from_secs(30)),
    )
    .await
    .unwrap();
    assert_eq!(started, CooldownStart::Started { degraded: true });
    assert!(matches!(
        cd.try_start(CharacterId(1), SkillId(7), Duration::from_secs(30))
            .await
            .unwrap(),
        CooldownStart::OnCooldown { degraded: true, .. }
    ));

    let served = timed("enter zone", cache.presence().enter_zone(CharacterId(3), z))
        .await
        .unwrap();
    assert_eq!(served, Served::Local);
    let players = timed("zone players", cache.presence().zone_players(z)).await;
    assert!(players.degraded);
    assert_eq!(
        players.value,
        vec![CharacterId(1), CharacterId(2), CharacterId(3)]
    );
    assert_eq!(
        cache.presence().entity_count(z).await,
        Lookup {
            value: 3,
            degraded: true
        }
    );

    let line = ChatLine::new(
        CharacterId(1),
        CharacterName::parse("Ayla").unwrap(),
        "anyone?",
    )
    .unwrap();
    let sent = timed("chat", cache.chat().send(ChatChannel::Global, &line))
        .await
        .unwrap();
    assert_eq!(
        sent,
        ChatSent {
            history_kept: false,
            cross_zone: false
        }
    );
    assert!(
        cache
            .chat()
            .history(ChatChannel::Global, 10)
            .await
            .unwrap()
            .degraded
    );

    let mm = timed(
        "matchmaking",
        cache.matchmaking().join(QueueKind::Arena, CharacterId(1)),
    )
    .await;
    let err = mm.unwrap_err();
    assert!(matches!(err, MatchmakingError::Paused));
    assert_eq!(err.player_message(), MATCHMAKING_PAUSED_MESSAGE);

    let board = timed(
        "leaderboard",
        cache.leaderboards().top(LeaderboardKind::Level, 3),
    )
    .await;
    assert!(board.unwrap_err().is_unavailable());
    assert_eq!(
        cache
            .leaderboards()
            .set_score(LeaderboardKind::Level, CharacterId(3), 99.0)
            .await,
        Served::Local
    );
    boards
        .scores
        .lock()
        .unwrap()
        .get_mut(&LeaderboardKind::Level)
        .unwrap()
        .push((CharacterId(4), 55.0));

    let reads = defs.reads.load(Ordering::SeqCst);
    let item = timed("definition", cache.definitions().item(ItemDefId(1)))
        .await
        .unwrap();
    assert_eq!(item.unwrap().name, "Rusty Sword");
    assert_eq!(
        defs.reads.load(Ordering::SeqCst),
        reads + 1,
        "read from PostgreSQL directly"
    );

    let publish = timed(
        "publish",
        cache
            .events()
            .publish(&Channel::GlobalChat, &ChannelMessage::Chat(line.clone())),
    )
    .await;
    assert!(publish.unwrap_err().is_unavailable());
    let during = timed("issue", cache.sessions().issue(AccountId(2))).await;
    assert_eq!(during.served, Served::Local);
    assert!(cache.metrics().degraded_answers > 0);

    // Redis comes back, empty (no snapshots in tests).
    server.start_again().unwrap();
    assert!(cache.wait_until_up(WAIT_MAX).await);
    assert!(cache.metrics().reconnects >= 1);

    // Presence, zone sets and counts are registered again, including what changed meanwhile.
    let mut r = raw(&server).await;
    let members: Vec<i64> = cmd(&mut r, &["SMEMBERS", "zone:1:players"]).await;
    let mut members = members;
    members.sort();
    assert_eq!(members, [1, 2, 3]);
    let online: String = cmd(&mut r, &["GET", "player:3:online"]).await;
    assert_eq!(online, r#"{"zone":1,"node":"zone-node"}"#);
    assert_eq!(cmd::<i64>(&mut r, &["GET", "zone:1:entity_count"]).await, 3);

    // Sessions accepted during the outage are known to Redis now.
    assert_eq!(
        cache.sessions().validate(during.token.as_str()).await,
        SessionCheck::Valid {
            account: AccountId(2),
            session: during.claims.session,
            degraded: false
        }
    );
    assert!(matches!(
        cache.sessions().validate(before.token.as_str()).await,
        SessionCheck::Valid {
            degraded: false,
            ..
        }
    ));

    // Leaderboards are rebuilt from PostgreSQL, with what changed there meanwhile.
    eventually("the leaderboard rebuild", || async {
        matches!(cache.leaderboards().top(LeaderboardKind::Level, 10).await,
            Ok(v) if v.iter().map(|e| e.character.0).collect::<Vec<_>>() == [4, 2, 1, 3])
    })
    .await;

    // The subscriber resubscribed by itself and hears new messages.
    loop {
        match tokio::time::timeout(WAIT_MAX, sub.recv())
            .await
            .unwrap()
            .unwrap()
        {
            SubscriberEvent::Connected { resumed: true } => break,
            SubscriberEvent::Disconnected => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let after = ChatLine::new(
        CharacterId(2),
        CharacterName::parse("Bran").unwrap(),
        "back online",
    )
    .unwrap();
    let sent = cache
        .chat()
        .send(ChatChannel::Global, &after)
        .await
        .unwrap();
    assert!(sent.cross_zone && sent.history_kept);
    let got = tokio::time::timeout(WAIT_MAX, sub.next_message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.message, ChannelMessage::Chat(after));
    assert!(cache.metrics().pubsub_resubscribes >= 1);

    // Matchmaking works again.
    assert_eq!(
        cache
            .matchmaking()
            .join(QueueKind::Arena, CharacterId(1))
            .await
            .unwrap(),
        QueueJoin::Joined
    );
}

fn rate_limit_default(action: RateAction) -> u32 {
    RateLimitConfig::default_for(action).limit
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_degraded_when_redis_is_down_and_catches_up() {
    let mut server = redis();
    server.kill();
    let started = Instant::now();
    let cache = Cache::connect(&server.url(), outage_options("late"))
        .await
        .unwrap();
    assert!(
        started.elapsed() < DEGRADED_ANSWER_MAX,
        "connect does not wait for Redis"
    );
    assert!(!cache.health().is_up());

    assert_eq!(
        cache
            .presence()
            .enter_zone(CharacterId(8), ZoneId(2))
            .await
            .unwrap(),
        Served::Local
    );
    let s = cache.sessions().issue(AccountId(3)).await;
    assert_eq!(s.served, Served::Local);
    assert!(matches!(
        cache.sessions().validate(s.token.as_str()).await,
        SessionCheck::Valid { degraded: true, .. }
    ));
    cache.sessions().revoke(s.token.as_str()).await;
    assert_eq!(
        cache.sessions().validate(s.token.as_str()).await,
        SessionCheck::Invalid(InvalidSession::Revoked),
        "revoked on this node: refused even without Redis"
    );
    let mut sub = cache.subscribe([Channel::ServerEvents]).unwrap();

    server.start_again().unwrap();
    assert!(cache.wait_until_up(WAIT_MAX).await);
    let mut r = raw(&server).await;
    assert_eq!(
        cmd::<Vec<i64>>(&mut r, &["SMEMBERS", "zone:2:players"]).await,
        [8]
    );
    let key = realmkeep_cache::keys::session(s.token.as_str());
    assert_eq!(
        cmd::<String>(&mut r, &["GET", &key]).await,
        "revoked",
        "the local revocation reached Redis"
    );
    assert_eq!(
        tokio::time::timeout(WAIT_MAX, sub.recv())
            .await
            .unwrap()
            .unwrap(),
        SubscriberEvent::Connected { resumed: false }
    );

    // A clean stop leaves nothing behind.
    assert_eq!(cache.close().await, Served::Redis);
    assert!(cmd::<Vec<i64>>(&mut r, &["SMEMBERS", "zone:2:players"])
        .await
        .is_empty());
    assert_eq!(
        cmd::<i64>(
            &mut r,
            &[
                "EXISTS",
                "player:8:online",
                "node:late:lease",
                "node:late:members"
            ]
        )
        .await,
        0
    );
}
