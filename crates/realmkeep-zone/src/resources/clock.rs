//! Game time, settings, the seeded random generator and the zone's life cycle.

use bevy_ecs::prelude::*;
use rand::rngs::StdRng;

/// Game time: advances by the fixed step each tick, never by the wall clock, so a zone is
/// deterministic for a given seed and input sequence.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Ticks run so far (the current tick's number while it runs; the first is 1).
    pub tick: u64,
    pub now_ms: u64,
    pub step_ms: u64,
    /// Steps the host dropped to catch up with the wall clock (`Zone::steps_dropped`): game
    /// time lags the wall clock by this many. Clients extrapolate moves by the wall clock, so
    /// the views count them; nothing else does.
    pub dropped: u64,
}

/// The zone's tunables, from `ZoneConfig`.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub save_interval_ticks: u64,
    pub save_batches_per_interval: u64,
    pub snapshot_interval_ticks: u64,
}

#[derive(Resource)]
pub struct ZoneRng(pub StdRng);

/// Shutdown progress.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifecycle {
    pub shutting_down: bool,
    pub shutdown_reported: bool,
}
