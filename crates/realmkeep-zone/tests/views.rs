//! What a watching player sees: entities entering, moving and leaving its view, as deltas.

mod common;

use common::*;
use realmkeep_domain::CharacterId;
use realmkeep_zone::io::*;
use realmkeep_zone::limits::{
    PLAYER_SPEED, VIEW_CROWD_ENTITIES, VIEW_CROWD_EVERY_TICKS, VIEW_DRIFT_MAX, VIEW_ENTITIES_MAX,
    VIEW_EVERY_TICKS, VIEW_FAR_EVERY, VIEW_NEAR_RADIUS, VIEW_RADIUS, VIEW_STRETCH_MAX,
};
use realmkeep_zone::Zone;

fn views(out: &[ZoneOutput], id: i64) -> Vec<ViewDelta> {
    events(out, id)
        .into_iter()
        .filter_map(|e| match e {
            PlayerEvent::View(v) => Some(v),
            _ => None,
        })
        .collect()
}

fn watch(z: &mut Zone, id: i64) {
    z.push_input(ZoneInput::Watch {
        character: CharacterId(id),
    })
    .unwrap();
}

#[test]
fn only_watching_players_get_views() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    spawn(&mut z, character(2, 102.0, 100.0));
    let out = run(&mut z, 10);
    assert!(views(&out, 1).is_empty() && views(&out, 2).is_empty());
}

#[test]
fn a_watcher_sees_others_enter_move_and_leave_as_deltas() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    spawn(&mut z, character(2, 102.0, 100.0));
    watch(&mut z, 1);
    let first = views(&run(&mut z, VIEW_EVERY_TICKS), 1);
    assert_eq!(first.len(), 1, "one view per interval");
    let seen: Vec<_> = first[0].entered.iter().map(|e| &e.what).collect();
    let players: Vec<CharacterId> = seen
        .iter()
        .filter_map(|w| match w {
            Visible::Player { character, .. } => Some(*character),
            _ => None,
        })
        .collect();
    assert!(players.contains(&CharacterId(1)) && players.contains(&CharacterId(2)));
    let net2 = z.player(CharacterId(2)).unwrap().net_id;

    // Nothing moves: nothing is sent.
    command(&mut z, 1, PlayerCommand::Stop);
    run(&mut z, VIEW_EVERY_TICKS);
    let quiet = views(&run(&mut z, VIEW_EVERY_TICKS * 3), 1);
    assert!(
        quiet
            .iter()
            .all(|v| v.entered.is_empty() && v.left.is_empty()),
        "no one entered or left: {quiet:?}"
    );

    // 2 walks away: seen moving, then leaving the view.
    command(&mut z, 2, PlayerCommand::MoveTo { x: 102.0, y: 104.0 });
    let walking = views(&run(&mut z, 20), 1);
    assert!(walking
        .iter()
        .flat_map(|v| &v.moved)
        .any(|m| m.net_id == net2 && m.y > 100.5));
    assert!(walking.iter().all(|v| v.entered.is_empty()), "deltas only");
    let far = 100.0 + VIEW_RADIUS + 10.0;
    let mut away = Vec::new();
    for _ in 0..3 {
        command(
            &mut z,
            2,
            PlayerCommand::MoveTo {
                x: 102.0,
                y: far.min(199.0),
            },
        );
        away.extend(views(&run(&mut z, 200), 1));
    }
    assert!(
        away.iter().any(|v| v.left.contains(&net2)),
        "told it left the view"
    );
    let y2 = z.player(CharacterId(2)).unwrap().y;
    assert!(y2 > 100.0 + VIEW_RADIUS, "walked out of view: {y2}");
    command(&mut z, 2, PlayerCommand::MoveTo { x: 102.0, y: 100.0 });
    let back = views(&run(&mut z, 400), 1);
    assert!(
        back.iter()
            .any(|v| v.entered.iter().any(|e| e.net_id == net2)),
        "came back into view"
    );
}

#[test]
fn watching_again_starts_from_an_empty_view() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    watch(&mut z, 1);
    assert!(!views(&run(&mut z, VIEW_EVERY_TICKS), 1).is_empty());
    watch(&mut z, 1);
    let again = views(&run(&mut z, VIEW_EVERY_TICKS), 1);
    assert!(again[0].entered.iter().any(
        |e| matches!(e.what, Visible::Player { character, .. } if character == CharacterId(1))
    ));
}

