//! Auto-attack timing. Never persisted.

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AutoAttack {
    pub active: bool,
    /// Game time (ms) of the next swing.
    pub next_at_ms: u64,
    /// Walking into range of the target (set by the combat system, cleared in range).
    pub chasing: bool,
}
