//! `realmkeep bots`: players over real sockets. Each bot is a protocol v1 client
//! (`realmkeep-protocol`'s client): it registers once (or logs in), creates its character,
//! takes a ticket, joins, and plays through the commands of the protocol, its choices made by
//! the simulator's seeded decision function (`realmkeep_sim::Mind`) from what its socket showed
//! it. Bots follow redirects to other nodes and reconnect when dropped. A shared `Stats` counts
//! what they did; `run` prints a line each second and returns a JSON-ready report. For the
//! gateway benchmark, bots can also stay idle once joined, or load a bare echo endpoint instead.
//!
//! Codemap: `config.rs` (what to run), `bot.rs` (one bot's life), `echo.rs` (an echo bot),
//! `deadline.rs` (when to stop), `view.rs` (what a bot saw, as the mind's `Observation`),
//! `wire.rs` (an intent as a protocol command), `stats.rs` (counters, traffic, RTT histograms,
//! windows, the report), `ledger.rs` (the ids of acknowledged critical actions, for fault
//! tests), `stood.rs` (where each bot stood when it logged out, for the demo's resume check).

mod bot;
mod config;
mod deadline;
mod echo;
mod ledger;
mod stats;
mod stood;
mod view;
mod wire;

pub use config::{BotsConfig, Play, BOTS_MAX, ECHO_FRAME_BYTES_MAX, LOGINS_IN_FLIGHT_MAX};
pub use ledger::{Acked, Committed, LEDGER_ENTRIES_MAX};
pub use stats::{Report, Stats, Window};
pub use stood::{Stood, STOOD_MAX};

use deadline::Deadline;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `config.players` bots for `config.seconds`, printing a status line each second on
/// stderr when `live`; returns the report.
pub async fn run(config: BotsConfig, live: bool) -> Report {
    run_until(config, live, std::future::pending()).await
}

/// `run`, ended early when `stop` completes (a signal): every bot logs out as at its time's end.
pub async fn run_until(config: BotsConfig, live: bool, stop: impl Future<Output = ()>) -> Report {
    run_with(config, live, Arc::new(Stats::default()), stop).await
}

/// As `run_until`, counting into `stats` (read by the caller while the bots play,
/// `take_window`).
pub async fn run_with(
    config: BotsConfig,
    live: bool,
    stats: Arc<Stats>,
    stop: impl Future<Output = ()>,
) -> Report {
    let config = Arc::new(config);
    let started = Instant::now();
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let until = Deadline::new(
        tokio::time::Instant::now() + Duration::from_secs(config.seconds),
        stopped,
    );
    let logins = Arc::new(tokio::sync::Semaphore::new(LOGINS_IN_FLIGHT_MAX));
    let mut bots = tokio::task::JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    let players = config.players.min(BOTS_MAX);
    let mut spawned = 0;
    let mut spawn_at = tokio::time::Instant::now();
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        let spawning = spawned < players && !until.passed();
        tokio::select! {
            // Spread the logins (Argon2id is slow on purpose).
            _ = tokio::time::sleep_until(spawn_at), if spawning => {
                let (c, s, u, l) = (config.clone(), stats.clone(), until.clone(), logins.clone());
                let i = spawned;
                bots.spawn(async move {
                    match c.play {
                        Play::Echo { frame_bytes } => echo::live(i, &c, frame_bytes, &s, u).await,
                        Play::Mind | Play::Idle => bot::live(i, &c, &s, u, &l).await,
                    }
                });
                spawned += 1;
                spawn_at += config.spawn_spacing;
            }
            _ = &mut stop, if !*stopping.borrow() => {
                let _ = stopping.send(true);
            }
            _ = every.tick() => {
                if live {
                    eprintln!("{}", stats.line(started.elapsed()));
                }
            }
            done = bots.join_next(), if !spawning => {
                if done.is_none() {
                    break;
                }
            }
        }
    }
    stats.report(&config, started.elapsed())
}