#[test]
fn a_straight_walk_is_told_at_its_start_and_stop_and_a_distant_one_on_its_turn() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    spawn(&mut z, character(2, 102.0, 100.0));
    let far_x = 100.0 + VIEW_NEAR_RADIUS + 6.0;
    spawn(&mut z, character(3, far_x, 100.0));
    watch(&mut z, 1);
    run(&mut z, VIEW_EVERY_TICKS);
    let (near, far) = (
        z.player(CharacterId(2)).unwrap().net_id,
        z.player(CharacterId(3)).unwrap().net_id,
    );
    // Both walk north side by side, the whole time: each is told once, with its velocity (the
    // near one at the next view, the far one within its turn), and then not again.
    command(&mut z, 2, PlayerCommand::MoveTo { x: 102.0, y: 160.0 });
    command(&mut z, 3, PlayerCommand::MoveTo { x: far_x, y: 160.0 });
    let n = 4 * VIEW_FAR_EVERY;
    let seen = views(&run(&mut z, VIEW_EVERY_TICKS * n), 1);
    let told = |seen: &[ViewDelta], who: NetId| -> Vec<(usize, Moved)> {
        seen.iter()
            .enumerate()
            .flat_map(|(i, v)| v.moved.iter().map(move |m| (i, *m)))
            .filter(|(_, m)| m.net_id == who)
            .collect()
    };
    let (n_told, f_told) = (told(&seen, near), told(&seen, far));
    assert_eq!(n_told.len(), 1, "the near walker told once: {n_told:?}");
    assert_eq!(f_told.len(), 1, "the far walker told once: {f_told:?}");
    assert_eq!(n_told[0].0, 0, "the near one at the first view");
    assert!(
        f_told[0].0 < VIEW_FAR_EVERY as usize,
        "the far one on its turn"
    );
    for (_, m) in n_told.iter().chain(&f_told) {
        assert!(m.vx.abs() < 0.01 && m.vy > 5.0, "walking north: {m:?}");
    }
    assert!(seen
        .iter()
        .all(|v| v.left.is_empty() && v.entered.is_empty()));
    // Both stop at once: told standing where they stopped, the far one within its turn.
    command(&mut z, 2, PlayerCommand::Stop);
    command(&mut z, 3, PlayerCommand::Stop);
    let stopped = views(&run(&mut z, VIEW_EVERY_TICKS * n), 1);
    let (n_stop, f_stop) = (told(&stopped, near), told(&stopped, far));
    assert_eq!((n_stop.len(), f_stop.len()), (1, 1), "{stopped:?}");
    assert!(n_stop[0].0 <= 1 && f_stop[0].0 <= VIEW_FAR_EVERY as usize);
    let at = |c| {
        let p = z.player(CharacterId(c)).unwrap();
        (p.x, p.y)
    };
    for ((_, m), c) in [(n_stop[0], 2), (f_stop[0], 3)] {
        assert_eq!((m.vx, m.vy), (0.0, 0.0), "standing: {m:?}");
        let (x, y) = at(c);
        assert!(
            (m.x - x).abs() <= 0.005 && (m.y - y).abs() <= 0.005,
            "where it stopped (to the hundredth): {m:?} at ({x}, {y})"
        );
    }
}

/// Where a client believes each entity is, from what its views told it (dead reckoning).
#[derive(Default)]
struct Client {
    told: std::collections::HashMap<NetId, (f32, f32, f32, f32, u64)>,
}

impl Client {
    fn hear(&mut self, v: &ViewDelta, tick: u64) {
        for e in &v.entered {
            self.told.insert(e.net_id, (e.x, e.y, e.vx, e.vy, tick));
        }
        for m in &v.moved {
            self.told.insert(m.net_id, (m.x, m.y, m.vx, m.vy, tick));
        }
    }

    fn believes(&self, who: NetId, tick: u64, step_s: f32) -> (f32, f32) {
        let (x, y, vx, vy, at) = self.told[&who];
        let t = (tick - at) as f32 * step_s;
        (x + vx * t, y + vy * t)
    }
}

