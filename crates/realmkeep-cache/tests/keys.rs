//! Each key of the spec: its behaviour, and its TTL read back with TTL/PTTL (sessions and
//! presence are in `sessions_presence.rs`).

mod common;

use common::*;
use realmkeep_cache::keys::{self, CHAT_HISTORY_TTL, DEFINITION_CACHE_TTL};
use realmkeep_cache::*;
use realmkeep_domain::{CharacterId, CharacterName, GuildId, ItemDefId, Kingdom, SkillId};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn near(ms: i64, expected: Duration) -> bool {
    let e = expected.as_millis() as i64;
    ms > e - 60_000.min(e / 2) && ms <= e
}

#[tokio::test]
async fn matchmaking_join_leave_pop_and_timeout() {
    let server = redis();
    let mut opts = options("mm");
    opts.arena_queue = QueueConfig {
        group_size: 2,
        timeout: Duration::from_millis(300),
    };
    let cache = connect(&server, opts).await;
    let mm = cache.matchmaking();
    let mut r = raw(&server).await;

    assert_eq!(
        mm.join(QueueKind::Dungeon, CharacterId(1)).await.unwrap(),
        QueueJoin::Joined
    );
    assert_eq!(
        mm.join(QueueKind::Arena, CharacterId(1)).await.unwrap(),
        QueueJoin::AlreadyQueued(QueueKind::Dungeon),
        "one queue at a time"
    );
    assert_eq!(
        pttl(&mut r, &keys::matchmaking_queue(QueueKind::Dungeon)).await,
        -1
    );
    for p in 2..=6 {
        mm.join(QueueKind::Dungeon, CharacterId(p)).await.unwrap();
    }
    assert!(mm.leave(QueueKind::Dungeon, CharacterId(6)).await.unwrap());
    assert_eq!(mm.len(QueueKind::Dungeon).await.unwrap(), 5);
    let popped = mm.pop_group(QueueKind::Dungeon).await.unwrap();
    assert_eq!(
        popped.group.unwrap(),
        (1..=5).map(CharacterId).collect::<Vec<_>>(),
        "oldest first"
    );
    assert!(mm
        .pop_group(QueueKind::Dungeon)
        .await
        .unwrap()
        .group
        .is_none());

    // Arena entries time out after 300 ms and free the player for another queue.
    mm.join(QueueKind::Arena, CharacterId(7)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        mm.join(QueueKind::Dungeon, CharacterId(7)).await.unwrap(),
        QueueJoin::Joined
    );
    mm.leave(QueueKind::Dungeon, CharacterId(7)).await.unwrap();
    mm.join(QueueKind::Arena, CharacterId(8)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    mm.join(QueueKind::Arena, CharacterId(9)).await.unwrap();
    let popped = mm.pop_group(QueueKind::Arena).await.unwrap();
    assert_eq!(popped.timed_out, vec![CharacterId(8)]);
    assert!(popped.group.is_none());
}

#[tokio::test]
async fn chat_history_keys_ttl_and_last_n() {
    let server = redis();
    let cache = connect(&server, options("chat")).await;
    let mut r = raw(&server).await;
    let name = CharacterName::parse("Ayla").unwrap();
    let ch = ChatChannel::Guild(GuildId(3));
    for i in 0..12 {
        let mut line = ChatLine::new(CharacterId(1), name.clone(), &format!("line {i}")).unwrap();
        line.sent_unix_ms -= (12 - i) * 1_000 / 4; // spread over a few seconds, in order
        let sent = cache.chat().send(ch, &line).await.unwrap();
        assert!(sent.history_kept && sent.cross_zone);
    }
    let last = cache.chat().history(ch, 5).await.unwrap();
    assert!(!last.degraded);
    let texts: Vec<_> = last.value.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["line 7", "line 8", "line 9", "line 10", "line 11"]);
    assert_eq!(cache.chat().history(ch, 100).await.unwrap().value.len(), 12);
    assert!(cache
        .chat()
        .history(ch, CHAT_HISTORY_READ_MAX + 1)
        .await
        .is_err());

    let buckets: Vec<String> = cmd(&mut r, &["KEYS", "chat:guild.3:*"]).await;
    assert!(!buckets.is_empty());
    for b in buckets {
        assert!(near(pttl(&mut r, &b).await, CHAT_HISTORY_TTL), "{b}");
    }
    assert!(near(
        pttl(&mut r, &keys::chat_index(&ch)).await,
        CHAT_HISTORY_TTL
    ));
    assert!(cache
        .chat()
        .history(ChatChannel::Kingdom(Kingdom::Aldor), 5)
        .await
        .unwrap()
        .value
        .is_empty());
}

