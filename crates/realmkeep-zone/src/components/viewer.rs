//! A player whose client wants to see the world: what it was last told of each entity in view.
//! Never persisted; inserted (or reset) by `ZoneInput::Watch`.

use crate::io::NetId;
use bevy_ecs::prelude::*;
use std::collections::HashMap;

/// What the client was last told of one entity: where it stood and its hit points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Told {
    pub x: f32,
    pub y: f32,
    pub health: i32,
}

#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct Viewer {
    pub told: HashMap<NetId, Told>,
}
