//! Tagged commands: each gets exactly one tagged first reply — `Accepted` when simply applied, a
//! denial, "throttled", or (for a critical action) its result after the store answered.

mod common;

use common::*;
use realmkeep_domain::records::{InventoryItem, Refusal};
use realmkeep_domain::{ItemDefId, ItemId, QuestId};
use realmkeep_zone::actions::*;
use realmkeep_zone::io::*;
use realmkeep_zone::limits::COMMANDS_PER_PLAYER_PER_TICK_MAX;

#[test]
fn applied_commands_are_accepted_and_refused_ones_denied_each_once() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    tagged(&mut z, 1, 10, PlayerCommand::Stop);
    tagged(&mut z, 1, 11, PlayerCommand::MoveTo { x: 101.0, y: 100.0 });
    tagged(
        &mut z,
        1,
        12,
        PlayerCommand::Attack {
            target: NetId(999_999),
        },
    );
    let out = run(&mut z, 1);
    let r = replies(&out, 1);
    assert_eq!(
        r,
        vec![
            (10, PlayerEvent::Accepted),
            (11, PlayerEvent::Accepted),
            (
                12,
                PlayerEvent::Denied {
                    action: Action::Attack,
                    reason: Denial::NoSuchTarget
                }
            ),
        ]
    );
    // Untagged commands get no tagged reply.
    command(&mut z, 1, PlayerCommand::Stop);
    assert!(replies(&run(&mut z, 1), 1).is_empty());
}

#[test]
fn a_skill_use_is_answered_by_the_skill_system() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    // A skill this character never learned: denied by the skill system, tagged.
    tagged(
        &mut z,
        1,
        5,
        PlayerCommand::UseSkill {
            skill: realmkeep_domain::SkillId(9_999),
            target: None,
        },
    );
    let r = replies(&run(&mut z, 1), 1);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        matches!(
            r[0],
            (
                5,
                PlayerEvent::Denied {
                    action: Action::Skill,
                    ..
                }
            )
        ),
        "{r:?}"
    );
}

#[test]
fn a_critical_action_is_answered_only_by_the_stores_result() {
    let mut z = zone();
    let net = slain_wolf_loot(&mut z);
    tagged(&mut z, 1, 40, PlayerCommand::PickUp { loot: net });
    let out = run(&mut z, 1);
    assert!(replies(&out, 1).is_empty(), "no answer before the store's");
    let req = requests(&out)
        .into_iter()
        .find(|r| matches!(r.kind, PersistKind::Pickup(_)))
        .unwrap();
    let receipt = pickup::Receipt {
        merged: Vec::new(),
        created: Some(InventoryItem {
            item: ItemId(77),
            def: ItemDefId(200),
            quantity: 2,
            slot: 3,
        }),
    };
    reply(&mut z, req.id, Outcome::Ok(Applied::Pickup(receipt)));
    let r = replies(&run(&mut z, 1), 1);
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

    // A refusal by the store answers it too.
    tagged(
        &mut z,
        1,
        41,
        PlayerCommand::AcceptQuest { quest: QuestId(1) },
    );
    let out = run(&mut z, 1);
    let req = requests(&out)
        .into_iter()
        .find(|r| matches!(r.kind, PersistKind::AcceptQuest(_)))
        .expect("a quest request");
    reply(
        &mut z,
        req.id,
        Outcome::Refused(Refusal::NotAllowed("test")),
    );
    let r = replies(&run(&mut z, 1), 1);
    assert_eq!(r.len(), 1);
    assert!(
        matches!(
            r[0],
            (
                41,
                PlayerEvent::Refused {
                    action: Action::Quest,
                    ..
                }
            )
        ),
        "{r:?}"
    );
}

#[test]
fn commands_over_the_tick_bound_are_answered_throttled_one_by_one() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    let n = COMMANDS_PER_PLAYER_PER_TICK_MAX as u64 + 2;
    for tag in 0..n {
        tagged(&mut z, 1, tag, PlayerCommand::Stop);
    }
    let r = replies(&run(&mut z, 1), 1);
    assert_eq!(r.len() as u64, n, "every command answered once: {r:?}");
    let throttled = r
        .iter()
        .filter(|(_, e)| matches!(e, PlayerEvent::Throttled { dropped: 1 }))
        .count();
    assert_eq!(throttled, 2);
}
