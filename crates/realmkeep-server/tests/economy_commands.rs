//! The marketplace, mail, guilds and friends through the zone that holds the character: player
//! commands sent to a running node, fenced by the zone's claim, committed before the player is
//! told, and the zone's purse and bag changed only from the committed receipts, so that what the
//! zone shows is what PostgreSQL holds.

mod support;

use realmkeep_domain::records::{InventoryItem, Refusal};
use realmkeep_domain::{CharacterId, Gold, GuildName, ItemId, ListingId};
use realmkeep_server::{Notice, ZoneHost};
use realmkeep_store::Store;
use realmkeep_zone::io::{
    Action, Denial, FriendOp, GuildOp, Letter, MarketSearch, PlayerCommand, PlayerEvent,
};
use support::*;

async fn gold_of(s: &Store, c: CharacterId) -> i64 {
    sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap()
}

fn sorted(mut v: Vec<InventoryItem>) -> Vec<InventoryItem> {
    v.sort_by_key(|i| i.slot);
    v
}

/// The zone's purse and bag of `c` are the stored ones.
async fn view_matches_store(host: &ZoneHost, s: &Store, c: CharacterId) {
    let view = host
        .inspect(move |z| z.player(c))
        .await
        .unwrap()
        .expect("in the zone");
    assert_eq!(view.gold, gold_of(s, c).await, "the purse shown is stored");
    assert_eq!(
        sorted(view.items),
        sorted(s.inventory(c).await.unwrap()),
        "the bag shown is stored"
    );
}