#[tokio::test]
async fn rate_limits_cooldowns_and_guild_wars() {
    let server = redis();
    let mut opts = options("rl");
    opts.rate_limits = vec![RateLimitConfig {
        action: RateAction::Trade,
        limit: 3,
        window: Duration::from_secs(30),
    }];
    let cache = connect(&server, opts).await;
    let mut r = raw(&server).await;
    let ip = "192.0.2.7".parse().unwrap();

    for left in [2, 1, 0] {
        assert_eq!(
            cache.rate_limits().check(ip, RateAction::Trade).await,
            RateDecision::Allowed {
                remaining: left,
                degraded: false
            }
        );
    }
    assert!(matches!(
        cache.rate_limits().check(ip, RateAction::Trade).await,
        RateDecision::Limited {
            degraded: false,
            ..
        }
    ));
    assert!(near(
        pttl(&mut r, &keys::rate_limit(ip, RateAction::Trade)).await,
        Duration::from_secs(30)
    ));
    assert!(
        cache
            .rate_limits()
            .check(ip, RateAction::Login)
            .await
            .is_allowed(),
        "per action"
    );
    assert!(near(
        pttl(&mut r, &keys::rate_limit(ip, RateAction::Login)).await,
        Duration::from_secs(60)
    ));

    let (p, s) = (CharacterId(1), SkillId(7));
    let cd = cache.cooldowns();
    assert_eq!(
        cd.try_start(p, s, Duration::from_secs(8)).await.unwrap(),
        CooldownStart::Started { degraded: false }
    );
    assert!(near(
        pttl(&mut r, &keys::cooldown(p, s)).await,
        Duration::from_secs(8)
    ));
    assert!(matches!(
        cd.try_start(p, s, Duration::from_secs(8)).await.unwrap(),
        CooldownStart::OnCooldown {
            degraded: false,
            ..
        }
    ));
    assert!(cd.remaining(p, s).await.unwrap() <= Duration::from_secs(8));
    assert!(cd.remaining(p, SkillId(8)).await.is_none());

    let wars = cache.guild_wars();
    let (g1, g2) = (GuildId(20), GuildId(10));
    assert_eq!(
        wars.declare(g1, g2, Duration::from_secs(90)).await.unwrap(),
        Declared::Started
    );
    assert_eq!(
        wars.declare(g2, g1, Duration::from_secs(90)).await.unwrap(),
        Declared::AlreadyAtWar
    );
    let key = keys::guild_war(WarPair::new(g2, g1).unwrap());
    assert_eq!(key, "guild_war:10:20");
    assert!(near(pttl(&mut r, &key).await, Duration::from_secs(90)));
    assert!(wars.record_kill(g1, g2).await.unwrap());
    assert!(wars.record_kill(g1, g2).await.unwrap());
    assert!(wars.record_kill(g2, g1).await.unwrap());
    let war = wars.get(g2, g1).await.unwrap().unwrap();
    assert_eq!(
        (war.state.first_kills, war.state.second_kills),
        (1, 2),
        "first = guild 10"
    );
    assert_eq!(war.state.declared_by, g1);
    assert!(
        near(pttl(&mut r, &key).await, Duration::from_secs(90)),
        "kills keep the TTL"
    );
    assert!(wars.end(g1, g2).await.unwrap());
    assert!(wars.get(g1, g2).await.unwrap().is_none());
    assert!(!wars.record_kill(g1, g2).await.unwrap());
    assert!(wars.declare(g1, g1, Duration::from_secs(1)).await.is_err());
}

