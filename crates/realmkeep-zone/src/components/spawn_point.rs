//! Where a monster belongs: it wanders around it, leashes back to it and respawns at it.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct SpawnPoint {
    pub x: f32,
    pub y: f32,
    /// How far it wanders from home.
    pub wander_radius: f32,
}
