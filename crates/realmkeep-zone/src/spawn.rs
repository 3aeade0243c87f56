//! Putting players and monsters into the world.

use crate::components::*;
use crate::game::player_stats;
use crate::io::{PlayerEvent, SkillCooldown, SpawnRefusal};
use crate::limits::{MONSTERS_MAX, PLAYERS_MAX, PLAYER_SPEED};
use crate::resources::{Clock, Index, Lifecycle, Outbox, ZoneContent, ZoneRng};
use bevy_ecs::prelude::*;
use rand::Rng;
use realmkeep_domain::limits::LEVEL_MAX;
use realmkeep_domain::records::LoadedCharacter;
use realmkeep_domain::{Fence, SkillId};

/// Spawns a claimed and loaded character. The position is the stored one if it lies in this
/// zone, else the zone's entry; health 0 (died, then left) comes back as half.
pub fn spawn_player(
    world: &mut World,
    fence: Fence,
    c: LoadedCharacter,
    cooldowns: &[SkillCooldown],
) -> Result<Entity, SpawnRefusal> {
    if world.resource::<Lifecycle>().shutting_down {
        return Err(SpawnRefusal::ShuttingDown);
    }
    let index = world.resource::<Index>();
    if index.players.contains_key(&fence.character) {
        return Err(SpawnRefusal::AlreadyInZone);
    }
    if index.players.len() >= PLAYERS_MAX {
        return Err(SpawnRefusal::ZoneFull);
    }
    if !(1..=LEVEL_MAX).contains(&c.level) || c.xp < 0 || fence.character != c.id {
        return Err(SpawnRefusal::Invalid);
    }
    let content = world.resource::<ZoneContent>();
    let zone = content.zone.id;
    let p = c.position;
    let inside = p.zone == zone
        && p.x.is_finite()
        && p.y.is_finite()
        && (0.0..=content.zone.width).contains(&p.x)
        && (0.0..=content.zone.height).contains(&p.y);
    let mut transform = if inside {
        Transform::at(p.x, p.y)
    } else {
        Transform::at(content.zone.entry.0, content.zone.entry.1)
    };
    if inside && p.z.is_finite() && p.rotation.is_finite() {
        transform.z = p.z;
        transform.rotation = p.rotation;
    }
    let (stats, max_health, max_mana) = player_stats(c.class, c.level, &c.equipment);
    let health = match c.health {
        h if h <= 0 => (max_health / 2).max(1),
        h => h.min(max_health),
    };
    let mana = c.mana.clamp(0, max_mana);
    let now = world.resource::<Clock>().now_ms;
    let cooldowns = Cooldowns(
        cooldowns
            .iter()
            .map(|cd| (cd.skill, now + cd.remaining_ms as u64))
            .collect(),
    );
    let skills: Vec<(SkillId, i32)> = c.skills.iter().map(|s| (s.skill, s.level)).collect();
    let character = c.id;
    let player = Player {
        character,
        account: c.account,
        fence,
        class: c.class,
        kingdom: c.kingdom,
        name: c.name,
        guild: c.guild,
        pvp_kills: c.pvp_kills,
    };
    let entity = world
        .spawn((
            (
                player,
                Level {
                    level: c.level,
                    xp: c.xp,
                },
                transform,
                Velocity::new(PLAYER_SPEED),
                Health {
                    current: health,
                    max: max_health,
                },
                Mana {
                    current: mana,
                    max: max_mana,
                },
                stats,
            ),
            (
                Target::default(),
                AutoAttack::default(),
                StatusEffects::default(),
                LastHit::default(),
                InventoryView {
                    gold: c.gold,
                    items: c.inventory,
                    equipment: c.equipment,
                },
                SaveState::default(),
                cooldowns,
                Skillbook(skills),
                QuestLog(c.quests),
                CriticalPending::default(),
                Blocks(c.blocked),
            ),
        ))
        .id();
    let mut index = world.resource_mut::<Index>();
    index.players.insert(character, entity);
    let net_id = index.assign(entity);
    world.entity_mut(entity).insert(NetworkIdentity(net_id));
    let mut outbox = world.resource_mut::<Outbox>();
    outbox.tell(
        character,
        PlayerEvent::Joined {
            zone,
            net_id,
            x: transform.x,
            y: transform.y,
        },
    );
    Ok(entity)
}

/// Spawns the zone's monsters from its definition, placed by the seeded generator (at most
/// `MONSTERS_MAX`). Spawn points naming unknown monsters are skipped (`Zone::new` checks them).
pub fn spawn_monsters(world: &mut World) {
    let content = world.resource::<ZoneContent>().clone();
    let mut spawned = 0usize;
    for point in &content.zone.spawns {
        let Some(def_index) = content.monster_index(point.monster) else {
            continue;
        };
        let def = content.monster(def_index);
        for _ in 0..point.count {
            if spawned >= MONSTERS_MAX {
                tracing::warn!(zone = %content.zone.id, "monster bound reached, spawns cut");
                return;
            }
            let (x, y) = {
                let mut rng = world.resource_mut::<ZoneRng>();
                let angle = rng.0.random_range(0.0..std::f32::consts::TAU);
                let r = point.radius.max(0.0) * rng.0.random_range(0.0f32..1.0).sqrt();
                content.clamp(point.x + r * angle.cos(), point.y + r * angle.sin())
            };
            let wander_ms = world.resource_mut::<ZoneRng>().0.random_range(1_000..8_000);
            let entity = world
                .spawn((
                    Monster {
                        def_index,
                        def_id: def.id,
                        level: def.level,
                    },
                    Transform::at(x, y),
                    Velocity::new(def.speed.max(0.0)),
                    Health::full(def.health.max(1)),
                    CombatStats {
                        attack_power: def.attack,
                        armor: def.armor,
                        attack_interval_ms: def.attack_interval_ms.max(100),
                        attack_range: crate::limits::MELEE_RANGE,
                    },
                    AiState {
                        mode: AiMode::Idle {
                            next_wander_ms: wander_ms,
                        },
                        next_attack_ms: 0,
                    },
                    SpawnPoint {
                        x,
                        y,
                        wander_radius: point.radius.clamp(0.0, 8.0),
                    },
                    StatusEffects::default(),
                    LastHit::default(),
                ))
                .id();
            let net_id = world.resource_mut::<Index>().assign(entity);
            world.entity_mut(entity).insert(NetworkIdentity(net_id));
            spawned += 1;
        }
    }
}
