//! What leaves for players and the cache at the end of a tick, kept cheap: a coarse
//! `Surroundings` notice per player every `snapshot_interval_ticks` (spread over ticks by
//! character id), and the entity count once a second when it changed. Positions of nearby
//! entities are counts, not lists. A watching player (a client on a socket) gets none: its
//! `views` tell it all of that, and a notice nobody reads still costs its connection a wake-up. Presence and zone membership in Redis are
//! not the zone's: the host's join and leave pipeline is their one writer.

use crate::components::*;
use crate::io::{CacheRequest, PlayerEvent};
use crate::limits::NEARBY_RADIUS;
use crate::resources::*;
use bevy_ecs::prelude::*;

#[allow(clippy::too_many_arguments)]
pub fn send_snapshots(
    clock: Res<Clock>,
    settings: Res<Settings>,
    content: Res<ZoneContent>,
    spatial: Res<Spatial>,
    mut outbox: ResMut<Outbox>,
    players: Query<(&Player, &Transform, &Health, &Mana, Has<Leaving>, Has<Dead>), Without<Viewer>>,
    counted: Query<(), Or<(With<Player>, (With<Monster>, Without<Dead>), With<Loot>)>>,
    mut last_count: Local<Option<u32>>,
) {
    let zone = content.zone.id;
    let every = settings.snapshot_interval_ticks.max(1);
    for (player, t, health, mana, leaving, dead) in &players {
        if leaving {
            continue;
        }
        let id = player.character.0;
        if id.rem_euclid(every as i64) as u64 != clock.tick % every {
            continue;
        }
        // The grid holds living players only: a living player counts itself.
        let near = spatial.players.count_near(t.x, t.y, NEARBY_RADIUS);
        let players_nearby = if dead { near } else { near.saturating_sub(1) };
        let event = PlayerEvent::Surroundings {
            x: t.x,
            y: t.y,
            health: health.current,
            mana: mana.current,
            players_nearby,
            monsters_nearby: spatial.monsters.count_near(t.x, t.y, NEARBY_RADIUS),
            loot_nearby: spatial.loot.count_near(t.x, t.y, NEARBY_RADIUS),
        };
        outbox.tell(player.character, event);
    }
    let ticks_per_second = (1_000 / clock.step_ms).max(1);
    if clock.tick.is_multiple_of(ticks_per_second) {
        let count = counted.iter().count() as u32;
        if *last_count != Some(count) {
            *last_count = Some(count);
            outbox.cache(CacheRequest::EntityCount { zone, count });
        }
    }
}
