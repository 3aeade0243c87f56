//! `Zone`: the API boundary the host drives — push inputs, tick, drain outputs.

use crate::config::{ZoneConfig, TICK_HZ_MAX, TICK_HZ_MIN};
use crate::io::{ZoneInput, ZoneOutput};
use crate::limits::{INPUT_COMMANDS_MAX, INPUT_QUEUE_MAX};
use crate::resources::*;
use crate::spawn::spawn_monsters;
use crate::systems::{react_schedule, schedule};
use bevy_ecs::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use realmkeep_domain::ZoneId;
use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error("zone {0} is not in the content")]
    UnknownZone(ZoneId),
    #[error("zone {zone} spawns monster {monster}, which is not in the content")]
    UnknownMonster { zone: ZoneId, monster: i32 },
    #[error("bad zone configuration: {0}")]
    BadConfig(&'static str),
}

/// `Zone::push_input` refused: the queue is full (for commands: their share of it). The input
/// is handed back; the host keeps it and tries again after the next tick.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the zone's input queue is full")]
pub struct QueueFull(pub ZoneInput);

/// What one tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickReport {
    pub tick: u64,
    pub now_ms: u64,
    pub inputs_applied: usize,
    pub players: usize,
    pub monsters_alive: usize,
    pub outputs: usize,
    pub requests_pending: usize,
    /// Non-critical outputs dropped so far over their bounds (cumulative).
    pub dropped_cache: u64,
    pub dropped_events: u64,
    pub dropped_logs: u64,
    /// Set from the tick that emitted `ZoneOutput::ShutdownComplete` on.
    pub shutdown_complete: bool,
}

/// One zone: its ECS world, its schedule and its bounded input queue.
pub struct Zone {
    pub(crate) world: World,
    schedule: Schedule,
    react: Schedule,
    queue: VecDeque<ZoneInput>,
    commands_queued: usize,
}

impl Zone {
    /// Builds the world and spawns the zone's monsters (placed by the seeded generator).
    pub fn new(config: ZoneConfig) -> Result<Zone, ZoneError> {
        if !(TICK_HZ_MIN..=TICK_HZ_MAX).contains(&config.tick_hz) {
            return Err(ZoneError::BadConfig("tick_hz must be 1 to 100"));
        }
        if config.save_interval_ticks == 0
            || config.save_batches_per_interval == 0
            || config.snapshot_interval_ticks == 0
        {
            return Err(ZoneError::BadConfig("intervals must be at least one tick"));
        }
        let def = config
            .content
            .zones
            .iter()
            .find(|z| z.id == config.zone)
            .cloned()
            .ok_or(ZoneError::UnknownZone(config.zone))?;
        let valid = def.width.is_finite() && def.height.is_finite() && def.width > 0.0;
        if !valid || !def.height.is_finite() || def.height <= 0.0 {
            return Err(ZoneError::BadConfig("zone size must be positive"));
        }
        for s in &def.spawns {
            if !config.content.monsters.iter().any(|m| m.id == s.monster) {
                return Err(ZoneError::UnknownMonster {
                    zone: def.id,
                    monster: s.monster,
                });
            }
        }
        let mut world = World::new();
        world.insert_resource(Clock {
            tick: 0,
            now_ms: 0,
            step_ms: (1_000 / config.tick_hz) as u64,
            dropped: 0,
        });
        world.insert_resource(Settings {
            save_interval_ticks: config.save_interval_ticks,
            save_batches_per_interval: config.save_batches_per_interval,
            snapshot_interval_ticks: config.snapshot_interval_ticks,
        });
        world.insert_resource(ZoneContent::new(def, config.content.clone()));
        world.insert_resource(ZoneRng(StdRng::seed_from_u64(config.seed)));
        world.init_resource::<Lifecycle>();
        world.init_resource::<Inbox>();
        world.init_resource::<CommandInbox>();
        world.init_resource::<CommandCounts>();
        world.init_resource::<ResultInbox>();
        world.init_resource::<SkillCasts>();
        world.init_resource::<Index>();
        world.init_resource::<Outbox>();
        world.init_resource::<Pending>();
        world.init_resource::<Spatial>();
        world.init_resource::<CellStamps>();
        world.init_resource::<ViewCounts>();
        world.init_resource::<ViewPace>();
        world.init_resource::<TradeOffers>();
        world.init_resource::<Wars>();
        spawn_monsters(&mut world);
        Ok(Zone {
            world,
            schedule: schedule(),
            react: react_schedule(),
            queue: VecDeque::new(),
            commands_queued: 0,
        })
    }

