//! Skills: local cooldowns (also sent to the cache, and taken from it on spawn), mana, and the
//! status effects they leave, which tick and expire.

mod common;

use common::*;
use realmkeep_domain::{CharacterId, SkillId};
use realmkeep_zone::components::EffectKind;
use realmkeep_zone::io::*;

const SECOND_WIND: SkillId = SkillId(5); // no class, 60 s cooldown, a heal and 6 s regeneration

fn use_skill(z: &mut realmkeep_zone::Zone, id: i64, skill: SkillId) -> Vec<PlayerEvent> {
    command(
        z,
        id,
        PlayerCommand::UseSkill {
            skill,
            target: None,
        },
    );
    notices(&run(z, 1), id)
}

#[test]
fn a_skill_on_cooldown_is_refused_until_the_cooldown_ran_out() {
    let mut z = zone();
    spawn(&mut z, character(1, 150.0, 150.0));
    command(
        &mut z,
        1,
        PlayerCommand::UseSkill {
            skill: SECOND_WIND,
            target: None,
        },
    );
    let out = run(&mut z, 1);
    assert!(notices(&out, 1).is_empty(), "used: {:?}", notices(&out, 1));
    assert!(out.contains(&ZoneOutput::Cache(CacheRequest::Cooldown {
        character: CharacterId(1),
        skill: SECOND_WIND,
        ms: 60_000
    })));
    let refused = use_skill(&mut z, 1, SECOND_WIND);
    assert_eq!(
        refused,
        vec![PlayerEvent::Denied {
            action: Action::Skill,
            reason: Denial::OnCooldown {
                remaining_ms: 59_950
            }
        }]
    );
    run(&mut z, ticks(60_000) - 3);
    assert!(matches!(
        use_skill(&mut z, 1, SECOND_WIND)[..],
        [PlayerEvent::Denied { .. }]
    ));
    assert!(
        use_skill(&mut z, 1, SECOND_WIND).is_empty(),
        "ready again after 60 s"
    );
}

#[test]
fn a_cooldown_carried_from_another_zone_holds() {
    let mut z = zone();
    z.push_input(ZoneInput::Spawn {
        fence: fence(1),
        character: Box::new(character(1, 150.0, 150.0)),
        transfer: true,
        cooldowns: vec![SkillCooldown {
            skill: SECOND_WIND,
            remaining_ms: 10_000,
        }],
    })
    .unwrap();
    run(&mut z, 1);
    assert!(matches!(
        use_skill(&mut z, 1, SECOND_WIND)[..],
        [PlayerEvent::Denied {
            reason: Denial::OnCooldown { .. },
            ..
        }]
    ));
    run(&mut z, ticks(10_000));
    assert!(use_skill(&mut z, 1, SECOND_WIND).is_empty());
}

#[test]
fn skills_of_another_class_or_unknown_are_refused() {
    let mut z = zone();
    spawn(&mut z, character(1, 150.0, 150.0)); // a warrior
    let fireball = use_skill(&mut z, 1, SkillId(2));
    assert_eq!(
        fireball,
        vec![PlayerEvent::Denied {
            action: Action::Skill,
            reason: Denial::NotLearned
        }]
    );
    let unknown = use_skill(&mut z, 1, SkillId(999));
    assert_eq!(
        unknown,
        vec![PlayerEvent::Denied {
            action: Action::Skill,
            reason: Denial::Invalid
        }]
    );
}

#[test]
fn status_effects_apply_tick_and_expire() {
    let mut z = zone();
    spawn(&mut z, character(1, 53.0, 50.0));
    run(&mut z, 80); // the wolf bites a few times
    let hurt = z.player(CharacterId(1)).unwrap().health;
    command(&mut z, 1, PlayerCommand::Move { dx: 1.0, dy: 0.0 }); // out of the wolf's reach
    run(&mut z, 100);
    assert!(use_skill(&mut z, 1, SECOND_WIND).is_empty());
    let p = z.player(CharacterId(1)).unwrap();
    assert_eq!(p.effects, vec![EffectKind::Regeneration { per_second: 5 }]);
    assert!(p.health > hurt, "healed");
    run(&mut z, ticks(6_000) - 1);
    assert_eq!(
        z.player(CharacterId(1)).unwrap().effects.len(),
        1,
        "lasts 6 s"
    );
    run(&mut z, 1);
    assert!(
        z.player(CharacterId(1)).unwrap().effects.is_empty(),
        "expired"
    );
}
