//! Requests sent to the store and not answered yet: what each one was for, so its result can be
//! applied. Bounded by `PENDING_REQUESTS_MAX`.

use crate::io::{RequestId, TradeOffer};
use crate::limits::PENDING_REQUESTS_MAX;
use bevy_ecs::prelude::*;
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{CharacterId, ItemDefId, QuestId};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum PendingKind {
    SaveBatch {
        characters: Vec<CharacterId>,
    },
    LevelUp {
        character: CharacterId,
    },
    Release {
        character: CharacterId,
    },
    Pickup {
        character: CharacterId,
        loot: Entity,
        def: ItemDefId,
        quantity: i32,
    },
    Gold {
        character: CharacterId,
    },
    AcceptQuest {
        character: CharacterId,
        quest: QuestId,
    },
    QuestProgress {
        character: CharacterId,
        quest: QuestId,
        amount: i32,
    },
    CompleteQuest {
        character: CharacterId,
        quest: QuestId,
    },
    PvpKill {
        killer: CharacterId,
    },
    /// The items each side gives, as they were in its bag, to move them on success.
    Trade {
        a: CharacterId,
        a_items: Vec<InventoryItem>,
        a_offer: TradeOffer,
        b: CharacterId,
        b_items: Vec<InventoryItem>,
        b_offer: TradeOffer,
    },
}

impl PendingKind {
    /// Players whose `CriticalPending` this request counts against (player-initiated actions).
    pub fn critical_for(&self) -> Vec<CharacterId> {
        match self {
            PendingKind::Pickup { character, .. }
            | PendingKind::AcceptQuest { character, .. }
            | PendingKind::CompleteQuest { character, .. } => vec![*character],
            PendingKind::Trade { a, b, .. } => vec![*a, *b],
            _ => Vec::new(),
        }
    }
}

#[derive(Resource, Debug, Default)]
pub struct Pending {
    next: u64,
    open: HashMap<RequestId, PendingKind>,
}

impl Pending {
    /// Opens a request; `None` when `PENDING_REQUESTS_MAX` are already open.
    pub fn open(&mut self, kind: PendingKind) -> Option<RequestId> {
        if self.open.len() >= PENDING_REQUESTS_MAX {
            return None;
        }
        self.next += 1;
        let id = RequestId(self.next);
        self.open.insert(id, kind);
        Some(id)
    }

    pub fn close(&mut self, id: RequestId) -> Option<PendingKind> {
        self.open.remove(&id)
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn has_room(&self) -> bool {
        self.open.len() < PENDING_REQUESTS_MAX
    }
}
