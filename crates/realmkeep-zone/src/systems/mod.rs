//! Systems, one per file, registered by `schedule()` in the order documented in `lib.rs`.

mod combat;
pub(crate) mod commands;
mod connection;
mod death;
mod departures;
mod inputs;
mod loot;
mod monster_ai;
mod movement;
mod persistence;
mod results;
mod skills;
mod snapshot;
mod spatial;
mod status_effects;
mod views;

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{ScheduleConfigs, SingleThreadedExecutor};
use bevy_ecs::system::ScheduleSystem;

/// The input half of a tick, which is also all `react_schedule` runs: host inputs, store
/// answers, departures, player commands.
fn input_half() -> ScheduleConfigs<ScheduleSystem> {
    (
        inputs::apply_inputs,
        results::apply_results,
        departures::despawn_departed,
        commands::apply_commands,
    )
        .chain()
        .into_configs()
}

fn single_threaded() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule
}

/// The zone's schedule: every system in one explicit chain.
pub fn schedule() -> Schedule {
    let mut schedule = single_threaded();
    schedule.add_systems(
        (
            input_half(),
            (
                movement::move_entities,
                spatial::rebuild_grid,
                monster_ai::run_monsters,
                combat::auto_attack,
                skills::cast_skills,
                status_effects::tick_effects,
                death::resolve_deaths,
                loot::expire_loot,
                connection::run_departures,
                persistence::save_players,
                snapshot::send_snapshots,
                views::send_views,
            )
                .chain(),
        )
            .chain(),
    );
    schedule
}

/// What runs between two ticks when inputs are waiting (`Zone::react`): the input half of a
/// tick, so a command or a store answer is applied, and answered, without waiting for the next
/// step. Game time does not move: movement, combat, skills, saves and views stay the tick's.
pub fn react_schedule() -> Schedule {
    let mut schedule = single_threaded();
    schedule.add_systems(input_half());
    schedule
}
