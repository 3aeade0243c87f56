//! A monster's behaviour. Never persisted.

use bevy_ecs::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiMode {
    /// Standing around its spawn point; wanders a little at `next_wander_ms`.
    Idle { next_wander_ms: u64 },
    /// Running after (and hitting, in range) a player.
    Chase { target: Entity },
    /// Too far from home or lost its target: runs back, ignoring players, and heals on arrival.
    Leash,
    /// Dead; respawns (see `Dead`).
    Dead,
}

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct AiState {
    pub mode: AiMode,
    /// Game time (ms) of the next attack.
    pub next_attack_ms: u64,
}
