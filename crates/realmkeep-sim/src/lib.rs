//! Simulated players in process (the zone benchmark, the crash tests, `serve --sim-players`): a
//! driver that plays through the same command path the gateway's clients use. Players over real
//! sockets (the demo's, the gateway benchmark's) are `realmkeep-bots`, which reuse this crate's
//! decision function (`mind`).
//!
//! A simulated player logs in (`Store::login` for a sample, see `seed`), opens a session in the
//! cache and has it validated before each join, joins a zone through the cluster
//! (`Cluster::join`), then plays with `PlayerCommand`s sent to its `ZoneHost` and reads its
//! `Notice`s back: it walks, fights monsters, picks up loot, levels up, trades with other
//! simulated players (offer and mirror offer, through the zone), chats, changes zones
//! (`PlayerCommand::ChangeZone`) and logs out (`PlayerCommand::Logout`); it lists, searches and
//! buys on the marketplace and sends and claims mail with zone commands too, and is shown its
//! purse and bag as the zone's receipts leave them. It never calls the store and never reads a
//! claim. Only the dungeon queue goes elsewhere, to the cache's matchmaking, as a client would.
//!
//! # Architecture invariants
//!
//! - Decisions are pure (`mind`): a seeded `StdRng` per player, and nothing but the seed and what
//!   the player observed decides what it does. The wall clock decides only when it acts.
//! - The simulator holds no privileged path: it never writes gold, items or positions itself;
//!   whatever changes goes through a zone command, fenced by the zone's claim like a client's.
//! - Everything is bounded (`limits`): players, actions per step, pending actions per player,
//!   store calls and joins in flight, notices read per step, the receipts queue.
//!
//! # Layout
//!
//! - `mind`: `Observation` → `Intent`, the decision function; `behaviour`: its rates.
//! - `seed`: accounts and characters made once (one password hash for all), found again later.
//! - `driver`: `Population` — `spawn`, `step`, `run_until`/`run_for`, stats; `calls`: the
//!   answers of joins and cache calls coming back, and the stand-in matchmaker.
//! - `turn`: a player's turn (observe, decide, act), `logout_all`.
//! - `player`: one player's place (offline, joining, in a zone, moving, logging out), its
//!   pending action and what its notices tell it.
//! - `observe`: the client's view of the world, read with `ZoneHost::inspect`.
//! - `act`: the dungeon queue (matchmaking).
//! - `stats`: counters and `TradeReceipt`s of acknowledged trades.

mod act;
mod behaviour;
mod calls;
mod driver;
pub mod limits;
pub mod mind;
pub mod observe;
mod player;
pub mod seed;
pub mod stats;
mod turn;

pub use driver::{LogoutReport, Population, SimConfig, SpawnReport};
pub use mind::{Behaviour, Intent, Mind, Observation, Pace};
pub use stats::{SimStats, StatsSnapshot, TradeReceipt};

/// What the simulator can fail with (setting up players; playing never fails, it counts).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the store failed: {0}")]
    Store(#[from] realmkeep_store::StoreError),
    #[error("the host failed: {0}")]
    Host(#[from] realmkeep_server::HostError),
    #[error("{0}")]
    Invalid(String),
}
