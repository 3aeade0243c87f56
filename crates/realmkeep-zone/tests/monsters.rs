//! Monster behaviour: aggro, chase, attack, leash back with a heal, death and respawn; and the
//! whole zone's determinism.

mod common;

use common::*;
use realmkeep_domain::CharacterId;
use realmkeep_zone::io::*;
use realmkeep_zone::{MonsterMode, Zone, ZoneConfig};

#[test]
fn a_monster_aggroes_chases_and_attacks_a_player_in_range() {
    let mut z = zone();
    let wolf = z.monsters()[0].clone();
    assert_eq!(
        (wolf.x, wolf.y),
        WOLF_HOME,
        "placed exactly (spawn radius 0)"
    );
    assert_eq!(wolf.mode, MonsterMode::Idle);
    spawn(&mut z, character(1, 56.0, 50.0));
    let me = z.net_id_of(CharacterId(1));
    run(&mut z, 1);
    assert_eq!(z.monsters()[0].mode, MonsterMode::Chase { target: me });
    run(&mut z, 20);
    let wolf = &z.monsters()[0];
    assert!(
        (wolf.x - 53.0).abs() < 0.3,
        "closed in to melee range: x = {}",
        wolf.x
    );
    let p = z.player(CharacterId(1)).unwrap();
    assert!(p.health < p.max_health, "bitten");
    let bitten = p.max_health - p.health;
    run(&mut z, 40); // two seconds: one more bite
    let p = z.player(CharacterId(1)).unwrap();
    assert_eq!(p.max_health - p.health, 2 * bitten, "one bite every 2 s");
}

#[test]
fn a_monster_out_of_aggro_range_stays_idle() {
    let mut z = zone();
    spawn(&mut z, character(1, 70.0, 50.0));
    run(&mut z, 100);
    assert_eq!(z.monsters()[0].mode, MonsterMode::Idle);
    let p = z.player(CharacterId(1)).unwrap();
    assert_eq!(p.health, p.max_health);
}

#[test]
fn a_monster_leashes_home_and_heals_when_dragged_too_far() {
    let mut z = zone();
    spawn(&mut z, character(1, 53.0, 50.0));
    let wolf = wolf_net(&z);
    command(&mut z, 1, PlayerCommand::Attack { target: wolf });
    run(&mut z, 2);
    let hurt = z.monsters()[0].health;
    assert!(hurt < 60, "hit once: {hurt}");
    command(&mut z, 1, PlayerCommand::StopAttack);
    command(&mut z, 1, PlayerCommand::Move { dx: 1.0, dy: 0.0 });
    // The player outruns the wolf (6 > 4 units/s); past 30 units from home it gives up.
    run(&mut z, 400);
    let w = &z.monsters()[0];
    assert_eq!(w.mode, MonsterMode::Idle, "back home and idle: {w:?}");
    assert_eq!((w.x, w.y), WOLF_HOME);
    assert_eq!(w.health, w.max_health, "healed on arrival");
}

#[test]
fn a_monster_leashing_is_seen_on_the_way() {
    let mut z = zone();
    spawn(&mut z, character(1, 55.0, 50.0));
    command(&mut z, 1, PlayerCommand::Move { dx: 1.0, dy: 0.0 });
    let mut modes = Vec::new();
    for _ in 0..400 {
        run(&mut z, 1);
        let m = z.monsters()[0].mode;
        if modes.last() != Some(&m) {
            modes.push(m);
        }
    }
    let me = z.net_id_of(CharacterId(1));
    assert_eq!(
        modes,
        vec![
            MonsterMode::Chase { target: me },
            MonsterMode::Leash,
            MonsterMode::Idle
        ]
    );
}

#[test]
fn a_killed_monster_respawns_at_home_after_its_respawn_time() {
    let mut z = zone();
    spawn(&mut z, slayer(1, 53.0, 50.0));
    let wolf = wolf_net(&z);
    command(&mut z, 1, PlayerCommand::Attack { target: wolf });
    run(&mut z, 2);
    assert_eq!(z.monster_count(), 0);
    assert_eq!(z.monsters()[0].mode, MonsterMode::Dead);
    run(&mut z, ticks(15_000) - 5);
    assert_eq!(z.monster_count(), 0, "not yet");
    run(&mut z, 5);
    assert_eq!(z.monster_count(), 1);
    let w = &z.monsters()[0];
    assert_eq!((w.x, w.y, w.health), (WOLF_HOME.0, WOLF_HOME.1, 60));
}

fn scripted_run(seed: u64) -> (u64, Vec<ZoneOutput>) {
    let mut cfg = ZoneConfig::new(realmkeep_domain::ZoneId(1), real_content(), seed);
    cfg.save_interval_ticks = 100;
    let mut z = Zone::new(cfg).unwrap();
    let mut c1 = slayer(1, 150.0, 150.0);
    c1.position.zone = realmkeep_domain::ZoneId(1);
    spawn(&mut z, c1);
    spawn(&mut z, character(2, 360.0, 160.0));
    command(&mut z, 2, PlayerCommand::Move { dx: -1.0, dy: 0.3 });
    let mut out = Vec::new();
    for t in 0..600u64 {
        if t % 50 == 0 {
            // Attack whatever monster is listed first among the living ones.
            if let Some(m) = z.monsters().iter().find(|m| m.mode != MonsterMode::Dead) {
                command(&mut z, 1, PlayerCommand::Attack { target: m.net_id });
            }
        }
        out.extend(run(&mut z, 1));
    }
    (z.digest(), out)
}

#[test]
fn the_same_seed_and_inputs_give_the_same_world() {
    let (a, out_a) = scripted_run(42);
    let (b, out_b) = scripted_run(42);
    assert_eq!(a, b);
    assert_eq!(out_a, out_b, "and the same outputs, in the same order");
    let (c, _) = scripted_run(43);
    assert_ne!(a, c, "another seed places monsters elsewhere");
}
