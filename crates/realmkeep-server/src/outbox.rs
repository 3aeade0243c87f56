//! Where a zone's outputs go after each tick, on the tick thread: into bounded channels to the
//! async workers with `try_send`, never waiting. A full channel moves the output into a bounded
//! local backlog, flushed first at the next tick; what cannot be held is answered or counted:
//! - persistence requests: a critical action that finds its queue full is answered
//!   `Unavailable` ("try again") at once; a save waits in the backlog, and beyond it is answered
//!   `Unavailable` too (the zone keeps the state dirty, or sends its release again). Nothing is
//!   silently dropped and nothing is acknowledged here.
//! - cache updates (best effort) and game logs (non-critical): the oldest is dropped and counted.
//! - player notices: dropped and counted when the player's queue is full.
//! - `Left`, `SpawnRefused`, `ShutdownComplete`: to the host's events task, backlogged.

use crate::limits::{
    CACHE_BACKLOG_MAX, EVENT_BACKLOG_MAX, LOG_BACKLOG_BATCHES_MAX, STORE_BACKLOG_MAX,
};
use crate::messages::{HostEvent, Notice, NoticeSendError, NoticeSender};
use crate::metrics::{add, bump, set, Metrics};
use crate::store_worker::is_save;
use realmkeep_domain::CharacterId;
use realmkeep_store::logs::LogEvent;
use realmkeep_zone::io::{
    CacheRequest, Denial, Outcome, PersistKind, PersistRequest, PlayerEvent, ZoneInput, ZoneOutput,
};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc::{error::TrySendError, Sender};

/// The channels out of the tick thread.
pub(crate) struct OutboxChannels {
    pub store: Sender<PersistRequest>,
    pub cache: Sender<CacheRequest>,
    pub logs: Sender<Vec<LogEvent>>,
    pub events: Sender<HostEvent>,
}

pub(crate) struct Outbox {
    ch: OutboxChannels,
    store_backlog: VecDeque<PersistRequest>,
    cache_backlog: VecDeque<CacheRequest>,
    log_backlog: VecDeque<Vec<LogEvent>>,
    event_backlog: VecDeque<HostEvent>,
    /// Looked up for every notice (views: each watching player, every other tick): foldhash.
    notices: HashMap<CharacterId, NoticeSender, foldhash::fast::FixedState>,
    /// Answers given here ("try again"), pushed into the zone at the start of the next tick.
    answers: Vec<ZoneInput>,
    metrics: Arc<Metrics>,
}

/// Tries to send `v`; gives it back if the channel is full (or closed: the worker is gone, and
/// holding the item keeps it counted instead of losing it silently).
fn try_send<T>(tx: &Sender<T>, v: T) -> Result<(), T> {
    match tx.try_send(v) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(v)) | Err(TrySendError::Closed(v)) => Err(v),
    }
}

/// Moves the backlog's head into the channel while there is room.
fn drain_into<T>(backlog: &mut VecDeque<T>, tx: &Sender<T>) -> usize {
    let mut sent = 0;
    while let Some(v) = backlog.pop_front() {
        if let Err(v) = try_send(tx, v) {
            backlog.push_front(v);
            break;
        }
        sent += 1;
    }
    sent
}

impl Outbox {
    pub fn new(ch: OutboxChannels, metrics: Arc<Metrics>) -> Self {
        Self {
            ch,
            store_backlog: VecDeque::new(),
            cache_backlog: VecDeque::new(),
            log_backlog: VecDeque::new(),
            event_backlog: VecDeque::new(),
            notices: HashMap::default(),
            answers: Vec::new(),
            metrics,
        }
    }

    /// A reconnecting player's new channel, for a character still here (a character that left
    /// meanwhile is not attached again: the dropped sender tells the reader it is gone).
    pub fn reattach(&mut self, character: CharacterId, notices: NoticeSender) {
        if let Some(tx) = self.notices.get_mut(&character) {
            *tx = notices;
        }
    }

    pub fn attach(&mut self, character: CharacterId, notices: NoticeSender) {
        self.notices.insert(character, notices);
    }

    pub fn take_answers(&mut self) -> Vec<ZoneInput> {
        std::mem::take(&mut self.answers)
    }

    /// Moves what the backlogs hold into their channels, oldest first. Called before the new
    /// outputs of a tick are routed, so order is kept.
    pub fn flush(&mut self) {
        let c = &self.metrics.counters;
        let sent = drain_into(&mut self.store_backlog, &self.ch.store);
        add(&c.store_pending, sent as u64);
        drain_into(&mut self.cache_backlog, &self.ch.cache);
        drain_into(&mut self.log_backlog, &self.ch.logs);
        drain_into(&mut self.event_backlog, &self.ch.events);
        self.gauges();
    }

    fn gauges(&self) {
        let c = &self.metrics.counters;
        set(&c.store_backlog, self.store_backlog.len() as u64);
        set(&c.cache_backlog, self.cache_backlog.len() as u64);
    }

