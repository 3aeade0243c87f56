//! Applies the host's inputs at the start of a tick: spawns, connection changes, leaves, lost
//! claims and shutdown here; commands and store results are sorted into their inboxes for the
//! systems that follow.

use crate::components::{AutoAttack, Disconnected, Leaving, Player, Velocity, Viewer};
use crate::io::{ChatChannel, LeftReason, PlayerEvent, ZoneInput, ZoneOutput};
use crate::lifecycle::{leaving, Departing};
use crate::limits::{COMMANDS_PER_PLAYER_PER_TICK_MAX, DISCONNECT_GRACE_MS};
use crate::resources::{
    Clock, CommandCounts, CommandInbox, Inbox, Index, Lifecycle, Outbox, Pending, ResultInbox,
    Wars, ZoneContent,
};
use crate::spawn::spawn_player;
use bevy_ecs::prelude::*;
use realmkeep_domain::{CharacterId, ZoneId};

/// Opens the store request of an operator's change of a player here.
fn admin_order(world: &mut World, character: CharacterId, mut order: realmkeep_domain::AdminOrder) {
    use crate::actions::admin_change::{Request, Waiting};
    use realmkeep_domain::AdminChange;
    let Some(e) = world.resource::<Index>().player(character) else {
        return;
    };
    let Some(fence) = world.get::<Player>(e).map(|p| p.fence) else {
        return;
    };
    let mut teleport = None;
    if let AdminChange::Teleport { x, y } = &mut order.change {
        if !(x.is_finite() && y.is_finite()) {
            return; // The store refuses it too; nothing to clamp.
        }
        (*x, *y) = world.resource::<ZoneContent>().clamp(*x, *y);
        teleport = Some((*x, *y));
    }
    let waiting = Waiting {
        character,
        teleport,
    };
    let Some(id) = world.resource_mut::<Pending>().open(waiting.into()) else {
        tracing::warn!(%character, "an operator's change dropped: too many requests open");
        return;
    };
    let request = Request { fence, order };
    world.resource_mut::<Outbox>().persist(id, request.into());
}

pub fn apply_inputs(world: &mut World) {
    let inputs = std::mem::take(&mut world.resource_mut::<Inbox>().0);
    let now = world.resource::<Clock>().now_ms;
    // Commands per player this tick (the reactions between ticks count too); what is over the
    // bound is dropped and counted.
    let mut counts = std::mem::take(&mut world.resource_mut::<CommandCounts>().0);
    let mut throttled: Vec<(CharacterId, u32)> = Vec::new();
    for input in inputs {
        match input {
            ZoneInput::Spawn {
                fence,
                character,
                transfer: _,
                cooldowns,
            } => {
                if let Err(reason) = spawn_player(world, fence, *character, &cooldowns) {
                    let out = ZoneOutput::SpawnRefused { fence, reason };
                    world.resource_mut::<Outbox>().control(out);
                }
            }
            ZoneInput::Command {
                character,
                command,
                reply_to,
            } => {
                if world.resource::<Index>().player(character).is_none() {
                    continue;
                }
                let n = counts.entry(character).or_default();
                *n += 1;
                if *n <= COMMANDS_PER_PLAYER_PER_TICK_MAX {
                    world
                        .resource_mut::<CommandInbox>()
                        .0
                        .push((character, command, reply_to));
                } else if let Some(tag) = reply_to {
                    // A tagged command is answered one by one.
                    let event = PlayerEvent::Throttled { dropped: 1 };
                    world.resource_mut::<Outbox>().reply(character, tag, event);
                } else {
                    match throttled.iter_mut().find(|(c, _)| *c == character) {
                        Some((_, d)) => *d += 1,
                        None => throttled.push((character, 1)),
                    }
                }
            }
            ZoneInput::Disconnect { character } => {
                if let Some(e) = world.resource::<Index>().player(character) {
                    let mut entity = world.entity_mut(e);
                    if !entity.contains::<Leaving>() && !entity.contains::<Disconnected>() {
                        entity.insert(Disconnected {
                            leave_at_ms: now + DISCONNECT_GRACE_MS,
                        });
                    }
                }
            }
            ZoneInput::Reconnect { character } => {
                if let Some(e) = world.resource::<Index>().player(character) {
                    world.entity_mut(e).remove::<Disconnected>();
                }
            }
            ZoneInput::Watch { character } => {
                if let Some(e) = world.resource::<Index>().player(character) {
                    world.entity_mut(e).insert(Viewer::default());
                }
            }
            ZoneInput::Leave {
                character,
                transfer_to,
            } => start_leaving(world, character, transfer_to, now),
            ZoneInput::ClaimLost { character } => {
                if let Some(e) = world.resource::<Index>().player(character) {
                    world.entity_mut(e).insert(Departing(LeftReason::ClaimLost));
                }
            }
            ZoneInput::StoreResult { request, outcome } => {
                world
                    .resource_mut::<ResultInbox>()
                    .0
                    .push((request, outcome));
            }
            ZoneInput::Wars(pairs) => world.resource_mut::<Wars>().set(&pairs),
            ZoneInput::ChatFallback {
                channel,
                from,
                name,
                text,
                kingdom,
                guild,
            } => {
                let hearers: Vec<CharacterId> = world
                    .query::<&Player>()
                    .iter(world)
                    .filter(|p| match channel {
                        ChatChannel::Global => true,
                        ChatChannel::Kingdom => p.kingdom == kingdom,
                        ChatChannel::Guild => guild.is_some() && p.guild == guild,
                        ChatChannel::Say | ChatChannel::Whisper { .. } => false,
                    })
                    .map(|p| p.character)
                    .collect();
                let mut outbox = world.resource_mut::<Outbox>();
                for c in hearers {
                    let event = PlayerEvent::Chat {
                        channel: channel.clone(),
                        from,
                        name: name.clone(),
                        text: text.clone(),
                    };
                    outbox.tell(c, event);
                }
            }
            ZoneInput::Admin { character, order } => admin_order(world, character, order),
            ZoneInput::Shutdown => {
                world.resource_mut::<Lifecycle>().shutting_down = true;
                let mut all: Vec<CharacterId> =
                    world.resource::<Index>().players.keys().copied().collect();
                all.sort();
                for character in all {
                    start_leaving(world, character, None, now);
                }
            }
        }
    }
    world.resource_mut::<CommandCounts>().0 = counts;
    let mut outbox = world.resource_mut::<Outbox>();
    for (character, dropped) in throttled {
        outbox.tell(character, PlayerEvent::Throttled { dropped });
    }
}

/// Freezes the player and marks it leaving (the first leave wins; a later one changes nothing).
fn start_leaving(world: &mut World, character: CharacterId, to: Option<ZoneId>, now: u64) {
    let Some(e) = world.resource::<Index>().player(character) else {
        return;
    };
    let mut entity = world.entity_mut(e);
    if entity.contains::<Leaving>() {
        return;
    }
    entity.remove::<Disconnected>();
    entity.insert(leaving(now, to));
    if let Some(mut v) = entity.get_mut::<Velocity>() {
        v.stop();
    }
    if let Some(mut a) = entity.get_mut::<AutoAttack>() {
        a.active = false;
    }
}
