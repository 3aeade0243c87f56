//! Monster behaviour: idle (wander a little around the spawn point) → chase a player who came
//! within the aggro radius or hit it → attack in range every attack interval → leash back home
//! beyond the leash radius (ignoring players, healing to full on arrival) → dead → respawn at
//! its spawn point after its definition's `respawn_ms`.

use crate::components::*;
use crate::resources::{Clock, Spatial, ZoneContent, ZoneRng};
use bevy_ecs::prelude::*;
use rand::Rng;
use realmkeep_domain::rules::mitigated_damage;

/// Closer than this to home counts as home.
const HOME_EPSILON: f32 = 0.5;

type Targets<'w, 's> = Query<
    'w,
    's,
    (
        &'static Transform,
        &'static mut Health,
        &'static mut LastHit,
        &'static CombatStats,
        &'static StatusEffects,
    ),
    (
        With<Player>,
        Without<Monster>,
        Without<Dead>,
        Without<Leaving>,
    ),
>;

pub fn run_monsters(
    clock: Res<Clock>,
    content: Res<ZoneContent>,
    spatial: Res<Spatial>,
    mut rng: ResMut<ZoneRng>,
    mut monsters: Query<
        (
            Entity,
            &Monster,
            &mut AiState,
            &mut Transform,
            &mut Velocity,
            &mut Health,
            &mut LastHit,
            &CombatStats,
            &SpawnPoint,
            Option<&Dead>,
        ),
        Without<Player>,
    >,
    mut players: Targets,
    mut commands: Commands,
) {
    let now = clock.now_ms;
    for (entity, monster, mut ai, mut t, mut v, mut health, mut last_hit, stats, home, dead) in
        &mut monsters
    {
        let def = content.monster(monster.def_index);
        if let Some(dead) = dead {
            if now >= dead.respawn_at_ms {
                commands.entity(entity).remove::<Dead>();
                *health = Health::full(health.max);
                *t = Transform::at(home.x, home.y);
                v.stop();
                last_hit.0 = None;
                ai.mode = AiMode::Idle {
                    next_wander_ms: now + rng.0.random_range(1_000..8_000),
                };
            }
            continue;
        }
        let at_home = t.distance_to(&Transform::at(home.x, home.y));
        ai.mode = match ai.mode {
            AiMode::Idle { next_wander_ms } => {
                let provoked = last_hit.0.filter(|p| players.contains(*p));
                let seen = || {
                    spatial
                        .players
                        .near(t.x, t.y, def.aggro_radius)
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .map(|(e, _)| e)
                };
                match provoked.or_else(seen) {
                    Some(target) => AiMode::Chase { target },
                    None if now >= next_wander_ms => {
                        let angle = rng.0.random_range(0.0..std::f32::consts::TAU);
                        let r = home.wander_radius * rng.0.random_range(0.0f32..1.0);
                        v.goal =
                            Some(content.clamp(home.x + r * angle.cos(), home.y + r * angle.sin()));
                        AiMode::Idle {
                            next_wander_ms: now + rng.0.random_range(3_000..8_000),
                        }
                    }
                    None => AiMode::Idle { next_wander_ms },
                }
            }
            AiMode::Chase { target } => match players.get_mut(target) {
                _ if at_home > def.leash_radius => AiMode::Leash,
                Err(_) => AiMode::Leash,
                Ok((pt, mut ph, mut pl, pstats, effects)) => {
                    if t.distance_to(pt) > stats.attack_range {
                        v.goal = Some((pt.x, pt.y));
                    } else {
                        v.stop();
                        if now >= ai.next_attack_ms {
                            let armor = pstats.armor + effects.armor_bonus();
                            *ph = ph.damaged(mitigated_damage(stats.attack_power, armor));
                            pl.0 = Some(entity);
                            ai.next_attack_ms = now + stats.attack_interval_ms as u64;
                        }
                    }
                    AiMode::Chase { target }
                }
            },
            AiMode::Leash if at_home <= HOME_EPSILON => {
                v.stop();
                health.set_if_neq(Health::full(health.max));
                last_hit.0 = None;
                AiMode::Idle {
                    next_wander_ms: now + rng.0.random_range(3_000..8_000),
                }
            }
            AiMode::Leash => {
                v.goal = Some((home.x, home.y));
                AiMode::Leash
            }
            AiMode::Dead => AiMode::Dead,
        };
    }
}
