//! Quests, trades and PvP: critical actions answered by the store, and kills between kingdoms.

mod common;

use common::*;
use realmkeep_domain::records::Refusal;
use realmkeep_domain::records::{InventoryItem, QuestState};
use realmkeep_domain::{
    CharacterId, Gold, ItemDefId, ItemId, Kingdom, ListingId, QuestId, QuestStatus,
};
use realmkeep_zone::actions::*;
use realmkeep_zone::io::*;

fn request_of(out: &[ZoneOutput], f: impl Fn(&PersistKind) -> bool) -> Option<PersistRequest> {
    requests(out).into_iter().find(|r| f(&r.kind))
}

#[test]
fn a_quest_is_accepted_progressed_and_completed_through_the_store() {
    let mut z = zone();
    spawn(&mut z, slayer(1, 53.0, 50.0));
    command(&mut z, 1, PlayerCommand::AcceptQuest { quest: QuestId(1) });
    let out = run(&mut z, 1);
    let accept = request_of(&out, |k| matches!(k, PersistKind::AcceptQuest(_))).unwrap();
    assert_eq!(
        accept.kind,
        PersistKind::AcceptQuest(accept_quest::Request {
            fence: fence(1),
            quest: QuestId(1)
        })
    );
    assert!(
        z.player(CharacterId(1)).unwrap().quests.is_empty(),
        "not before Ok"
    );
    reply(&mut z, accept.id, Outcome::Ok(accept_quest::Receipt.into()));
    let out = run(&mut z, 1);
    assert!(notices(&out, 1).contains(&PlayerEvent::QuestAccepted { quest: QuestId(1) }));

    let wolf = wolf_net(&z);
    command(&mut z, 1, PlayerCommand::Attack { target: wolf });
    let out = run(&mut z, 1);
    let progress = request_of(&out, |k| matches!(k, PersistKind::QuestProgress(_))).unwrap();
    assert_eq!(
        progress.kind,
        PersistKind::QuestProgress(quest_progress::Request {
            fence: fence(1),
            quest: QuestId(1),
            amount: 1
        })
    );
    reply(
        &mut z,
        progress.id,
        Outcome::Ok(quest_progress::Receipt.into()),
    );
    run(&mut z, 1);
    assert_eq!(z.player(CharacterId(1)).unwrap().quests[0].progress, 1);

    command(
        &mut z,
        1,
        PlayerCommand::CompleteQuest { quest: QuestId(1) },
    );
    let out = run(&mut z, 1);
    assert!(notices(&out, 1).contains(&PlayerEvent::Denied {
        action: Action::Quest,
        reason: Denial::NotAllowed
    }));
}

#[test]
fn completing_a_quest_grants_its_rewards_on_ok_only() {
    let mut z = zone();
    let mut c = character(1, 150.0, 150.0);
    // Experience the store has not seen yet (kills since the last save): the request carries it.
    c.xp = 50;
    c.quests.push(QuestState {
        quest: QuestId(1),
        status: QuestStatus::Active,
        progress: 5,
    });
    spawn(&mut z, c);
    command(
        &mut z,
        1,
        PlayerCommand::CompleteQuest { quest: QuestId(1) },
    );
    let req = request_of(&run(&mut z, 1), |k| {
        matches!(k, PersistKind::CompleteQuest(_))
    })
    .unwrap();
    reply(&mut z, req.id, Outcome::Unavailable);
    let out = run(&mut z, 1);
    assert!(notices(&out, 1).contains(&PlayerEvent::TryAgain {
        action: Action::Quest
    }));
    assert_eq!(z.player(CharacterId(1)).unwrap().xp, 50);

    command(
        &mut z,
        1,
        PlayerCommand::CompleteQuest { quest: QuestId(1) },
    );
    let req = request_of(&run(&mut z, 1), |k| {
        matches!(k, PersistKind::CompleteQuest(_))
    })
    .unwrap();
    assert_eq!(
        req.kind,
        PersistKind::CompleteQuest(complete_quest::Request {
            fence: fence(1),
            quest: QuestId(1),
            xp: 50
        })
    );
    let reward = InventoryItem {
        item: ItemId(9),
        def: ItemDefId(100),
        quantity: 3,
        slot: 0,
    };
    // The store's receipt: purse, items as placed, experience after (50 + the reward of 200).
    reply(
        &mut z,
        req.id,
        Outcome::Ok(Applied::CompleteQuest(complete_quest::Receipt {
            gold: 125,
            items: vec![reward.clone()],
            xp: 250,
        })),
    );
    let out = run(&mut z, 1);
    let p = z.player(CharacterId(1)).unwrap();
    assert_eq!(
        (p.gold, p.items.clone(), p.xp, p.level),
        (125, vec![reward], 250, 2)
    );
    assert_eq!(p.quests[0].status, QuestStatus::Completed);
    assert!(notices(&out, 1).contains(&PlayerEvent::XpGained {
        amount: 200,
        xp: 250
    }));
    assert!(request_of(
        &out,
        |k| matches!(k, PersistKind::LevelUp(level_up::Request(s)) if s.xp == 250 && s.level == 2)
    )
    .is_some());
}

