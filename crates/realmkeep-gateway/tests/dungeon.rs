//! The dungeon queue over real sockets: players join and leave `matchmaking:queue:dungeon` from
//! their own connections; the node's matchmaker pops a full group at once and every member is
//! sent to the queue's instance zone together (a new `welcome` there, claimed with the next
//! epoch). The race of two nodes popping one queue is `realmkeep-cache`'s
//! `tests/atomicity.rs`.

mod support;

use realmkeep_domain::CharacterId;
use realmkeep_protocol::client::PlainSocket;
use realmkeep_protocol::ws::{Answer, Command, GameEvent, ServerMsg};
use realmkeep_protocol::Reason;
use support::*;

fn refused(a: &Answer) -> Reason {
    match a {
        Answer::Refused { reason, .. } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn join(queue: &str) -> Command {
    Command::QueueJoin {
        queue: queue.into(),
    }
}

fn leave(queue: &str) -> Command {
    Command::QueueLeave {
        queue: queue.into(),
    }
}

async fn waiting(env: &Env) -> Vec<i64> {
    let mut r = redis::Client::open(env.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let v: Vec<i64> = redis::cmd("ZRANGE")
        .arg("matchmaking:queue:dungeon")
        .arg(0)
        .arg(-1)
        .query_async(&mut r)
        .await
        .unwrap();
    v
}

/// The group this socket's player was put in, then the zone of the welcome that follows.
async fn sent_to_dungeon(ws: &mut PlainSocket) -> (Vec<i64>, i32) {
    let (members, zone) = next_event(ws, |e| match e {
        GameEvent::GroupFormed {
            queue,
            zone,
            members,
        } if queue == "dungeon" => Some((members.clone(), *zone)),
        _ => None,
    })
    .await;
    let welcomed = next_msg(ws, |m| match m {
        ServerMsg::Welcome(w) => Some(w.zone),
        _ => None,
    })
    .await;
    assert_eq!(zone, welcomed, "welcomed where the group was sent");
    (members, welcomed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_players_queued_from_their_own_sockets_arrive_in_the_dungeon_together() {
    let env = Env::with_dungeon(2).await;
    let mut a = env.joined("alice", "aldor").await;
    let mut b = env.joined("bobby", "veyra").await;
    let mut c = env.joined("carol", "aldor").await;
    assert_ne!(a.welcome.zone, DUNGEON_ZONE.0);

    // Join, leave, and the refusals: one queue at a time, a known queue, only if waiting.
    assert_eq!(ask(&mut a.ws, join("dungeon")).await.0, Answer::Ok);
    assert_eq!(waiting(&env).await, vec![a.id]);
    assert_eq!(
        refused(&ask(&mut a.ws, join("arena")).await.0),
        Reason::GameRule
    );
    assert_eq!(
        refused(&ask(&mut a.ws, join("raid")).await.0),
        Reason::BadFields
    );
    assert_eq!(ask(&mut a.ws, leave("dungeon")).await.0, Answer::Ok);
    assert!(waiting(&env).await.is_empty());
    assert_eq!(
        refused(&ask(&mut a.ws, leave("dungeon")).await.0),
        Reason::GameRule
    );

    // Two players queue from their own connections: one group, both sent to the dungeon.
    assert_eq!(ask(&mut a.ws, join("dungeon")).await.0, Answer::Ok);
    assert_eq!(ask(&mut b.ws, join("dungeon")).await.0, Answer::Ok);
    let (mut ga, za) = sent_to_dungeon(&mut a.ws).await;
    let (mut gb, zb) = sent_to_dungeon(&mut b.ws).await;
    ga.sort();
    gb.sort();
    let mut both = vec![a.id, b.id];
    both.sort();
    assert_eq!((ga, za), (both.clone(), DUNGEON_ZONE.0));
    assert_eq!((gb, zb), (both, DUNGEON_ZONE.0));
    assert!(
        waiting(&env).await.is_empty(),
        "the group left the queue at once"
    );
    let dungeon = env
        .cluster
        .zone(DUNGEON_ZONE)
        .expect("the dungeon zone runs here");
    for p in [a.id, b.id] {
        assert!(dungeon.holds(CharacterId(p)));
        let zone: i32 = sqlx::query_scalar("SELECT zone_id FROM characters WHERE id = $1")
            .bind(p)
            .fetch_one(env.db.store.pool())
            .await
            .unwrap();
        assert_eq!(zone, DUNGEON_ZONE.0, "claimed there: in PostgreSQL");
    }
    // They play on there: a command is answered by the dungeon zone.
    assert_eq!(ask(&mut a.ws, Command::Stop).await.0, Answer::Ok);

    // Alone in the queue, carol waits: no group of one.
    assert_eq!(ask(&mut c.ws, join("dungeon")).await.0, Answer::Ok);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(waiting(&env).await, vec![c.id]);
    assert!(!dungeon.holds(CharacterId(c.id)));
    env.stop().await;
}
