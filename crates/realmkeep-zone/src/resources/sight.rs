//! What the views of one tick read: the entities a view may show (the spatial grids' living
//! players, living monsters and loot) as plain records, with what a client would be told of each
//! now, gathered cell by cell the first time a view of the tick looks at the cell. Before, each
//! view looked up its 7×7 cells in each of the three grids and read every entity in them from the
//! world (eight components each): with a thousand watching players in a zone that was most of a
//! tick. A cell no view looks at is never gathered, so a few watchers in a large zone cost what
//! their own cells cost.

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

/// The records by grid cell (the spatial grid's cells), each with the tick it was gathered at.
/// Kept between ticks for its allocations; cells no view looked at lately are forgotten.
#[derive(Debug, Default)]
pub struct Sight {
    cells: HashMap<Cell, (u64, Vec<Sighted>), foldhash::fast::FixedState>,
}

impl Sight {
    /// Appends to `out` the records within `radius` of a point, with their distance. A cell not
    /// gathered yet at `tick` is gathered first with `gather` (which appends its records).
    pub fn near(
        &mut self,
        tick: u64,
        x: f32,
        y: f32,
        radius: f32,
        mut gather: impl FnMut(Cell, &mut Vec<Sighted>),
        out: &mut Vec<(Sighted, f32)>,
    ) {
        let r2 = radius * radius;
        for c in cells_near(x, y, radius) {
            let (at, records) = self.cells.entry(c).or_insert((u64::MAX, Vec::new()));
            if *at != tick {
                records.clear();
                gather(c, records);
                *at = tick;
            }
            out.extend(records.iter().filter_map(|s| {
                let d2 = (s.gx - x).powi(2) + (s.gy - y).powi(2);
                (d2 <= r2).then(|| (*s, d2.sqrt()))
            }));
        }
    }

    /// Forgets the cells last gathered before `oldest`, with their allocations.
    pub fn forget_before(&mut self, oldest: u64) {
        self.cells.retain(|_, (at, _)| *at >= oldest);
    }

    /// Cells kept.
    #[cfg(test)]
    fn cells(&self) -> usize {
        self.cells.len()
    }
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
        let mut found: Vec<u64> = out.iter().map(|(s, _)| s.net.0).collect();
        found.sort();
        assert_eq!(found, vec![1, 2, 3], "within 48 of the grid's places");
        let d = out.iter().find(|(s, _)| s.net.0 == 2).unwrap().1;
        assert!((d - 30.0).abs() < 1e-4, "from the grid's place: {d}");
        let cells = gathered.get();
        assert_eq!(cells, 49, "7×7 cells");
        // The same tick: nothing gathered again; the next tick: gathered again.
        out.clear();
        sight.near(7, 1.0, 0.0, 48.0, gather, &mut out);
        assert_eq!(gathered.get(), cells);
        sight.near(8, 1.0, 0.0, 48.0, gather, &mut out);
        assert_eq!(gathered.get(), 2 * cells);
        sight.forget_before(9);
        assert_eq!(sight.cells(), 0);
    }
}
