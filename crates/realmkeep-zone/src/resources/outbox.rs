//! Everything leaving the zone this tick, in order. Persistence requests are never dropped (they
//! are bounded by `Pending`); cache updates and player notices beyond their per-tick bound are,
//! and log events beyond `LOG_BUFFER_MAX` too, all counted.

use crate::io::{CacheRequest, PersistKind, PersistRequest, PlayerEvent, RequestId, ZoneOutput};
use crate::limits::{
    CACHE_OUTPUTS_PER_TICK_MAX, LOG_BATCH_EVENTS_MAX, LOG_BUFFER_MAX, PLAYER_EVENTS_PER_TICK_MAX,
};
use bevy_ecs::prelude::*;
use realmkeep_domain::records::LogEvent;
use realmkeep_domain::CharacterId;

#[derive(Resource, Debug, Default)]
pub struct Outbox {
    outputs: Vec<ZoneOutput>,
    logs: Vec<LogEvent>,
    cache_this_tick: usize,
    events_this_tick: usize,
    pub dropped_cache: u64,
    pub dropped_events: u64,
    pub dropped_logs: u64,
}

impl Outbox {
    pub fn begin_tick(&mut self) {
        self.cache_this_tick = 0;
        self.events_this_tick = 0;
    }

    pub fn persist(&mut self, id: RequestId, kind: PersistKind) {
        self.outputs
            .push(ZoneOutput::Persist(PersistRequest { id, kind }));
    }

    pub fn cache(&mut self, request: CacheRequest) {
        if self.cache_this_tick >= CACHE_OUTPUTS_PER_TICK_MAX {
            self.dropped_cache += 1;
            return;
        }
        self.cache_this_tick += 1;
        self.outputs.push(ZoneOutput::Cache(request));
    }

    pub fn tell(&mut self, character: CharacterId, event: PlayerEvent) {
        if self.events_this_tick >= PLAYER_EVENTS_PER_TICK_MAX {
            self.dropped_events += 1;
            return;
        }
        self.events_this_tick += 1;
        self.outputs.push(ZoneOutput::ToPlayer { character, event });
    }

    /// Outputs that are neither requests nor notices (`Left`, `SpawnRefused`, ...): bounded by
    /// the inputs that cause them.
    pub fn control(&mut self, output: ZoneOutput) {
        self.outputs.push(output);
    }

    pub fn log(&mut self, event: LogEvent) {
        if self.logs.len() >= LOG_BUFFER_MAX {
            self.dropped_logs += 1;
            return;
        }
        self.logs.push(event);
    }

    /// Sends buffered log events as batches: all of them if `all`, else only full batches.
    pub fn flush_logs(&mut self, all: bool) {
        while self.logs.len() >= LOG_BATCH_EVENTS_MAX || (all && !self.logs.is_empty()) {
            let n = self.logs.len().min(LOG_BATCH_EVENTS_MAX);
            let batch: Vec<LogEvent> = self.logs.drain(..n).collect();
            self.outputs.push(ZoneOutput::Persist(PersistRequest {
                // Log batches are never answered; they carry no request of their own.
                id: RequestId(0),
                kind: PersistKind::Logs(batch),
            }));
        }
    }

    pub fn drain(&mut self) -> Vec<ZoneOutput> {
        std::mem::take(&mut self.outputs)
    }

    pub fn len(&self) -> usize {
        self.outputs.len()
    }
}
