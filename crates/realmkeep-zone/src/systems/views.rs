//! What each watching player can see: every `VIEW_EVERY_TICKS` (spread over ticks by character
//! id), the entities within `VIEW_RADIUS` on the spatial grid (the nearest
//! `VIEW_ENTITIES_MAX`), compared with what its client was told last, sent as one
//! `PlayerEvent::View` of deltas when anything changed. Players that never sent
//! `ZoneInput::Watch` (simulated players, tests) cost nothing here.

use crate::components::*;
use crate::io::{Entered, Moved, NetId, PlayerEvent, ViewDelta, Visible};
use crate::limits::{VIEW_ENTITIES_MAX, VIEW_EVERY_TICKS, VIEW_MOVE_EPSILON, VIEW_RADIUS};
use crate::resources::*;
use bevy_ecs::prelude::*;
use std::collections::HashMap;

type Seen<'a> = (
    &'a NetworkIdentity,
    &'a Transform,
    Option<&'a Health>,
    Option<&'a Player>,
    Option<&'a Level>,
    Option<&'a Monster>,
    Option<&'a Loot>,
);

pub fn send_views(
    clock: Res<Clock>,
    spatial: Res<Spatial>,
    mut outbox: ResMut<Outbox>,
    mut viewers: Query<
        (&Player, &Transform, &mut Viewer),
        (Without<Leaving>, Without<Disconnected>),
    >,
    seen: Query<Seen>,
) {
    for (player, t, mut viewer) in &mut viewers {
        let id = player.character.0;
        if id.rem_euclid(VIEW_EVERY_TICKS as i64) as u64 != clock.tick % VIEW_EVERY_TICKS {
            continue;
        }
        let mut near: Vec<(Entity, f32)> = spatial
            .players
            .near(t.x, t.y, VIEW_RADIUS)
            .chain(spatial.monsters.near(t.x, t.y, VIEW_RADIUS))
            .chain(spatial.loot.near(t.x, t.y, VIEW_RADIUS))
            .collect();
        if near.len() > VIEW_ENTITIES_MAX {
            near.sort_by(|a, b| a.1.total_cmp(&b.1));
            near.truncate(VIEW_ENTITIES_MAX);
        }
        let delta = compare(
            &mut viewer.told,
            near.iter().filter_map(|(e, _)| seen.get(*e).ok()),
        );
        if !delta.is_empty() {
            outbox.tell(player.character, PlayerEvent::View(delta));
        }
    }
}

/// The delta between what was told and what is in view now; `told` becomes the view now.
fn compare<'a>(
    told: &mut HashMap<NetId, Told>,
    now: impl Iterator<Item = <Seen<'a> as bevy_ecs::query::QueryData>::Item<'a, 'a>>,
) -> ViewDelta {
    let mut delta = ViewDelta::default();
    let mut in_view: HashMap<NetId, Told> = HashMap::with_capacity(told.len());
    for (net, t, health, player, level, monster, loot) in now {
        let (hp, max) = health.map_or((0, 0), |h| (h.current, h.max));
        let here = Told {
            x: t.x,
            y: t.y,
            health: hp,
        };
        match told.get(&net.0) {
            None => {
                let Some(what) = visible(player, level, monster, loot) else {
                    continue;
                };
                delta.entered.push(Entered {
                    net_id: net.0,
                    what,
                    x: t.x,
                    y: t.y,
                    health: hp,
                    max_health: max,
                });
            }
            Some(was) => {
                let moved = (was.x - t.x).abs() > VIEW_MOVE_EPSILON
                    || (was.y - t.y).abs() > VIEW_MOVE_EPSILON
                    || was.health != hp;
                if moved {
                    delta.moved.push(Moved {
                        net_id: net.0,
                        x: t.x,
                        y: t.y,
                        health: hp,
                    });
                } else {
                    // Keep what the client knows, so slow drift is told once it adds up.
                    in_view.insert(net.0, *was);
                    continue;
                }
            }
        }
        in_view.insert(net.0, here);
    }
    delta.left = told
        .keys()
        .filter(|n| !in_view.contains_key(n))
        .copied()
        .collect();
    delta.left.sort();
    *told = in_view;
    delta
}

fn visible(
    player: Option<&Player>,
    level: Option<&Level>,
    monster: Option<&Monster>,
    loot: Option<&Loot>,
) -> Option<Visible> {
    if let Some(p) = player {
        return Some(Visible::Player {
            character: p.character,
            name: p.name.to_string(),
            level: level.map_or(1, |l| l.level),
        });
    }
    if let Some(m) = monster {
        return Some(Visible::Monster {
            def: m.def_id,
            level: m.level,
        });
    }
    loot.map(|l| Visible::Loot {
        def: l.def,
        quantity: l.quantity.get(),
    })
}
