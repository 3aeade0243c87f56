//! The way out: a disconnected character leaves after its grace period; a leaving character gets
//! its final save (`Release`), sent once no other save of it is in flight and retried with
//! backoff while the store is unavailable; after `Shutdown`, the zone reports when the last
//! character is out.

use crate::actions::release;
use crate::components::*;
use crate::game::snapshot;
use crate::io::ZoneOutput;
use crate::lifecycle::leaving;
use crate::resources::*;
use bevy_ecs::prelude::*;

#[allow(clippy::too_many_arguments)]
pub fn run_departures(
    clock: Res<Clock>,
    content: Res<ZoneContent>,
    index: Res<Index>,
    mut lifecycle: ResMut<Lifecycle>,
    mut outbox: ResMut<Outbox>,
    mut pending: ResMut<Pending>,
    disconnected: Query<(Entity, &Disconnected), Without<Leaving>>,
    mut leavers: Query<(
        &Player,
        &Transform,
        &Health,
        &Mana,
        &Level,
        &SaveState,
        &mut Leaving,
    )>,
    mut commands: Commands,
) {
    let now = clock.now_ms;
    for (entity, d) in &disconnected {
        if now >= d.leave_at_ms {
            commands
                .entity(entity)
                .remove::<Disconnected>()
                .insert(leaving(now, None));
        }
    }
    let zone = content.zone.id;
    for (player, t, health, mana, level, save, mut leave) in &mut leavers {
        if leave.request.is_some() || save.in_flight.is_some() || now < leave.retry_at_ms {
            continue;
        }
        let character = player.character;
        let Some(id) = pending.open(release::Waiting { character }.into()) else {
            continue;
        };
        // A zone change is saved where it leads: the next zone's entry. If the next zone never
        // takes the character (another node, a crash between), it enters there next time.
        let dest = leave.transfer_to.and_then(|to| {
            let def = content.content.zones.iter().find(|z| z.id == to)?;
            Some((to, def.entry))
        });
        let snap = match dest {
            Some((to, entry)) => {
                let at = Transform::at(entry.0, entry.1);
                snapshot(player, to, entry, &at, health, mana, level)
            }
            None => snapshot(player, zone, content.zone.entry, t, health, mana, level),
        };
        leave.request = Some(id);
        let request = release::Request {
            snapshot: snap,
            transfer_to: leave.transfer_to,
        };
        outbox.persist(id, request.into());
    }
    if lifecycle.shutting_down && !lifecycle.shutdown_reported && index.players.is_empty() {
        lifecycle.shutdown_reported = true;
        outbox.flush_logs(true);
        outbox.control(ZoneOutput::ShutdownComplete);
    }
}
