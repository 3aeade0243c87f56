//! The zone benchmark's run, on a thread of its own as a host's tick thread: a zone, every player
//! spawned into it, a warm-up, then windows of `window_ticks` ticks at the fixed 20 Hz, each tick
//! timed (`Zone::tick` and `Zone::drain_outputs`, the zone's whole work). The windows alternate:
//! the zone's periodic save (one batch of every dirty player) comes due in the middle of every
//! odd window and never in an even one, so both kinds share the same world and the same noise of
//! the machine. Between ticks, untimed: store answers go in, simulated players decide (each once
//! a second, with the simulator's `Mind`), persistence requests go out to the store without
//! waiting.

use realmkeep_domain::Fence;
use realmkeep_sim::mind::{Body, Observation, Thing};
use realmkeep_sim::observe::{nearest, things};
use realmkeep_sim::{Behaviour, Mind};
use realmkeep_store::characters::LoadedCharacter;
use realmkeep_zone::actions::save_batch;
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

/// How the run goes. `config.save_interval_ticks` must be `2 * window_ticks` with one batch per
/// interval, and the warm-up must end half a window after a save tick (see `Plan::new`).
pub struct Plan {
    pub config: ZoneConfig,
    pub warmup_ticks: u64,
    pub window_ticks: u64,
    /// Windows of each kind.
    pub pairs: u64,
    pub seed: u64,
    /// Every player watches (gets view deltas, as a socket's player does).
    pub watching: bool,
}

impl Plan {
    /// Saves come due at zone ticks `2 * window * j`; the measured windows start half a window
    /// after such a tick, so every save falls in the middle of an odd window. The zone's first
    /// loop tick is its tick 2 (tick 1 spawns the players).
    pub fn new(
        mut config: ZoneConfig,
        warmup_min_ticks: u64,
        window_ticks: u64,
        pairs: u64,
        seed: u64,
    ) -> Self {
        let w = window_ticks.max(2);
        let mut q = 0;
        while 2 * w * q + w / 2 < warmup_min_ticks + 2 {
            q += 1;
        }
        config.save_interval_ticks = 2 * w;
        config.save_batches_per_interval = 1;
        Self {
            config,
            warmup_ticks: 2 * w * q + w / 2 - 2,
            window_ticks: w,
            pairs: pairs.max(1),
            seed,
            watching: false,
        }
    }
}

/// What one kind of window saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Windows {
    pub ticks: TickSummary,
    /// Ticks that took longer than the fixed step.
    pub overruns: u64,
    /// Batch saves the zone sent in these windows, and the fewest rows one of them carried.
    pub batch_saves: u64,
    pub batch_rows_min: u64,
    /// Requests that found the store queue full (answered "try again" at once).
    pub store_queue_full: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RunResult {
    pub without: Windows,
    pub with: Windows,
    pub players: usize,
    pub monsters: usize,
    /// Resident memory before and after the players were spawned, in MiB.
    pub rss_before_mb: f64,
    pub rss_after_mb: f64,
    /// Heap bytes in use before and after the players were spawned.
    pub heap_before: u64,
    pub heap_after: u64,
    /// Views of watching players the zone computed over the whole run (0 unless `watching`).
    pub views_computed: u64,
}

/// Bytes allocated on the heap and in use now, as glibc's allocator counts them (every arena,
/// and the large blocks it maps on their own). Resident memory alone says little here: memory
/// freed by the loading is reused by the spawn without growing it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn heap_bytes() -> u64 {
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    extern "C" {
        fn mallinfo2() -> MallInfo2;
    }
    // SAFETY: mallinfo2 (glibc 2.33 and later) takes nothing and returns a plain struct.
    let m = unsafe { mallinfo2() };
    (m.uordblks + m.hblkhd) as u64
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn heap_bytes() -> u64 {
    0
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

/// Runs the plan; blocks the calling thread for its whole length.
pub fn run(
    plan: Plan,
    players: &[(Fence, LoadedCharacter)],
    to_store: mpsc::Sender<PersistRequest>,
    mut answers: mpsc::Receiver<ZoneInput>,
) -> anyhow::Result<RunResult> {
    let mut zone = Zone::new(plan.config)?;
    let mut r = RunResult {
        rss_before_mb: rss_mb(),
        heap_before: heap_bytes(),
        ..RunResult::default()
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
    if plan.watching {
        for (_, loaded) in players {
            zone.push_input(ZoneInput::Watch {
                character: loaded.id,
            })
            .map_err(|_| anyhow::anyhow!("the zone's input queue is full"))?;
        }
    }
    r.players = zone.player_count();
    r.monsters = zone.monster_count();
    r.rss_after_mb = rss_mb();
    r.heap_after = heap_bytes();
    let behaviour = Behaviour::combat_only();
    let mut minds: Vec<Mind> = (0..players.len())
        .map(|i| Mind::new(plan.seed, i as u64))
        .collect();
    let mut held: VecDeque<ZoneInput> = VecDeque::new();
    let mut sight: (Vec<Thing>, Vec<Thing>) = (Vec::new(), Vec::new());
    let mut stats = [TickStats::new(), TickStats::new()];
    let mut windows = [Windows::default(), Windows::default()];
    let total = plan.warmup_ticks + 2 * plan.pairs * plan.window_ticks;
    let mut deadline = Instant::now();
    for t in 0..total {
        // None in the warm-up; Some(1) in a window with the save, Some(0) without.
        let kind = t
            .checked_sub(plan.warmup_ticks)
            .map(|m| ((m / plan.window_ticks) % 2) as usize);
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
            if !(i as u64 + t).is_multiple_of(DECIDE_EVERY_TICKS) {
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
                    reply_to: None,
                };
                let _ = zone.push_input(input);
            }
        }
        let started = Instant::now();
        zone.tick();
        let outputs = zone.drain_outputs();
        let took = started.elapsed();
        if let Some(k) = kind {
            stats[k].record(took);
            windows[k].overruns += u64::from(took > TICK);
        }
        for out in outputs {
            let ZoneOutput::Persist(req) = out else {
                continue;
            };
            if let (PersistKind::SaveBatch(save_batch::Request(rows)), Some(k)) = (&req.kind, kind)
            {
                let w = &mut windows[k];
                let n = rows.len() as u64;
                w.batch_rows_min = if w.batch_saves == 0 {
                    n
                } else {
                    w.batch_rows_min.min(n)
                };
                w.batch_saves += 1;
            }
            if let Err(mpsc::error::TrySendError::Full(req)) = to_store.try_send(req) {
                // As the host does when every queue is full: "try again" at once.
                if let Some(k) = kind {
                    windows[k].store_queue_full += 1;
                }
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
    for k in 0..2 {
        windows[k].ticks = stats[k].summary();
    }
    r.without = windows[0];
    r.with = windows[1];
    r.views_computed = zone.view_counts().computed;
    Ok(r)
}
