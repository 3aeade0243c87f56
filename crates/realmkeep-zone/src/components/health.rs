//! Hit points. Persisted (current) on zone exit and in periodic saves; the maximum is derived.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    pub current: i32,
    pub max: i32,
}

impl Health {
    pub fn full(max: i32) -> Self {
        Self { current: max, max }
    }

    pub fn is_dead(&self) -> bool {
        self.current <= 0
    }

    /// The value after taking `amount` damage (never below zero).
    pub fn damaged(self, amount: i32) -> Self {
        Self {
            current: (self.current - amount.max(0)).max(0),
            ..self
        }
    }

    /// The value after healing `amount` (never above the maximum).
    pub fn healed(self, amount: i32) -> Self {
        Self {
            current: (self.current + amount.max(0)).min(self.max),
            ..self
        }
    }
}

/// Who hit this entity last: the killer when it dies. Never persisted.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LastHit(pub Option<Entity>);
