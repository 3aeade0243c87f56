//! A coarse grid of who stands where, rebuilt each tick after movement: aggro searches, local
//! chat and snapshots look at a few cells instead of every entity.

use bevy_ecs::prelude::*;
use std::collections::HashMap;

/// Side of a grid cell. Larger than any aggro radius, so a search looks at 3×3 cells at most
/// for the usual radii.
pub const CELL_SIZE: f32 = 16.0;

/// The cells in use. Hashed with foldhash, not SipHash: a view looks up 7×7 cells of three
/// grids, every view of every watching player (SipHash was a tenth of an idle node's CPU).
#[derive(Debug, Default)]
pub struct Grid {
    cells: HashMap<(i32, i32), Vec<(Entity, f32, f32)>, foldhash::fast::FixedState>,
}

fn cell_of(x: f32, y: f32) -> (i32, i32) {
    (
        (x / CELL_SIZE).floor() as i32,
        (y / CELL_SIZE).floor() as i32,
    )
}

impl Grid {
    /// Empties every cell, keeping the allocations.
    pub fn clear(&mut self) {
        self.cells.retain(|_, v| !v.is_empty());
        for v in self.cells.values_mut() {
            v.clear();
        }
    }

    pub fn insert(&mut self, entity: Entity, x: f32, y: f32) {
        self.cells
            .entry(cell_of(x, y))
            .or_default()
            .push((entity, x, y));
    }

    /// Entities within `radius` of a point, in a deterministic order (cell by cell, then
    /// insertion order).
    pub fn near(&self, x: f32, y: f32, radius: f32) -> impl Iterator<Item = (Entity, f32)> + '_ {
        let (lo_x, lo_y) = cell_of(x - radius, y - radius);
        let (hi_x, hi_y) = cell_of(x + radius, y + radius);
        let r2 = radius * radius;
        (lo_x..=hi_x)
            .flat_map(move |cx| (lo_y..=hi_y).map(move |cy| (cx, cy)))
            .filter_map(|c| self.cells.get(&c))
            .flat_map(|v| v.iter())
            .filter_map(move |(e, ex, ey)| {
                let d2 = (ex - x).powi(2) + (ey - y).powi(2);
                (d2 <= r2).then(|| (*e, d2.sqrt()))
            })
    }

    pub fn count_near(&self, x: f32, y: f32, radius: f32) -> u32 {
        self.near(x, y, radius).count() as u32
    }
}

/// Living players (not leaving), living monsters and loot.
#[derive(Resource, Debug, Default)]
pub struct Spatial {
    pub players: Grid,
    pub monsters: Grid,
    pub loot: Grid,
}
