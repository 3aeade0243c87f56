//! Players coming, moving and going: spawn, movement, the bounded input queue, disconnect grace,
//! leave with the final save (and its retry), lost claims, shutdown.

mod common;

use common::*;
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_zone::actions::*;
use realmkeep_zone::io::*;
use realmkeep_zone::limits::{DISCONNECT_GRACE_MS, INPUT_COMMANDS_MAX, INPUT_QUEUE_MAX};

#[test]
fn a_spawned_player_is_announced_and_walks_to_a_point() {
    let mut z = zone();
    let out = spawn(&mut z, character(1, 100.0, 100.0));
    assert_eq!(z.player_count(), 1);
    assert!(matches!(
        events(&out, 1)[0],
        PlayerEvent::Joined {
            zone: ZONE,
            x: 100.0,
            y: 100.0,
            ..
        }
    ));
    assert!(
        !out.iter().any(|o| matches!(o, ZoneOutput::Cache(_))),
        "presence is the host's to write (its join pipeline), not the zone's"
    );

    command(&mut z, 1, PlayerCommand::MoveTo { x: 112.0, y: 100.0 });
    run(&mut z, 20); // one second at 6 units/s
    let p = z.player(CharacterId(1)).unwrap();
    assert!((p.x - 106.0).abs() < 0.01, "x = {}", p.x);
    run(&mut z, 40);
    let p = z.player(CharacterId(1)).unwrap();
    assert_eq!((p.x, p.y), (112.0, 100.0), "stops at the goal");
    assert!(p.dirty, "moving makes the player dirty");
}

#[test]
fn a_stored_position_outside_the_zone_becomes_the_entry() {
    let mut z = zone();
    let mut c = character(1, 5_000.0, 3.0);
    c.position.zone = ZoneId(9);
    spawn(&mut z, c);
    let p = z.player(CharacterId(1)).unwrap();
    assert_eq!((p.x, p.y), (100.0, 100.0));
}

#[test]
fn a_second_spawn_of_the_same_character_is_refused() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    let out = spawn(&mut z, character(1, 100.0, 100.0));
    assert!(out.iter().any(|o| matches!(
        o,
        ZoneOutput::SpawnRefused {
            reason: SpawnRefusal::AlreadyInZone,
            ..
        }
    )));
    assert_eq!(z.player_count(), 1);
}

#[test]
fn the_input_queue_is_bounded_and_keeps_room_for_results() {
    let mut z = zone();
    let cmd = || ZoneInput::Command {
        character: CharacterId(1),
        command: PlayerCommand::Stop,
        reply_to: None,
    };
    for _ in 0..INPUT_COMMANDS_MAX {
        z.push_input(cmd()).unwrap();
    }
    let refused = z.push_input(cmd()).unwrap_err();
    assert_eq!(refused.0, cmd(), "the refused input is handed back");
    // Results still fit, up to the whole queue.
    let result = || ZoneInput::StoreResult {
        request: RequestId(999),
        outcome: Outcome::Unavailable,
    };
    for _ in INPUT_COMMANDS_MAX..INPUT_QUEUE_MAX {
        z.push_input(result()).unwrap();
    }
    assert!(z.push_input(result()).is_err());
    assert_eq!(z.tick().inputs_applied, INPUT_QUEUE_MAX);
    assert!(z.push_input(cmd()).is_ok(), "a tick empties the queue");
}

#[test]
fn commands_beyond_the_per_tick_bound_are_dropped_and_the_player_told() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    for _ in 0..10 {
        command(&mut z, 1, PlayerCommand::Stop);
    }
    let out = run(&mut z, 1);
    assert!(events(&out, 1).contains(&PlayerEvent::Throttled { dropped: 6 }));
}

