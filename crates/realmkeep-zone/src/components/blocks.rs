//! Whom the player blocks, as the store says: loaded with the character, changed only by a
//! committed `block`/`unblock` (the friend action's receipt). A trade offer from one of them is
//! refused by the zone; whispers and mail are checked by the store, wherever the sender plays.
//! Never persisted by the zone.

use bevy_ecs::prelude::*;
use realmkeep_domain::CharacterId;

#[derive(Component, Debug, Clone, PartialEq, Eq, Default)]
pub struct Blocks(pub Vec<CharacterId>);

impl Blocks {
    pub fn blocks(&self, c: CharacterId) -> bool {
        self.0.contains(&c)
    }

    pub fn add(&mut self, c: CharacterId) {
        if !self.blocks(c) {
            self.0.push(c);
        }
    }

    pub fn remove(&mut self, c: CharacterId) {
        self.0.retain(|x| *x != c);
    }
}
