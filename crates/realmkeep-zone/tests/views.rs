//! What a watching player sees: entities entering, moving and leaving its view, as deltas.

mod common;

use common::*;
use realmkeep_domain::CharacterId;
use realmkeep_zone::io::*;
use realmkeep_zone::limits::{
    VIEW_ENTITIES_MAX, VIEW_EVERY_TICKS, VIEW_FAR_EVERY, VIEW_NEAR_RADIUS, VIEW_RADIUS,
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
fn a_distant_mover_is_told_on_every_few_views_and_a_near_one_on_every_view() {
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
    // Both walk north side by side, the whole time.
    command(&mut z, 2, PlayerCommand::MoveTo { x: 102.0, y: 160.0 });
    command(&mut z, 3, PlayerCommand::MoveTo { x: far_x, y: 160.0 });
    run(&mut z, VIEW_EVERY_TICKS);
    let n = 4 * VIEW_FAR_EVERY;
    let seen = views(&run(&mut z, VIEW_EVERY_TICKS * n), 1);
    assert_eq!(seen.len() as u64, n, "one view per interval");
    let told = |who: NetId| {
        seen.iter()
            .filter(|v| v.moved.iter().any(|m| m.net_id == who))
            .count() as u64
    };
    assert_eq!(told(near), n, "the near one at every view");
    assert_eq!(
        told(far),
        n / VIEW_FAR_EVERY,
        "the far one at every {VIEW_FAR_EVERY}th"
    );
    assert!(seen
        .iter()
        .all(|v| v.left.is_empty() && v.entered.is_empty()));
    // What the client is told of the far one catches up: its last told y is where it was then.
    let last = seen
        .iter()
        .rev()
        .find_map(|v| v.moved.iter().find(|m| m.net_id == far))
        .unwrap();
    assert!(last.y > 100.5 && (last.x - far_x).abs() < 0.01, "{last:?}");
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
