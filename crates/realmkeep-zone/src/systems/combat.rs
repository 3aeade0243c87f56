//! Targeting and auto-attack of players: walk into range of the target, then swing every attack
//! interval. A target that died, left or is no longer hostile ends the attack.

use crate::components::*;
use crate::resources::{Clock, Wars};
use bevy_ecs::prelude::*;
use realmkeep_domain::rules::mitigated_damage;

pub fn auto_attack(
    clock: Res<Clock>,
    wars: Res<Wars>,
    mut attackers: Query<
        (
            Entity,
            &Player,
            &Transform,
            &CombatStats,
            &mut Target,
            &mut AutoAttack,
            &mut Velocity,
        ),
        (Without<Dead>, Without<Leaving>),
    >,
    mut victims: Query<
        (
            &Transform,
            &mut Health,
            &mut LastHit,
            &CombatStats,
            &StatusEffects,
            Option<&Player>,
        ),
        (Without<Dead>, Without<Leaving>),
    >,
) {
    let now = clock.now_ms;
    for (me, player, t, stats, mut target, mut attack, mut v) in &mut attackers {
        if !attack.active {
            continue;
        }
        let hostile_target = target.0.and_then(|te| {
            let victim = victims.get_mut(te).ok()?;
            let hostile = victim.5.is_none_or(|p| wars.hostile(player, p));
            hostile.then_some(victim)
        });
        let Some((tt, mut th, mut tl, tstats, effects, _)) = hostile_target else {
            target.0 = None;
            attack.active = false;
            if attack.chasing {
                attack.chasing = false;
                v.stop();
            }
            continue;
        };
        if t.distance_to(tt) > stats.attack_range {
            v.goal = Some((tt.x, tt.y));
            attack.chasing = true;
            continue;
        }
        if attack.chasing {
            attack.chasing = false;
            v.stop();
        }
        if now >= attack.next_at_ms {
            let armor = tstats.armor + effects.armor_bonus();
            *th = th.damaged(mitigated_damage(stats.attack_power, armor));
            tl.0 = Some(me);
            attack.next_at_ms = now + stats.attack_interval_ms as u64;
        }
    }
}