    /// Queues an input for the next tick. Commands may fill `INPUT_COMMANDS_MAX` of the queue,
    /// everything else all of `INPUT_QUEUE_MAX`.
    pub fn push_input(&mut self, input: ZoneInput) -> Result<(), QueueFull> {
        let command = matches!(input, ZoneInput::Command { .. });
        if self.queue.len() >= INPUT_QUEUE_MAX
            || (command && self.commands_queued >= INPUT_COMMANDS_MAX)
        {
            return Err(QueueFull(input));
        }
        self.commands_queued += usize::from(command);
        self.queue.push_back(input);
        Ok(())
    }

    /// Inputs waiting for the next tick.
    pub fn queued_inputs(&self) -> usize {
        self.queue.len()
    }

    /// Runs one fixed step of game time: applies the queued inputs, then every system in order.
    pub fn tick(&mut self) -> TickReport {
        {
            let mut clock = self.world.resource_mut::<Clock>();
            clock.tick += 1;
            clock.now_ms += clock.step_ms;
        }
        self.world.resource_mut::<Outbox>().begin_tick();
        self.world.resource_mut::<CommandCounts>().0.clear();
        let inputs = std::mem::take(&mut self.queue);
        let inputs_applied = inputs.len();
        self.commands_queued = 0;
        self.world.resource_mut::<Inbox>().0 = inputs;
        self.schedule.run(&mut self.world);
        self.world.clear_trackers();
        let clock = *self.world.resource::<Clock>();
        let outbox = self.world.resource::<Outbox>();
        TickReport {
            tick: clock.tick,
            now_ms: clock.now_ms,
            inputs_applied,
            players: self.player_count(),
            monsters_alive: self.monster_count(),
            outputs: outbox.len(),
            requests_pending: self.world.resource::<Pending>().len(),
            dropped_cache: outbox.dropped_cache,
            dropped_events: outbox.dropped_events,
            dropped_logs: outbox.dropped_logs,
            shutdown_complete: self.world.resource::<Lifecycle>().shutdown_reported,
        }
    }

    /// Applies the queued inputs between two ticks, without moving game time: spawns, leaves and
    /// the other host inputs, store answers and player commands, through the same systems as the
    /// start of a tick (`systems::react_schedule`). What they emit (answers, store requests) is in
    /// the outbox at once; what needs game time (movement, casts, saves, views) waits for the
    /// tick. Returns the inputs applied: none, and nothing ran.
    pub fn react(&mut self) -> usize {
        if self.queue.is_empty() {
            return 0;
        }
        let inputs = std::mem::take(&mut self.queue);
        let applied = inputs.len();
        self.commands_queued = 0;
        self.world.resource_mut::<Inbox>().0 = inputs;
        self.react.run(&mut self.world);
        applied
    }

    /// Everything the zone emitted since the last drain, in order.
    pub fn drain_outputs(&mut self) -> Vec<ZoneOutput> {
        self.world.resource_mut::<Outbox>().drain()
    }

    pub fn zone_id(&self) -> ZoneId {
        self.world.resource::<ZoneContent>().zone.id
    }

    /// Players in the world (including those leaving or disconnected).
    pub fn player_count(&self) -> usize {
        self.world.resource::<Index>().players.len()
    }

    /// Ticks run so far, and the game time.
    pub fn tick_number(&self) -> u64 {
        self.world.resource::<Clock>().tick
    }

    pub fn now_ms(&self) -> u64 {
        self.world.resource::<Clock>().now_ms
    }

    pub fn step_ms(&self) -> u64 {
        self.world.resource::<Clock>().step_ms
    }

    /// The host dropped `steps` to catch up with the wall clock: game time does not run them,
    /// but clients, extrapolating moves by the wall clock, did; the next views correct them.
    pub fn steps_dropped(&mut self, steps: u64) {
        let mut clock = self.world.resource_mut::<Clock>();
        clock.dropped = clock.dropped.saturating_add(steps);
    }

    /// Views computed and skipped so far (nothing around the viewer had changed), and those
    /// computed in a crowd.
    pub fn view_counts(&self) -> ViewCounts {
        *self.world.resource::<ViewCounts>()
    }

    /// Tells every viewer `stretch` times slower than its pace from the next tick on (clamped to
    /// 1..=`VIEW_STRETCH_MAX`, and down to a power of two, so that the paces nest): the host's
    /// answer to a machine that cannot keep up.
    pub fn set_view_stretch(&mut self, stretch: u64) {
        let clamped = stretch.clamp(1, crate::limits::VIEW_STRETCH_MAX);
        let stretch = 1 << clamped.ilog2();
        self.world.resource_mut::<ViewPace>().stretch = stretch;
    }

    /// How much slower than their pace the viewers are told now (1: at their pace).
    pub fn view_stretch(&self) -> u64 {
        self.world.resource::<ViewPace>().stretch
    }

    /// Requests sent and not answered yet.
    pub fn pending_requests(&self) -> usize {
        self.world.resource::<Pending>().len()
    }

    pub fn is_shutdown_complete(&self) -> bool {
        self.world.resource::<Lifecycle>().shutdown_reported
    }
}
