//! Loot on the ground despawns when its time is up (60 s), or at once when a pickup of it
//! succeeded (the result system sets its expiry to now). Reserved loot — a pickup waiting for the
//! store — stays until the result, whatever its age.

use crate::components::{Loot, NetworkIdentity};
use crate::resources::{Clock, Index};
use bevy_ecs::prelude::*;

pub fn expire_loot(
    clock: Res<Clock>,
    mut index: ResMut<Index>,
    loot: Query<(Entity, &Loot, &NetworkIdentity)>,
    mut commands: Commands,
) {
    for (entity, l, net) in &loot {
        if l.reserved.is_none() && l.expires_at_ms <= clock.now_ms {
            index.net.remove(&net.0);
            commands.entity(entity).despawn();
        }
    }
}
