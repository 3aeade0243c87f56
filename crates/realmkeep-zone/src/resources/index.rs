//! Lookups from outside ids to entities.

use crate::io::NetId;
use bevy_ecs::prelude::*;
use realmkeep_domain::CharacterId;
use std::collections::HashMap;

#[derive(Resource, Debug, Default)]
pub struct Index {
    pub players: HashMap<CharacterId, Entity>,
    pub net: HashMap<NetId, Entity>,
    next_net: u64,
}

impl Index {
    /// A fresh network id for `entity` (never reused in this zone instance).
    pub fn assign(&mut self, entity: Entity) -> NetId {
        self.next_net += 1;
        let id = NetId(self.next_net);
        self.net.insert(id, entity);
        id
    }

    pub fn player(&self, character: CharacterId) -> Option<Entity> {
        self.players.get(&character).copied()
    }

    pub fn entity(&self, net: NetId) -> Option<Entity> {
        self.net.get(&net).copied()
    }
}
