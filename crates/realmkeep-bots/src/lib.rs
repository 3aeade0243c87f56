//! `realmkeep bots`: players over real sockets. Each bot is a protocol v1 client
//! (`realmkeep-protocol`'s client): it registers once (or logs in), creates its character,
//! takes a ticket, joins, and plays through the commands of the protocol, its choices made by
//! the simulator's seeded decision function (`realmkeep_sim::Mind`) from what its socket showed
//! it. Bots follow redirects to other nodes and reconnect when dropped. A shared `Stats` counts
//! what they did; `run` prints a line each second and returns a JSON-ready report.
//!
//! Codemap: `config.rs` (what to run), `bot.rs` (one bot's life), `view.rs` (what a bot saw,
//! as the mind's `Observation`), `wire.rs` (an intent as a protocol command), `stats.rs`
//! (counters, RTT histogram, the report).

mod bot;
mod config;
mod stats;
mod view;
mod wire;

pub use config::{BotsConfig, BOTS_MAX};
pub use stats::{Report, Stats};

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `config.players` bots for `config.seconds`, printing a status line each second on
/// stderr when `live`; returns the report.
pub async fn run(config: BotsConfig, live: bool) -> Report {
    let config = Arc::new(config);
    let stats = Arc::new(Stats::default());
    let started = Instant::now();
    let until = tokio::time::Instant::now() + Duration::from_secs(config.seconds);
    let mut bots = tokio::task::JoinSet::new();
    for i in 0..config.players.min(BOTS_MAX) {
        let (c, s) = (config.clone(), stats.clone());
        bots.spawn(async move { bot::live(i, &c, &s, until).await });
        // Spread the logins (Argon2id is slow on purpose).
        tokio::time::sleep(config.spawn_spacing).await;
    }
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = every.tick() => {
                if live {
                    eprintln!("{}", stats.line(started.elapsed()));
                }
            }
            done = bots.join_next() => {
                if done.is_none() {
                    break;
                }
            }
        }
    }
    stats.report(&config, started.elapsed())
}
