//! Every command beyond moving and saying, over a real socket against a real node: chat on
//! every channel, whispers, combat refusals, quests, trade, the marketplace, mail, guilds and
//! their chat, friends (and the guild and friends lists), leaderboards and definitions. Critical actions are answered `ok` only
//! once committed, which the tests check in PostgreSQL.

mod support;

use realmkeep_protocol::ws::{Answer, Command, Data, GameEvent, Offer, ServerMsg};
use realmkeep_protocol::Reason;
use support::*;

fn refused(a: &Answer) -> Reason {
    match a {
        Answer::Refused { reason, .. } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_reaches_every_channel_through_redis_and_whispers_their_target() {
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let mut b = env.joined("bobby", "aldor").await;
    let mut c = env.joined("carol", "veyra").await;

    let say = |ch: &str, t: &str| Command::Chat {
        channel: ch.into(),
        text: t.into(),
    };
    assert_eq!(
        a.ws.request(say("global", "hello world")).await.unwrap(),
        Answer::Ok
    );
    for ws in [&mut b.ws, &mut c.ws] {
        let line = next_msg(ws, |m| match m {
            ServerMsg::Chat(l) if l.channel == "global" => Some(l.clone()),
            _ => None,
        })
        .await;
        assert_eq!(
            (line.from, line.text.as_str(), line.name.as_str()),
            (a.id, "hello world", "alice")
        );
    }
    // Kingdom chat: aldor hears it; veyra does not (it hears its own kingdom's line after).
    assert_eq!(
        a.ws.request(say("kingdom", "for aldor")).await.unwrap(),
        Answer::Ok
    );
    let line = next_msg(&mut b.ws, |m| match m {
        ServerMsg::Chat(l) if l.channel == "kingdom" => Some(l.text.clone()),
        _ => None,
    })
    .await;
    assert_eq!(line, "for aldor");
    assert_eq!(
        c.ws.request(say("kingdom", "for veyra")).await.unwrap(),
        Answer::Ok
    );
    let heard = next_msg(&mut c.ws, |m| match m {
        ServerMsg::Chat(l) if l.channel == "kingdom" => Some(l.text.clone()),
        _ => None,
    })
    .await;
    assert_eq!(heard, "for veyra", "veyra never heard aldor's line");
    // Guild chat without a guild is refused.
    assert_eq!(
        refused(&a.ws.request(say("guild", "anyone?")).await.unwrap()),
        Reason::NotAllowed
    );
    let bad = a.ws.request(say("shout", "x")).await.unwrap();
    assert_eq!(refused(&bad), Reason::BadFields);
    // A whisper reaches its target only.
    let w = Command::Whisper {
        to: c.id,
        text: "psst".into(),
    };
    assert_eq!(a.ws.request(w).await.unwrap(), Answer::Ok);
    let line = next_msg(&mut c.ws, |m| match m {
        ServerMsg::Chat(l) if l.channel == "whisper" => Some(l.clone()),
        _ => None,
    })
    .await;
    assert_eq!((line.from, line.text.as_str()), (a.id, "psst"));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combat_commands_are_refused_with_the_zones_reason() {
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let (r, _) = ask(&mut a.ws, Command::Attack { target: 999_999 }).await;
    assert_eq!(refused(&r), Reason::NoSuchTarget);
    let (r, _) = ask(&mut a.ws, Command::PickUp { loot: 999_999 }).await;
    assert!(matches!(
        refused(&r),
        Reason::NoSuchTarget | Reason::OutOfRange
    ));
    let (r, _) = ask(
        &mut a.ws,
        Command::UseSkill {
            skill: 9_999,
            target: None,
        },
    )
    .await;
    assert!(matches!(refused(&r), Reason::Invalid | Reason::NotAllowed));
    assert_eq!(ask(&mut a.ws, Command::StopAttack).await.0, Answer::Ok);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gold_trade_is_answered_after_its_commit() {
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let mut b = env.joined("bobby", "aldor").await;
    let (ga, gb) = (env.gold(a.id).await, env.gold(b.id).await);
    let ten = Offer {
        items: vec![],
        gold: 10,
    };
    let offer = Command::Trade {
        with: b.id,
        give: ten.clone(),
        want: Offer::default(),
    };
    assert_eq!(
        a.ws.request(offer).await.unwrap(),
        Answer::Ok,
        "the offer is placed"
    );
    next_event(&mut b.ws, |e| {
        matches!(e, GameEvent::TradeOffered { from, .. } if *from == a.id).then_some(())
    })
    .await;
    let mirror = Command::Trade {
        with: a.id,
        give: Offer::default(),
        want: ten,
    };
    assert_eq!(b.ws.request(mirror).await.unwrap(), Answer::Ok);
    // Answered ok: it is in PostgreSQL already.
    assert_eq!(
        (env.gold(a.id).await, env.gold(b.id).await),
        (ga - 10, gb + 10)
    );
    next_event(&mut a.ws, |e| {
        matches!(e, GameEvent::TradeDone { with, trade } if *with == b.id && !trade.is_empty())
            .then_some(())
    })
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_is_listed_found_and_bought_on_the_market_then_mail_carries_gold() {
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let mut b = env.joined("bobby", "aldor").await;
    let item = a
        .welcome
        .bag
        .first()
        .expect("a starting item in the bag")
        .clone();
    let list = Command::ListItem {
        item: item.item,
        price: 20,
        hours: 24,
    };
    let (r, _) = ask(&mut a.ws, list).await;
    assert_eq!(r, Answer::Ok);
    let listing = next_event(&mut a.ws, |e| match e {
        GameEvent::Listed { listing, item: i } if *i == item.item => Some(*listing),
        _ => None,
    })
    .await;
    let search = Command::SearchMarket {
        item_def: Some(item.def),
        min_price: None,
        max_price: Some(50),
        after: None,
        rows: 10,
    };
    let (r, data) = ask(&mut b.ws, search).await;
    assert_eq!(r, Answer::Ok);
    let Some(Data::MarketPage { rows, .. }) = data else {
        panic!("a market page: {data:?}")
    };
    assert!(rows
        .iter()
        .any(|row| row.listing == listing && row.price == 20 && row.seller == a.id));
    let gb = env.gold(b.id).await;
    let (r, _) = ask(&mut b.ws, Command::BuyListing { listing }).await;
    assert_eq!(r, Answer::Ok);
    assert_eq!(env.gold(b.id).await, gb - 20, "paid, committed");
    let (r, _) = ask(&mut b.ws, Command::BuyListing { listing }).await;
    assert_eq!(refused(&r), Reason::GameRule, "bought once");
    assert_eq!(realmkeep_testkit::misplaced_items(&env.db.store).await, 0);

    // Mail with gold: sent, listed, claimed.
    let gb = env.gold(b.id).await;
    let send = Command::SendMail {
        to: a.id,
        subject: "thanks".into(),
        body: "for the item\nbye".into(),
        gold: 5,
        items: vec![],
    };
    assert_eq!(ask(&mut b.ws, send).await.0, Answer::Ok);
    assert_eq!(env.gold(b.id).await, gb - 5);
    // The recipient, online, is told (through its inbox: it must arrive).
    let noticed = next_msg(&mut a.ws, |m| match m {
        ServerMsg::Inbox(realmkeep_protocol::ws::InboxEvent::MailArrived { mail }) => Some(*mail),
        _ => None,
    })
    .await;
    let (r, data) = ask(&mut a.ws, Command::ListMail).await;
    assert_eq!(r, Answer::Ok);
    let Some(Data::Mailbox { mails }) = data else {
        panic!("a mailbox: {data:?}")
    };
    let mail = mails
        .iter()
        .find(|m| m.subject == "thanks")
        .expect("the mail")
        .mail;
    assert_eq!(mail, noticed, "the notice names the mail");
    // Read: the whole text, marked read. Not deleted while it carries gold.
    let (r, data) = ask(&mut a.ws, Command::ReadMail { mail }).await;
    assert_eq!(r, Answer::Ok);
    assert_eq!(
        data,
        Some(Data::Mail {
            mail,
            from: Some(b.id),
            subject: "thanks".into(),
            body: "for the item\nbye".into(),
            gold: 5,
            items: 0,
            claimed: false,
        })
    );
    let (r, _) = ask(&mut a.ws, Command::DeleteMail { mail }).await;
    assert_eq!(refused(&r), Reason::GameRule, "still carries gold");
    let (r, _) = ask(&mut b.ws, Command::ReadMail { mail }).await;
    assert!(matches!(r, Answer::Refused { .. }), "not bobby's: {r:?}");
    let ga = env.gold(a.id).await;
    assert_eq!(
        ask(&mut a.ws, Command::ClaimMail { mail }).await.0,
        Answer::Ok
    );
    assert_eq!(env.gold(a.id).await, ga + 5);
    // Claimed: now it may go.
    assert_eq!(
        ask(&mut a.ws, Command::DeleteMail { mail }).await.0,
        Answer::Ok
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM mail WHERE id = $1")
        .bind(mail)
        .fetch_one(env.db.store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "deleted at the answer");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guilds_friends_quests_and_information() {
    let env = Env::new().await;
    // Founding a guild costs 1,000 gold: alice has it before she enters the world.
    let (token, id) = env.player("alice").await;
    env.set_gold(id, 5_000).await;
    let (ws, welcome) = env.join(&token, id).await;
    let mut a = Joined {
        token,
        id,
        ws,
        welcome,
    };
    let mut b = env.joined("bobby", "aldor").await;
    let (r, _) = ask(
        &mut a.ws,
        Command::GuildCreate {
            name: "Knights".into(),
        },
    )
    .await;
    assert_eq!(r, Answer::Ok);
    assert_eq!(env.gold(a.id).await, 4_000, "paid, committed");
    let guild = next_event(&mut a.ws, |e| match e {
        GameEvent::GuildChanged { guild: Some(g) } => Some(*g),
        _ => None,
    })
    .await;
    assert_eq!(
        ask(&mut a.ws, Command::GuildInvite { who: b.id }).await.0,
        Answer::Ok
    );
    assert_eq!(
        ask(&mut b.ws, Command::GuildAccept { guild }).await.0,
        Answer::Ok
    );
    // Guild chat is heard by its members.
    let line = Command::Chat {
        channel: "guild".into(),
        text: "welcome".into(),
    };
    assert_eq!(b.ws.request(line).await.unwrap(), Answer::Ok);
    let heard = next_msg(&mut a.ws, |m| match m {
        ServerMsg::Chat(l) if l.channel == "guild" => Some(l.text.clone()),
        _ => None,
    })
    .await;
    assert_eq!(heard, "welcome");

    // Friends.
    let op = |o: &str, other| Command::Friend {
        other,
        op: o.into(),
    };
    assert_eq!(ask(&mut a.ws, op("request", b.id)).await.0, Answer::Ok);
    assert_eq!(ask(&mut b.ws, op("accept", a.id)).await.0, Answer::Ok);
    let (r, _) = ask(&mut b.ws, op("hug", a.id)).await;
    assert_eq!(refused(&r), Reason::BadFields);

    // Quests: accepted once committed; completing an unfinished one is refused.
    let quest = 1;
    assert_eq!(
        ask(&mut a.ws, Command::AcceptQuest { quest }).await.0,
        Answer::Ok
    );
    let status: String =
        sqlx::query_scalar("SELECT status FROM quests WHERE character_id = $1 AND quest_id = $2")
            .bind(a.id)
            .bind(quest)
            .fetch_one(env.db.store.pool())
            .await
            .unwrap();
    assert_eq!(status, "active");
    let (r, _) = ask(&mut a.ws, Command::CompleteQuest { quest }).await;
    assert!(matches!(r, Answer::Refused { .. }), "{r:?}");
    // Abandoned: gone from PostgreSQL at the answer, told, and it may be taken again.
    assert_eq!(
        ask(&mut a.ws, Command::AbandonQuest { quest }).await.0,
        Answer::Ok
    );
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM quests WHERE character_id = $1 AND quest_id = $2")
            .bind(a.id)
            .bind(quest)
            .fetch_one(env.db.store.pool())
            .await
            .unwrap();
    assert_eq!(rows, 0);
    next_event(&mut a.ws, |e| match e {
        GameEvent::QuestAbandoned { quest: q } if *q == quest => Some(()),
        _ => None,
    })
    .await;
    let (r, _) = ask(&mut a.ws, Command::AbandonQuest { quest }).await;
    assert_eq!(refused(&r), Reason::NoSuchTarget, "not in the log any more");
    assert_eq!(
        ask(&mut a.ws, Command::AcceptQuest { quest }).await.0,
        Answer::Ok
    );

    // Leaderboards and definitions, read through the cache.
    let (r, data) = ask(
        &mut a.ws,
        Command::Leaderboard {
            board: "level".into(),
            top: 10,
        },
    )
    .await;
    assert_eq!(r, Answer::Ok);
    assert!(matches!(data, Some(Data::Leaderboard { .. })), "{data:?}");
    let def = a.welcome.bag.first().map(|i| i.def).unwrap_or(1);
    let (r, data) = ask(&mut a.ws, Command::ItemInfo { item_def: def }).await;
    assert_eq!(r, Answer::Ok);
    assert!(
        matches!(data, Some(Data::ItemInfo { item_def, .. }) if item_def == def),
        "{data:?}"
    );
    let (r, _) = ask(&mut a.ws, Command::ItemInfo { item_def: 987_654 }).await;
    assert_eq!(refused(&r), Reason::Invalid);
    let (r, data) = ask(&mut a.ws, Command::SkillInfo { skill: 1 }).await;
    assert_eq!(r, Answer::Ok);
    assert!(
        matches!(data, Some(Data::SkillInfo { skill: 1, .. })),
        "{data:?}"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_reach_everyone_and_a_join_hears_recent_chat() {
    use realmkeep_cache::{Channel, ChannelMessage, ServerEvent};
    use realmkeep_protocol::ws::Announcement;
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let line = Command::Chat {
        channel: "global".into(),
        text: "before you came".into(),
    };
    assert_eq!(a.ws.request(line).await.unwrap(), Answer::Ok);
    next_msg(&mut a.ws, |m| {
        matches!(m, ServerMsg::Chat(l) if l.text == "before you came").then_some(())
    })
    .await;
    // Bobby joins after: he is told the recent global line, marked as history.
    let mut b = env.joined("bobby", "veyra").await;
    let old = next_msg(&mut b.ws, |m| match m {
        ServerMsg::Chat(l) if l.channel == "global" => Some(l.clone()),
        _ => None,
    })
    .await;
    assert!(old.history && old.text == "before you came" && old.from == a.id);

    let event = ServerEvent::Announcement {
        text: "double xp tonight".into(),
    };
    env.cluster
        .cache()
        .events()
        .publish(&Channel::ServerEvents, &ChannelMessage::Server(event))
        .await
        .unwrap();
    for ws in [&mut a.ws, &mut b.ws] {
        let got = next_msg(ws, |m| match m {
            ServerMsg::Announcement(x) => Some(x.clone()),
            _ => None,
        })
        .await;
        assert_eq!(
            got,
            Announcement::Text {
                text: "double xp tonight".into()
            }
        );
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn friends_hear_when_a_friend_comes_and_goes() {
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let mut b = env.joined("bobby", "aldor").await;
    let op = |o: &str, other| Command::Friend {
        other,
        op: o.into(),
    };
    assert_eq!(ask(&mut a.ws, op("request", b.id)).await.0, Answer::Ok);
    assert_eq!(ask(&mut b.ws, op("accept", a.id)).await.0, Answer::Ok);
    let id = b.ws.send(Command::Logout).await.unwrap();
    assert_eq!(b.ws.answer(id).await.unwrap(), Answer::Ok);
    let gone = next_event(&mut a.ws, |e| match e {
        GameEvent::FriendOnline { friend, online } if *friend == b.id => Some(*online),
        _ => None,
    })
    .await;
    assert!(!gone, "bobby went offline");
    let (_ws, _) = env.join(&b.token, b.id).await;
    let back = next_event(&mut a.ws, |e| match e {
        GameEvent::FriendOnline { friend, online } if *friend == b.id => Some(*online),
        _ => None,
    })
    .await;
    assert!(back, "bobby came back");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_reads_its_guild_and_its_friends_list_with_who_is_online() {
    use realmkeep_protocol::ws::{FriendRow, GuildMember};
    let env = Env::new().await;
    let (token, id) = env.player("alice").await;
    env.set_gold(id, 5_000).await;
    let (ws, welcome) = env.join(&token, id).await;
    let mut a = Joined {
        token,
        id,
        ws,
        welcome,
    };
    let mut b = env.joined("bobby", "aldor").await;
    let mut c = env.joined("carol", "aldor").await;
    let guild_of = |d: Option<Data>| match d {
        Some(Data::Guild { guild }) => guild,
        other => panic!("guild data: {other:?}"),
    };
    let (r, data) = ask(&mut a.ws, Command::GuildInfo).await;
    assert_eq!(r, Answer::Ok);
    assert_eq!(guild_of(data), None, "in no guild yet");

    let name = "Wardens".to_string();
    let create = Command::GuildCreate { name: name.clone() };
    assert_eq!(ask(&mut a.ws, create).await.0, Answer::Ok);
    let guild = next_event(&mut a.ws, |e| match e {
        GameEvent::GuildChanged { guild: Some(g) } => Some(*g),
        _ => None,
    })
    .await;
    let invite = Command::GuildInvite { who: b.id };
    assert_eq!(ask(&mut a.ws, invite).await.0, Answer::Ok);
    assert_eq!(
        ask(&mut b.ws, Command::GuildAccept { guild }).await.0,
        Answer::Ok
    );
    let (r, data) = ask(&mut b.ws, Command::GuildInfo).await;
    assert_eq!(r, Answer::Ok);
    let g = guild_of(data).expect("bobby's guild");
    assert_eq!((g.guild, g.name, g.leader), (guild, name, a.id));
    let member = |character, name: &str, rank, title: &str| GuildMember {
        character,
        name: name.into(),
        rank,
        title: title.into(),
    };
    assert_eq!(
        g.members,
        vec![
            member(a.id, "alice", 0, "Leader"),
            member(b.id, "bobby", 3, "Recruit")
        ]
    );
    assert_eq!(guild_of(ask(&mut c.ws, Command::GuildInfo).await.1), None);

    // Friends: asked, pending, accepted (online, then not), and a block.
    let op = |o: &str, other| Command::Friend {
        other,
        op: o.into(),
    };
    let friends = |d: Option<Data>| match d {
        Some(Data::Friends { friends }) => friends,
        other => panic!("friends data: {other:?}"),
    };
    let row = |character, name: &str, status: &str, online| FriendRow {
        character,
        name: name.into(),
        status: status.into(),
        online,
    };
    assert_eq!(ask(&mut a.ws, op("request", b.id)).await.0, Answer::Ok);
    assert_eq!(ask(&mut a.ws, op("block", c.id)).await.0, Answer::Ok);
    let listed = friends(ask(&mut b.ws, Command::FriendList).await.1);
    assert_eq!(listed, vec![row(a.id, "alice", "pending", None)]);
    assert_eq!(ask(&mut b.ws, op("accept", a.id)).await.0, Answer::Ok);
    let listed = friends(ask(&mut a.ws, Command::FriendList).await.1);
    assert_eq!(
        listed,
        vec![
            row(b.id, "bobby", "accepted", Some(true)),
            row(c.id, "carol", "blocked", None)
        ]
    );
    let id = b.ws.send(Command::Logout).await.unwrap();
    assert_eq!(b.ws.answer(id).await.unwrap(), Answer::Ok);
    next_event(&mut a.ws, |e| match e {
        GameEvent::FriendOnline { friend, online } if *friend == b.id => (!online).then_some(()),
        _ => None,
    })
    .await;
    let listed = friends(ask(&mut a.ws, Command::FriendList).await.1);
    assert_eq!(listed[0], row(b.id, "bobby", "accepted", Some(false)));
    env.stop().await;
}
