//! Every bound of the simulator, named once. Units last in names.

use std::time::Duration;

/// Simulated players one population holds at the most (a zone holds 4,096; two zones' worth).
pub const PLAYERS_MAX: usize = 8_192;
/// Players that decide and act in one step; the others wait for the next step (round robin), so
/// a large population never floods the zones' command lanes in one go.
pub const ACTIONS_PER_STEP_MAX: usize = 1_024;
/// Actions of one player waiting for an answer (a store call, a trade waiting for its partner, a
/// zone change): a player with one pending only walks and fights until it is answered.
pub const PENDING_ACTIONS_PER_PLAYER_MAX: usize = 1;
/// Cache calls (matchmaking) in flight at once across the population.
pub const STORE_CALLS_IN_FLIGHT_MAX: usize = 16;
/// Joins in flight at once while spawning or re-joining.
pub const JOINS_IN_FLIGHT_MAX: usize = 8;
/// Notices read from one player's channel in one step (the host queues at most 256).
pub const NOTICES_PER_STEP_MAX: usize = 256;
/// Monsters, loot and peers one observation carries at the most, nearest first.
pub const OBSERVED_THINGS_MAX: usize = 4;
pub const OBSERVED_PEERS_MAX: usize = 16;
/// Bag items one observation carries at the most.
pub const OBSERVED_BAG_MAX: usize = 60;
/// Rows of one marketplace search.
pub const MARKET_SEARCH_ROWS: i64 = 20;
/// How long a listing of a simulated player lasts.
pub const LISTING_HOURS: i64 = 24;
/// Steps a trade offer waits for its partner before the player stops waiting (the zone keeps
/// offers for 30 s).
pub const TRADE_WAIT_STEPS: u64 = 100;
/// Steps a zone change or a logout waits for the zone's answer before the player is considered
/// offline and joins again.
pub const MOVE_WAIT_STEPS: u64 = 600;
/// Steps between two join attempts of an offline player (a claim still held elsewhere expires
/// with its lease).
pub const REJOIN_AFTER_STEPS: u64 = 20;
/// Steps between two matchmaking pops of the driver (it stands in for the matchmaker).
pub const MATCHMAKING_POP_EVERY_STEPS: u64 = 10;
/// Trade receipts queued for a reader (`Population::receipts`); beyond, they are counted and
/// dropped.
pub const RECEIPTS_QUEUE_MAX: usize = 4_096;
/// Players logged in with the real Argon2 check when a population spawns; the others get their
/// session straight from the account id the seeding returned (Argon2 costs ~50 ms of a core).
pub const REAL_LOGINS_MAX: usize = 8;
/// The default pace: a step every 100 ms (two zone ticks).
pub const STEP_DEFAULT: Duration = Duration::from_millis(100);
