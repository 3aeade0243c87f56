//! A coarse grid of who stands where, rebuilt each tick after movement: aggro searches, local
//! chat and snapshots look at a few cells instead of every entity. Each rebuild also tells which
//! cells changed (`CellStamps`): a view around cells where nothing changed is not computed again.

use bevy_ecs::prelude::*;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Side of a grid cell. Larger than any aggro radius, so a search looks at 3×3 cells at most
/// for the usual radii.
pub const CELL_SIZE: f32 = 16.0;

/// The cells in use. Hashed with foldhash, not SipHash: a view looks up 7×7 cells of three
/// grids, every view of every watching player (SipHash was a tenth of an idle node's CPU).
#[derive(Debug, Default)]
pub struct Grid {
    cells: HashMap<Cell, Vec<(Entity, f32, f32)>, foldhash::fast::FixedState>,
    /// Each cell's fingerprint at the last rebuild: its entities and where they stood.
    prints: HashMap<Cell, u64, foldhash::fast::FixedState>,
}

/// A grid cell's coordinates.
pub type Cell = (i32, i32);

/// The cell a point is in.
pub fn cell_of(x: f32, y: f32) -> Cell {
    (
        (x / CELL_SIZE).floor() as i32,
        (y / CELL_SIZE).floor() as i32,
    )
}

/// The cells a search of `radius` around a point looks at.
pub fn cells_near(x: f32, y: f32, radius: f32) -> impl Iterator<Item = Cell> {
    let (lo_x, lo_y) = cell_of(x - radius, y - radius);
    let (hi_x, hi_y) = cell_of(x + radius, y + radius);
    (lo_x..=hi_x).flat_map(move |cx| (lo_y..=hi_y).map(move |cy| (cx, cy)))
}

fn fingerprint(entities: &[(Entity, f32, f32)]) -> u64 {
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    for (e, x, y) in entities {
        h.write_u64(e.to_bits());
        h.write_u32(x.to_bits());
        h.write_u32(y.to_bits());
    }
    h.finish()
}

impl Grid {
    /// Empties every cell, keeping the allocations (of cells that were in use).
    pub fn clear(&mut self) {
        self.cells.retain(|_, v| !v.is_empty());
        let cells = &self.cells;
        self.prints.retain(|c, _| cells.contains_key(c));
        for v in self.cells.values_mut() {
            v.clear();
        }
    }

    /// After the rebuild's inserts: calls `changed` with every cell whose entities, or where
    /// they stand, differ from the last rebuild's (a cell emptied since included).
    pub fn changed_cells(&mut self, mut changed: impl FnMut(Cell)) {
        for (c, v) in &self.cells {
            let print = fingerprint(v);
            if self.prints.insert(*c, print) != Some(print) {
                changed(*c);
            }
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
        let r2 = radius * radius;
        cells_near(x, y, radius)
            .filter_map(|c| self.cells.get(&c))
            .flat_map(|v| v.iter())
            .filter_map(move |(e, ex, ey)| {
                let d2 = (ex - x).powi(2) + (ey - y).powi(2);
                (d2 <= r2).then(|| (*e, d2.sqrt()))
            })
    }

    /// The entities in one cell, with where they stand.
    pub fn cell(&self, c: Cell) -> &[(Entity, f32, f32)] {
        self.cells.get(&c).map_or(&[], |v| v.as_slice())
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

/// The tick at which each cell last changed, for views: a cell's entities or their places (the
/// grid's rebuild), or an entity in it moving or its hit points changing (`send_views`). Stamps
/// older than `STAMPS_KEPT_TICKS` are dropped: a viewer that looked longer ago than that looks
/// again whatever the stamps say.
#[derive(Resource, Debug, Default)]
pub struct CellStamps {
    at: HashMap<Cell, u64, foldhash::fast::FixedState>,
}

impl CellStamps {
    pub fn stamp(&mut self, cell: Cell, tick: u64) {
        self.at.insert(cell, tick);
    }

    pub fn stamp_at(&mut self, x: f32, y: f32, tick: u64) {
        self.stamp(cell_of(x, y), tick);
    }

    /// Whether nothing changed after `tick` in the cells a search of `radius` around a point
    /// looks at.
    pub fn unchanged_since(&self, tick: u64, x: f32, y: f32, radius: f32) -> bool {
        cells_near(x, y, radius).all(|c| self.at.get(&c).is_none_or(|t| *t <= tick))
    }

    /// Forgets the stamps older than `oldest`.
    pub fn forget_before(&mut self, oldest: u64) {
        self.at.retain(|_, t| *t >= oldest);
    }
}

/// How much slower than their own pace the viewers are told (1: at their pace, up to
/// `VIEW_STRETCH_MAX`); set by the host when the machine cannot keep up (`Zone::set_view_stretch`).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewPace {
    pub stretch: u64,
}

impl Default for ViewPace {
    fn default() -> Self {
        Self { stretch: 1 }
    }
}

/// Views of watching players since the zone started: computed, and skipped because nothing
/// around the viewer had changed; and of those computed, the views that found a crowd.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ViewCounts {
    pub computed: u64,
    pub skipped: u64,
    pub crowded: u64,
}
