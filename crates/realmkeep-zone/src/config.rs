//! How a zone is set up.

use realmkeep_domain::content::Content;
use realmkeep_domain::ZoneId;
use std::sync::Arc;

/// Everything `Zone::new` needs. Build with `ZoneConfig::new` and adjust the public fields.
#[derive(Debug, Clone)]
pub struct ZoneConfig {
    pub zone: ZoneId,
    pub content: Arc<Content>,
    /// Seeds monster placement, wandering, loot and gold rolls: same seed and inputs, same world.
    pub seed: u64,
    /// Ticks per second of game time (the fixed step is `1000 / tick_hz` ms).
    pub tick_hz: u32,
    /// Every dirty player is saved once per interval (spec: 30 s).
    pub save_interval_ticks: u64,
    /// The periodic save is split into this many batches spread over the interval.
    pub save_batches_per_interval: u64,
    /// Each player gets a `Surroundings` notice this often.
    pub snapshot_interval_ticks: u64,
}

/// Bounds of `tick_hz`.
pub const TICK_HZ_MIN: u32 = 1;
pub const TICK_HZ_MAX: u32 = 100;

impl ZoneConfig {
    /// The defaults: 20 Hz, saves every 30 s in 30 batches, a snapshot a second, presence every
    /// minute.
    pub fn new(zone: ZoneId, content: Arc<Content>, seed: u64) -> Self {
        Self {
            zone,
            content,
            seed,
            tick_hz: 20,
            save_interval_ticks: 600,
            save_batches_per_interval: 30,
            snapshot_interval_ticks: 20,
        }
    }
}
