//! A monster, by definition.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Monster {
    /// Index into the zone's content monster table.
    pub def_index: usize,
    /// `MonsterDef::id`.
    pub def_id: i32,
    pub level: i32,
}
