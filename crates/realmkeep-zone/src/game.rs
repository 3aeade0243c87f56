//! Zone-side game rules: derived stats, experience, snapshots, skill effects. Pure functions.

use crate::components::{CombatStats, Health, Level, Mana, Player, Transform};
use crate::limits::MELEE_RANGE;
use realmkeep_domain::limits::LEVEL_MAX;
use realmkeep_domain::records::CharacterSnapshot;
use realmkeep_domain::records::EquippedItem;
use realmkeep_domain::rules::{combat_values, level_for_xp, ItemBonus};
use realmkeep_domain::{Class, Position, ZoneId};

/// Reach of a class's auto-attack.
pub fn attack_range(class: Class) -> f32 {
    match class {
        Class::Warrior | Class::Cleric => MELEE_RANGE,
        Class::Ranger => 20.0,
        Class::Mage => 15.0,
    }
}

/// Combat stats and maxima of a player: recalculated on spawn and on level-up, never stored.
pub fn player_stats(
    class: Class,
    level: i32,
    equipment: &[EquippedItem],
) -> (CombatStats, i32, i32) {
    let bonuses: Vec<ItemBonus> = equipment.iter().map(|e| e.bonus).collect();
    let v = combat_values(class, level, &bonuses);
    (
        CombatStats::from_values(&v, attack_range(class)),
        v.max_health.max(1),
        v.max_mana.max(0),
    )
}

/// Adds experience; returns the new level if it went up. The level always equals the one the
/// experience gives (the store checks this on a level-up save), never going down.
pub fn grant_xp(level: &mut Level, amount: i64) -> Option<i32> {
    let before = level.level;
    level.xp = level.xp.saturating_add(amount.max(0));
    level.level = level_for_xp(level.xp).max(before).min(LEVEL_MAX);
    (level.level > before).then_some(level.level)
}

/// What the store saves of a player, with the position checked (a non-finite coordinate, which
/// the store would refuse, becomes the zone's entry).
pub fn snapshot(
    player: &Player,
    zone: ZoneId,
    entry: (f32, f32),
    t: &Transform,
    health: &Health,
    mana: &Mana,
    level: &Level,
) -> CharacterSnapshot {
    let finite = t.x.is_finite() && t.y.is_finite() && t.z.is_finite();
    let (x, y, z) = if finite {
        (t.x, t.y, t.z)
    } else {
        (entry.0, entry.1, 0.0)
    };
    CharacterSnapshot {
        fence: player.fence,
        position: Position {
            zone,
            x,
            y,
            z,
            rotation: if t.rotation.is_finite() {
                t.rotation
            } else {
                0.0
            },
        },
        health: health.current.max(0),
        mana: mana.current.max(0),
        xp: level.xp.max(0),
        level: level.level.clamp(1, LEVEL_MAX),
    }
}
