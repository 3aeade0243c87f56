//! Mana points. Persisted (current) on zone exit and in periodic saves; the maximum is derived.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mana {
    pub current: i32,
    pub max: i32,
}

impl Mana {
    pub fn full(max: i32) -> Self {
        Self { current: max, max }
    }
}
