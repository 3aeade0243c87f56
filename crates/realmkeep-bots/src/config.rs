//! What a bots run is: where, how many, which seed, how long, and how the bots play.

use std::time::Duration;

/// Bots one process runs at the most (a process here may open 20,000 files).
pub const BOTS_MAX: usize = 15_000;
/// Account set-ups (register, log in) of one process under way at once. Each costs the server
/// an Argon2id hash or two; a crowd that sent them all at once waited in the server's queue of
/// hashes past the client's timeout and tried again, and the server hashed for clients gone
/// (a 5,000-bot ramp held 1,325 after 15 minutes). In turn, they go at the server's pace.
pub const LOGINS_IN_FLIGHT_MAX: usize = 8;
/// Longest frame an echo bot sends (the protocol's frame bound).
pub const ECHO_FRAME_BYTES_MAX: usize = realmkeep_protocol::limits::FRAME_BYTES_MAX;

/// What the bots do once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Play {
    /// The simulator's mind decides, every `think_every`.
    Mind,
    /// Join and stay: no command at all (an idle player; the socket still reads what comes).
    Idle,
    /// Not protocol v1: a text frame of this many bytes to an echo endpoint (`url` is its
    /// `ws://` URL) every `think_every`, each answer timed (the gateway benchmark's reference).
    Echo { frame_bytes: usize },
}

#[derive(Debug, Clone)]
pub struct BotsConfig {
    /// The gateway's HTTP base URL (`http://127.0.0.1:7400`), or the echo's WebSocket URL.
    pub url: String,
    pub players: usize,
    /// Bot `i` of this run is named `{prefix}{first + i}` (several processes share the work).
    pub first: usize,
    pub seed: u64,
    pub seconds: u64,
    /// Account and character names are `{prefix}{n}` (letters and digits only).
    pub prefix: String,
    /// Every bot's password (registered once).
    pub password: String,
    /// The accounts exist already (a benchmark seeded them): log in without registering.
    pub registered: bool,
    pub play: Play,
    /// How often a bot decides what to do (a human rate: about once a second).
    pub think_every: Duration,
    /// Pause between starting two bots.
    pub spawn_spacing: Duration,
    /// The zones the simulator's mind may walk to.
    pub zones: Vec<i32>,
    /// How often the mind chooses chat and the economy over walking and fighting.
    pub pace: realmkeep_sim::Pace,
    /// Keep every acknowledged critical action's id for the report (fault tests).
    pub ledger: bool,
    /// At the end, stop in place before logging out and keep where each bot stood for the
    /// report (`Report::stood`: the demo's resume check).
    pub positions: bool,
}

impl BotsConfig {
    pub fn new(url: &str, players: usize, seed: u64, seconds: u64) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            players: players.min(BOTS_MAX),
            first: 0,
            seed,
            seconds,
            prefix: "bot".into(),
            password: "bot-password-0123".into(),
            registered: false,
            play: Play::Mind,
            think_every: Duration::from_millis(1_000),
            spawn_spacing: Duration::from_millis(20),
            zones: vec![1, 2],
            pace: realmkeep_sim::Pace::Lively,
            ledger: false,
            positions: false,
        }
    }
}