#[test]
fn a_client_extrapolating_its_views_stays_within_the_drift_of_a_walk_with_turns_and_stops() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    spawn(&mut z, character(2, 104.0, 100.0));
    watch(&mut z, 1);
    let first = views(&run(&mut z, VIEW_EVERY_TICKS), 1);
    let walker = z.player(CharacterId(2)).unwrap().net_id;
    let step_s = z.step_ms() as f32 / 1_000.0;
    let mut client = Client::default();
    client.hear(&first[0], 0);
    // Legs of a walk: goals, a direction, stops, and standing in between.
    let legs: [(PlayerCommand, u64); 6] = [
        (PlayerCommand::MoveTo { x: 110.0, y: 104.0 }, 40),
        (PlayerCommand::MoveTo { x: 100.0, y: 112.0 }, 30),
        (PlayerCommand::Move { dx: 0.6, dy: -0.8 }, 25),
        (PlayerCommand::Stop, 10),
        (PlayerCommand::MoveTo { x: 96.0, y: 96.0 }, 60),
        (PlayerCommand::Move { dx: -1.0, dy: 0.0 }, 20),
    ];
    let (mut tick, mut told, mut views_seen, mut worst) = (0u64, 0, 0, 0.0f32);
    for (cmd, ticks) in legs {
        command(&mut z, 2, cmd);
        for _ in 0..ticks {
            tick += 1;
            for v in views(&run(&mut z, 1), 1) {
                views_seen += 1;
                told += v.moved.iter().filter(|m| m.net_id == walker).count();
                client.hear(&v, tick);
            }
            let p = z.player(CharacterId(2)).unwrap();
            let (bx, by) = client.believes(walker, tick, step_s);
            worst = worst.max(((bx - p.x).powi(2) + (by - p.y).powi(2)).sqrt());
        }
    }
    // Between two views the belief may run one view's walk ahead of a stop or a turn.
    let bound = VIEW_DRIFT_MAX + PLAYER_SPEED * step_s * VIEW_EVERY_TICKS as f32;
    assert!(
        worst <= bound,
        "the client's belief was {worst} off (at most {bound})"
    );
    // Told at the legs' starts, turns and stops, not at each of the ~90 views of the walk.
    let due = tick / VIEW_EVERY_TICKS;
    assert!(
        (5..=14).contains(&told),
        "a walk of six legs told {told} times ({views_seen} views sent of {due} due)"
    );
}

#[test]
fn a_watching_player_gets_views_and_no_coarse_surroundings() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    spawn(&mut z, character(2, 102.0, 100.0));
    watch(&mut z, 1);
    let out = run(&mut z, 40);
    let surroundings = |id| {
        events(&out, id)
            .iter()
            .filter(|e| matches!(e, PlayerEvent::Surroundings { .. }))
            .count()
    };
    assert_eq!(surroundings(1), 0, "the watcher's views say it all");
    assert!(surroundings(2) >= 1, "the one not watching still gets them");
    assert!(!views(&out, 1).is_empty());
}

#[test]
fn a_crowded_view_holds_the_nearest_entities() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    // The watcher and as many others close by as a view holds, then a ring farther out.
    let close = VIEW_ENTITIES_MAX as i64 - 1;
    let ring = 20;
    for i in 0..close + ring {
        let a = i as f32 * 0.7;
        let r = if i < close {
            2.0 + (i % 7) as f32
        } else {
            VIEW_RADIUS - 6.0
        };
        spawn(
            &mut z,
            character(2 + i, 100.0 + r * a.cos(), 100.0 + r * a.sin()),
        );
    }
    watch(&mut z, 1);
    let first = views(&run(&mut z, VIEW_EVERY_TICKS), 1);
    let told: Vec<CharacterId> = first
        .iter()
        .flat_map(|v| v.entered.iter())
        .filter_map(|e| match e.what {
            Visible::Player { character, .. } => Some(character),
            _ => None,
        })
        .collect();
    assert_eq!(told.len(), VIEW_ENTITIES_MAX, "a full view");
    assert!(
        told.iter().all(|c| c.0 < 2 + close),
        "only the nearest: {told:?}"
    );
}

