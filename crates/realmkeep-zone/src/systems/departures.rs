//! Takes out the players marked `Departing` (released, or claim lost): out of the indexes, the
//! world and the zone's Redis set, and reports `ZoneOutput::Left`.

use crate::components::{NetworkIdentity, Player};
use crate::io::ZoneOutput;
use crate::lifecycle::Departing;
use crate::resources::{Index, Outbox, TradeOffers};
use bevy_ecs::prelude::*;

pub fn despawn_departed(
    departing: Query<(Entity, &Player, &NetworkIdentity, &Departing)>,
    mut index: ResMut<Index>,
    mut offers: ResMut<TradeOffers>,
    mut outbox: ResMut<Outbox>,
    mut commands: Commands,
) {
    for (entity, player, net, Departing(reason)) in &departing {
        let character = player.character;
        index.players.remove(&character);
        index.net.remove(&net.0);
        offers.forget(character);
        outbox.control(ZoneOutput::Left {
            character,
            reason: *reason,
        });
        commands.entity(entity).despawn();
    }
}
