//! The current combat target. Never persisted.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Target(pub Option<Entity>);
