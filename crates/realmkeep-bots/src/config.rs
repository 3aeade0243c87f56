//! What a bots run is: where, how many, which seed, how long.

use std::time::Duration;

/// Bots one process runs at the most (a process here may open 20,000 files).
pub const BOTS_MAX: usize = 15_000;

#[derive(Debug, Clone)]
pub struct BotsConfig {
    /// The gateway's HTTP base URL (`http://127.0.0.1:7400`).
    pub url: String,
    pub players: usize,
    pub seed: u64,
    pub seconds: u64,
    /// Account and character names are `{prefix}{n}` (letters and digits only).
    pub prefix: String,
    /// Every bot's password (registered once).
    pub password: String,
    /// How often a bot decides what to do (a human rate: about once a second).
    pub think_every: Duration,
    /// Pause between starting two bots.
    pub spawn_spacing: Duration,
    /// The zones the simulator's mind may walk to.
    pub zones: Vec<i32>,
    /// Keep every acknowledged critical action's id for the report (fault tests).
    pub ledger: bool,
}

impl BotsConfig {
    pub fn new(url: &str, players: usize, seed: u64, seconds: u64) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            players: players.min(BOTS_MAX),
            seed,
            seconds,
            prefix: "bot".into(),
            password: "bot-password-0123".into(),
            think_every: Duration::from_millis(1_000),
            spawn_spacing: Duration::from_millis(20),
            zones: vec![1, 2],
            ledger: false,
        }
    }
}