fn release_of(
    out: &[ZoneOutput],
) -> Option<(
    RequestId,
    realmkeep_domain::records::CharacterSnapshot,
    Option<ZoneId>,
)> {
    requests(out).into_iter().find_map(|r| match r.kind {
        PersistKind::Release(release::Request {
            snapshot,
            transfer_to,
        }) => Some((r.id, snapshot, transfer_to)),
        _ => None,
    })
}

#[test]
fn leave_sends_the_final_save_and_keeps_the_character_until_it_succeeded() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    command(&mut z, 1, PlayerCommand::MoveTo { x: 103.0, y: 100.0 });
    let out = run(&mut z, 10);
    command(&mut z, 1, PlayerCommand::ChangeZone { to: ZoneId(2) });
    let mut out2 = run(&mut z, 2);
    assert!(
        release_of(&out2).is_none(),
        "not while a periodic save is in flight"
    );
    ack_saves(&mut z, &out);
    out2.extend(run(&mut z, 2));
    let (id, snap, to) = release_of(&out2).expect("a release");
    assert_eq!(to, Some(ZoneId(2)));
    assert_eq!(snap.fence, fence(1));
    assert_eq!(snap.position.zone, ZONE);
    assert!((snap.position.x - 103.0).abs() < 0.01);
    assert!(z.player(CharacterId(1)).unwrap().leaving);

    // The store is away: nothing is dropped, and the release is sent again after a backoff.
    reply(&mut z, id, Outcome::Unavailable);
    let out = run(&mut z, 1);
    assert!(left(&out).is_empty());
    assert_eq!(z.player_count(), 1);
    let (again, snap2, _) = run_until(&mut z, 100, release_of).expect("retried").0;
    assert_ne!(again, id);
    assert_eq!(snap2, snap, "frozen while leaving: the same snapshot");

    reply(&mut z, again, Outcome::Ok(release::Receipt.into()));
    let out = run(&mut z, 1);
    assert_eq!(
        left(&out),
        vec![(
            CharacterId(1),
            LeftReason::Released {
                transfer_to: Some(ZoneId(2))
            }
        )]
    );
    assert_eq!(z.player_count(), 0);
    assert!(z.player(CharacterId(1)).is_none());
    assert!(
        !out.iter().any(|o| matches!(o, ZoneOutput::Cache(_))),
        "presence is the host's to write (its leave pipeline), not the zone's"
    );
}

#[test]
fn logout_goes_offline_after_release() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    command(&mut z, 1, PlayerCommand::Logout);
    let out = run(&mut z, 2);
    let (id, _, to) = release_of(&out).unwrap();
    assert_eq!(to, None);
    reply(&mut z, id, Outcome::Ok(release::Receipt.into()));
    let out = run(&mut z, 1);
    // The host takes the character out of Redis on this `Left`, its one presence writer.
    assert_eq!(
        left(&out),
        vec![(CharacterId(1), LeftReason::Released { transfer_to: None })]
    );
    assert!(!out.iter().any(|o| matches!(o, ZoneOutput::Cache(_))));
    assert_eq!(z.player_count(), 0);
}

#[test]
fn a_release_refused_as_stale_drops_the_character_as_lost() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    command(&mut z, 1, PlayerCommand::Logout);
    let (id, _, _) = release_of(&run(&mut z, 2)).unwrap();
    reply(&mut z, id, Outcome::Refused(Refusal::StaleClaim));
    let out = run(&mut z, 1);
    assert_eq!(left(&out), vec![(CharacterId(1), LeftReason::ClaimLost)]);
}

