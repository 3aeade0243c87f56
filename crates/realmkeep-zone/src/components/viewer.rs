//! A player whose client wants to see the world: what it was last told of each entity in view.
//! Never persisted; inserted (or reset) by `ZoneInput::Watch`.

use crate::io::NetId;
use bevy_ecs::prelude::*;

/// What the client was last told of one entity: where it stood, how it moved (per second), its
/// hit points, and when (the tick, wrapping): from these the client extrapolates where it is,
/// and the view knows what the client believes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Told {
    pub x: f32,
    pub y: f32,
    pub vx: f32,
    pub vy: f32,
    pub health: i32,
    pub at: u32,
}

impl Told {
    /// Where a client that was told this believes the entity is `ticks` later.
    pub fn believed(&self, ticks: u32, step_s: f32) -> (f32, f32) {
        let s = ticks as f32 * step_s;
        (self.x + self.vx * s, self.y + self.vy * s)
    }
}

#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct Viewer {
    /// Each entity in view and what was told of it, sorted by network id (a merge with the view
    /// now finds what entered, moved and left; half the memory of a map).
    pub told: Vec<(NetId, Told)>,
    /// Views sent so far: distant entities' moves are told on every `VIEW_FAR_EVERY`th.
    pub views: u64,
    /// The tick of its last view (computed, or skipped since nothing around had changed).
    pub viewed_at: Option<u64>,
    /// A distant entity's change waits for its turn: the next view is computed whatever the
    /// grid's stamps say.
    pub deferred: bool,
    /// Its last view held more than `VIEW_CROWD_ENTITIES`: viewed at the crowd's pace.
    pub crowded: bool,
}

impl Viewer {
    /// Ticks between two of its views, its pace `stretch`ed (`ViewPace`).
    pub fn every_ticks(&self, stretch: u64) -> u64 {
        let pace = if self.crowded {
            crate::limits::VIEW_CROWD_EVERY_TICKS
        } else {
            crate::limits::VIEW_EVERY_TICKS
        };
        pace * stretch.max(1)
    }
}
