//! Requests sent to the store and not answered yet: what each one was for, so its result can be
//! applied (each kind is an action module's `Waiting`). Bounded by `PENDING_REQUESTS_MAX`.

use crate::actions::Waiting;
use crate::io::{ReplyTo, RequestId};
use crate::limits::PENDING_REQUESTS_MAX;
use bevy_ecs::prelude::*;
use realmkeep_domain::CharacterId;
use std::collections::HashMap;

#[derive(Resource, Debug, Default)]
pub struct Pending {
    next: u64,
    open: HashMap<RequestId, (Waiting, Option<(CharacterId, ReplyTo)>)>,
    /// The tagged command being applied: a request opened now answers it later.
    current: Option<(CharacterId, ReplyTo)>,
    deferred: bool,
}

impl Pending {
    /// Opens a request; `None` when `PENDING_REQUESTS_MAX` are already open.
    pub fn open(&mut self, kind: Waiting) -> Option<RequestId> {
        if self.open.len() >= PENDING_REQUESTS_MAX {
            return None;
        }
        self.next += 1;
        let id = RequestId(self.next);
        let reply = self.current.take();
        self.deferred |= reply.is_some();
        self.open.insert(id, (kind, reply));
        Some(id)
    }

    /// Closes a request: what it was for, and the tagged command it answers.
    pub fn close(&mut self, id: RequestId) -> Option<(Waiting, Option<(CharacterId, ReplyTo)>)> {
        self.open.remove(&id)
    }

    /// The tagged command being applied (the first request opened for it carries its tag).
    pub fn begin_reply(&mut self, reply: Option<(CharacterId, ReplyTo)>) {
        self.current = reply;
        self.deferred = false;
    }

    /// The command's answer comes later from elsewhere (a skill cast).
    pub fn defer(&mut self) {
        self.deferred |= self.current.take().is_some();
    }

    /// Ends the command; true if its answer comes later.
    pub fn end_reply(&mut self) -> bool {
        self.current = None;
        std::mem::take(&mut self.deferred)
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn has_room(&self) -> bool {
        self.open.len() < PENDING_REQUESTS_MAX
    }
}
