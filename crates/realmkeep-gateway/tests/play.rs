//! A player's whole visit through real sockets: register → login → ticket → join → move → a
//! second player sees the first move → say → logout → saved where it stood; then a reconnect
//! within the disconnect grace resumes the same entity without a new claim; and a quiet listener
//! hears chat at once.

mod support;

use realmkeep_domain::CharacterId;
use realmkeep_protocol::ws::{Answer, Command, EntityKind, ServerMsg};
use realmkeep_protocol::CloseCode;
use std::time::{Duration, Instant};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_join_move_be_seen_talk_and_log_out_saved_where_one_stood() {
    let env = Env::new().await;
    let (ta, a) = env.player("alice").await;
    let (tb, b) = env.player("bobby").await;
    let (mut wa, welcome_a) = env.join(&ta, a).await;
    assert_eq!(welcome_a.character, a);
    assert_eq!(welcome_a.name, "alice");
    assert!(!welcome_a.resumed);
    assert!(
        !welcome_a.bag.is_empty() || !welcome_a.equipment.is_empty(),
        "the starting kit is shown"
    );
    let (mut wb, _) = env.join(&tb, b).await;

    // Bob sees Alice in view.
    let alice_net = welcome_a.net_id;
    next_msg(&mut wb, |m| match m {
        ServerMsg::View(v) => v
            .entered
            .iter()
            .any(|e| {
                e.net_id == alice_net
                    && matches!(&e.kind, EntityKind::Player { character, .. } if *character == a)
            })
            .then_some(()),
        _ => None,
    })
    .await;

    // Alice walks; Bob sees her move.
    let (x0, y0) = (welcome_a.x, welcome_a.y);
    let to = (x0 + 10.0, y0);
    assert_eq!(
        wa.request(Command::MoveTo { x: to.0, y: to.1 })
            .await
            .unwrap(),
        Answer::Ok
    );
    next_msg(&mut wb, |m| match m {
        ServerMsg::View(v) => v
            .moved
            .iter()
            .any(|mv| mv.net_id() == alice_net && mv.x() > x0 + 9.0)
            .then_some(()),
        _ => None,
    })
    .await;

    // Alice talks; Bob hears it.
    assert_eq!(
        wa.request(Command::Say {
            text: "well met".into()
        })
        .await
        .unwrap(),
        Answer::Ok
    );
    let heard = next_msg(&mut wb, |m| match m {
        ServerMsg::Chat(c) => Some(c.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (heard.from, heard.text.as_str(), heard.channel.as_str()),
        (a, "well met", "say")
    );

    // Alice logs out: answered after the final save, then closed with 1000.
    let id = wa.send(Command::Logout).await.unwrap();
    assert_eq!(wa.answer(id).await.unwrap(), Answer::Ok);
    assert_eq!(wa.closed().await.unwrap(), Some(CloseCode::Normal.code()));
    let saved = env.db.store.load_character(CharacterId(a)).await.unwrap();
    assert!(
        (saved.position.x - to.0).abs() < 0.5 && (saved.position.y - to.1).abs() < 0.5,
        "saved where she stood: {:?}",
        saved.position
    );
    assert!(
        !env.cluster.zones().any(|z| z.holds(CharacterId(a))),
        "released"
    );
    // Bob sees her leave.
    next_msg(&mut wb, |m| match m {
        ServerMsg::View(v) => v.left.contains(&alice_net).then_some(()),
        _ => None,
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_within_the_grace_resumes_the_same_entity_without_a_new_claim() {
    let env = Env::new().await;
    let (t, c) = env.player("carol").await;
    let (mut ws, first) = env.join(&t, c).await;
    let epoch = env
        .db
        .store
        .load_character(CharacterId(c))
        .await
        .unwrap()
        .claim_epoch;
    ws.close().await;
    drop(ws);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        env.cluster.zones().any(|z| z.holds(CharacterId(c))),
        "kept for the grace period"
    );
    let (mut ws, again) = env.join(&t, c).await;
    assert!(again.resumed, "resumed");
    assert_eq!(again.net_id, first.net_id, "the same entity");
    let epoch_after = env
        .db
        .store
        .load_character(CharacterId(c))
        .await
        .unwrap()
        .claim_epoch;
    assert_eq!(epoch, epoch_after, "no new claim");
    // The resumed connection sees the world again from an empty view (itself included).
    next_msg(&mut ws, |m| match m {
        ServerMsg::View(v) => v
            .entered
            .iter()
            .any(|e| e.net_id == first.net_id)
            .then_some(()),
        _ => None,
    })
    .await;
    assert_eq!(ws.request(Command::Stop).await.unwrap(), Answer::Ok);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn characters_are_listed_created_and_deleted_only_when_out_of_the_world() {
    let env = Env::new().await;
    let (t, c) = env.player("dora").await;
    let alt = env
        .http
        .create_character(&t, "doraalt", "cleric", "veyra")
        .await
        .unwrap();
    let rows = env.http.characters(&t).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![c, alt.id]
    );
    assert_eq!(
        (alt.class.as_str(), alt.kingdom.as_str(), alt.level),
        ("cleric", "veyra", 1)
    );
    let (mut ws, _) = env.join(&t, c).await;
    let online = env.http.delete_character(&t, c).await.unwrap_err();
    assert_eq!(
        online.reason(),
        Some(realmkeep_protocol::Reason::CharacterOnline)
    );
    let id = ws.send(Command::Logout).await.unwrap();
    assert_eq!(ws.answer(id).await.unwrap(), Answer::Ok);
    env.http.delete_character(&t, c).await.unwrap();
    let rows = env.http.characters(&t).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![alt.id]);
    let gone = env.http.ticket(&t, c).await.unwrap_err();
    assert_eq!(
        gone.reason(),
        Some(realmkeep_protocol::Reason::NoSuchCharacter)
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn must_arrive_events_that_came_while_away_are_delivered_in_order_on_resume() {
    use realmkeep_cache::PlayerEvent;
    use realmkeep_domain::MailId;
    use realmkeep_protocol::ws::InboxEvent;
    let env = Env::new().await;
    let (t, c) = env.player("erin").await;
    let (mut ws, _) = env.join(&t, c).await;
    let events = env.cluster.cache().events();
    events
        .notify_player(CharacterId(c), PlayerEvent::MailArrived { mail: MailId(1) })
        .await
        .unwrap();
    next_msg(&mut ws, |m| {
        matches!(m, ServerMsg::Inbox(InboxEvent::MailArrived { mail: 1 })).then_some(())
    })
    .await;
    ws.close().await;
    drop(ws);
    // Away (within the grace): two more arrive, and nobody is listening.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for mail in [2, 3] {
        events
            .notify_player(
                CharacterId(c),
                PlayerEvent::MailArrived { mail: MailId(mail) },
            )
            .await
            .unwrap();
    }
    let (mut ws, w) = env.join(&t, c).await;
    assert!(w.resumed);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(
            next_msg(&mut ws, |m| match m {
                ServerMsg::Inbox(InboxEvent::MailArrived { mail }) => Some(*mail),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(
        seen,
        vec![2, 3],
        "the ones that came meanwhile, in order, and not the first again"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_change_is_followed_on_the_same_connection() {
    let env = Env::new().await;
    let (t, c) = env.player("fiona").await;
    let (mut ws, first) = env.join(&t, c).await;
    assert_eq!(first.zone, 1);
    assert_eq!(
        ws.request(Command::ChangeZone { to: 2 }).await.unwrap(),
        Answer::Ok
    );
    let again = next_msg(&mut ws, |m| match m {
        ServerMsg::Welcome(w) => Some((**w).clone()),
        _ => None,
    })
    .await;
    assert_eq!((again.zone, again.character), (2, c));
    assert!(env
        .cluster
        .zone(realmkeep_domain::ZoneId(2))
        .unwrap()
        .holds(CharacterId(c)));
    assert!(!env
        .cluster
        .zone(realmkeep_domain::ZoneId(1))
        .unwrap()
        .holds(CharacterId(c)));
    // It plays on: commands go to the new zone, and the logout saves it there.
    assert_eq!(ws.request(Command::Stop).await.unwrap(), Answer::Ok);
    let id = ws.send(Command::Logout).await.unwrap();
    assert_eq!(ws.answer(id).await.unwrap(), Answer::Ok);
    let saved = env.db.store.load_character(CharacterId(c)).await.unwrap();
    assert_eq!(saved.position.zone, realmkeep_domain::ZoneId(2));
    env.stop().await;
}

/// A chat line waits for the listener's next wake-up (a view, an answer): a listener in a quiet
/// scene (no view is sent while nothing around it changes) is woken by the next broadcast round
/// (`BROADCAST_ROUND_EVERY`, 125 ms) and hears it then, not with the next keepalive ping 15 s
/// later. A whisper said after a channel line is heard after it, though the whisper wakes the
/// listener at once and the line waited in its box.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_listener_hears_a_chat_line_within_the_held_flush_and_in_the_order_said() {
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let mut b = env.joined("bobby", "aldor").await;
    // The join's frames (welcome, history, first views) are read; the scene settles.
    tokio::time::sleep(Duration::from_secs(1)).await;
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(300), b.ws.next()).await {}
    let said = Instant::now();
    let ok = a.ws.request(Command::Chat {
        channel: "global".into(),
        text: "anyone here?".into(),
    });
    assert_eq!(ok.await.unwrap(), Answer::Ok);
    let mut before = Vec::new();
    let heard = loop {
        match b.ws.next().await.unwrap() {
            realmkeep_protocol::client::Incoming::Frame(f) => match f.msg {
                ServerMsg::Chat(l) if l.text == "anyone here?" => break said.elapsed(),
                other => before.push(other),
            },
            closed => panic!("closed: {closed:?}"),
        }
    };
    assert!(
        heard < Duration::from_secs(1),
        "heard after {heard:?} (frames before it: {before:?})"
    );
    for cmd in [
        Command::Chat {
            channel: "global".into(),
            text: "first".into(),
        },
        Command::Whisper {
            to: b.id,
            text: "second".into(),
        },
    ] {
        assert_eq!(a.ws.request(cmd).await.unwrap(), Answer::Ok);
    }
    let mut heard = Vec::new();
    while heard.len() < 2 {
        match b.ws.next().await.unwrap() {
            realmkeep_protocol::client::Incoming::Frame(f) => {
                if let ServerMsg::Chat(l) = f.msg {
                    heard.push(l.text);
                }
            }
            closed => panic!("closed: {closed:?}"),
        }
    }
    assert_eq!(heard, ["first", "second"]);
    env.stop().await;
}