#[test]
fn a_view_is_skipped_while_nothing_around_changes_and_tells_what_changes_next() {
    let mut z = zone();
    // The wolf of the test zone stands at (50, 50); a fighter beside it, the watcher nearby.
    spawn(&mut z, character(1, 53.0, 50.0));
    spawn(&mut z, character(2, 60.0, 50.0));
    watch(&mut z, 2);
    run(&mut z, VIEW_EVERY_TICKS);
    let wolf = wolf_net(&z);
    // A quiet scene: after the first views, views are skipped.
    let quiet = views(&run(&mut z, VIEW_EVERY_TICKS * 20), 2);
    assert!(
        quiet
            .iter()
            .all(|v| v.entered.is_empty() && v.left.is_empty()),
        "{quiet:?}"
    );
    let before = z.view_counts();
    run(&mut z, VIEW_EVERY_TICKS * 10);
    let after = z.view_counts();
    assert!(
        after.skipped - before.skipped >= 8,
        "nothing changed: views skipped ({before:?} → {after:?})"
    );
    // The fighter attacks: the wolf's hit points are told, then its death and its loot.
    command(&mut z, 1, PlayerCommand::Attack { target: wolf });
    let fight = views(&run(&mut z, 600), 2);
    assert!(
        fight
            .iter()
            .flat_map(|v| &v.moved)
            .any(|m| m.net_id == wolf && m.health < 60),
        "the wolf's wounds told: {fight:?}"
    );
    assert!(
        fight.iter().any(|v| v.left.contains(&wolf)),
        "its death told"
    );
    let loot = z.loot()[0].net_id;
    assert!(
        fight
            .iter()
            .any(|v| v.entered.iter().any(|e| e.net_id == loot)),
        "its loot told"
    );
    // Quiet again: skipped again; the watcher walks: it is told its own moves.
    run(&mut z, VIEW_EVERY_TICKS * 10);
    let before = z.view_counts();
    run(&mut z, VIEW_EVERY_TICKS * 10);
    assert!(z.view_counts().skipped - before.skipped >= 8);
    let me = z.player(CharacterId(2)).unwrap().net_id;
    command(&mut z, 2, PlayerCommand::MoveTo { x: 60.0, y: 56.0 });
    let walked = views(&run(&mut z, VIEW_EVERY_TICKS * 4), 2);
    assert!(
        walked
            .iter()
            .flat_map(|v| &v.moved)
            .any(|m| m.net_id == me && m.y > 50.5),
        "{walked:?}"
    );
}

#[test]
fn steps_the_host_dropped_are_corrected_in_the_next_view() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    spawn(&mut z, character(2, 104.0, 100.0));
    watch(&mut z, 1);
    run(&mut z, VIEW_EVERY_TICKS);
    let walker = z.player(CharacterId(2)).unwrap().net_id;
    command(&mut z, 2, PlayerCommand::MoveTo { x: 104.0, y: 150.0 });
    let started = views(&run(&mut z, VIEW_EVERY_TICKS * 2), 1);
    assert!(started
        .iter()
        .flat_map(|v| &v.moved)
        .any(|m| m.net_id == walker));
    // Walking on in a straight line: nothing more to tell.
    let on = views(&run(&mut z, VIEW_EVERY_TICKS * 4), 1);
    assert!(on
        .iter()
        .all(|v| v.moved.iter().all(|m| m.net_id != walker)));
    // The host fell behind and dropped ten steps: the client, counting the wall clock, believes
    // her three units further than she walked; the next view tells where she is.
    z.steps_dropped(10);
    let corrected = views(&run(&mut z, VIEW_EVERY_TICKS), 1);
    let y = z.player(CharacterId(2)).unwrap().y;
    assert!(
        corrected
            .iter()
            .flat_map(|v| &v.moved)
            .any(|m| m.net_id == walker && (m.y - y).abs() < 0.5 && m.vy > 5.0),
        "{corrected:?}"
    );
}

/// A zone with watcher 1 at (100, 100) and `others` players standing around it within 11 units.
fn crowd_around_1(others: i64) -> Zone {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    for i in 0..others {
        let (a, r) = (i as f32 * 0.7, 2.0 + (i % 9) as f32);
        spawn(
            &mut z,
            character(10 + i, 100.0 + r * a.cos(), 100.0 + r * a.sin()),
        );
    }
    watch(&mut z, 1);
    z
}

/// Views of watcher 1 (the zone's only watcher) that came due over `ticks`: computed or skipped.
fn looked_over(z: &mut Zone, ticks: u64) -> u64 {
    let (before, _) = (z.view_counts(), run(z, ticks));
    let after = z.view_counts();
    after.computed + after.skipped - before.computed - before.skipped
}

