//! What the views of one tick read: the entities a view may show (the spatial grids' living
//! players, living monsters and loot) as plain records, with what a client would be told of each
//! now, gathered cell by cell the first time a view of the tick looks at the cell. Before, each
//! view looked up its 7×7 cells in each of the three grids and read every entity in them from the
//! world (eight components each): with a thousand watching players in a zone that was most of a
//! tick. A cell no view looks at is never gathered, so a few watchers in a large zone cost what
//! their own cells cost.
//!
//! The records of a tick sit in one list, each cell a range of it, and a view is handed small
//! handles (`Near`: network id, distance, place in the list) to choose and order: a crowd's view
//! chooses its nearest among hundreds and orders them by network id, moving 16-byte handles
//! instead of 64-byte records.

use crate::components::Told;
use crate::io::NetId;
use crate::resources::spatial::{cells_near, Cell};
use bevy_ecs::prelude::*;
use std::collections::HashMap;

/// One entity as the views see it this tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sighted {
    pub entity: Entity,
    pub net: NetId,
    /// Where the spatial grid holds it: distances are measured from here, as the grids' own
    /// searches measure them.
    pub gx: f32,
    pub gy: f32,
    /// What a client would be told of it now, as the wire carries it (to the hundredth).
    pub here: Told,
    pub max_health: i32,
}

/// A record within a view's radius: its network id (the order views are told in), its distance
/// and where it is in the tick's records (`Sight::record`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub net: NetId,
    pub distance: f32,
    at: u32,
}

const _: () = assert!(std::mem::size_of::<Near>() <= 16);

/// The records of one tick, cell by cell. Kept between ticks for its allocations: at most every
/// entity of the zone once (an entity is in one cell, and a cell is gathered once a tick).
#[derive(Debug, Default)]
pub struct Sight {
    tick: Option<u64>,
    /// Each gathered cell's range of `records`.
    cells: HashMap<Cell, (u32, u32), foldhash::fast::FixedState>,
    records: Vec<Sighted>,
}

impl Sight {
    /// Appends to `out` the records within `radius` of a point. A cell not gathered yet at
    /// `tick` is gathered first with `gather` (which appends its records); the first call of a
    /// new tick forgets the last tick's records.
    pub fn near(
        &mut self,
        tick: u64,
        x: f32,
        y: f32,
        radius: f32,
        mut gather: impl FnMut(Cell, &mut Vec<Sighted>),
        out: &mut Vec<Near>,
    ) {
        if self.tick != Some(tick) {
            self.tick = Some(tick);
            self.cells.clear();
            self.records.clear();
        }
        let r2 = radius * radius;
        let records = &mut self.records;
        for c in cells_near(x, y, radius) {
            let (from, to) = *self.cells.entry(c).or_insert_with(|| {
                let from = records.len();
                gather(c, records);
                (index(from), index(records.len()))
            });
            let cell = &records[from as usize..to as usize];
            out.extend(cell.iter().zip(from..).filter_map(|(s, at)| {
                let d2 = (s.gx - x).powi(2) + (s.gy - y).powi(2);
                (d2 <= r2).then(|| Near {
                    net: s.net,
                    distance: d2.sqrt(),
                    at,
                })
            }));
        }
    }

    /// The record `near` points at (handed out by `near` this tick).
    pub fn record(&self, near: &Near) -> &Sighted {
        &self.records[near.at as usize]
    }
}

/// A place in the tick's records: they are at most the zone's entities.
fn index(i: usize) -> u32 {
    u32::try_from(i).expect("a zone holds fewer than 2^32 entities")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::spatial::cell_of;

    /// A record held by the grid at (gx, 0) whose told place is elsewhere.
    fn at(i: u32, gx: f32) -> Sighted {
        Sighted {
            entity: Entity::from_raw_u32(i).unwrap(),
            net: NetId(i as u64),
            gx,
            gy: 0.0,
            here: Told {
                x: gx + 100.0,
                y: 5.0,
                vx: 0.0,
                vy: 0.0,
                health: 1,
                at: 0,
            },
            max_health: 1,
        }
    }

    #[test]
    fn near_gathers_each_cell_once_a_tick_and_measures_from_the_grid() {
        let world = [at(1, 0.0), at(2, 30.0), at(3, -47.0), at(4, 49.0)];
        let mut sight = Sight::default();
        let gathered = std::cell::Cell::new(0);
        let gather = |c: Cell, v: &mut Vec<Sighted>| {
            gathered.set(gathered.get() + 1);
            v.extend(world.iter().filter(|s| cell_of(s.gx, s.gy) == c));
        };
        let mut out = Vec::new();
        sight.near(7, 0.0, 0.0, 48.0, gather, &mut out);
        let mut found: Vec<u64> = out.iter().map(|n| n.net.0).collect();
        found.sort();
        assert_eq!(found, vec![1, 2, 3], "within 48 of the grid's places");
        let two = out.iter().find(|n| n.net.0 == 2).unwrap();
        assert!((two.distance - 30.0).abs() < 1e-4, "from the grid's place");
        assert_eq!(
            sight.record(two),
            &world[1],
            "the handle leads to its record"
        );
        let cells = gathered.get();
        assert_eq!(cells, 49, "7×7 cells");
        // The same tick: nothing gathered again, and the same records; the next tick: gathered
        // again, and the last tick's records are forgotten.
        out.clear();
        sight.near(7, 1.0, 0.0, 48.0, gather, &mut out);
        assert_eq!(gathered.get(), cells);
        assert_eq!(out.len(), 4, "from 1.0, the one at 49 is within 48 too");
        out.clear();
        sight.near(8, 1.0, 0.0, 48.0, gather, &mut out);
        assert_eq!(gathered.get(), 2 * cells);
        assert_eq!(sight.records.len(), world.len(), "only this tick's records");
        for n in &out {
            assert_eq!(sight.record(n).net, n.net);
        }
    }
}