#[tokio::test]
async fn leaderboards_rank_top_around_and_rebuild() {
    let server = redis();
    let source = FakeBoards::with(LeaderboardKind::Level, &[(1, 10.0), (2, 30.0), (3, 20.0)]);
    let cache = connect(
        &server,
        options("lb").with_leaderboard_source(source.clone()),
    )
    .await;
    let mut r = raw(&server).await;
    let lb = cache.leaderboards();

    // Built at start because the `built` marker was missing.
    eventually("the initial rebuild", || async {
        lb.top(LeaderboardKind::Level, 3).await.unwrap().len() == 3
    })
    .await;
    assert_eq!(
        pttl(&mut r, &keys::leaderboard(LeaderboardKind::Level)).await,
        -1
    );

    let scores: Vec<_> = (1..=20)
        .map(|i| (CharacterId(i), (i * 10) as f64))
        .collect();
    assert_eq!(
        lb.set_scores(LeaderboardKind::Pvp, &scores).await.unwrap(),
        Served::Redis
    );
    assert_eq!(
        lb.set_score(LeaderboardKind::Pvp, CharacterId(5), 1_000.0)
            .await,
        Served::Redis
    );
    let top = lb.top(LeaderboardKind::Pvp, 3).await.unwrap();
    assert_eq!(
        top.iter().map(|e| e.character.0).collect::<Vec<_>>(),
        [5, 20, 19]
    );
    assert_eq!(top[0].position, 1);
    let me = lb
        .rank(LeaderboardKind::Pvp, CharacterId(18))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((me.position, me.score), (4, 180.0));
    let around = lb
        .around(LeaderboardKind::Pvp, CharacterId(18), 2)
        .await
        .unwrap();
    assert_eq!(
        around
            .iter()
            .map(|e| (e.position, e.character.0))
            .collect::<Vec<_>>(),
        [(2, 20), (3, 19), (4, 18), (5, 17), (6, 16)]
    );
    assert!(lb
        .rank(LeaderboardKind::Pvp, CharacterId(99))
        .await
        .unwrap()
        .is_none());
    assert!(lb
        .top(LeaderboardKind::Pvp, LEADERBOARD_READ_MAX + 1)
        .await
        .is_err());

    // On demand: PostgreSQL wins over whatever Redis had.
    source
        .scores
        .lock()
        .unwrap()
        .insert(LeaderboardKind::Pvp, vec![(CharacterId(7), 5.0)]);
    assert_eq!(lb.rebuild(LeaderboardKind::Pvp).await.unwrap(), 1);
    let top = lb.top(LeaderboardKind::Pvp, 10).await.unwrap();
    assert_eq!(top.iter().map(|e| e.character.0).collect::<Vec<_>>(), [7]);
    assert_eq!(
        pttl(&mut r, &keys::leaderboard(LeaderboardKind::Pvp)).await,
        -1
    );

    // Redis lost the board: rebuilt by itself.
    cmd::<()>(
        &mut r,
        &["DEL", "leaderboard:level", "leaderboard:level:built"],
    )
    .await;
    eventually("the rebuild after a loss", || async {
        lb.top(LeaderboardKind::Level, 3)
            .await
            .unwrap()
            .iter()
            .map(|e| e.character.0)
            .collect::<Vec<_>>()
            == [2, 3, 1]
    })
    .await;
}

#[tokio::test]
async fn definition_caches_read_through_with_ttl() {
    let server = redis();
    let defs = FakeDefs::bundled();
    let cache = connect(
        &server,
        options("defs").with_definition_source(defs.clone()),
    )
    .await;
    let mut r = raw(&server).await;

    let sword = cache
        .definitions()
        .item(ItemDefId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sword.name, "Rusty Sword");
    assert_eq!(defs.reads.load(Ordering::SeqCst), 1);
    assert!(near(
        pttl(&mut r, &keys::item_def(ItemDefId(1))).await,
        DEFINITION_CACHE_TTL
    ));
    assert_eq!(
        cache
            .definitions()
            .item(ItemDefId(1))
            .await
            .unwrap()
            .unwrap(),
        sword
    );
    assert_eq!(
        defs.reads.load(Ordering::SeqCst),
        1,
        "the second read is a hit"
    );

    let fireball = cache
        .definitions()
        .skill(SkillId(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fireball.cooldown_ms, 3_000);
    assert!(near(
        pttl(&mut r, &keys::skill_def(SkillId(7))).await,
        DEFINITION_CACHE_TTL
    ));
    assert!(cache
        .definitions()
        .item(ItemDefId(404))
        .await
        .unwrap()
        .is_none());

    // A value that does not parse is read again from the source and overwritten.
    cmd::<()>(&mut r, &["SET", &keys::item_def(ItemDefId(1)), "garbage"]).await;
    assert_eq!(
        cache
            .definitions()
            .item(ItemDefId(1))
            .await
            .unwrap()
            .unwrap(),
        sword
    );
    cache
        .definitions()
        .invalidate(&[ItemDefId(1)], &[SkillId(7)])
        .await
        .unwrap();
    assert_eq!(
        cmd::<i64>(&mut r, &["EXISTS", "cache:item_def:1", "cache:skill_def:7"]).await,
        0
    );
}
