//! Blocks over a real socket: a player who is blocked is refused `blocked` when whispering,
//! mailing or offering a trade to the one who blocked them, and nothing reaches that player;
//! a block is one-way, comes back with the character on its next join, and `unblock` lifts it.

mod support;

use realmkeep_domain::{Actor, CharacterId};
use realmkeep_protocol::ws::{Answer, Command, GameEvent, Offer, ServerMsg};
use realmkeep_protocol::Reason;
use support::*;

fn refused(a: &Answer) -> Reason {
    match a {
        Answer::Refused { reason, .. } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn whisper(to: i64, text: &str) -> Command {
    Command::Whisper {
        to,
        text: text.into(),
    }
}

fn gold_offer(with: i64) -> Command {
    Command::Trade {
        with,
        give: Offer {
            items: vec![],
            gold: 1,
        },
        want: Offer::default(),
    }
}

fn op(o: &str, other: i64) -> Command {
    Command::Friend {
        other,
        op: o.into(),
    }
}

/// The next whisper heard: (speaker, text).
async fn heard(ws: &mut realmkeep_protocol::client::PlainSocket) -> (i64, String) {
    next_msg(ws, |m| match m {
        ServerMsg::Chat(l) if l.channel == "whisper" => Some((l.from, l.text.clone())),
        _ => None,
    })
    .await
}

/// The next trade offer heard: its offerer.
async fn offered(ws: &mut realmkeep_protocol::client::PlainSocket) -> i64 {
    next_event(ws, |e| match e {
        GameEvent::TradeOffered { from, .. } => Some(*from),
        _ => None,
    })
    .await
}

async fn mails_to(env: &Env, c: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM mail WHERE recipient_character_id = $1")
        .bind(c)
        .fetch_one(env.db.store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_silences_whispers_mail_and_trade_offers_from_the_blocked_player() {
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let mut b = env.joined("bobby", "aldor").await;
    let mut c = env.joined("carol", "aldor").await;
    // Dave blocked bobby while offline: the block comes with him into the world.
    let (dave_token, dave) = env.player("davey").await;
    env.db
        .store
        .block(Actor::Offline(CharacterId(dave)), CharacterId(b.id))
        .await
        .unwrap();
    let (mut d, _) = env.join(&dave_token, dave).await;

    assert_eq!(ask(&mut a.ws, op("block", b.id)).await.0, Answer::Ok);
    let status: String = sqlx::query_scalar(
        "SELECT status FROM friendships WHERE character_id = $1 AND other_id = $2",
    )
    .bind(a.id)
    .bind(b.id)
    .fetch_one(env.db.store.pool())
    .await
    .unwrap();
    assert_eq!(status, "blocked", "committed at the answer");

    // Whisper: refused to bobby, never published; carol's later one is the first alice hears.
    let (r, _) = ask(&mut b.ws, whisper(a.id, "let me in")).await;
    assert_eq!(refused(&r), Reason::Blocked);
    // Mail: refused, no gold taken, nothing in alice's mailbox.
    let gold = env.gold(b.id).await;
    let mail = Command::SendMail {
        to: a.id,
        subject: "hi".into(),
        body: "please".into(),
        gold: 5,
        items: vec![],
    };
    let (r, _) = ask(&mut b.ws, mail).await;
    assert_eq!(refused(&r), Reason::Blocked);
    assert_eq!(env.gold(b.id).await, gold);
    assert_eq!(mails_to(&env, a.id).await, 0);
    // Trade offers: refused, to alice (blocked in the world) and to dave (blocked before).
    let (r, _) = ask(&mut b.ws, gold_offer(a.id)).await;
    assert_eq!(refused(&r), Reason::Blocked);
    let (r, _) = ask(&mut b.ws, gold_offer(dave)).await;
    assert_eq!(refused(&r), Reason::Blocked);
    let (r, _) = ask(&mut b.ws, whisper(dave, "and you?")).await;
    assert_eq!(refused(&r), Reason::Blocked);

    // Others get through, and alice hears them first: nothing of bobby's was delivered.
    assert_eq!(
        ask(&mut c.ws, whisper(a.id, "from carol")).await.0,
        Answer::Ok
    );
    assert_eq!(heard(&mut a.ws).await, (c.id, "from carol".to_string()));
    assert_eq!(ask(&mut c.ws, gold_offer(a.id)).await.0, Answer::Ok);
    assert_eq!(offered(&mut a.ws).await, c.id);
    assert_eq!(ask(&mut c.ws, gold_offer(dave)).await.0, Answer::Ok);
    assert_eq!(offered(&mut d).await, c.id);
    // One-way: alice may still whisper to bobby.
    assert_eq!(ask(&mut a.ws, whisper(b.id, "go away")).await.0, Answer::Ok);
    assert_eq!(heard(&mut b.ws).await, (a.id, "go away".to_string()));
    // A whisper to nobody is refused by the store's rule.
    let (r, _) = ask(&mut b.ws, whisper(987_654, "anyone?")).await;
    assert_eq!(refused(&r), Reason::GameRule);

    // Unblocked: bobby's whisper, mail and offer reach alice.
    assert_eq!(ask(&mut a.ws, op("unblock", b.id)).await.0, Answer::Ok);
    assert_eq!(
        ask(&mut b.ws, whisper(a.id, "friends?")).await.0,
        Answer::Ok
    );
    assert_eq!(heard(&mut a.ws).await, (b.id, "friends?".to_string()));
    let mail = Command::SendMail {
        to: a.id,
        subject: "hi".into(),
        body: "again".into(),
        gold: 0,
        items: vec![],
    };
    assert_eq!(ask(&mut b.ws, mail).await.0, Answer::Ok);
    assert_eq!(mails_to(&env, a.id).await, 1);
    assert_eq!(ask(&mut b.ws, gold_offer(a.id)).await.0, Answer::Ok);
    assert_eq!(offered(&mut a.ws).await, b.id);
    env.stop().await;
}
