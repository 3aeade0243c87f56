//! What each watching player can see: every `VIEW_EVERY_TICKS` (spread over ticks by character
//! id; every `VIEW_CROWD_EVERY_TICKS` for a viewer whose last view held a crowd; both stretched
//! by `ViewPace` while the host is short of CPU), the entities
//! within `VIEW_RADIUS` on the spatial grid (the nearest `VIEW_ENTITIES_MAX`), compared with
//! what its client was told last, sent as one `PlayerEvent::View` of deltas when anything
//! changed. Beyond `VIEW_NEAR_RADIUS` an entity's moves are told on every `VIEW_FAR_EVERY`th
//! view only (interest tiers). Players that never sent `ZoneInput::Watch` (simulated players,
//! tests) cost nothing here.
//!
//! Moves are dead reckoned: a move is told with the entity's velocity (`Motion`), the client
//! extrapolates from it, and the view tells a move again only when what the client believes is
//! off by more than `VIEW_DRIFT_MAX`, now or one view later. A walk in a straight line is told
//! when it starts and when it stops; a chase is told as it turns.
//!
//! A view is not computed again when nothing changed around the viewer since its last one: no
//! cell it looks at was stamped since (`CellStamps`: the grid's rebuild stamps the cells whose
//! entities or their places changed, and this system the cells of entities that moved or whose
//! hit points changed), and no distant change of its last view waits for its turn. An idle crowd
//! costs a few lookups per view.
//!
//! What the views of a tick read is gathered cell by cell, the first time a view of the tick
//! looks at the cell (`Sight`: the entities of the spatial grids as plain records, with what a
//! client would be told of each now); a view then reads one grid of records instead of three
//! grids and eight components of the world per entity. At 1,000 watching players in one zone
//! that halved the views' share of a tick.

use crate::components::*;
use crate::io::{Entered, Moved, NetId, PlayerEvent, ViewDelta, Visible};
use crate::limits::{
    CELL_STAMPS_KEPT_TICKS, VIEW_CROWD_ENTITIES, VIEW_DRIFT_MAX, VIEW_ENTITIES_MAX, VIEW_FAR_EVERY,
    VIEW_NEAR_RADIUS, VIEW_RADIUS,
};
use crate::resources::*;
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

/// What the views keep between ticks besides each viewer's own: where things changed, counts,
/// and the sight's allocations.
#[derive(SystemParam)]
pub struct ViewBooks<'w, 's> {
    stamps: ResMut<'w, CellStamps>,
    counts: ResMut<'w, ViewCounts>,
    pace: Res<'w, ViewPace>,
    sight: Local<'s, Sight>,
}

type Seen<'a> = (
    &'a NetworkIdentity,
    &'a Transform,
    Option<&'a Motion>,
    Option<&'a Health>,
    Option<&'a Player>,
    Option<&'a Level>,
    Option<&'a Monster>,
    Option<&'a Loot>,
);

pub fn send_views(
    clock: Res<Clock>,
    spatial: Res<Spatial>,
    mut books: ViewBooks,
    changed: Query<&Transform, Or<(Changed<Transform>, Changed<Health>, Changed<Motion>)>>,
    mut outbox: ResMut<Outbox>,
    mut viewers: Query<
        (&Player, &Transform, &mut Viewer),
        (Without<Leaving>, Without<Disconnected>),
    >,
    seen: Query<Seen>,
) {
    // Since this system last ran (the last tick): moves, starts, stops and hit points, wherever
    // they changed.
    let (stamps, counts, sight) = (&mut *books.stamps, &mut *books.counts, &mut *books.sight);
    let stretch = books.pace.stretch;
    for t in &changed {
        stamps.stamp_at(t.x, t.y, clock.tick);
    }
    stamps.forget_before(clock.tick.saturating_sub(CELL_STAMPS_KEPT_TICKS));
    let at = Now::of(&clock);
    // Each viewer at its pace (a crowd's is slower), spread over the ticks by character id.
    let due = |p: &Player, v: &Viewer| {
        let every = v.every_ticks(stretch);
        p.character.0.rem_euclid(every as i64) as u64 == clock.tick % every
    };
    // What this tick's views read: gathered cell by cell when a view first looks at the cell.
    let visible_of = |e: Entity| {
        let (.., player, level, monster, loot) = seen.get(e).ok()?;
        visible(player, level, monster, loot)
    };
    // Reused from view to view of this tick.
    let mut near: Vec<Near> = Vec::new();
    for (player, t, mut viewer) in &mut viewers {
        if !due(player, &viewer) {
            continue;
        }
        let again = looks_again(&viewer, t, stamps, clock.tick);
        viewer.viewed_at = Some(clock.tick);
        if !again {
            counts.skipped += 1;
            continue;
        }
        counts.computed += 1;
        near.clear();
        let gather = |c, records: &mut Vec<Sighted>| gather(c, records, &spatial, &seen, at);
        sight.near(clock.tick, t.x, t.y, VIEW_RADIUS, gather, &mut near);
        if near.len() > VIEW_ENTITIES_MAX {
            // The nearest, in no order (they are ordered by network id next): linear time.
            let by_distance = |a: &Near, b: &Near| a.distance.total_cmp(&b.distance);
            near.select_nth_unstable_by(VIEW_ENTITIES_MAX - 1, by_distance);
            near.truncate(VIEW_ENTITIES_MAX);
        }
        near.sort_unstable_by_key(|n| n.net);
        // The pace first: the drift check looks ahead to this viewer's next view.
        viewer.crowded = near.len() > VIEW_CROWD_ENTITIES;
        counts.crowded += viewer.crowded as u64;
        let now = near.iter().map(|n| (sight.record(n), n.distance));
        let delta = compare(&mut viewer, now, at, stretch, visible_of);
        if !delta.is_empty() {
            outbox.tell(player.character, PlayerEvent::View(delta));
        }
    }
}

