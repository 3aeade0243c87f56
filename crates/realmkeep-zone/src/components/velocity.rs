//! How an entity moves this tick. Never persisted.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Velocity {
    /// Walking direction (unit vector or zero) when there is no goal.
    pub dx: f32,
    pub dy: f32,
    /// A point to walk to; reaching it stops the entity. Takes precedence over the direction.
    pub goal: Option<(f32, f32)>,
    /// Units per second, before status effects.
    pub speed: f32,
}

impl Velocity {
    pub fn new(speed: f32) -> Self {
        Self {
            speed,
            ..Self::default()
        }
    }

    pub fn stop(&mut self) {
        self.dx = 0.0;
        self.dy = 0.0;
        self.goal = None;
    }

    pub fn is_moving(&self) -> bool {
        self.goal.is_some() || self.dx != 0.0 || self.dy != 0.0
    }
}
