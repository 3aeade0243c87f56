//! Between ticks (`Zone::react`): commands and store answers are applied and answered at once,
//! game time does not move, and the per-player bound on commands holds over a whole tick.

mod common;

use common::*;
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{CharacterId, ItemDefId, ItemId};
use realmkeep_zone::actions::*;
use realmkeep_zone::io::*;
use realmkeep_zone::limits::COMMANDS_PER_PLAYER_PER_TICK_MAX;
use realmkeep_zone::Zone;

fn react(z: &mut Zone) -> Vec<ZoneOutput> {
    z.react();
    z.drain_outputs()
}

#[test]
fn a_command_is_answered_between_ticks_and_moves_nobody_until_the_tick() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    let (tick, now) = (z.tick_number(), z.now_ms());
    assert_eq!(z.react(), 0, "nothing queued, nothing runs");
    tagged(&mut z, 1, 7, PlayerCommand::MoveTo { x: 110.0, y: 100.0 });
    let out = react(&mut z);
    assert_eq!(replies(&out, 1), vec![(7, PlayerEvent::Accepted)]);
    assert_eq!(
        (z.tick_number(), z.now_ms()),
        (tick, now),
        "game time stood"
    );
    let x = |z: &Zone| z.player(CharacterId(1)).unwrap().x;
    assert_eq!(x(&z), 100.0, "the walk is the tick's");
    run(&mut z, 1);
    assert!(x(&z) > 100.0);
}

#[test]
fn a_critical_action_and_its_store_answer_both_apply_between_ticks() {
    let mut z = zone();
    let net = slain_wolf_loot(&mut z);
    tagged(&mut z, 1, 40, PlayerCommand::PickUp { loot: net });
    let out = react(&mut z);
    assert!(replies(&out, 1).is_empty(), "no answer before the store's");
    let req = requests(&out)
        .into_iter()
        .find(|r| matches!(r.kind, PersistKind::Pickup(_)))
        .expect("the pickup's request, at once");
    let receipt = pickup::Receipt {
        merged: Vec::new(),
        created: Some(InventoryItem {
            item: ItemId(77),
            def: ItemDefId(200),
            quantity: 2,
            slot: 3,
        }),
    };
    let open = z.pending_requests();
    reply(&mut z, req.id, Outcome::Ok(Applied::Pickup(receipt)));
    let tick = z.tick_number();
    let r = replies(&react(&mut z), 1);
    assert_eq!(
        r,
        vec![(
            40,
            PlayerEvent::Looted {
                def: ItemDefId(200),
                quantity: 2,
                item: Some(ItemId(77)),
            }
        )]
    );
    assert_eq!(z.tick_number(), tick);
    assert_eq!(
        z.pending_requests(),
        open - 1,
        "the pickup's request closed"
    );
}

#[test]
fn the_bound_on_commands_per_tick_counts_the_reactions_before_the_tick() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    let max = COMMANDS_PER_PLAYER_PER_TICK_MAX as u64;
    // The bound, spread over passes: all accepted.
    for tag in 0..max {
        tagged(&mut z, 1, tag, PlayerCommand::Stop);
        assert_eq!(
            replies(&react(&mut z), 1),
            vec![(tag, PlayerEvent::Accepted)]
        );
    }
    // Over it before the tick: throttled, in a reaction and in the tick itself.
    tagged(&mut z, 1, 100, PlayerCommand::Stop);
    assert_eq!(
        replies(&react(&mut z), 1),
        vec![(100, PlayerEvent::Throttled { dropped: 1 })]
    );
    // The tick begins a new count: its own commands and the next reaction's are accepted.
    tagged(&mut z, 1, 101, PlayerCommand::Stop);
    assert_eq!(
        replies(&run(&mut z, 1), 1),
        vec![(101, PlayerEvent::Accepted)]
    );
    tagged(&mut z, 1, 102, PlayerCommand::Stop);
    assert_eq!(
        replies(&react(&mut z), 1),
        vec![(102, PlayerEvent::Accepted)]
    );
}
