//! An item lying on the ground. Never persisted: despawns after `LOOT_LIFETIME_MS`.

use crate::io::RequestId;
use bevy_ecs::prelude::*;
use realmkeep_domain::{ItemDefId, Quantity};

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loot {
    pub def: ItemDefId,
    pub quantity: Quantity,
    /// The monster definition it dropped from (the pickup's origin).
    pub monster: i32,
    pub expires_at_ms: u64,
    /// A pickup waiting for the store: nobody else may take it until the result.
    pub reserved: Option<RequestId>,
}
