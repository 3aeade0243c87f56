//! How an entity moves this tick, and how it moved in its last step. Never persisted.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
#[require(Motion)]
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

/// How the entity moved in its last step, in units per second (status effects included), and
/// zero once it stands, is dead or is leaving: what a client extrapolates between the views
/// that tell it (dead reckoning). Written by `movement` only, and only when it changed, so
/// `Changed<Motion>` marks a start, a turn or a stop.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Motion {
    pub vx: f32,
    pub vy: f32,
}

impl Motion {
    pub const STILL: Motion = Motion { vx: 0.0, vy: 0.0 };
}