fn traders() -> realmkeep_zone::Zone {
    let mut z = zone();
    let mut a = character(1, 150.0, 150.0);
    a.inventory.push(InventoryItem {
        item: ItemId(11),
        def: ItemDefId(12),
        quantity: 1,
        slot: 0,
    });
    spawn(&mut z, a);
    spawn(&mut z, character(2, 151.0, 150.0));
    z
}

fn offer(items: Vec<i64>, gold: i64) -> TradeOffer {
    TradeOffer {
        items: items.into_iter().map(ItemId).collect(),
        gold: Gold::new(gold).unwrap(),
    }
}

/// A trade command: an offer to `with`, or the mirror of its offer (the agreement).
fn trade(with: i64, give: TradeOffer, want: TradeOffer) -> PlayerCommand {
    PlayerCommand::Trade {
        with: CharacterId(with),
        give,
        want,
    }
}

#[test]
fn mirror_offers_become_one_trade_applied_on_ok() {
    let mut z = traders();
    command(&mut z, 1, trade(2, offer(vec![11], 0), offer(vec![], 30)));
    let out = run(&mut z, 1);
    assert!(requests(&out).is_empty());
    assert!(matches!(
        notices(&out, 2)[..],
        [PlayerEvent::TradeOffered {
            from: CharacterId(1),
            ..
        }]
    ));

    command(&mut z, 2, trade(1, offer(vec![], 30), offer(vec![11], 0)));
    let out = run(&mut z, 1);
    let req = request_of(&out, |k| matches!(k, PersistKind::Trade(_))).expect("one trade");
    assert_eq!(
        req.kind,
        PersistKind::Trade(trade::Request {
            a: fence(1),
            a_gives: offer(vec![11], 0),
            b: fence(2),
            b_gives: offer(vec![], 30)
        })
    );
    let done = Applied::Trade(trade::Receipt {
        a_received: vec![],
        b_received: vec![(ItemId(11), 4)],
        a_gold: 130,
        b_gold: 70,
        trade: "5eed".into(),
    });
    reply(&mut z, req.id, Outcome::Ok(done));
    let out = run(&mut z, 1);
    let (a, b) = (
        z.player(CharacterId(1)).unwrap(),
        z.player(CharacterId(2)).unwrap(),
    );
    assert!(a.items.is_empty() && a.gold == 130);
    assert_eq!(
        b.items,
        vec![InventoryItem {
            item: ItemId(11),
            def: ItemDefId(12),
            quantity: 1,
            slot: 4
        }]
    );
    assert_eq!(b.gold, 70);
    assert!(notices(&out, 1).contains(&PlayerEvent::TradeDone {
        with: CharacterId(2),
        trade: "5eed".into(),
    }));
    assert!(notices(&out, 2).contains(&PlayerEvent::TradeDone {
        with: CharacterId(1),
        trade: "5eed".into(),
    }));
    // Each side is told its whole bag as the zone now holds it (a client's bag follows).
    let bag_told = |c: i64| {
        notices(&out, c).iter().find_map(|e| match e {
            PlayerEvent::ItemsChanged { bag, .. } => Some(bag.clone()),
            _ => None,
        })
    };
    assert_eq!(bag_told(1), Some(vec![]));
    assert_eq!(bag_told(2), Some(b.items.clone()));
}

#[test]
fn a_withdrawn_offer_is_told_and_cannot_be_agreed_to() {
    let mut z = traders();
    let cancel = |with: i64| PlayerCommand::TradeCancel {
        with: CharacterId(with),
    };
    // Nothing offered: nothing to withdraw.
    command(&mut z, 1, cancel(2));
    let out = run(&mut z, 1);
    assert!(notices(&out, 1).contains(&PlayerEvent::Denied {
        action: Action::Trade,
        reason: Denial::NoSuchTarget,
    }));
    command(&mut z, 1, trade(2, offer(vec![11], 0), offer(vec![], 30)));
    run(&mut z, 1);
    command(&mut z, 1, cancel(2));
    let out = run(&mut z, 1);
    assert!(notices(&out, 2).contains(&PlayerEvent::TradeCancelled {
        from: CharacterId(1)
    }));
    // The mirror offer now is only an offer of its own: no trade is asked of the store.
    command(&mut z, 2, trade(1, offer(vec![], 30), offer(vec![11], 0)));
    let out = run(&mut z, 1);
    assert!(request_of(&out, |k| matches!(k, PersistKind::Trade(_))).is_none());
    assert!(matches!(
        notices(&out, 1)[..],
        [PlayerEvent::TradeOffered {
            from: CharacterId(2),
            ..
        }]
    ));
}

