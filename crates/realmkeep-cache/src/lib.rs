//! Realmkeep's Tier 2 (ADR-005): everything the servers keep in Redis, behind a typed API that
//! keeps working, in a documented degraded mode, while Redis is unreachable.
//!
//! Architecture invariants:
//! - This is the only crate that speaks Redis, and [`keys`] is the only place a key or channel
//!   name is formed.
//! - Redis is never the source of truth. What must survive lives in PostgreSQL; this crate reads
//!   it only through the [`LeaderboardSource`] and [`DefinitionSource`] traits the binary
//!   implements over the store. It speaks no SQL.
//! - Every call is bounded: a per-command timeout ([`options::COMMAND_TIMEOUT`] by default),
//!   bounded queues, local maps and reads, each limit a named constant. No call panics or blocks
//!   its caller for longer than the timeout because Redis is down.
//!
//! # Layout
//!
//! The modules form layers; a module uses only modules of the layers below it, so the module
//! graph has no cycle (`tests/layers.rs` holds the table and checks it). Bottom first:
//! - foundations: `error` ([`CacheError`]), `clock` (unix time for keys and messages),
//!   `expiring` (the bounded, expiring map of degraded-mode state), `scripts` (every Lua script).
//! - `vocab`: the shared vocabulary: [`NodeId`], [`Channel`], [`ChatChannel`], [`WarPair`],
//!   [`LeaderboardKind`], [`QueueKind`], [`RateAction`], [`Served`], [`Lookup`].
//! - [`keys`] (every key, channel and TTL, with the table of auxiliary keys), [`token`] (signed
//!   session tokens), `sources` (the PostgreSQL-side traits), `messages` (what travels on
//!   channels: [`ChatLine`], [`ChannelMessage`], ...).
//! - [`options`]: [`CacheOptions`], the timeouts, [`RateLimitConfig`], [`QueueConfig`].
//! - `core`: the connection, its health, the per-command timeout, [`CacheMetrics`]. It knows no
//!   feature.
//! - one module per feature, each owning its degraded-mode state: `sessions`
//!   (`LocalSessions`: sessions accepted or revoked while Redis is down), `presence`
//!   (`NodeRegistry`: the node's players and zones), `rate_limit` (`LocalWindows`), `cooldowns`
//!   (`LocalCooldowns`), `leaderboard` (`RebuildGate`), `matchmaking`, `chat`, `guild_war`,
//!   `defs_cache`, `inbox`, `subscriber`; then the two built on another feature: `nodes`
//!   (leases, re-registration, sweeps of dead nodes, on `presence`) and `pubsub` (publishing,
//!   on `inbox`).
//! - `shared`: what every clone of a [`Cache`] shares: the core and each feature's state.
//! - `health`: the watcher task: health checks (the node-lease refresh), reconnects with
//!   backoff, and registering the node again (presence, sessions, leaderboards) when Redis
//!   returns. It calls the features; no feature calls it.
//! - `cache`: the [`Cache`] handle: `connect`, `close`, and one accessor per feature.
//! - [`mod@bench`]: `realmkeep bench cache`, against `redis-benchmark`.
//!
//! Redis itself runs with the repository's `config/redis.conf` (RDB every 15 minutes, a memory
//! cap with `volatile-lru`): see `docs/REDIS.md`.
//!
//! # Degraded mode, feature by feature
//!
//! When a command fails or times out the health watcher checks at once; when Redis is declared
//! down ([`Health::Down`]) calls skip Redis altogether and answer from the node, and the answer
//! says so (`degraded: true`, [`Served::Local`], a [`Lookup`] with `degraded: true`).
//!
//! | feature | while Redis is down | when it returns |
//! |---------|---------------------|-----------------|
//! | sessions | signature and expiry alone ([`SessionCheck::Valid`] `{ degraded: true }`); sessions revoked on this node stay refused; a ban cannot revoke other nodes' sessions (the PostgreSQL ban refuses the next login; tokens live [`token::SESSION_TOKEN_LIFETIME`]) | sessions accepted meanwhile are registered (`NX`, so tombstones win), local revocations written |
//! | rate limits | counted per node in a bounded map | Redis counts again |
//! | cooldowns | enforced from the node's local map (cooldowns it started or saw) | Redis again |
//! | presence, zone sets, entity counts | kept in the node's registry; lookups answer for this node only | the whole registry is written again (also whenever the node lease was found gone) |
//! | chat | delivered inside the zone ([`ChatSent::cross_zone`] false); history empty | subscribers resubscribe by themselves; global channels resume |
//! | pub/sub, inbox | publish fails; must-arrive events rely on PostgreSQL (bans, mail) | subscribers report `Connected { resumed: true }` |
//! | matchmaking | paused: [`MatchmakingError::Paused`] with [`MATCHMAKING_PAUSED_MESSAGE`] | queues as Redis kept them (lost if it restarted empty: players queue again) |
//! | leaderboards | reads fail ([`CacheError::Unavailable`]), updates dropped ([`Served::Local`]) | rebuilt from PostgreSQL after every reconnect, and whenever the `built` marker is gone |
//! | definition caches | read from PostgreSQL directly | read-through again |
//! | guild wars | unavailable; zones keep the wars they know | as Redis kept them |
//!
//! # Auxiliary keys
//!
//! Besides the keys of the spec: `session_revoked_before:{account}` (revoke all on a ban, in O(1)),
//! `node:{node}:lease|members|zones` and `nodes:known` (dead nodes leave no ghosts),
//! `zone:{id}:entity_count_by_node` (entity counts as a sum of per-node shares),
//! `chat_index:{channel}` (read the last N lines), `leaderboard:{kind}:built` and
//! `leaderboard:{kind}:rebuild:{node}` (rebuilds), `player_inbox:{player}` (must-arrive events).
//! [`keys`] has the full table with types and TTLs.

