//! Everything leaving the zone this tick, in order. Persistence requests are never dropped (they
//! are bounded by `Pending`); cache updates and player notices beyond their per-tick bound are,
//! and log events beyond `LOG_BUFFER_MAX` too, all counted.

use crate::io::{
    CacheRequest, PersistKind, PersistRequest, PlayerEvent, ReplyTo, RequestId, ZoneOutput,
};
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
    /// The tagged command (or its store answer, or its skill cast) being applied now.
    reply: Option<Replying>,
}

#[derive(Debug, Clone, Copy)]
struct Replying {
    character: CharacterId,
    tag: ReplyTo,
    answered: bool,
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
        let reply_to = match &mut self.reply {
            Some(r) if r.character == character && !r.answered => {
                r.answered = true;
                Some(r.tag)
            }
            _ => None,
        };
        // A reply is never dropped: there is one per tagged command, bounded by the inputs.
        if reply_to.is_none() && self.events_this_tick >= PLAYER_EVENTS_PER_TICK_MAX {
            self.dropped_events += 1;
            return;
        }
        self.events_this_tick += 1;
        self.outputs.push(ZoneOutput::ToPlayer {
            character,
            event,
            reply_to,
        });
    }

    /// A notice that answers a tagged command directly (e.g. "throttled" at the input).
    pub fn reply(&mut self, character: CharacterId, tag: ReplyTo, event: PlayerEvent) {
        self.outputs.push(ZoneOutput::ToPlayer {
            character,
            event,
            reply_to: Some(tag),
        });
    }

    /// From now on the first notice to `character` answers `tag` (see `ReplyTo`).
    pub fn begin_reply(&mut self, reply: Option<(CharacterId, ReplyTo)>) {
        self.finish_reply(true);
        self.reply = reply.map(|(character, tag)| Replying {
            character,
            tag,
            answered: false,
        });
    }

    /// Ends the current reply: unless it was answered, or its answer comes later (`deferred`:
    /// a store request or a skill cast carries the tag on), the command is `Accepted`.
    pub fn finish_reply(&mut self, deferred: bool) {
        if let Some(r) = self.reply.take() {
            if !r.answered && !deferred {
                self.reply(r.character, r.tag, PlayerEvent::Accepted);
            }
        }
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
