//! The one place the host calls the zone crate's `Zone` API (`new`, `push_input`, `tick`,
//! `react`, `drain_outputs`, `steps_dropped`, `view_counts`, `set_view_stretch`).

use crate::config::HostConfig;
use crate::limits::TICK;
use crate::tick::Sim;
use crate::HostError;
use realmkeep_domain::content::Content;
use realmkeep_domain::ZoneId;
use realmkeep_zone::io::{ZoneInput, ZoneOutput};
use realmkeep_zone::{Zone, ZoneConfig};
use std::sync::Arc;

/// Batches the periodic save is split into (spread over the interval), at most.
const SAVE_BATCHES_PER_INTERVAL_MAX: u64 = 30;

impl Sim for Zone {
    fn push(&mut self, input: ZoneInput) -> Result<(), ZoneInput> {
        self.push_input(input).map_err(|full| full.0)
    }

    fn step(&mut self) {
        self.tick();
    }

    fn react(&mut self) -> usize {
        Zone::react(self)
    }

    fn drain(&mut self, out: &mut Vec<ZoneOutput>) {
        out.extend(self.drain_outputs());
    }

    fn dropped(&mut self, steps: u64) {
        self.steps_dropped(steps);
    }

    fn view_counts(&self) -> realmkeep_zone::ViewCounts {
        Zone::view_counts(self)
    }

    fn set_view_stretch(&mut self, stretch: u64) {
        Zone::set_view_stretch(self, stretch);
    }
}

/// The zone's configuration from the host's: the same fixed step, the save interval in ticks.
pub(crate) fn zone_config(zone: ZoneId, content: Arc<Content>, cfg: &HostConfig) -> ZoneConfig {
    let seed = cfg.seed.unwrap_or_else(rand::random);
    let mut zc = ZoneConfig::new(zone, content, seed ^ u64::from(zone.0 as u32));
    zc.tick_hz = (1_000 / TICK.as_millis()) as u32;
    let ticks = (cfg.save_interval.as_millis() / TICK.as_millis()).max(1) as u64;
    zc.save_interval_ticks = ticks;
    zc.save_batches_per_interval = ticks.min(SAVE_BATCHES_PER_INTERVAL_MAX);
    zc
}

pub(crate) fn build(
    zone: ZoneId,
    content: Arc<Content>,
    cfg: &HostConfig,
) -> Result<Zone, HostError> {
    Zone::new(zone_config(zone, content, cfg))
        .map_err(|e| HostError::Start(format!("zone {zone}: {e}")))
}
