//! Guild wars over a real socket: declared and ended by a guild's leader or officer through
//! `guild_war:{guild1}:{guild2}` (with its duration), told to the members of both guilds, and
//! followed by the zone's PvP rule: players of one kingdom may fight while their guilds are at
//! war, and not before or after.

mod support;

use realmkeep_domain::GuildId;
use realmkeep_protocol::client::PlainSocket;
use realmkeep_protocol::ws::{Answer, Command, GameEvent};
use realmkeep_protocol::Reason;
use std::time::{Duration, Instant};
use support::*;

fn refused(a: &Answer) -> Reason {
    match a {
        Answer::Refused { reason, .. } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A player of Aldor with enough gold to found a guild, and the guild it founded.
async fn founder(env: &Env, name: &str, guild: &str) -> (Joined, i64) {
    let (token, id) = env.player(name).await;
    env.set_gold(id, 5_000).await;
    let (mut ws, welcome) = env.join(&token, id).await;
    let create = Command::GuildCreate { name: guild.into() };
    assert_eq!(ask(&mut ws, create).await.0, Answer::Ok);
    let g = next_event(&mut ws, |e| match e {
        GameEvent::GuildChanged { guild: Some(g) } => Some(*g),
        _ => None,
    })
    .await;
    let joined = Joined {
        token,
        id,
        ws,
        welcome,
    };
    (joined, g)
}

async fn war_event(ws: &mut PlainSocket) -> (i64, bool) {
    next_event(ws, |e| match e {
        GameEvent::GuildWar { with, at_war } => Some((*with, *at_war)),
        _ => None,
    })
    .await
}

/// Asks `attack` until the zone answers as `hostile` says (the zone learns wars off its tick).
async fn attack_until(ws: &mut PlainSocket, target: u64, hostile: bool) {
    let started = Instant::now();
    loop {
        let (r, _) = ask(ws, Command::Attack { target }).await;
        let now_hostile = match &r {
            Answer::Ok => true,
            other => {
                assert_eq!(refused(other), Reason::NotAllowed);
                false
            }
        };
        if now_hostile == hostile {
            let _ = ask(ws, Command::StopAttack).await;
            return;
        }
        assert!(started.elapsed() < WAIT, "the zone never learnt the war");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn war_ttl_ms(env: &Env, a: i64, b: i64) -> i64 {
    let key = format!("guild_war:{}:{}", a.min(b), a.max(b));
    let mut r = redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut r)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_war_lets_members_of_one_kingdom_fight_until_it_ends() {
    let env = Env::new().await;
    let (mut a, knights) = founder(&env, "alice", "Knights").await;
    let (mut b, rogues) = founder(&env, "bobby", "Rogues").await;
    let mut c = env.joined("carol", "aldor").await;
    assert_eq!(
        ask(&mut a.ws, Command::GuildInvite { who: c.id }).await.0,
        Answer::Ok
    );
    let accept = Command::GuildAccept { guild: knights };
    assert_eq!(ask(&mut c.ws, accept).await.0, Answer::Ok);
    let bob = b.welcome.net_id;

    // No war: one kingdom does not fight.
    let (r, _) = ask(&mut a.ws, Command::Attack { target: bob }).await;
    assert_eq!(refused(&r), Reason::NotAllowed);
    // Only a leader or officer declares; only on another guild that exists; 1 to 168 hours.
    let declare = |on, hours| Command::GuildWarDeclare { on, hours };
    let (r, _) = ask(&mut c.ws, declare(rogues, 1)).await;
    assert_eq!(refused(&r), Reason::NotAllowed, "a member may not");
    let (r, _) = ask(&mut a.ws, declare(987_654, 1)).await;
    assert_eq!(refused(&r), Reason::NoSuchTarget);
    let (r, _) = ask(&mut a.ws, declare(knights, 1)).await;
    assert_eq!(refused(&r), Reason::Invalid);
    let (r, _) = ask(&mut a.ws, declare(rogues, 0)).await;
    assert_eq!(refused(&r), Reason::BadFields);
    assert_eq!(war_ttl_ms(&env, knights, rogues).await, -2, "no war yet");

    // Declared for an hour: the key holds it with that TTL; both guilds' members are told.
    assert_eq!(ask(&mut a.ws, declare(rogues, 1)).await.0, Answer::Ok);
    let ttl = war_ttl_ms(&env, knights, rogues).await;
    assert!((3_590_000..=3_600_000).contains(&ttl), "{ttl}");
    assert_eq!(war_event(&mut a.ws).await, (rogues, true));
    assert_eq!(war_event(&mut c.ws).await, (rogues, true));
    assert_eq!(war_event(&mut b.ws).await, (knights, true));
    let (r, _) = ask(&mut a.ws, declare(rogues, 2)).await;
    assert_eq!(refused(&r), Reason::GameRule, "at war already");
    // The zone's PvP rule follows it.
    attack_until(&mut a.ws, bob, true).await;
    let wars = env.cluster.cache().guild_wars().in_force().await.unwrap();
    assert!(wars
        .iter()
        .any(|w| (w.first().0, w.second().0) == (knights.min(rogues), knights.max(rogues))));

    // Bobby ends it (either side's leader may): gone from Redis, everyone told, no more fighting.
    let end = Command::GuildWarEnd { with: knights };
    assert_eq!(ask(&mut b.ws, end.clone()).await.0, Answer::Ok);
    assert_eq!(war_ttl_ms(&env, knights, rogues).await, -2);
    assert_eq!(war_event(&mut a.ws).await, (rogues, false));
    assert_eq!(war_event(&mut b.ws).await, (knights, false));
    attack_until(&mut a.ws, bob, false).await;
    let (r, _) = ask(&mut b.ws, end).await;
    assert_eq!(refused(&r), Reason::GameRule, "no war to end");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_war_ends_by_its_duration_and_leaves_the_index() {
    let env = Env::new().await;
    let wars = env.cluster.cache().guild_wars();
    let (x, y) = (GuildId(41), GuildId(7));
    wars.declare(x, y, Duration::from_millis(300))
        .await
        .unwrap();
    let now = wars.in_force().await.unwrap();
    assert_eq!(now.len(), 1);
    assert_eq!((now[0].first(), now[0].second()), (y, x), "lower id first");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(wars.in_force().await.unwrap().is_empty());
    assert!(wars.get(x, y).await.unwrap().is_none());
    env.stop().await;
}
