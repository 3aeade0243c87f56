//! Save tracking of a player. `dirty` is set by the persistence system from change detection on
//! the persisted components (`Transform`, `Health`, `Mana`, `Level`) and cleared when a save is
//! sent; a save that fails sets it again, so the state stays dirty until a result says saved.

use crate::io::RequestId;
use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaveState {
    pub dirty: bool,
    /// The save of this character the store is working on. At most one at a time, so two saves
    /// can never commit out of order.
    pub in_flight: Option<RequestId>,
    /// A full save is wanted as soon as nothing is in flight (level-up).
    pub urgent: bool,
}
