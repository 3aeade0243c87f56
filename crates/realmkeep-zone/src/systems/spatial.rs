//! Rebuilds the spatial grid after movement: living players that are not leaving, living
//! monsters, loot; and stamps the cells whose entities changed (for views).

use crate::components::{Dead, Leaving, Loot, Monster, Player, Transform};
use crate::resources::{CellStamps, Clock, Spatial};
use bevy_ecs::prelude::*;

pub fn rebuild_grid(
    clock: Res<Clock>,
    mut spatial: ResMut<Spatial>,
    mut stamps: ResMut<CellStamps>,
    players: Query<(Entity, &Transform), (With<Player>, Without<Dead>, Without<Leaving>)>,
    monsters: Query<(Entity, &Transform), (With<Monster>, Without<Dead>)>,
    loot: Query<(Entity, &Transform), With<Loot>>,
) {
    let spatial = &mut *spatial;
    spatial.players.clear();
    spatial.monsters.clear();
    spatial.loot.clear();
    for (e, t) in &players {
        spatial.players.insert(e, t.x, t.y);
    }
    for (e, t) in &monsters {
        spatial.monsters.insert(e, t.x, t.y);
    }
    for (e, t) in &loot {
        spatial.loot.insert(e, t.x, t.y);
    }
    for grid in [
        &mut spatial.players,
        &mut spatial.monsters,
        &mut spatial.loot,
    ] {
        grid.changed_cells(|c| stamps.stamp(c, clock.tick));
    }
}
