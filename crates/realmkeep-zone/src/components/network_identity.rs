//! Maps an entity to the id players see. Never persisted.

use crate::io::NetId;
use bevy_ecs::prelude::*;

#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetworkIdentity(pub NetId);
