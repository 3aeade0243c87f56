//! A crowded zone still ticks, saves everyone once per interval and stays within its bounds.

mod common;

use common::*;
use realmkeep_domain::ZoneId;
use realmkeep_zone::actions::*;
use realmkeep_zone::io::*;
use realmkeep_zone::{Zone, ZoneConfig};
use std::collections::BTreeSet;

const PLAYERS: i64 = 1_000;

#[test]
fn a_thousand_walking_players_are_each_saved_once_per_interval() {
    let mut cfg = ZoneConfig::new(ZoneId(1), real_content(), 5);
    cfg.save_interval_ticks = 100;
    cfg.save_batches_per_interval = 10;
    let mut z = Zone::new(cfg).unwrap();
    for id in 1..=PLAYERS {
        let (x, y) = (
            (id % 40) as f32 * 12.0 + 20.0,
            (id / 40) as f32 * 12.0 + 20.0,
        );
        let mut c = slayer(id, x, y);
        c.position.zone = ZoneId(1);
        z.push_input(ZoneInput::Spawn {
            fence: fence(id),
            character: Box::new(c),
            transfer: false,
            cooldowns: Vec::new(),
        })
        .unwrap();
    }
    run(&mut z, 1);
    assert_eq!(z.player_count(), PLAYERS as usize);
    for id in 1..=PLAYERS {
        let dir = if id % 2 == 0 { 1.0 } else { -1.0 };
        command(&mut z, id, PlayerCommand::Move { dx: dir, dy: 0.5 });
    }
    let start = std::time::Instant::now();
    let mut saved = Vec::new();
    let mut max_outputs = 0;
    for _ in 0..100 {
        let report = z.tick();
        let out = z.drain_outputs();
        max_outputs = max_outputs.max(out.len());
        for r in requests(&out) {
            if let PersistKind::SaveBatch(save_batch::Request(rows)) = r.kind {
                saved.extend(rows.iter().map(|s| s.fence.character.0));
                reply(
                    &mut z,
                    r.id,
                    Outcome::Ok(save_batch::Receipt::default().into()),
                );
            }
        }
        assert_eq!(report.dropped_cache + report.dropped_events, 0);
    }
    let unique: BTreeSet<i64> = saved.iter().copied().collect();
    assert_eq!(unique.len(), PLAYERS as usize, "everyone saved");
    assert_eq!(saved.len(), PLAYERS as usize, "once");
    eprintln!(
        "100 ticks of {PLAYERS} players: {:?}; at most {max_outputs} outputs in a tick",
        start.elapsed()
    );
}
