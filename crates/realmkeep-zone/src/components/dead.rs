//! A dead monster or player, and when it comes back (a monster at its spawn point after its
//! definition's `respawn_ms`, a player at the zone's entry after `PLAYER_RESPAWN_MS`).

use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dead {
    pub respawn_at_ms: u64,
}
