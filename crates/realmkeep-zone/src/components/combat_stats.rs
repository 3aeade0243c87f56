//! Derived combat values. Never persisted: recalculated on spawn (and level-up) from level, class
//! and equipment (`rules::combat_values`); monsters take theirs from `MonsterDef`.

use bevy_ecs::prelude::*;
use realmkeep_domain::rules::CombatValues;

#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct CombatStats {
    pub attack_power: i32,
    pub armor: i32,
    pub attack_interval_ms: u32,
    /// Reach of the auto-attack.
    pub attack_range: f32,
}

impl CombatStats {
    pub fn from_values(v: &CombatValues, attack_range: f32) -> Self {
        Self {
            attack_power: v.attack_power,
            armor: v.armor,
            attack_interval_ms: v.attack_interval_ms.max(100),
            attack_range,
        }
    }
}