#[test]
fn agreeing_while_the_offerer_is_busy_is_answered_try_again_and_the_offer_stays() {
    use realmkeep_zone::limits::PENDING_CRITICAL_PER_PLAYER_MAX;
    let mut z = traders();
    command(&mut z, 1, trade(2, offer(vec![11], 0), offer(vec![], 30)));
    // The offerer then has as many critical actions waiting as a player may (market buys the
    // store has not answered yet).
    let mut out = run(&mut z, 1);
    for listing in 0..PENDING_CRITICAL_PER_PLAYER_MAX as i64 {
        let buy = PlayerCommand::BuyListing {
            listing: ListingId(100 + listing),
        };
        command(&mut z, 1, buy);
        out.extend(run(&mut z, 1));
    }
    let buys: Vec<_> = requests(&out)
        .into_iter()
        .filter(|r| matches!(r.kind, PersistKind::MarketBuy(_)))
        .collect();
    assert_eq!(buys.len(), PENDING_CRITICAL_PER_PLAYER_MAX);

    // The mirror offer: the one agreeing is answered "busy" (try again); the offerer hears
    // nothing of it, and no trade is asked of the store.
    tagged(
        &mut z,
        2,
        7,
        trade(1, offer(vec![], 30), offer(vec![11], 0)),
    );
    let out = run(&mut z, 1);
    let busy = PlayerEvent::Denied {
        action: Action::Trade,
        reason: Denial::Busy,
    };
    assert_eq!(replies(&out, 2), vec![(7, busy)]);
    assert!(notices(&out, 1).is_empty());
    assert!(request_of(&out, |k| matches!(k, PersistKind::Trade(_))).is_none());

    // Once the store answered the offerer's buys, the same agreement makes the trade: the
    // offer stayed.
    for r in buys {
        reply(&mut z, r.id, Outcome::Refused(Refusal::NotFound("listing")));
    }
    run(&mut z, 1);
    tagged(
        &mut z,
        2,
        8,
        trade(1, offer(vec![], 30), offer(vec![11], 0)),
    );
    let out = run(&mut z, 1);
    assert!(request_of(&out, |k| matches!(k, PersistKind::Trade(_))).is_some());
}

#[test]
fn a_refused_trade_changes_nothing_and_tells_both() {
    let mut z = traders();
    command(&mut z, 1, trade(2, offer(vec![11], 0), offer(vec![], 30)));
    command(&mut z, 2, trade(1, offer(vec![], 30), offer(vec![11], 0)));
    let req = request_of(&run(&mut z, 1), |k| matches!(k, PersistKind::Trade(_))).unwrap();
    reply(&mut z, req.id, Outcome::Refused(Refusal::NotEnoughGold));
    let out = run(&mut z, 1);
    let refused = PlayerEvent::Refused {
        action: Action::Trade,
        reason: Refusal::NotEnoughGold,
    };
    assert!(notices(&out, 1).contains(&refused) && notices(&out, 2).contains(&refused));
    assert_eq!(z.player(CharacterId(1)).unwrap().items.len(), 1);
    // Offering what one does not hold is denied before any request.
    command(&mut z, 2, trade(1, offer(vec![11], 0), offer(vec![], 0)));
    let out = run(&mut z, 1);
    assert!(notices(&out, 2).contains(&PlayerEvent::Denied {
        action: Action::Trade,
        reason: Denial::NotAllowed
    }));
}

#[test]
fn a_kill_between_kingdoms_is_a_pvp_kill_and_the_victim_comes_back() {
    let mut z = zone();
    spawn(&mut z, slayer(1, 150.0, 150.0));
    let mut friend = character(3, 151.0, 151.0);
    friend.kingdom = Kingdom::Aldor;
    spawn(&mut z, friend);
    let mut foe = character(2, 151.0, 150.0);
    foe.kingdom = Kingdom::Veyra;
    spawn(&mut z, foe);
    let friend_net = z.net_id_of(CharacterId(3)).unwrap();
    command(&mut z, 1, PlayerCommand::Attack { target: friend_net });
    let out = run(&mut z, 1);
    assert!(notices(&out, 1).contains(&PlayerEvent::Denied {
        action: Action::Attack,
        reason: Denial::NotAllowed
    }));

    let foe_net = z.net_id_of(CharacterId(2)).unwrap();
    command(&mut z, 1, PlayerCommand::Attack { target: foe_net });
    let out = run(&mut z, 1);
    assert!(z.player(CharacterId(2)).unwrap().dead);
    assert!(notices(&out, 2).contains(&PlayerEvent::Died));
    let kill = request_of(&out, |k| matches!(k, PersistKind::PvpKill(_))).unwrap();
    assert_eq!(
        kill.kind,
        PersistKind::PvpKill(pvp_kill::Request {
            killer: fence(1),
            victim: fence(2)
        })
    );
    reply(&mut z, kill.id, Outcome::Ok(pvp_kill::Receipt.into()));
    let out = run(&mut z, 1);
    assert_eq!(z.player(CharacterId(1)).unwrap().pvp_kills, 1);
    assert!(out.iter().any(|o| matches!(
        o,
        ZoneOutput::Cache(CacheRequest::Leaderboard {
            board: Board::Pvp,
            score: 1,
            ..
        })
    )));

    run(&mut z, ticks(realmkeep_zone::limits::PLAYER_RESPAWN_MS));
    let p = z.player(CharacterId(2)).unwrap();
    assert!(!p.dead);
    assert_eq!((p.x, p.y, p.health), (100.0, 100.0, p.max_health / 2));
}
