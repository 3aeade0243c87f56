//! The demo's players: `realmkeep-bots` clients, run as tasks of the demo's process, that
//! connect to the demo's own gateway on loopback like any client (register once, log in, take a
//! ticket, join over a WebSocket). The gateway they use is set up for them: one loopback
//! address stands for every player, so its per-address limits are those of that many players.

use anyhow::{Context, Result};
use realmkeep_bots::{BotsConfig, Report, Stats, BOTS_MAX};
use realmkeep_cache::options::RateLimitConfig;
use realmkeep_domain::CharacterId;
use realmkeep_gateway::limits::{CONNECTIONS_MAX, CONNECTIONS_PER_IP_MAX};
use realmkeep_store::Store;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Name prefix of the demo's players: accounts and characters `demo0`, `demo1`...
pub const PREFIX: &str = "demo";
/// Players at the most: both ends of every player's socket are files of this process (and an
/// HTTP connection each while it takes a ticket), and a process here may open 20,000.
pub const PLAYERS_MAX: usize = 4_000;
/// Connections from loopback besides the players': someone's browser, `realmkeep bots`.
const CONNECTIONS_MARGIN: usize = CONNECTIONS_PER_IP_MAX;
/// How long the bots are told to play: the demo stops them itself (a signal, `--seconds`).
const BOTS_SECONDS: u64 = 365 * 24 * 3_600;
/// Account and character look-ups in flight at the start.
const LOOKUPS_IN_FLIGHT_MAX: usize = 8;
/// Between two progress lines while the players join.
const JOIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// The file the bots' report is written to, in the demo's directory.
pub const REPORT_FILE: &str = "bots_report.json";

const _: () = assert!(PLAYERS_MAX <= BOTS_MAX);
const _: () = assert!(2 * PLAYERS_MAX + CONNECTIONS_MARGIN <= CONNECTIONS_MAX);
const _: () = assert!(4 * PLAYERS_MAX + 2 * CONNECTIONS_MARGIN <= 20_000);

/// The account name of player `i` (the bots crate names its bots `{prefix}{i}`).
fn name(i: usize) -> String {
    format!("{PREFIX}{i}")
}

/// The characters of players `0..players` that exist already (registered by an earlier run).
pub async fn existing(store: &Store, players: usize) -> Result<Vec<CharacterId>> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let found: Vec<Option<CharacterId>> = stream::iter(0..players)
        .map(|i| async move { store.character_id_by_name(&name(i)).await })
        .buffered(LOOKUPS_IN_FLIGHT_MAX)
        .try_collect()
        .await
        .context("looking up the players' characters")?;
    Ok(found.into_iter().flatten().collect())
}

/// Open connections from one address the gateway allows: every player's socket and ticket
/// request come from loopback.
pub fn connections_per_ip(players: usize) -> usize {
    2 * players + CONNECTIONS_MARGIN
}

/// Every per-address rate limit at its default, times the players behind the loopback address
/// (plus one: someone's browser), so that each player has what one address has elsewhere.
pub fn rate_limits(players: usize) -> Vec<RateLimitConfig> {
    let times = u32::try_from(players + 1).unwrap_or(u32::MAX);
    RateLimitConfig::defaults()
        .into_iter()
        .map(|mut r| {
            r.limit = r.limit.saturating_mul(times);
            r
        })
        .collect()
}

/// The bots playing, their shared counters, and how to stop them.
pub struct Players {
    pub stats: Arc<Stats>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Report>,
    pub count: usize,
}

/// Starts `players` bots against the gateway at `url` (`http://127.0.0.1:PORT`).
pub fn start(url: &str, players: usize, seed: u64, zones: &[i32]) -> Players {
    let mut config = BotsConfig::new(url, players, seed, BOTS_SECONDS);
    config.prefix = PREFIX.into();
    config.zones = zones.to_vec();
    // Where each stood when it logged out: the next run's resume check.
    config.positions = true;
    let stats = Arc::new(Stats::default());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(realmkeep_bots::run_with(
        config,
        false,
        stats.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    Players {
        stats,
        stop,
        task,
        count: players,
    }
}

impl Players {
    pub fn connected(&self) -> u64 {
        self.stats.connected.load(Ordering::Relaxed)
    }

    /// Waits until every bot is in the world, at most `wait`, with a progress line now and
    /// then; the bots connected.
    pub async fn joined(&self, wait: Duration) -> u64 {
        let started = Instant::now();
        let mut said = Instant::now();
        loop {
            let n = self.connected();
            if n as usize >= self.count || started.elapsed() >= wait || self.task.is_finished() {
                return n;
            }
            if said.elapsed() >= JOIN_PROGRESS_EVERY {
                println!(
                    "      ... {n} of {} connected ({:.0} s)",
                    self.count,
                    started.elapsed().as_secs_f64()
                );
                said = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Tells every bot to stop in place and log out (each saved and released by its zone),
    /// and waits for them at most `wait`: their report, unless they took longer.
    pub async fn stop(self, wait: Duration) -> Option<Report> {
        let _ = self.stop.send(());
        let task = self.task;
        tokio::pin!(task);
        match tokio::time::timeout(wait, &mut task).await {
            Ok(Ok(report)) => Some(report),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the bots' task failed");
                None
            }
            Err(_) => {
                task.abort();
                None
            }
        }
    }
}

/// The report's lines, as the demo prints them at the end; the whole report (JSON) goes to
/// `REPORT_FILE` in `dir`.
pub fn report_lines(r: &Report, dir: &Path) -> Result<Vec<String>> {
    let path = dir.join(REPORT_FILE);
    std::fs::write(&path, serde_json::to_string_pretty(r)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(vec![
        format!(
            "players (bots over WebSockets): {} joins, {} commands ({:.1}/s); answers: {} ok, {} refused, {} try again, {} rate limited; {} redirects, {} reconnects, {} errors",
            r.joined,
            r.commands,
            r.commands_per_s,
            r.ok,
            r.refused,
            r.try_again,
            r.rate_limited,
            r.redirects,
            r.reconnects,
            r.errors
        ),
        format!(
            "RTT p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; critical actions (answered after their commit) p50 {:.1} ms, p99 {:.1} ms",
            r.rtt_p50_ms, r.rtt_p99_ms, r.rtt_max_ms, r.critical_rtt_p50_ms, r.critical_rtt_p99_ms
        ),
        format!(
            "traffic: {} frames ({} KB) up, {} frames ({} KB) down; {} logged out where they stood; report in {}",
            r.frames_up,
            r.bytes_up / 1_000,
            r.frames_down,
            r.bytes_down / 1_000,
            r.stood.len(),
            path.display()
        ),
    ])
}
