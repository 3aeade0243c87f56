//! Requests sent to the store and not answered yet: what each one was for, so its result can be
//! applied (each kind is an action module's `Waiting`). Bounded by `PENDING_REQUESTS_MAX`.

use crate::actions::Waiting;
use crate::io::RequestId;
use crate::limits::PENDING_REQUESTS_MAX;
use bevy_ecs::prelude::*;
use std::collections::HashMap;

#[derive(Resource, Debug, Default)]
pub struct Pending {
    next: u64,
    open: HashMap<RequestId, Waiting>,
}

impl Pending {
    /// Opens a request; `None` when `PENDING_REQUESTS_MAX` are already open.
    pub fn open(&mut self, kind: Waiting) -> Option<RequestId> {
        if self.open.len() >= PENDING_REQUESTS_MAX {
            return None;
        }
        self.next += 1;
        let id = RequestId(self.next);
        self.open.insert(id, kind);
        Some(id)
    }

    pub fn close(&mut self, id: RequestId) -> Option<Waiting> {
        self.open.remove(&id)
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn has_room(&self) -> bool {
        self.open.len() < PENDING_REQUESTS_MAX
    }
}
