//! What the views of one tick read: every entity a view may show (the spatial grids' living
//! players, living monsters and loot), gathered once per tick into one grid of plain records,
//! with what a client would be told of it now. Before, each view looked up 7×7 cells in each of
//! the three grids and read every entity in them from the world (eight components each): with a
//! thousand watching players in a zone that was most of a tick.

use crate::components::Told;
use crate::io::NetId;
use crate::resources::spatial::{cell_of, cells_near, Cell};
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

/// The records of one tick by grid cell (the spatial grid's cells). Kept between ticks for its
/// allocations.
#[derive(Debug, Default)]
pub struct Sight {
    cells: HashMap<Cell, Vec<Sighted>, foldhash::fast::FixedState>,
}

impl Sight {
    /// Empties every cell, keeping the allocations of the cells that were in use.
    pub fn clear(&mut self) {
        self.cells.retain(|_, v| !v.is_empty());
        for v in self.cells.values_mut() {
            v.clear();
        }
    }

    pub fn insert(&mut self, s: Sighted) {
        self.cells.entry(cell_of(s.gx, s.gy)).or_default().push(s);
    }

    /// The records within `radius` of a point, with their distance.
    pub fn near(&self, x: f32, y: f32, radius: f32) -> impl Iterator<Item = (&Sighted, f32)> {
        let r2 = radius * radius;
        cells_near(x, y, radius)
            .filter_map(|c| self.cells.get(&c))
            .flat_map(|v| v.iter())
            .filter_map(move |s| {
                let d2 = (s.gx - x).powi(2) + (s.gy - y).powi(2);
                (d2 <= r2).then(|| (s, d2.sqrt()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(i: u32, x: f32, y: f32) -> Sighted {
        Sighted {
            entity: Entity::from_raw_u32(i).unwrap(),
            net: NetId(i as u64),
            gx: x,
            gy: y,
            here: Told {
                x,
                y,
                vx: 0.0,
                vy: 0.0,
                health: 1,
                at: 0,
            },
            max_health: 1,
        }
    }

    #[test]
    fn near_finds_what_is_within_the_radius_across_cells_and_forgets_on_clear() {
        let mut sight = Sight::default();
        for s in [
            at(1, 0.0, 0.0),
            at(2, 30.0, 0.0),
            at(3, -47.0, 0.0),
            at(4, 49.0, 0.0),
        ] {
            sight.insert(s);
        }
        let mut found: Vec<u64> = sight.near(0.0, 0.0, 48.0).map(|(s, _)| s.net.0).collect();
        found.sort();
        assert_eq!(found, vec![1, 2, 3]);
        let d = sight
            .near(0.0, 0.0, 48.0)
            .find(|(s, _)| s.net.0 == 2)
            .unwrap()
            .1;
        assert!((d - 30.0).abs() < 1e-4);
        sight.clear();
        assert_eq!(sight.near(0.0, 0.0, 48.0).count(), 0);
    }
}
