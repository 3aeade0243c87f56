//! Kills and loot: experience, drops as entities, gold to the purse, and pickups as critical
//! actions reserved until the store answers.

mod common;

use common::*;
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{CharacterId, ItemDefId, ItemId, Quantity};
use realmkeep_zone::actions::*;
use realmkeep_zone::io::*;
use realmkeep_zone::limits::LOOT_LIFETIME_MS;
use realmkeep_zone::Zone;

/// A slayer kills the wolf; returns what the kill emitted.
fn kill_wolf(z: &mut Zone, id: i64) -> Vec<ZoneOutput> {
    let wolf = wolf_net(z);
    command(z, id, PlayerCommand::Attack { target: wolf });
    let mut out = run(z, 2);
    assert_eq!(z.monster_count(), 0, "the wolf died");
    out.extend(run(z, 20)); // log batches leave every 20 ticks
    out
}

fn pickup_request(out: &[ZoneOutput]) -> Option<PersistRequest> {
    requests(out)
        .into_iter()
        .find(|r| matches!(r.kind, PersistKind::Pickup(_)))
}

#[test]
fn a_kill_gives_experience_drops_loot_and_sends_gold() {
    let mut z = zone();
    spawn(&mut z, slayer(1, 53.0, 50.0));
    let out = kill_wolf(&mut z, 1);
    let p = z.player(CharacterId(1)).unwrap();
    assert_eq!(p.xp, 30, "kill_xp(1, 1)");
    assert!(events(&out, 1).contains(&PlayerEvent::XpGained { amount: 30, xp: 30 }));
    let loot = z.loot();
    assert_eq!(loot.len(), 1);
    assert_eq!(
        (loot[0].def, loot[0].quantity, loot[0].reserved),
        (ItemDefId(200), 2, false)
    );
    assert!(
        (loot[0].x - 50.0).abs() < 3.5,
        "dropped where the wolf fell"
    );
    let gold = requests(&out)
        .into_iter()
        .find_map(|r| match r.kind {
            PersistKind::LootGold(loot_gold::Request {
                fence: f,
                amount,
                zone,
            }) => Some((f, amount, zone)),
            _ => None,
        })
        .expect("gold goes to the killer's purse");
    assert_eq!(gold.0, fence(1));
    assert!((1..=4).contains(&gold.1) && gold.2 == ZONE);
    let kinds: Vec<String> = logs(&out).into_iter().map(|l| l.event_type).collect();
    assert!(
        kinds.contains(&"monster_kill".to_string()) && kinds.contains(&"loot_drop".to_string())
    );
}

#[test]
fn a_pickup_is_reserved_until_ok_then_lands_in_the_inventory_and_the_loot_is_gone() {
    let mut z = zone();
    spawn(&mut z, slayer(1, 53.0, 50.0));
    spawn(&mut z, slayer(2, 53.0, 51.0));
    kill_wolf(&mut z, 1);
    let net = z.loot()[0].net_id;
    command(&mut z, 1, PlayerCommand::PickUp { loot: net });
    let out = run(&mut z, 1);
    let req = pickup_request(&out).expect("a pickup request");
    let PersistKind::Pickup(pickup::Request { loot, .. }) = req.kind else {
        panic!("a pickup")
    };
    assert_eq!(
        req.kind,
        PersistKind::Pickup(pickup::Request {
            fence: fence(1),
            def: ItemDefId(200),
            quantity: Quantity::new(2).unwrap(),
            zone: ZONE,
            monster: 1,
            loot,
        })
    );
    assert!(z.loot()[0].reserved);
    assert!(
        z.player(CharacterId(1)).unwrap().items.is_empty(),
        "nothing before the store said so"
    );

    command(&mut z, 2, PlayerCommand::PickUp { loot: net });
    let out = run(&mut z, 1);
    assert!(events(&out, 2).contains(&PlayerEvent::Denied {
        action: Action::Pickup,
        reason: Denial::Reserved
    }));

    let item = InventoryItem {
        item: ItemId(77),
        def: ItemDefId(200),
        quantity: 2,
        slot: 3,
    };
    let applied = Applied::Pickup(pickup::Receipt {
        merged: Vec::new(),
        created: Some(item.clone()),
    });
    reply(&mut z, req.id, Outcome::Ok(applied));
    let out = run(&mut z, 1);
    assert!(events(&out, 1).contains(&PlayerEvent::Looted {
        def: ItemDefId(200),
        quantity: 2,
        item: Some(ItemId(77)),
    }));
    assert_eq!(z.player(CharacterId(1)).unwrap().items, vec![item]);
    assert_eq!(z.loot_count(), 0);
}

