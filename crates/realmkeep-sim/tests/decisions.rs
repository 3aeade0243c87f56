//! The decision function is deterministic: the same seed and the same observations give the same
//! intents (whole runs are not comparable: the wall clock decides when a player acts).

use realmkeep_domain::{CharacterId, Gold, ItemDefId, ItemId, ZoneId};
use realmkeep_sim::mind::{BagItem, Body, Offer, Thing};
use realmkeep_sim::{Behaviour, Intent, Mind, Observation};
use realmkeep_zone::io::{NetId, TradeOffer};

/// A fixed, varied sequence of observations: walking alone, monsters far and near, loot, peers,
/// an offer, dead, out of the world.
fn observations() -> Vec<Observation> {
    let mut out = Vec::new();
    for i in 0..400u64 {
        let f = i as f32;
        let me = Body {
            x: 100.0 + (f * 0.7) % 50.0,
            y: 120.0 + (f * 1.3) % 40.0,
            health: 100,
            level: 1 + (i / 100) as i32,
            dead: i % 97 == 5,
        };
        let near = i % 3 == 0;
        let monsters = vec![Thing {
            net: NetId(1_000 + i % 7),
            x: me.x + if near { 1.0 } else { 12.0 },
            y: me.y,
        }];
        let loot = if i % 11 == 0 {
            vec![Thing {
                net: NetId(5_000 + i),
                x: me.x + 2.0,
                y: me.y,
            }]
        } else {
            Vec::new()
        };
        let offer = (i % 13 == 0).then(|| Offer {
            from: CharacterId(77),
            gives: TradeOffer {
                items: vec![ItemId(900 + i as i64)],
                gold: Gold::ZERO,
            },
            wants: TradeOffer {
                items: Vec::new(),
                gold: Gold::new(3).unwrap(),
            },
        });
        out.push(Observation {
            me: (i % 50 != 49).then_some(me),
            zone: Some(ZoneId(1 + (i % 2) as i32)),
            monsters: if i % 5 == 4 { Vec::new() } else { monsters },
            loot,
            peers: vec![CharacterId(77), CharacterId(78), CharacterId(79)],
            bag: vec![
                BagItem {
                    item: ItemId(10),
                    def: ItemDefId(100),
                    quantity: 5,
                    price: 5,
                },
                BagItem {
                    item: ItemId(11),
                    def: ItemDefId(200),
                    quantity: 2,
                    price: 3,
                },
            ],
            gold: 100,
            offer,
            busy: i % 17 == 0,
            queued: i % 19 == 0,
        });
    }
    out
}

fn run(seed: u64, player: u64, behaviour: &Behaviour) -> Vec<Intent> {
    let mut mind = Mind::new(seed, player);
    observations()
        .iter()
        .map(|o| mind.decide(behaviour, o))
        .collect()
}

#[test]
fn same_seed_same_intents() {
    let b = Behaviour::lively(vec![ZoneId(1), ZoneId(2)]);
    for player in 0..8 {
        assert_eq!(run(42, player, &b), run(42, player, &b), "player {player}");
    }
}

#[test]
fn seeds_and_players_make_different_players() {
    let b = Behaviour::lively(vec![ZoneId(1), ZoneId(2)]);
    assert_ne!(run(42, 0, &b), run(43, 0, &b));
    assert_ne!(run(42, 0, &b), run(42, 1, &b));
}

#[test]
fn intents_follow_what_was_observed() {
    let b = Behaviour::lively(vec![ZoneId(1), ZoneId(2)]);
    let obs = observations();
    for seed in 0..20 {
        let mut mind = Mind::new(seed, 3);
        for o in &obs {
            let intent = mind.decide(&b, o);
            let Some(me) = o.me.filter(|m| !m.dead) else {
                assert_eq!(
                    intent,
                    Intent::Wait,
                    "nothing to do out of the world or dead"
                );
                continue;
            };
            if o.busy {
                assert!(
                    !intent.is_economy(),
                    "busy players only walk and fight: {intent:?}"
                );
            }
            match &intent {
                Intent::OfferTrade { with, item, gold } => {
                    assert!(o.peers.contains(with) && o.bag.iter().any(|b| b.item == *item));
                    assert!(*gold > 0);
                }
                Intent::AcceptTrade(offer) => {
                    assert_eq!(Some(offer), o.offer.as_ref());
                    assert!(offer.wants.gold.get() <= o.gold);
                }
                Intent::ListItem { item, price } => {
                    assert!(o.bag.iter().any(|b| b.item == *item) && *price > 0)
                }
                Intent::SendMail { to, gold, item } => {
                    assert!(o.peers.contains(to) && *gold <= o.gold);
                    assert!(item.is_none_or(|i| o.bag.iter().any(|b| b.item == i)));
                }
                Intent::ChangeZone { to } => assert_ne!(Some(*to), o.zone),
                Intent::QueueDungeon => assert!(!o.queued),
                Intent::PickUp { loot } => assert!(o.loot.iter().any(|l| l.net == *loot)),
                Intent::Attack { target } => {
                    let m = o.monsters.iter().find(|m| m.net == *target).unwrap();
                    assert!(((m.x - me.x).powi(2) + (m.y - me.y).powi(2)).sqrt() < 3.0);
                }
                _ => {}
            }
            // Every zone-level intent maps to a command.
            if matches!(
                intent,
                Intent::Walk { .. }
                    | Intent::Attack { .. }
                    | Intent::PickUp { .. }
                    | Intent::Chat { .. }
                    | Intent::OfferTrade { .. }
                    | Intent::AcceptTrade(_)
                    | Intent::ChangeZone { .. }
            ) {
                assert!(intent.command().is_some(), "{intent:?}");
            }
        }
    }
}

#[test]
fn combat_only_players_never_trade() {
    let b = Behaviour::combat_only();
    for seed in 0..10 {
        for intent in run(seed, 0, &b) {
            assert!(!intent.is_economy(), "{intent:?}");
            assert!(!matches!(intent, Intent::Chat { .. }), "{intent:?}");
        }
    }
}