    pub fn route(&mut self, out: ZoneOutput) {
        match out {
            ZoneOutput::Persist(PersistRequest {
                kind: PersistKind::Logs(events),
                ..
            }) => self.log(events),
            ZoneOutput::Persist(req) => self.persist(req),
            ZoneOutput::Cache(req) => self.cache(req),
            ZoneOutput::ToPlayer {
                character,
                event,
                reply_to,
            } => {
                if let PlayerEvent::Denied {
                    reason: Denial::Busy,
                    ..
                } = event
                {
                    bump(&self.metrics.counters.told_busy);
                }
                let notice = match reply_to {
                    Some(reply_to) => Notice::Reply {
                        reply_to,
                        event,
                        at: Instant::now(),
                    },
                    None => Notice::Event(event),
                };
                self.notify(character, notice);
            }
            ZoneOutput::SpawnRefused { fence, reason } => {
                self.notify(fence.character, Notice::SpawnRefused(reason));
                self.notices.remove(&fence.character);
                self.event(HostEvent::SpawnRefused { fence, reason });
            }
            ZoneOutput::Left { character, reason } => {
                self.notify(character, Notice::Left(reason));
                let notices = self.notices.remove(&character);
                self.event(HostEvent::Left {
                    character,
                    reason,
                    notices,
                });
            }
            ZoneOutput::ShutdownComplete => self.event(HostEvent::ShutdownComplete),
        }
        self.gauges();
    }

    fn persist(&mut self, req: PersistRequest) {
        let c = &self.metrics.counters;
        let critical = !is_save(&req.kind);
        // Saves keep their order behind the backlog; critical actions run on their own lanes,
        // so they may pass it.
        let req = if critical || self.store_backlog.is_empty() {
            match try_send(&self.ch.store, req) {
                Ok(()) => {
                    bump(&c.store_pending);
                    return;
                }
                Err(req) => req,
            }
        } else {
            req
        };
        if critical || self.store_backlog.len() >= STORE_BACKLOG_MAX {
            bump(&c.answered_busy);
            tracing::debug!(request = ?req.id, critical, "store queue full: answered \"try again\"");
            self.answers.push(ZoneInput::StoreResult {
                request: req.id,
                outcome: Outcome::Unavailable,
            });
        } else {
            self.store_backlog.push_back(req);
        }
    }

    fn cache(&mut self, req: CacheRequest) {
        let req = if self.cache_backlog.is_empty() {
            match try_send(&self.ch.cache, req) {
                Ok(()) => return,
                Err(req) => req,
            }
        } else {
            req
        };
        if self.cache_backlog.len() >= CACHE_BACKLOG_MAX {
            self.cache_backlog.pop_front();
            bump(&self.metrics.counters.cache_dropped);
        }
        self.cache_backlog.push_back(req);
    }

    fn log(&mut self, events: Vec<LogEvent>) {
        let events = if self.log_backlog.is_empty() {
            match try_send(&self.ch.logs, events) {
                Ok(()) => return,
                Err(e) => e,
            }
        } else {
            events
        };
        if self.log_backlog.len() >= LOG_BACKLOG_BATCHES_MAX {
            if let Some(old) = self.log_backlog.pop_front() {
                let c = &self.metrics.counters;
                bump(&c.log_batches_dropped);
                add(&c.log_events_dropped, old.len() as u64);
                tracing::warn!(
                    events = old.len(),
                    "log queue full: dropped the oldest batch of non-critical game logs"
                );
            }
        }
        self.log_backlog.push_back(events);
    }

    fn event(&mut self, ev: HostEvent) {
        let ev = if self.event_backlog.is_empty() {
            match try_send(&self.ch.events, ev) {
                Ok(()) => return,
                Err(ev) => ev,
            }
        } else {
            ev
        };
        if self.event_backlog.len() >= EVENT_BACKLOG_MAX {
            // Sized for every player of a full zone leaving at once; reaching it means the
            // events task is gone. Redis then keeps a ghost until the node sweep removes it.
            tracing::error!(?ev, "host events backlog full: event dropped");
            return;
        }
        self.event_backlog.push_back(ev);
    }

    pub fn notify(&mut self, character: CharacterId, notice: Notice) {
        let Some(tx) = self.notices.get(&character) else {
            return;
        };
        match tx.try_send(notice) {
            Ok(()) => {}
            Err(NoticeSendError::Full) => bump(&self.metrics.counters.notices_dropped),
            // The player stopped listening (the gateway dropped the receiver).
            Err(NoticeSendError::Closed) => {}
        }
    }

    /// Items held in the store, cache, log and event backlogs.
    #[cfg(test)]
    pub fn held(&self) -> [usize; 4] {
        [
            self.store_backlog.len(),
            self.cache_backlog.len(),
            self.log_backlog.len(),
            self.event_backlog.len(),
        ]
    }
}
