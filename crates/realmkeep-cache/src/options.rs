//! How a [`crate::Cache`] is set up: the node it runs on, the session secret, timeouts, limits
//! per action, queue rules, and the PostgreSQL-side sources it rebuilds from.

use crate::sources::{DefinitionSource, LeaderboardSource};
use crate::token::SessionSecret;
use crate::vocab::{QueueKind, RateAction};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Longest a command may wait for Redis before the caller gets a degraded answer.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);

/// How long the health check (the lease refresh) waits for its answer. Longer than a command's
/// timeout (`COMMAND_TIMEOUT`): a node so loaded that commands miss their 250 ms (a rush of
/// logins on two cores) is slow, not cut off, and declaring Redis down then would refuse every
/// ticket until the reconnect. Redis unanswered this long, twice in a row, is down.
pub const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(1);
const _: () = assert!(HEALTH_CHECK_TIMEOUT.as_millis() >= 4 * COMMAND_TIMEOUT.as_millis());

/// Longest one connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How often the health watcher checks Redis (and refreshes the node lease) while it is up.
pub const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// Reconnect backoff: first delay, doubled up to the max.
pub const RECONNECT_DELAY_MIN: Duration = Duration::from_millis(100);
pub const RECONNECT_DELAY_MAX: Duration = Duration::from_secs(2);
/// A node's lease lives this long without a refresh; then a surviving node removes its ghosts.
pub const NODE_LEASE_TTL: Duration = Duration::from_secs(10);
/// How often a node looks for dead nodes to clean up.
pub const NODE_SWEEP_INTERVAL: Duration = Duration::from_secs(5);
/// How often the node refreshes the presence of every player it holds (well under the TTL).
pub const PRESENCE_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// How often a node checks that the leaderboards are still in Redis.
pub const LEADERBOARD_CHECK_INTERVAL: Duration = Duration::from_secs(10);

pub use crate::vocab::{NodeId, NODE_ID_CHARS_MAX};

/// Default limits, per IP address.
pub const LOGIN_LIMIT_PER_MINUTE: u32 = 10;
pub const REGISTER_LIMIT_PER_HOUR: u32 = 5;
pub const CHAT_LIMIT_PER_10_S: u32 = 20;
pub const TICKET_LIMIT_PER_MINUTE: u32 = 30;
pub const WS_JOIN_LIMIT_PER_MINUTE: u32 = 30;
pub const WS_MOVE_LIMIT_PER_10_S: u32 = 1_000;
pub const WS_ACT_LIMIT_PER_10_S: u32 = 500;
pub const WHISPER_LIMIT_PER_10_S: u32 = 20;
pub const TRADE_LIMIT_PER_MINUTE: u32 = 30;
pub const MARKET_LIMIT_PER_MINUTE: u32 = 60;
pub const MAIL_LIMIT_PER_MINUTE: u32 = 10;

/// `limit` hits per `window` for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub action: RateAction,
    pub limit: u32,
    pub window: Duration,
}

impl RateLimitConfig {
    pub fn default_for(action: RateAction) -> Self {
        let (limit, secs) = match action {
            RateAction::Login => (LOGIN_LIMIT_PER_MINUTE, 60),
            RateAction::Register => (REGISTER_LIMIT_PER_HOUR, 3_600),
            RateAction::Chat => (CHAT_LIMIT_PER_10_S, 10),
            RateAction::Whisper => (WHISPER_LIMIT_PER_10_S, 10),
            RateAction::Trade => (TRADE_LIMIT_PER_MINUTE, 60),
            RateAction::Market => (MARKET_LIMIT_PER_MINUTE, 60),
            RateAction::Mail => (MAIL_LIMIT_PER_MINUTE, 60),
            RateAction::Ticket => (TICKET_LIMIT_PER_MINUTE, 60),
            RateAction::WsJoin => (WS_JOIN_LIMIT_PER_MINUTE, 60),
            // Per address: a household or a NAT shares it. The zone bounds each player further
            // (`COMMANDS_PER_PLAYER_PER_TICK_MAX`).
            RateAction::WsMove => (WS_MOVE_LIMIT_PER_10_S, 10),
            RateAction::WsSay => (CHAT_LIMIT_PER_10_S, 10),
            RateAction::WsAct => (WS_ACT_LIMIT_PER_10_S, 10),
        };
        Self {
            action,
            limit,
            window: Duration::from_secs(secs),
        }
    }