/// Whether a due viewer's view is computed: something changed in the cells it looks at since
/// its last view, a distant change of its last view waits for its turn, or it never looked (or
/// looked longer ago than the stamps are kept).
fn looks_again(viewer: &Viewer, t: &Transform, stamps: &CellStamps, tick: u64) -> bool {
    viewer.deferred
        || !viewer.viewed_at.is_some_and(|at| {
            at + CELL_STAMPS_KEPT_TICKS > tick && stamps.unchanged_since(at, t.x, t.y, VIEW_RADIUS)
        })
}

/// The entities of one cell of the spatial grids that the world shows, with what a client would
/// be told of each now (to the hundredth, as the wire carries it).
fn gather(c: Cell, records: &mut Vec<Sighted>, spatial: &Spatial, seen: &Query<Seen>, at: Now) {
    for grid in [&spatial.players, &spatial.monsters, &spatial.loot] {
        for &(entity, gx, gy) in grid.cell(c) {
            let Ok((net, t, motion, health, ..)) = seen.get(entity) else {
                continue;
            };
            let (hp, max) = health.map_or((0, 0), |h| (h.current, h.max));
            let m = motion.copied().unwrap_or(Motion::STILL);
            records.push(Sighted {
                entity,
                net: net.0,
                gx,
                gy,
                here: Told {
                    x: hundredths(t.x),
                    y: hundredths(t.y),
                    vx: hundredths(m.vx),
                    vy: hundredths(m.vy),
                    health: hp,
                    at: at.tick,
                },
                max_health: max,
            });
        }
    }
}

/// The view's moment as clients count it (the tick and the steps the host dropped, as `Told`
/// keeps it: clients extrapolate by the wall clock) and the length of a tick.
#[derive(Debug, Clone, Copy)]
struct Now {
    tick: u32,
    step_s: f32,
}

impl Now {
    fn of(clock: &Clock) -> Self {
        Self {
            tick: clock.tick.wrapping_add(clock.dropped) as u32,
            step_s: clock.step_ms as f32 / 1_000.0,
        }
    }
}

/// Whether a client that was told `was` is wrong enough about the entity (where it is now, or
/// where it will be one view later, or its hit points) to be told again. A stop is always told
/// (a slow walker's stop would drift below the bound for a long while, and nothing around
/// would change to look again).
fn drifted(was: &Told, here: &Told, now: Now, every_ticks: u64) -> bool {
    let stopped = (was.vx, was.vy) != (0.0, 0.0) && (here.vx, here.vy) == (0.0, 0.0);
    let (bx, by) = was.believed(now.tick.wrapping_sub(was.at), now.step_s);
    let ahead = every_ticks as f32 * now.step_s;
    let (ex, ey) = (bx - here.x, by - here.y);
    let (ax, ay) = (
        ex + (was.vx - here.vx) * ahead,
        ey + (was.vy - here.vy) * ahead,
    );
    let off = |dx: f32, dy: f32| dx * dx + dy * dy > VIEW_DRIFT_MAX * VIEW_DRIFT_MAX;
    stopped || was.health != here.health || off(ex, ey) || off(ax, ay)
}