/// The next event `pick` accepts; a refusal or "try again" of `action` fails the test.
async fn answer<T>(
    rx: &mut realmkeep_server::NoticeReceiver,
    action: Action,
    mut pick: impl FnMut(&PlayerEvent) -> Option<T>,
) -> T {
    notice(rx, &format!("the answer of {action:?}"), |n| match n {
        Notice::Event(PlayerEvent::Refused { action: a, reason }) if *a == action => {
            panic!("{action:?} refused: {reason:?}")
        }
        Notice::Event(PlayerEvent::TryAgain { action: a }) if *a == action => {
            panic!("{action:?}: try again")
        }
        Notice::Event(e) => pick(e),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_and_mail_go_through_the_zone_and_its_views_follow_the_receipts() {
    let env = Env::new().await;
    let s = env.store();
    let (seller, buyer) = (character(s, "Vendor").await, character(s, "Patron").await);
    let note = realmkeep_testkit::note(s, "test-gm", "a second item to list").await;
    let def = s.inventory(seller).await.unwrap()[0].def;
    let grant = realmkeep_domain::AdminChange::Grant {
        def,
        quantity: realmkeep_domain::Quantity::ONE,
    };
    let offline = realmkeep_domain::Actor::Offline(seller);
    s.admin_change(offline, &grant, &note, None).await.unwrap();
    let cluster = env.cluster("n1", &[GREENVALE]).await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut rs = cluster.join(GREENVALE, seller).await.unwrap();
    let mut rb = cluster.join(GREENVALE, buyer).await.unwrap();
    joined(&mut rs.notices).await;
    joined(&mut rb.notices).await;
    let bag = s.inventory(seller).await.unwrap();
    let (wares, kept) = (bag[0].item, bag[1].item);

    // The seller lists an item: it leaves the bag the zone shows.
    let list = |item: ItemId| PlayerCommand::ListItem {
        item,
        price: Gold::new(40).unwrap(),
        hours: 24,
    };
    host.command(seller, list(wares)).unwrap();
    let listing = answer(&mut rs.notices, Action::Market, |e| match e {
        PlayerEvent::Listed { listing, item } if *item == wares => Some(*listing),
        _ => None,
    })
    .await;
    view_matches_store(&host, s, seller).await;

    // The buyer finds it and buys it: purse and bag as committed.
    let search = MarketSearch {
        rows: 20,
        ..MarketSearch::default()
    };
    host.command(buyer, PlayerCommand::SearchMarket(search))
        .unwrap();
    let rows = answer(&mut rb.notices, Action::Market, |e| match e {
        PlayerEvent::MarketPage { rows, .. } => Some(rows.clone()),
        _ => None,
    })
    .await;
    assert!(
        rows.iter()
            .any(|r| r.listing == listing && r.seller == seller),
        "the listing is found: {rows:?}"
    );
    let buyer_gold = gold_of(s, buyer).await;
    host.command(buyer, PlayerCommand::BuyListing { listing })
        .unwrap();
    let price = answer(&mut rb.notices, Action::Market, |e| match e {
        PlayerEvent::Bought { item, price, .. } if *item == wares => Some(*price),
        _ => None,
    })
    .await;
    assert_eq!(price, 40);
    assert_eq!(gold_of(s, buyer).await, buyer_gold - 40);
    view_matches_store(&host, s, buyer).await;

    // The buyer mails it back with gold; the seller lists its mailbox and claims it.
    let letter = Letter {
        to: seller,
        subject: "Returned".into(),
        body: "Changed my mind.".into(),
        gold: Gold::new(15).unwrap(),
        items: vec![wares],
    };
    host.command(buyer, PlayerCommand::SendMail(letter))
        .unwrap();
    let mail = answer(&mut rb.notices, Action::Mail, |e| match e {
        PlayerEvent::MailSent { mail } => Some(*mail),
        _ => None,
    })
    .await;
    view_matches_store(&host, s, buyer).await;
    host.command(seller, PlayerCommand::ListMail).unwrap();
    let mails = answer(&mut rs.notices, Action::Mail, |e| match e {
        PlayerEvent::Mailbox { mails } => Some(mails.clone()),
        _ => None,
    })
    .await;
    let m = mails.iter().find(|m| m.mail == mail).expect("the mail");
    assert_eq!((m.gold, m.items, m.claimed), (15, 1, false));
    host.command(seller, PlayerCommand::ClaimMail { mail })
        .unwrap();
    let (gold, items) = answer(&mut rs.notices, Action::Mail, |e| match e {
        PlayerEvent::MailClaimed { gold, items, .. } => Some((*gold, *items)),
        _ => None,
    })
    .await;
    assert_eq!((gold, items), (15, 1));
    view_matches_store(&host, s, seller).await;

    // A listing taken back comes back to the bag as placed.
    host.command(seller, list(kept)).unwrap();
    let second = answer(&mut rs.notices, Action::Market, |e| match e {
        PlayerEvent::Listed { listing, item } if *item == kept => Some(*listing),
        _ => None,
    })
    .await;
    host.command(seller, PlayerCommand::CancelListing { listing: second })
        .unwrap();
    answer(&mut rs.notices, Action::Market, |e| match e {
        PlayerEvent::ListingCancelled { item, .. } if *item == kept => Some(()),
        _ => None,
    })
    .await;
    view_matches_store(&host, s, seller).await;

    // Bad input: an item not in the bag is denied by the zone, a listing that is gone is
    // refused by the store; neither changes anything.
    let before = (gold_of(s, seller).await, s.inventory(seller).await.unwrap());
    host.command(seller, list(ItemId(i64::MAX))).unwrap();
    notice(&mut rs.notices, "a denial", |n| match n {
        Notice::Event(PlayerEvent::Denied {
            action: Action::Market,
            reason: Denial::NoSuchTarget,
        }) => Some(()),
        _ => None,
    })
    .await;
    host.command(
        seller,
        PlayerCommand::BuyListing {
            listing: ListingId(listing.0),
        },
    )
    .unwrap();
    notice(&mut rs.notices, "a refusal", |n| match n {
        Notice::Event(PlayerEvent::Refused {
            action: Action::Market,
            reason: Refusal::ListingGone,
        }) => Some(()),
        _ => None,
    })
    .await;
    let after = (gold_of(s, seller).await, s.inventory(seller).await.unwrap());
    assert_eq!(before, after, "refused commands change nothing");
    view_matches_store(&host, s, seller).await;
    assert_eq!(realmkeep_testkit::misplaced_items(s).await, 0);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guild_and_friend_operations_go_through_the_zone_fenced_by_its_claim() {
    let env = Env::new().await;
    let s = env.store();
    let (a, b) = (character(s, "Founder").await, character(s, "Recruit").await);
    sqlx::query("UPDATE characters SET gold = 5000 WHERE id = $1")
        .bind(a.0)
        .execute(s.pool())
        .await
        .unwrap();
    let cluster = env.cluster("n1", &[GREENVALE]).await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut ra = cluster.join(GREENVALE, a).await.unwrap();
    let mut rb = cluster.join(GREENVALE, b).await.unwrap();
    joined(&mut ra.notices).await;
    joined(&mut rb.notices).await;

    // Founding costs gold: the purse shown is the one committed.
    let name = GuildName::parse("Order of Tests").unwrap();
    host.command(a, PlayerCommand::Guild(GuildOp::Create { name }))
        .unwrap();
    let guild = answer(&mut ra.notices, Action::Guild, |e| match e {
        PlayerEvent::GuildChanged { guild } => Some(guild.expect("in the new guild")),
        _ => None,
    })
    .await;
    assert_eq!(s.guild_of(a).await.unwrap(), Some(guild));
    assert_eq!(
        gold_of(s, a).await,
        5000 - realmkeep_domain::limits::GUILD_CREATE_COST_GOLD
    );
    view_matches_store(&host, s, a).await;

    // Invite, accept: the recruit is a member.
    host.command(a, PlayerCommand::Guild(GuildOp::Invite { who: b }))
        .unwrap();
    answer(&mut ra.notices, Action::Guild, |e| match e {
        PlayerEvent::GuildChanged { .. } => Some(()),
        _ => None,
    })
    .await;
    host.command(b, PlayerCommand::Guild(GuildOp::Accept { guild }))
        .unwrap();
    let joined = answer(&mut rb.notices, Action::Guild, |e| match e {
        PlayerEvent::GuildChanged { guild } => Some(*guild),
        _ => None,
    })
    .await;
    assert_eq!(joined, Some(guild));
    assert_eq!(s.guild_of(b).await.unwrap(), Some(guild));

    // A second accept is refused and changes nothing.
    host.command(b, PlayerCommand::Guild(GuildOp::Accept { guild }))
        .unwrap();
    notice(&mut rb.notices, "a refusal", |n| match n {
        Notice::Event(PlayerEvent::Refused {
            action: Action::Guild,
            ..
        }) => Some(()),
        _ => None,
    })
    .await;

    // Friends: asked, then accepted by the other side.
    let friend = |other, op| PlayerCommand::Friend { other, op };
    host.command(a, friend(b, FriendOp::Request)).unwrap();
    let asked = answer(&mut ra.notices, Action::Friend, |e| match e {
        PlayerEvent::FriendChanged { friends, .. } => Some(*friends),
        _ => None,
    })
    .await;
    assert!(!asked, "a request waits for the answer");
    host.command(b, friend(a, FriendOp::Accept)).unwrap();
    let now = answer(&mut rb.notices, Action::Friend, |e| match e {
        PlayerEvent::FriendChanged { friends, .. } => Some(*friends),
        _ => None,
    })
    .await;
    assert!(now);
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM friendships WHERE character_id = $1 AND other_id = $2",
    )
    .bind(a.0)
    .bind(b.0)
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert_eq!(stored, vec!["accepted".to_string()]);

    // Oneself is no friend: denied by the zone.
    host.command(a, friend(a, FriendOp::Request)).unwrap();
    notice(&mut ra.notices, "a denial", |n| match n {
        Notice::Event(PlayerEvent::Denied {
            action: Action::Friend,
            reason: Denial::Invalid,
        }) => Some(()),
        _ => None,
    })
    .await;
    cluster.shutdown().await;
}