mod admin_sessions;
pub mod bench;
mod cache;
mod chat;
mod clock;
mod cooldowns;
mod core;
mod defs_cache;
mod error;
mod expiring;
mod gateways;
mod guild_war;
mod health;
mod inbox;
pub mod keys;
mod leaderboard;
mod login_backoff;
mod matchmaking;
mod messages;
mod nodes;
pub mod options;
mod presence;
mod pubsub;
mod rate_limit;
mod rate_tally;
mod scripts;
mod sessions;
mod shared;
pub mod snapshot;
mod sources;
mod subscriber;
mod tickets;
pub mod token;
mod vocab;

pub use crate::admin_sessions::{
    AdminSession, AdminSessions, AdminToken, ADMIN_SESSION_LIFETIME, ADMIN_TOKEN_CHARS,
};
pub use crate::cache::Cache;
pub use crate::chat::{Chat, ChatSent, CHAT_HISTORY_READ_MAX, CHAT_LINES_PER_SECOND_MAX};
pub use crate::cooldowns::{CooldownStart, Cooldowns, COOLDOWN_MAX};
pub use crate::core::{CacheMetrics, Health};
pub use crate::defs_cache::Definitions;
pub use crate::error::{BoxError, CacheError};
pub use crate::gateways::{Gateways, GATEWAY_URL_CHARS_MAX};
pub use crate::guild_war::{
    Declared, GuildWars, War, WarState, GUILD_WARS_READ_MAX, GUILD_WAR_DURATION_MAX,
};
pub use crate::health::HEALTH_TIMEOUTS_MAX;
pub use crate::inbox::{
    Inbox, InboxEntry, InboxId, INBOX_LEN_MAX, INBOX_PENDING_MAX, INBOX_READ_MAX,
};
pub use crate::leaderboard::{
    Leaderboards, RankedEntry, LEADERBOARD_BATCH_MAX, LEADERBOARD_ENTRIES_MAX,
    LEADERBOARD_PIPELINE_DEPTH, LEADERBOARD_READ_MAX,
};
pub use crate::login_backoff::{backoff_for, LoginBackoff, LOGIN_BACKOFF_MAX, LOGIN_FAILURES_FREE};
pub use crate::matchmaking::{
    Matchmaking, MatchmakingError, Popped, QueueJoin, MATCHMAKING_PAUSED_MESSAGE,
};
pub use crate::messages::{
    ChannelMessage, ChatLine, PlayerEvent, Received, ServerEvent, CHAT_TEXT_CHARS_MAX,
    PUBSUB_PAYLOAD_BYTES_MAX,
};
pub use crate::nodes::{
    SweepReport, REREGISTER_PIPELINE_MAX, SWEEP_BATCH, SWEEP_BATCHES_MAX, SWEEP_NODES_MAX,
};
pub use crate::options::{
    CacheOptions, QueueConfig, RateLimitConfig, ARENA_GROUP_SIZE, DUNGEON_GROUP_SIZE, QUEUE_TIMEOUT,
};
pub use crate::presence::{
    Presence, PresenceInfo, NODE_PLAYERS_MAX, NODE_ZONES_MAX, ZONE_PLAYERS_READ_MAX,
};
pub use crate::pubsub::{Events, Notified};
pub use crate::rate_limit::{RateDecision, RateLimits};
pub use crate::rate_tally::{
    RateTally, Tallied, RATE_TALLY_FLUSH_EVERY, RATE_TALLY_KEYS_MAX, RATE_TALLY_KEYS_PER_CALL_MAX,
};
pub use crate::sessions::{
    issued_at, InvalidSession, IssuedSession, SessionCheck, Sessions, REVOKED_CHECK_MAX,
};
pub use crate::sources::{DefinitionSource, LeaderboardSource};
pub use crate::subscriber::{
    Subscriber, SubscriberEvent, SUBSCRIBER_PING_INTERVAL, SUBSCRIBER_QUEUE_CAPACITY,
};
pub use crate::tickets::{Ticket, TicketGrant, Tickets, TICKET_CHARS_MAX};
pub use crate::token::{
    HeldSession, SessionClaims, SessionId, SessionSecret, SessionToken, TokenSigner,
};
pub use crate::vocab::{
    Channel, ChatChannel, LeaderboardKind, Lookup, NodeId, QueueKind, RateAction, Served, WarPair,
};
