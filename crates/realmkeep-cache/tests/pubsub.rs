//! Pub/sub between two clients, and must-arrive events through the inbox stream.

mod common;

use common::*;
use realmkeep_cache::keys::INBOX_TTL;
use realmkeep_cache::*;
use realmkeep_domain::{CharacterId, CharacterName, GuildId, Kingdom, MailId, ZoneId};
use std::time::Duration;

async fn connected(s: &mut Subscriber) {
    let e = tokio::time::timeout(WAIT_MAX, s.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e, SubscriberEvent::Connected { resumed: false });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_messages_between_two_nodes() {
    let server = redis();
    let a = connect(&server, options("ps-a")).await;
    let b = connect(&server, options("ps-b")).await;
    let mut sub = b
        .subscribe([
            Channel::GlobalChat,
            Channel::KingdomChat(Kingdom::Korrim),
            Channel::ServerEvents,
        ])
        .unwrap();
    connected(&mut sub).await;

    let line = ChatLine::new(
        CharacterId(1),
        CharacterName::parse("Bran").unwrap(),
        "hello realm",
    )
    .unwrap();
    let sent = a.chat().send(ChatChannel::Global, &line).await.unwrap();
    assert!(sent.cross_zone);
    let got = tokio::time::timeout(WAIT_MAX, sub.next_message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Received {
            channel: Channel::GlobalChat,
            message: ChannelMessage::Chat(line)
        }
    );

    let boss = ServerEvent::WorldBoss {
        zone: ZoneId(9),
        name: "Ashen Drake".into(),
    };
    assert_eq!(
        a.events()
            .publish(
                &Channel::ServerEvents,
                &ChannelMessage::Server(boss.clone())
            )
            .await
            .unwrap(),
        1
    );
    let got = tokio::time::timeout(WAIT_MAX, sub.next_message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.message, ChannelMessage::Server(boss));

    // Channels can be added later; a message on the wrong channel is refused before sending.
    sub.subscribe(Channel::GuildChat(GuildId(5))).await.unwrap();
    let guild_line = ChatLine::new(
        CharacterId(2),
        CharacterName::parse("Cyra").unwrap(),
        "guild only",
    )
    .unwrap();
    let msg = ChannelMessage::Chat(guild_line);
    let mut receivers = 0;
    eventually("the new subscription", || {
        let (a, msg) = (a.clone(), msg.clone());
        async move {
            a.events()
                .publish(&Channel::GuildChat(GuildId(5)), &msg)
                .await
                .unwrap()
                > 0
        }
    })
    .await;
    while receivers == 0 {
        let got = tokio::time::timeout(WAIT_MAX, sub.next_message())
            .await
            .unwrap()
            .unwrap();
        if got.channel == Channel::GuildChat(GuildId(5)) {
            receivers += 1;
            assert_eq!(got.message, msg);
        }
    }
    assert!(a
        .events()
        .publish(&Channel::ServerEvents, &msg)
        .await
        .is_err());
    let too_long = "x".repeat(CHAT_TEXT_CHARS_MAX + 1);
    assert!(ChatLine::new(
        CharacterId(1),
        CharacterName::parse("Bran").unwrap(),
        &too_long
    )
    .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn must_arrive_events_wait_in_the_inbox() {
    let server = redis();
    let cache = connect(&server, options("inbox")).await;
    let mut r = raw(&server).await;
    let player = CharacterId(42);

    // Nobody listens: pub/sub loses it, the inbox keeps it.
    let kick = PlayerEvent::Kicked {
        reason: "banned".into(),
    };
    let n = cache
        .events()
        .notify_player(player, kick.clone())
        .await
        .unwrap();
    assert_eq!(n.receivers, 0);
    let first = n.inbox_id.expect("a kick must arrive");
    let mail = PlayerEvent::MailArrived { mail: MailId(77) };
    cache
        .events()
        .notify_player(player, mail.clone())
        .await
        .unwrap();
    let whisper = PlayerEvent::FriendOnline {
        friend: CharacterId(3),
    };
    assert!(cache
        .events()
        .notify_player(player, whisper)
        .await
        .unwrap()
        .inbox_id
        .is_none());

    let key = realmkeep_cache::keys::player_inbox(player);
    assert!(pttl(&mut r, &key).await > (INBOX_TTL - Duration::from_secs(60)).as_millis() as i64);
    let all = cache.inbox().read(player, None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        [kick, mail.clone()]
    );
    let after = cache.inbox().read(player, Some(&first), 10).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].event, mail);
    cache
        .inbox()
        .trim_through(player, &all[1].id)
        .await
        .unwrap();
    assert!(cache
        .inbox()
        .read(player, None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(cache
        .inbox()
        .read(player, None, INBOX_READ_MAX + 1)
        .await
        .is_err());

    // A live subscriber gets it too.
    let mut sub = cache.subscribe([Channel::PlayerEvents(player)]).unwrap();
    connected(&mut sub).await;
    let n = cache
        .events()
        .notify_player(player, PlayerEvent::MailArrived { mail: MailId(78) })
        .await
        .unwrap();
    assert_eq!(n.receivers, 1);
    let got = tokio::time::timeout(WAIT_MAX, sub.next_message())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.channel, Channel::PlayerEvents(player));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_outlives_its_own_keepalive_pings() {
    let server = redis();
    let c = connect(&server, options("ps-ping")).await;
    let mut sub = c.subscribe([Channel::GlobalChat]).unwrap();
    connected(&mut sub).await;
    // Two pings go by (a ping answered in subscribed mode is not a plain "PONG").
    let quiet = tokio::time::timeout(
        SUBSCRIBER_PING_INTERVAL * 2 + Duration::from_secs(1),
        sub.recv(),
    )
    .await;
    assert!(
        quiet.is_err(),
        "nothing happened to the subscription: {quiet:?}"
    );
    assert_eq!(c.metrics().pubsub_resubscribes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_inboxes_are_looked_at_in_one_round_trip() {
    let server = redis();
    let cache = connect(&server, options("pending")).await;
    let (quiet, mailed) = (CharacterId(1), CharacterId(2));
    let seen = InboxId::at_unix_ms(0);
    let n = cache
        .events()
        .notify_player(mailed, PlayerEvent::MailArrived { mail: MailId(5) })
        .await
        .unwrap();
    let delivered = n.inbox_id.unwrap();
    assert_eq!(
        cache
            .inbox()
            .pending(&[(quiet, &seen), (mailed, &seen), (mailed, &delivered)])
            .await
            .unwrap(),
        [false, true, false],
        "only an inbox holding something after what was delivered is pending"
    );
    assert!(cache.inbox().pending(&[]).await.unwrap().is_empty());
    let too_many = vec![(quiet, &seen); INBOX_PENDING_MAX + 1];
    assert!(matches!(
        cache.inbox().pending(&too_many).await,
        Err(CacheError::Limit { .. })
    ));
}
