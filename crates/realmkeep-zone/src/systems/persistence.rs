//! Collects what changed and saves it.
//!
//! - Dirty tracking: a change of `Transform`, `Health`, `Mana` or `Level` since this system last
//!   ran (bevy change detection; writers use `set_if_neq` where a value may not change) makes the
//!   player dirty. It stays dirty until a save result says saved.
//! - Level-up: an immediate `LevelUp` full save as soon as no save of the player is in flight.
//! - Periodic: every `save_interval_ticks` each dirty player is saved once, in
//!   `save_batches_per_interval` batches spread evenly over the interval (players are split by
//!   character id), so no tick builds the whole zone's save.
//! - Log events leave in batches every `LOG_FLUSH_TICKS`, or when a batch is full.

use crate::actions::{level_up, save_batch};
use crate::components::*;
use crate::game::snapshot;
use crate::limits::LOG_FLUSH_TICKS;
use crate::resources::*;
use bevy_ecs::prelude::*;
use realmkeep_domain::limits::BATCH_SAVE_ROWS_MAX;

pub fn save_players(
    clock: Res<Clock>,
    settings: Res<Settings>,
    content: Res<ZoneContent>,
    mut outbox: ResMut<Outbox>,
    mut pending: ResMut<Pending>,
    mut players: Query<(
        Entity,
        &Player,
        Ref<Transform>,
        Ref<Health>,
        Ref<Mana>,
        Ref<Level>,
        &mut SaveState,
        Has<Leaving>,
    )>,
) {
    let zone = content.zone.id;
    let entry = content.zone.entry;
    let batches = settings.save_batches_per_interval.max(1);
    let slice_ticks = (settings.save_interval_ticks / batches).max(1);
    let batch_due = clock.tick.is_multiple_of(slice_ticks);
    let slice = (clock.tick / slice_ticks) % batches;
    let mut rows = Vec::new();
    let mut members = Vec::new();
    for (entity, player, t, h, m, l, mut save, leaving) in &mut players {
        let changed = |c: bool, a: bool| c && !a;
        if changed(t.is_changed(), t.is_added())
            || changed(h.is_changed(), h.is_added())
            || changed(m.is_changed(), m.is_added())
            || changed(l.is_changed(), l.is_added())
        {
            save.dirty = true;
        }
        if leaving {
            // The release is the full save.
            save.urgent = false;
            continue;
        }
        if save.in_flight.is_some() {
            continue;
        }
        let snap = || snapshot(player, zone, entry, &t, &h, &m, &l);
        if save.urgent {
            let character = player.character;
            if let Some(id) = pending.open(level_up::Waiting { character }.into()) {
                outbox.persist(id, level_up::Request(snap()).into());
                *save = SaveState {
                    dirty: false,
                    in_flight: Some(id),
                    urgent: false,
                };
            }
            continue;
        }
        let mine = player.character.0.rem_euclid(batches as i64) as u64 == slice;
        if batch_due && mine && save.dirty && rows.len() < BATCH_SAVE_ROWS_MAX {
            rows.push(snap());
            members.push(entity);
        }
    }
    if !rows.is_empty() {
        let characters = rows.iter().map(|r| r.fence.character).collect();
        if let Some(id) = pending.open(save_batch::Waiting { characters }.into()) {
            for e in members {
                if let Ok(mut p) = players.get_mut(e) {
                    p.6.dirty = false;
                    p.6.in_flight = Some(id);
                }
            }
            outbox.persist(id, save_batch::Request(rows).into());
        }
    }
    outbox.flush_logs(clock.tick.is_multiple_of(LOG_FLUSH_TICKS));
}
