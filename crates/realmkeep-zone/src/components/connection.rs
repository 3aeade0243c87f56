//! The connection state of a player.

use crate::io::RequestId;
use bevy_ecs::prelude::*;
use realmkeep_domain::ZoneId;

/// The connection dropped without a logout; the character leaves at `leave_at_ms` unless it
/// reconnects first.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected {
    pub leave_at_ms: u64,
}

/// On the way out: frozen (no commands, no movement, not a target) until the final save
/// succeeded.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaving {
    pub transfer_to: Option<ZoneId>,
    /// The `Release` request in flight.
    pub request: Option<RequestId>,
    /// When to (re)send the release.
    pub retry_at_ms: u64,
    pub backoff_ms: u64,
}