    pub fn defaults() -> Vec<Self> {
        RateAction::ALL
            .iter()
            .map(|a| Self::default_for(*a))
            .collect()
    }
}

/// Players in a dungeon group and in an arena match.
pub const DUNGEON_GROUP_SIZE: usize = 5;
pub const ARENA_GROUP_SIZE: usize = 2;
/// How long a player may wait in a queue before being dropped from it.
pub const QUEUE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How one matchmaking queue forms groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    pub group_size: usize,
    pub timeout: Duration,
}

impl QueueConfig {
    pub fn default_for(kind: QueueKind) -> Self {
        let group_size = match kind {
            QueueKind::Dungeon => DUNGEON_GROUP_SIZE,
            QueueKind::Arena => ARENA_GROUP_SIZE,
        };
        Self {
            group_size,
            timeout: QUEUE_TIMEOUT,
        }
    }
}
/// Everything [`crate::Cache::connect`] needs besides the URL.
#[derive(Clone)]
pub struct CacheOptions {
    pub node: NodeId,
    pub session_secret: SessionSecret,
    pub command_timeout: Duration,
    pub connect_timeout: Duration,
    pub health_check_interval: Duration,
    pub node_lease_ttl: Duration,
    pub node_sweep_interval: Duration,
    pub presence_refresh_interval: Duration,
    pub leaderboard_check_interval: Duration,
    /// One entry per action; actions without one use [`RateLimitConfig::default_for`].
    pub rate_limits: Vec<RateLimitConfig>,
    pub dungeon_queue: QueueConfig,
    pub arena_queue: QueueConfig,
    /// Where leaderboards are rebuilt from (PostgreSQL). Without one, nothing is rebuilt.
    pub leaderboard_source: Option<Arc<dyn LeaderboardSource>>,
    /// Where definitions are read on a cache miss or while Redis is down (PostgreSQL).
    pub definition_source: Option<Arc<dyn DefinitionSource>>,
}

impl CacheOptions {
    /// The production defaults for `node`.
    pub fn new(node: NodeId, session_secret: SessionSecret) -> Self {
        Self {
            node,
            session_secret,
            command_timeout: COMMAND_TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            health_check_interval: HEALTH_CHECK_INTERVAL,
            node_lease_ttl: NODE_LEASE_TTL,
            node_sweep_interval: NODE_SWEEP_INTERVAL,
            presence_refresh_interval: PRESENCE_REFRESH_INTERVAL,
            leaderboard_check_interval: LEADERBOARD_CHECK_INTERVAL,
            rate_limits: RateLimitConfig::defaults(),
            dungeon_queue: QueueConfig::default_for(QueueKind::Dungeon),
            arena_queue: QueueConfig::default_for(QueueKind::Arena),
            leaderboard_source: None,
            definition_source: None,
        }
    }

    pub fn with_leaderboard_source(mut self, source: Arc<dyn LeaderboardSource>) -> Self {
        self.leaderboard_source = Some(source);
        self
    }

    pub fn with_definition_source(mut self, source: Arc<dyn DefinitionSource>) -> Self {
        self.definition_source = Some(source);
        self
    }

    pub(crate) fn queue(&self, kind: QueueKind) -> &QueueConfig {
        match kind {
            QueueKind::Dungeon => &self.dungeon_queue,
            QueueKind::Arena => &self.arena_queue,
        }
    }

    pub(crate) fn rate_limit(&self, action: RateAction) -> RateLimitConfig {
        self.rate_limits
            .iter()
            .find(|c| c.action == action)
            .cloned()
            .unwrap_or_else(|| RateLimitConfig::default_for(action))
    }
}

impl fmt::Debug for CacheOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheOptions")
            .field("node", &self.node)
            .field("session_secret", &self.session_secret)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("node_lease_ttl", &self.node_lease_ttl)
            .field("rate_limits", &self.rate_limits)
            .field("dungeon_queue", &self.dungeon_queue)
            .field("arena_queue", &self.arena_queue)
            .field("leaderboard_source", &self.leaderboard_source.is_some())
            .field("definition_source", &self.definition_source.is_some())
            .finish_non_exhaustive()
    }
}