#[test]
fn a_viewer_in_a_crowd_is_told_at_the_crowds_pace_and_one_among_few_at_the_full_pace() {
    let ticks = VIEW_CROWD_EVERY_TICKS * 20;
    // Among few: a view every VIEW_EVERY_TICKS (computed or skipped), none crowded.
    let mut few = crowd_around_1(VIEW_CROWD_ENTITIES as i64 - 2);
    run(&mut few, VIEW_CROWD_EVERY_TICKS);
    let looked_few = looked_over(&mut few, ticks);
    assert_eq!(looked_few, ticks / VIEW_EVERY_TICKS);
    assert_eq!(few.view_counts().crowded, 0);

    // In a crowd: the first view finds it, and from then on a view every VIEW_CROWD_EVERY_TICKS.
    let others = VIEW_CROWD_ENTITIES as i64 + 4;
    let mut crowd = crowd_around_1(others);
    run(&mut crowd, VIEW_CROWD_EVERY_TICKS);
    assert!(crowd.view_counts().crowded >= 1);
    let looked = looked_over(&mut crowd, ticks);
    assert_eq!(looked, ticks / VIEW_CROWD_EVERY_TICKS);
    assert!(looked < looked_few, "a crowd's pace is slower");

    // A start in the crowd is told within the crowd's interval, with its velocity.
    let walker = crowd.player(CharacterId(10)).unwrap();
    let (x, y) = (walker.x + 8.0, walker.y);
    command(&mut crowd, 10, PlayerCommand::MoveTo { x, y });
    let told = views(&run(&mut crowd, VIEW_CROWD_EVERY_TICKS + 1), 1);
    let start = told
        .iter()
        .flat_map(|v| &v.moved)
        .find(|m| m.net_id == walker.net_id)
        .unwrap_or_else(|| panic!("the start told: {told:?}"));
    assert!(
        (start.vx - PLAYER_SPEED).abs() < 0.01,
        "with its velocity: {start:?}"
    );

    // The crowd walks away, out of sight: the full pace again.
    for i in 0..others {
        let a = i as f32 * 0.7;
        let (x, y) = (100.0 + 60.0 * a.cos(), 100.0 + 60.0 * a.sin());
        command(&mut crowd, 10 + i, PlayerCommand::MoveTo { x, y });
    }
    run(&mut crowd, 20 * 12);
    assert_eq!(looked_over(&mut crowd, ticks), ticks / VIEW_EVERY_TICKS);
}

#[test]
fn a_stretched_pace_tells_every_viewer_that_much_slower_and_a_start_within_its_interval() {
    let ticks = VIEW_CROWD_EVERY_TICKS * VIEW_STRETCH_MAX * 20;
    let mut few = crowd_around_1(VIEW_CROWD_ENTITIES as i64 - 2);
    let mut crowd = crowd_around_1(VIEW_CROWD_ENTITIES as i64 + 4);
    for z in [&mut few, &mut crowd] {
        run(z, VIEW_CROWD_EVERY_TICKS);
        z.set_view_stretch(VIEW_STRETCH_MAX);
        assert_eq!(z.view_stretch(), VIEW_STRETCH_MAX);
        // The viewer's turn moves with the pace: the first interval may be shorter.
        run(z, VIEW_CROWD_EVERY_TICKS * VIEW_STRETCH_MAX);
    }
    assert_eq!(
        looked_over(&mut few, ticks),
        ticks / (VIEW_EVERY_TICKS * VIEW_STRETCH_MAX)
    );
    assert_eq!(
        looked_over(&mut crowd, ticks),
        ticks / (VIEW_CROWD_EVERY_TICKS * VIEW_STRETCH_MAX)
    );

    // A start in the crowd is told within the stretched interval, with its velocity.
    let walker = crowd.player(CharacterId(10)).unwrap();
    command(
        &mut crowd,
        10,
        PlayerCommand::MoveTo {
            x: walker.x + 8.0,
            y: walker.y,
        },
    );
    let told = views(
        &run(&mut crowd, VIEW_CROWD_EVERY_TICKS * VIEW_STRETCH_MAX + 1),
        1,
    );
    let start = told
        .iter()
        .flat_map(|v| &v.moved)
        .find(|m| m.net_id == walker.net_id)
        .unwrap_or_else(|| panic!("the start told: {told:?}"));
    assert!((start.vx - PLAYER_SPEED).abs() < 0.01, "{start:?}");

    // Out of bounds is clamped; back to 1, the full pace again.
    few.set_view_stretch(0);
    assert_eq!(few.view_stretch(), 1);
    few.set_view_stretch(u64::MAX);
    assert_eq!(few.view_stretch(), VIEW_STRETCH_MAX);
    // A stretch that is not a power of two is taken down to one: the paces nest.
    few.set_view_stretch(3);
    assert_eq!(few.view_stretch(), 2);
    few.set_view_stretch(1);
    run(&mut few, VIEW_CROWD_EVERY_TICKS * VIEW_STRETCH_MAX);
    assert_eq!(looked_over(&mut few, ticks), ticks / VIEW_EVERY_TICKS);
}
