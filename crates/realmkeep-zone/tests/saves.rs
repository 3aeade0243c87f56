//! What reaches PostgreSQL from play: the immediate save of a level-up, and the periodic batch
//! save of dirty players only, spread over ticks and kept dirty until saved.

mod common;

use common::*;
use realmkeep_domain::records::CharacterSnapshot;
use realmkeep_domain::rules::level_for_xp;
use realmkeep_domain::CharacterId;
use realmkeep_zone::actions::*;
use realmkeep_zone::io::*;
use std::collections::BTreeSet;

fn batches(out: &[ZoneOutput]) -> Vec<(RequestId, Vec<CharacterSnapshot>)> {
    requests(out)
        .into_iter()
        .filter_map(|r| match r.kind {
            PersistKind::SaveBatch(save_batch::Request(rows)) => Some((r.id, rows)),
            _ => None,
        })
        .collect()
}

fn ids(rows: &[CharacterSnapshot]) -> BTreeSet<i64> {
    rows.iter().map(|r| r.fence.character.0).collect()
}

#[test]
fn a_level_up_is_saved_at_once_with_a_consistent_level() {
    let mut z = zone();
    let mut c = slayer(1, 53.0, 50.0);
    c.xp = 115; // 140 reaches level 2; the wolf gives 30
    spawn(&mut z, c);
    let wolf = wolf_net(&z);
    command(&mut z, 1, PlayerCommand::Attack { target: wolf });
    let out = run(&mut z, 1);
    assert_eq!(z.monster_count(), 0, "killed this tick");
    let saves: Vec<CharacterSnapshot> = requests(&out)
        .into_iter()
        .filter_map(|r| match r.kind {
            PersistKind::LevelUp(level_up::Request(s)) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(saves.len(), 1, "saved in the very tick of the level-up");
    let s = saves[0];
    assert_eq!((s.level, s.xp, s.fence), (2, 145, fence(1)));
    assert_eq!(level_for_xp(s.xp), s.level, "what the store checks");
    let p = z.player(CharacterId(1)).unwrap();
    assert_eq!(
        (p.level, p.health, p.mana),
        (2, p.max_health, p.max_mana),
        "healed in full"
    );
    assert_eq!(s.health, p.health);
    let leaderboard = |out: &[ZoneOutput]| {
        out.iter().any(|o| {
            matches!(
                o,
                ZoneOutput::Cache(CacheRequest::Leaderboard {
                    board: Board::Level,
                    ..
                })
            )
        })
    };
    assert!(
        !events(&out, 1).contains(&PlayerEvent::LevelUp { level: 2 }) && !leaderboard(&out),
        "nobody hears of the level before it is committed"
    );
    let id = requests(&out)
        .into_iter()
        .find(|r| matches!(r.kind, PersistKind::LevelUp(_)))
        .unwrap()
        .id;
    // PostgreSQL is away: no announcement, and the save is sent again.
    reply(&mut z, id, Outcome::Unavailable);
    let out = run(&mut z, 1);
    assert!(!events(&out, 1).contains(&PlayerEvent::LevelUp { level: 2 }));
    let again = requests(&out)
        .into_iter()
        .find(|r| matches!(r.kind, PersistKind::LevelUp(_)))
        .expect("the level-up save is sent again");
    reply(&mut z, again.id, Outcome::Ok(level_up::Receipt.into()));
    let out = run(&mut z, 1);
    assert!(events(&out, 1).contains(&PlayerEvent::LevelUp { level: 2 }));
    assert!(leaderboard(&out));
    let logs = logs(&run(&mut z, 20));
    assert!(logs.iter().any(|l| l.event_type == "level_up"));
}

#[test]
fn the_periodic_save_carries_dirty_players_only_spread_over_the_interval() {
    let mut z = zone(); // interval 20 ticks in 4 batches
    for id in 1..=8 {
        spawn(&mut z, character(id, 150.0, 20.0 * id as f32));
    }
    run(&mut z, 40);
    let out = run(&mut z, 20);
    assert!(batches(&out).is_empty(), "nobody changed: nothing to save");

    for id in [1, 2, 3, 5] {
        command(
            &mut z,
            id,
            PlayerCommand::MoveTo {
                x: 150.5,
                y: 20.0 * id as f32,
            },
        );
    }
    let mut per_tick = Vec::new();
    for _ in 0..20 {
        z.tick();
        let b = batches(&z.drain_outputs());
        per_tick.push(b);
    }
    let all: Vec<_> = per_tick.iter().flatten().cloned().collect();
    let saved: BTreeSet<i64> = all.iter().flat_map(|(_, rows)| ids(rows)).collect();
    assert_eq!(saved, BTreeSet::from([1, 2, 3, 5]), "only the dirty ones");
    let busy_ticks = per_tick.iter().filter(|b| !b.is_empty()).count();
    assert!(busy_ticks >= 3, "spread over several ticks: {busy_ticks}");
    for (_, rows) in &all {
        let slices: BTreeSet<i64> = rows.iter().map(|r| r.fence.character.0 % 4).collect();
        assert_eq!(slices.len(), 1, "one slice per batch");
    }
    assert!(
        per_tick.iter().all(|b| b.len() <= 1),
        "at most one batch per tick"
    );

    // Acknowledged: clean, and nothing more to save while nobody moves.
    for (id, _) in &all {
        reply(
            &mut z,
            *id,
            Outcome::Ok(save_batch::Receipt::default().into()),
        );
    }
    run(&mut z, 1);
    assert!(!z.player(CharacterId(1)).unwrap().dirty);
    assert!(batches(&run(&mut z, 40)).is_empty());
}

#[test]
fn an_unsaved_player_stays_dirty_and_is_saved_again() {
    let mut z = zone();
    spawn(&mut z, character(1, 150.0, 20.0));
    command(&mut z, 1, PlayerCommand::MoveTo { x: 152.0, y: 20.0 });
    let (first, _) = run_until(&mut z, 40, |o| batches(o).pop()).expect("saved");
    assert!(z.player(CharacterId(1)).unwrap().save_in_flight);
    let out = run(&mut z, 40);
    assert!(
        batches(&out).is_empty(),
        "never two saves of one player in flight"
    );
    reply(&mut z, first.0, Outcome::Unavailable);
    run(&mut z, 1);
    assert!(
        z.player(CharacterId(1)).unwrap().dirty,
        "dirty until a result says saved"
    );
    let (again, _) = run_until(&mut z, 40, |o| batches(o).pop()).expect("saved again");
    assert_eq!(again.1[0].position.x, 152.0, "the latest state");
    assert_eq!(first.1[0].fence, again.1[0].fence);
}

#[test]
fn a_row_refused_in_a_batch_means_the_claim_is_lost() {
    let mut z = zone();
    spawn(&mut z, character(1, 150.0, 20.0));
    spawn(&mut z, character(5, 150.0, 60.0));
    for id in [1, 5] {
        command(
            &mut z,
            id,
            PlayerCommand::MoveTo {
                x: 152.0,
                y: 20.0 * id as f32,
            },
        );
    }
    let (batch, _) = run_until(&mut z, 40, |o| batches(o).pop()).expect("a batch");
    assert_eq!(ids(&batch.1), BTreeSet::from([1, 5]), "same slice (id % 4)");
    let refused = vec![CharacterId(5)];
    reply(
        &mut z,
        batch.0,
        Outcome::Ok(save_batch::Receipt { refused }.into()),
    );
    let out = run(&mut z, 1);
    assert_eq!(left(&out), vec![(CharacterId(5), LeftReason::ClaimLost)]);
    assert!(requests(&out).is_empty(), "no save for the lost one");
    assert!(z.player(CharacterId(1)).is_some());
    assert!(!z.player(CharacterId(1)).unwrap().save_in_flight);
}