#[test]
fn a_refused_or_unavailable_pickup_leaves_the_loot_and_tells_the_player() {
    let mut z = zone();
    spawn(&mut z, slayer(1, 53.0, 50.0));
    kill_wolf(&mut z, 1);
    let net = z.loot()[0].net_id;
    command(&mut z, 1, PlayerCommand::PickUp { loot: net });
    let req = pickup_request(&run(&mut z, 1)).unwrap();
    reply(&mut z, req.id, Outcome::Refused(Refusal::InventoryFull));
    let out = run(&mut z, 1);
    assert!(events(&out, 1).contains(&PlayerEvent::Refused {
        action: Action::Pickup,
        reason: Refusal::InventoryFull
    }));
    assert_eq!(z.loot().len(), 1);
    assert!(!z.loot()[0].reserved);

    command(&mut z, 1, PlayerCommand::PickUp { loot: net });
    let req = pickup_request(&run(&mut z, 1)).expect("may try again");
    reply(&mut z, req.id, Outcome::Unavailable);
    let out = run(&mut z, 1);
    assert!(events(&out, 1).contains(&PlayerEvent::TryAgain {
        action: Action::Pickup
    }));
    assert_eq!(z.loot().len(), 1);
    assert!(z.player(CharacterId(1)).unwrap().items.is_empty());
}

#[test]
fn a_pickup_out_of_reach_is_denied_without_a_request() {
    let mut z = zone();
    spawn(&mut z, slayer(1, 53.0, 50.0));
    spawn(&mut z, character(2, 80.0, 80.0));
    kill_wolf(&mut z, 1);
    let net = z.loot()[0].net_id;
    command(&mut z, 2, PlayerCommand::PickUp { loot: net });
    let out = run(&mut z, 1);
    assert!(events(&out, 2).contains(&PlayerEvent::Denied {
        action: Action::Pickup,
        reason: Denial::OutOfRange
    }));
    assert!(pickup_request(&out).is_none());
}

#[test]
fn loot_despawns_after_sixty_seconds_unless_a_pickup_is_waiting() {
    let mut z = zone();
    spawn(&mut z, slayer(1, 53.0, 50.0));
    let wolf = wolf_net(&z);
    command(&mut z, 1, PlayerCommand::Attack { target: wolf });
    run(&mut z, 1);
    assert_eq!(z.loot_count(), 1, "dropped this tick");
    run(&mut z, ticks(LOOT_LIFETIME_MS) - 1);
    assert_eq!(z.loot_count(), 1, "still there just before 60 s");
    run(&mut z, 1);
    assert_eq!(z.loot_count(), 0, "gone at 60 s");

    // A second drop, picked up just before its time: it waits for the result.
    run(&mut z, ticks(15_000));
    let wolf = wolf_net(&z);
    command(&mut z, 1, PlayerCommand::Attack { target: wolf });
    run(&mut z, 2);
    // Wait out of the respawned wolf's reach, come back just in time.
    command(&mut z, 1, PlayerCommand::MoveTo { x: 75.0, y: 50.0 });
    run(&mut z, ticks(LOOT_LIFETIME_MS) - 80);
    command(&mut z, 1, PlayerCommand::MoveTo { x: 52.0, y: 50.0 });
    run(&mut z, 70);
    let net = z.loot()[0].net_id;
    command(&mut z, 1, PlayerCommand::PickUp { loot: net });
    let req = pickup_request(&run(&mut z, 1)).unwrap();
    run(&mut z, 40);
    assert_eq!(z.loot_count(), 1, "reserved loot outlives its time");
    reply(&mut z, req.id, Outcome::Refused(Refusal::InventoryFull));
    run(&mut z, 1);
    assert_eq!(z.loot_count(), 0, "and goes once the refusal freed it");
}
