//! The one place the host calls the zone crate's `Zone` API.

use crate::config::HostConfig;
use crate::tick::Sim;
use crate::HostError;
use realmkeep_domain::content::{Content, ZoneDef};
use realmkeep_zone::io::{ZoneInput, ZoneOutput};

/// Placeholder until the zone crate's `Zone` lands.
pub(crate) struct Pending;

impl Sim for Pending {
    fn push(&mut self, input: ZoneInput) -> Result<(), ZoneInput> {
        Err(input)
    }
    fn step(&mut self) {}
    fn drain(&mut self, _out: &mut Vec<ZoneOutput>) {}
}

pub(crate) fn build(
    _def: &ZoneDef,
    _content: &Content,
    _cfg: &HostConfig,
) -> Result<Pending, HostError> {
    Ok(Pending)
}
