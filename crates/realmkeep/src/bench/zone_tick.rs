//! One measured phase of the zone benchmark, on a thread of its own as a host's tick thread: a
//! fresh zone, every player spawned into it, a warm-up, then `measured_ticks` ticks at the fixed
//! 20 Hz, each timed (`Zone::tick` and `Zone::drain_outputs`, the zone's whole work). Between
//! ticks, untimed: store answers go in, simulated players decide (each once a second, with the
//! simulator's `Mind`), persistence requests go out to the store without waiting.

use realmkeep_domain::Fence;
use realmkeep_sim::mind::{Body, Observation, Thing};
use realmkeep_sim::observe::{nearest, things};
use realmkeep_sim::{Behaviour, Mind};
use realmkeep_store::characters::LoadedCharacter;
use realmkeep_zone::io::{PersistKind, PersistRequest, ZoneInput, ZoneOutput};
use realmkeep_zone::{TickStats, TickSummary, Zone, ZoneConfig};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The fixed step (20 Hz).
pub const TICK: Duration = Duration::from_millis(50);
/// Ticks between two refreshes of the monster and loot lists the players see.
const SIGHT_REFRESH_TICKS: u64 = 20;
/// Each player decides once every this many ticks (once a second).
const DECIDE_EVERY_TICKS: u64 = 20;
/// Monsters and loot one player sees.
const SIGHT_THINGS: usize = 4;

pub struct Phase {
    pub config: ZoneConfig,
    pub warmup_ticks: u64,
    pub measured_ticks: u64,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PhaseResult {
    pub ticks: TickSummary,
    /// Measured ticks that took longer than the fixed step.
    pub overruns: u64,
    pub players: usize,
    pub monsters: usize,
    /// Resident memory before and after the players were spawned, in MiB.
    pub rss_before_mb: f64,
    pub rss_after_mb: f64,
    /// Batch saves the zone sent during the measured window, and the rows they carried.
    pub batch_saves: u64,
    pub batch_rows: u64,
    /// Requests that found the store queue full (answered "try again" at once).
    pub store_queue_full: u64,
}

/// The process's resident memory now (VmRSS), in MiB.
pub fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Runs one phase; blocks the calling thread for its whole length.
pub fn run(
    phase: Phase,
    players: &[(Fence, LoadedCharacter)],
    to_store: mpsc::Sender<PersistRequest>,
    mut answers: mpsc::Receiver<ZoneInput>,
) -> anyhow::Result<PhaseResult> {
    let mut zone = Zone::new(phase.config)?;
    let mut r = PhaseResult {
        rss_before_mb: rss_mb(),
        ..PhaseResult::default()
    };
    for (fence, loaded) in players {
        let spawn = ZoneInput::Spawn {
            fence: *fence,
            character: Box::new(loaded.clone()),
            transfer: false,
            cooldowns: Vec::new(),
        };
        zone.push_input(spawn)
            .map_err(|_| anyhow::anyhow!("the zone's input queue is full"))?;
    }
    zone.tick();
    zone.drain_outputs();
    r.players = zone.player_count();
    r.monsters = zone.monster_count();
    r.rss_after_mb = rss_mb();
    let behaviour = Behaviour::combat_only();
    let mut minds: Vec<Mind> = (0..players.len())
        .map(|i| Mind::new(phase.seed, i as u64))
        .collect();
    let mut held: VecDeque<ZoneInput> = VecDeque::new();
    let mut sight: (Vec<Thing>, Vec<Thing>) = (Vec::new(), Vec::new());
    let mut stats = TickStats::new();
    let total = phase.warmup_ticks + phase.measured_ticks;
    let mut deadline = Instant::now();
    for t in 0..total {
        let measuring = t >= phase.warmup_ticks;
        while let Ok(a) = answers.try_recv() {
            held.push_back(a);
        }
        while let Some(a) = held.pop_front() {
            if let Err(full) = zone.push_input(a) {
                held.push_front(full.0);
                break;
            }
        }
        if t % SIGHT_REFRESH_TICKS == 0 {
            sight = things(&zone);
        }
        for (i, (fence, _)) in players.iter().enumerate() {
            if (i as u64 + t) % DECIDE_EVERY_TICKS != 0 {
                continue;
            }
            let Some(p) = zone.player(fence.character) else {
                continue;
            };
            let obs = Observation {
                me: Some(Body {
                    x: p.x,
                    y: p.y,
                    health: p.health,
                    level: p.level,
                    dead: p.dead,
                }),
                zone: Some(zone.zone_id()),
                monsters: nearest(&sight.0, p.x, p.y, SIGHT_THINGS),
                loot: nearest(&sight.1, p.x, p.y, SIGHT_THINGS),
                ..Observation::default()
            };
            if let Some(command) = minds[i].decide(&behaviour, &obs).command() {
                let input = ZoneInput::Command {
                    character: fence.character,
                    command,
                };
                let _ = zone.push_input(input);
            }
        }
        let started = Instant::now();
        zone.tick();
        let outputs = zone.drain_outputs();
        let took = started.elapsed();
        if measuring {
            stats.record(took);
            r.overruns += u64::from(took > TICK);
        }
        for out in outputs {
            let ZoneOutput::Persist(req) = out else {
                continue;
            };
            if let PersistKind::SaveBatch(rows) = &req.kind {
                if measuring {
                    r.batch_saves += 1;
                    r.batch_rows += rows.len() as u64;
                }
            }
            if let Err(mpsc::error::TrySendError::Full(req)) = to_store.try_send(req) {
                // As the host does when every queue is full: "try again" at once.
                r.store_queue_full += 1;
                held.push_back(ZoneInput::StoreResult {
                    request: req.id,
                    outcome: realmkeep_zone::io::Outcome::Unavailable,
                });
            }
        }
        deadline += TICK;
        let now = Instant::now();
        if now < deadline {
            std::thread::sleep(deadline - now);
        } else {
            deadline = now;
        }
    }
    r.ticks = stats.summary();
    Ok(r)
}