#[test]
fn a_disconnect_leaves_after_the_grace_period_unless_reconnected() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    spawn(&mut z, character(2, 100.0, 100.0));
    z.push_input(ZoneInput::Disconnect {
        character: CharacterId(1),
    })
    .unwrap();
    z.push_input(ZoneInput::Disconnect {
        character: CharacterId(2),
    })
    .unwrap();
    run(&mut z, 10);
    z.push_input(ZoneInput::Reconnect {
        character: CharacterId(2),
    })
    .unwrap();
    let out = run(&mut z, ticks(DISCONNECT_GRACE_MS) - 20);
    assert!(release_of(&out).is_none(), "still within the grace period");
    assert!(z.player(CharacterId(1)).unwrap().disconnected);
    let out = run(&mut z, 20);
    let (id, snap, to) = release_of(&out).expect("released after the grace period");
    assert_eq!((snap.fence.character, to), (CharacterId(1), None));
    assert!(
        !z.player(CharacterId(2)).unwrap().leaving,
        "reconnected in time"
    );
    reply(&mut z, id, Outcome::Ok(release::Receipt.into()));
    run(&mut z, 1);
    assert_eq!(z.player_count(), 1);
}

#[test]
fn a_lost_claim_despawns_without_any_save() {
    let mut z = zone();
    spawn(&mut z, character(1, 100.0, 100.0));
    command(&mut z, 1, PlayerCommand::MoveTo { x: 110.0, y: 100.0 });
    run(&mut z, 5);
    z.push_input(ZoneInput::ClaimLost {
        character: CharacterId(1),
    })
    .unwrap();
    let out = run(&mut z, 40);
    assert_eq!(left(&out), vec![(CharacterId(1), LeftReason::ClaimLost)]);
    assert!(
        requests(&out).is_empty(),
        "no save of any kind: {:?}",
        requests(&out)
    );
    assert_eq!(z.player_count(), 0);
}

#[test]
fn shutdown_releases_everyone_then_reports_once() {
    let mut z = zone();
    for id in 1..=3 {
        spawn(&mut z, character(id, 100.0, 100.0));
    }
    z.push_input(ZoneInput::Shutdown).unwrap();
    let out = run(&mut z, 2);
    let releases: Vec<_> = requests(&out)
        .into_iter()
        .filter(|r| matches!(r.kind, PersistKind::Release(_)))
        .collect();
    assert_eq!(releases.len(), 3);
    let refused = spawn(&mut z, character(4, 100.0, 100.0));
    assert!(refused.iter().any(|o| matches!(
        o,
        ZoneOutput::SpawnRefused {
            reason: SpawnRefusal::ShuttingDown,
            ..
        }
    )));
    for r in &releases[..2] {
        reply(&mut z, r.id, Outcome::Ok(release::Receipt.into()));
    }
    let out = run(&mut z, 3);
    assert!(!out.contains(&ZoneOutput::ShutdownComplete));
    reply(&mut z, releases[2].id, Outcome::Ok(release::Receipt.into()));
    let out = run(&mut z, 3);
    assert_eq!(
        out.iter()
            .filter(|o| **o == ZoneOutput::ShutdownComplete)
            .count(),
        1
    );
    assert!(z.is_shutdown_complete());
    assert!(!run(&mut z, 5).contains(&ZoneOutput::ShutdownComplete));
}

#[test]
fn players_get_a_coarse_view_of_their_surroundings_every_second() {
    let mut z = zone();
    spawn(&mut z, character(1, 60.0, 50.0));
    spawn(&mut z, character(2, 70.0, 50.0));
    let out = run(&mut z, 20);
    let views: Vec<_> = events(&out, 1)
        .into_iter()
        .filter(|e| matches!(e, PlayerEvent::Surroundings { .. }))
        .collect();
    assert_eq!(views.len(), 1, "one a second");
    assert!(matches!(
        views[0],
        PlayerEvent::Surroundings {
            players_nearby: 1,
            monsters_nearby: 1,
            loot_nearby: 0,
            ..
        }
    ));
    let counts: Vec<u32> = out
        .iter()
        .filter_map(|o| match o {
            ZoneOutput::Cache(CacheRequest::EntityCount { count, .. }) => Some(*count),
            _ => None,
        })
        .collect();
    assert_eq!(counts, vec![3], "two players and the wolf, once");
}
