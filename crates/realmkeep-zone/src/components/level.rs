//! Level and experience. Persisted in periodic saves, at once on a level-up, and on zone exit.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub level: i32,
    pub xp: i64,
}
