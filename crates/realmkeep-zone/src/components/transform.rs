//! Where an entity stands. Persisted (position) on zone exit and in periodic saves.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    pub x: f32,
    pub y: f32,
    /// Kept as loaded; the zone is flat.
    pub z: f32,
    /// Facing, in radians.
    pub rotation: f32,
}

impl Transform {
    pub fn at(x: f32, y: f32) -> Self {
        Self {
            x,
            y,
            z: 0.0,
            rotation: 0.0,
        }
    }

    pub fn distance_to(&self, other: &Transform) -> f32 {
        distance((self.x, self.y), (other.x, other.y))
    }
}

pub fn distance(a: (f32, f32), b: (f32, f32)) -> f32 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}