/// The delta between what was told and what is in view now (each entity with its distance,
/// ordered by network id); `told` becomes the view now. A distant entity's change waits for its
/// turn (`VIEW_FAR_EVERY`), and until then the client keeps what it was told.
fn compare<'a>(
    viewer: &mut Viewer,
    now: impl ExactSizeIterator<Item = (&'a Sighted, f32)>,
    at: Now,
    stretch: u64,
    visible_of: impl Fn(Entity) -> Option<Visible>,
) -> ViewDelta {
    viewer.views = viewer.views.wrapping_add(1);
    let views = viewer.views;
    let every = viewer.every_ticks(stretch);
    viewer.deferred = false;
    let mut in_view: Vec<(NetId, Told)> = Vec::with_capacity(now.len());
    let mut delta = ViewDelta::default();
    let mut was_told = viewer.told.iter().peekable();
    let mut deferred = false;
    for (s, d) in now {
        let (net, is_near) = (s.net, d <= VIEW_NEAR_RADIUS);
        while let Some((n, _)) = was_told.next_if(|(n, _)| *n < net) {
            delta.left.push(*n);
        }
        let was = was_told.next_if(|(n, _)| *n == net).map(|(_, w)| *w);
        let here = s.here;
        match was {
            None => {
                let Some(what) = visible_of(s.entity) else {
                    continue;
                };
                delta.entered.push(Entered {
                    net_id: net,
                    what,
                    x: here.x,
                    y: here.y,
                    vx: here.vx,
                    vy: here.vy,
                    health: here.health,
                    max_health: s.max_health,
                });
            }
            Some(was) => {
                let changed = drifted(&was, &here, at, every);
                let due = is_near || (views.wrapping_add(net.0)) % VIEW_FAR_EVERY == 0;
                if changed && due {
                    delta.moved.push(Moved {
                        net_id: net,
                        x: here.x,
                        y: here.y,
                        vx: here.vx,
                        vy: here.vy,
                        health: here.health,
                    });
                } else {
                    // Keep what the client believes, so drift is told once it adds up; while
                    // its velocity is not the one told, look again at the next view even if
                    // nothing around changes (the belief drifts on its own).
                    deferred |= changed || (was.vx, was.vy) != (here.vx, here.vy);
                    in_view.push((net, was));
                    continue;
                }
            }
        }
        in_view.push((net, here));
    }
    delta.left.extend(was_told.map(|(n, _)| *n));
    viewer.deferred = deferred;
    // Sized for this view: a list kept for the connection's life holds no spare capacity.
    viewer.told = in_view;
    delta
}

/// To the hundredth of a unit, as the gateway sends positions and velocities.
fn hundredths(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::VIEW_EVERY_TICKS;

    const NOW: Now = Now {
        tick: 100,
        step_s: 0.05,
    };

    fn told(x: f32, vx: f32, at: u32) -> Told {
        Told {
            x,
            y: 0.0,
            vx,
            vy: 0.0,
            health: 10,
            at,
        }
    }

    #[test]
    fn a_belief_is_told_again_when_it_drifts_a_stop_always() {
        // Told walking at 6 u/s 10 ticks ago (believed at 3.0), and she is there: nothing.
        assert!(!drifted(
            &told(0.0, 6.0, 90),
            &told(3.0, 6.0, 100),
            NOW,
            VIEW_EVERY_TICKS
        ));
        // She stopped at 3.0: a stop is told, however slow the walk was.
        assert!(drifted(
            &told(0.0, 6.0, 90),
            &told(3.0, 0.0, 100),
            NOW,
            VIEW_EVERY_TICKS
        ));
        assert!(drifted(
            &told(0.0, 0.5, 90),
            &told(0.25, 0.0, 100),
            NOW,
            VIEW_EVERY_TICKS
        ));
        // A slight turn within the bound now and one view later: nothing.
        assert!(!drifted(
            &told(0.0, 6.0, 90),
            &told(3.05, 5.9, 100),
            NOW,
            VIEW_EVERY_TICKS
        ));
        // Off by more than the bound: told.
        assert!(drifted(
            &told(0.0, 6.0, 90),
            &told(3.0 + VIEW_DRIFT_MAX + 0.01, 6.0, 100),
            NOW,
            VIEW_EVERY_TICKS
        ));
        // Hit points changed: told.
        let mut wounded = told(3.0, 6.0, 100);
        wounded.health = 9;
        assert!(drifted(
            &told(0.0, 6.0, 90),
            &wounded,
            NOW,
            VIEW_EVERY_TICKS
        ));
        // Standing and standing: nothing, however long since.
        assert!(!drifted(
            &told(3.0, 0.0, 0),
            &told(3.0, 0.0, 100),
            NOW,
            VIEW_EVERY_TICKS
        ));
    }
}
