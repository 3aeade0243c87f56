//! The host: runs zones and the save pipeline between the three tiers of ADR-005 — the zone's
//! ECS world in memory (Tier 3, `realmkeep-zone`), PostgreSQL (Tier 1, `realmkeep-store`) and
//! Redis (Tier 2, `realmkeep-cache`).
//!
//! Architecture invariants:
//! - The tick thread never awaits and never blocks on I/O. Each zone ticks on its own std thread
//!   at a fixed 20 Hz; it only `try_recv`s its inputs and `try_send`s its outputs on bounded
//!   channels. Everything that waits on PostgreSQL or Redis is an async worker.
//! - Nothing is acknowledged to a player before the store committed it. The zone acknowledges
//!   only on `Outcome::Ok`, which the store worker sends only after the store call returned; when
//!   a queue is full or PostgreSQL is down the answer is `Unavailable` ("try again").
//! - A character is released only after its final save succeeded: release *is* the final save
//!   (`Store::release`, one fenced transaction). A zone transfer's destination claims only after
//!   the source released, so no moment exists where two zones hold one character.
//! - Every queue is bounded by a named constant (`limits`), sized by `config::QueueSizes`.
//!
//! # Layout
//! - `host`: [`ZoneHost`], one zone: its tick thread and workers; join, leave, transfer,
//!   disconnect, commands, shutdown.
//! - `tick`: the fixed-step loop; `outbox`: where outputs go after a tick (backlogs, "try again").
//! - `actions`: one module per zone request, its execution against the `Store` (used by the
//!   store worker and the zone benchmark).
//! - `store_worker`: persistence requests → `actions::execute`, with a save lane (ordered,
//!   retried with backoff) and action lanes (one try, never acknowledged without a commit).
//! - `log_worker`: game logs in batches, held and retried while PostgreSQL is down (bounded).
//! - `cache_worker`: cache requests → `Cache` (best effort; the cache degrades by itself).
//! - `renewer`: renews every claim of a zone every lease/3 in one call; lost claims → `ClaimLost`.
//! - `jobs`: the node's periodic jobs (market and mail expiry, `game_logs` partition upkeep) on
//!   one scheduler task, by the node's `clock` (the real one, or one a test sets ahead).
//! - `events`: what follows a character leaving (Redis, transfers, refused spawns).
//! - `health`: what the host believes about PostgreSQL, and the retry backoff.
//! - [`Cluster`]: the zones of one node, transfers between them, status, shutdown on a signal;
//!   [`serve`]: a node as its own process (`realmkeep serve`).
//! - `metrics`: counters and latency histograms, read as [`HostMetrics`] snapshots.
//!
//! A crashed node needs nothing: its claims expire with their lease and another node may claim
//! the characters; whatever it acknowledged was committed first, so nothing acknowledged is lost.
//! Restarted under the same name, a node frees its dead process's claims at once (with a higher
//! epoch, so the dead process's writes are refused): it holds a PostgreSQL lock named after the
//! node while it runs, so a live process's claims are never taken (`Cluster::start`).

pub mod actions;
pub mod admin;
mod cache_worker;
pub mod clock;
mod cluster;
pub mod config;
mod error;
mod events;
mod friends;
mod health;
mod host;
mod jobs;
mod lag;
pub mod limits;
mod log_worker;
mod matchmaker;
mod messages;
mod metrics;
mod outbox;
mod pace;
mod renewer;
mod roster;
mod serve;
mod signal;
mod sources;
mod store_worker;
pub mod telemetry;
mod tick;
#[cfg(test)]
mod tick_tests;
mod wars;
#[cfg(test)]
mod worker_tests;
mod zone_adapter;

pub use cluster::{Cluster, ClusterStatus, ZoneStatus};
pub use config::{ClusterConfig, Endpoints, HostConfig, JobIntervals, QueueSizes};
pub use error::HostError;
pub use health::StoreHealth;
pub use host::{holder_name, JoinReceipt, ShutdownReport, ZoneHost};
pub use jobs::JobMetrics;
pub use messages::{
    notice_channel, Notice, NoticeReceiver, NoticeRecvError, NoticeSendError, NoticeSender,
};
pub use metrics::{HostMetrics, Latency, Percentiles, TickWindowTaken};
pub use serve::{serve, STATUS_LOG_INTERVAL};
pub use signal::shutdown_signal;
pub use sources::{ContentDefinitions, StoreLeaderboards};
