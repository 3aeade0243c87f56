//! The words every layer of the crate shares: ids and small enums that name things in Redis
//! (nodes, chat and pub/sub channels, war pairs, boards, queues, limited actions), and the two
//! shapes of a degraded answer ([`Served`], [`Lookup`]). Architecture invariant: this module uses
//! nothing of the crate but its error type, so [`crate::keys`] and every feature can stand on it.
//! How each is spelled in Redis is in [`crate::keys`] (e.g. [`Channel::name`]).

use crate::error::CacheError;
use realmkeep_domain::{CharacterId, GuildId, Kingdom, ZoneId};
use std::fmt;

/// Node ids are short: they are part of keys.
pub const NODE_ID_CHARS_MAX: usize = 64;

/// The id of a server node (a process hosting zones). Letters, digits, `-` and `_` only.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct NodeId(String);

impl NodeId {
    pub fn parse(raw: &str) -> Result<Self, CacheError> {
        let ok = !raw.is_empty()
            && raw.len() <= NODE_ID_CHARS_MAX
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(CacheError::Invalid {
                what: "node id",
                detail: format!(
                    "1 to {NODE_ID_CHARS_MAX} ASCII letters, digits, '-' or '_' expected"
                ),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NodeId {
    type Error = CacheError;
    fn try_from(s: String) -> Result<Self, CacheError> {
        Self::parse(&s)
    }
}

impl From<NodeId> for String {
    fn from(n: NodeId) -> String {
        n.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pub/sub channel between nodes. Its name is formed in [`crate::keys`] ([`Channel::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    GlobalChat,
    KingdomChat(Kingdom),
    GuildChat(GuildId),
    ServerEvents,
    PlayerEvents(CharacterId),
}

/// Where a chat line is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatChannel {
    Global,
    Kingdom(Kingdom),
    Guild(GuildId),
    /// Said in a zone: delivered by the zone itself, kept in history here.
    Zone(ZoneId),
}

impl ChatChannel {
    /// The pub/sub channel that carries it across zones, if any.
    pub fn pubsub(&self) -> Option<Channel> {
        match self {
            ChatChannel::Global => Some(Channel::GlobalChat),
            ChatChannel::Kingdom(k) => Some(Channel::KingdomChat(*k)),
            ChatChannel::Guild(g) => Some(Channel::GuildChat(*g)),
            ChatChannel::Zone(_) => None,
        }
    }
}

/// Two different guilds, in canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WarPair {
    first: GuildId,
    second: GuildId,
}

impl WarPair {
    /// `None` if both are the same guild.
    pub fn new(a: GuildId, b: GuildId) -> Option<Self> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(Self {
                first: a,
                second: b,
            }),
            std::cmp::Ordering::Greater => Some(Self {
                first: b,
                second: a,
            }),
            std::cmp::Ordering::Equal => None,
        }
    }

    pub fn first(&self) -> GuildId {
        self.first
    }

    pub fn second(&self) -> GuildId {
        self.second
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaderboardKind {
    Pvp,
    Level,
}

impl LeaderboardKind {
    pub const ALL: &'static [LeaderboardKind] = &[LeaderboardKind::Pvp, LeaderboardKind::Level];

    pub fn as_str(&self) -> &'static str {
        match self {
            LeaderboardKind::Pvp => "pvp",
            LeaderboardKind::Level => "level",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    Dungeon,
    Arena,
}

impl QueueKind {
    pub const ALL: &'static [QueueKind] = &[QueueKind::Dungeon, QueueKind::Arena];

    pub fn as_str(&self) -> &'static str {
        match self {
            QueueKind::Dungeon => "dungeon",
            QueueKind::Arena => "arena",
        }
    }
}

/// What a client does that is limited.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RateAction {
    Login,
    Register,
    Chat,
    Whisper,
    Trade,
    Market,
    Mail,
    /// `POST /v1/tickets`.
    Ticket,
    /// WebSocket commands, by kind.
    WsJoin,
    WsMove,
    WsSay,
    /// Socket commands that act (combat, quests, guilds, friends) or ask (leaderboards, info).
    WsAct,
}

impl RateAction {
    pub const ALL: &'static [RateAction] = &[
        RateAction::Login,
        RateAction::Register,
        RateAction::Chat,
        RateAction::Whisper,
        RateAction::Trade,
        RateAction::Market,
        RateAction::Mail,
        RateAction::Ticket,
        RateAction::WsJoin,
        RateAction::WsMove,
        RateAction::WsSay,
        RateAction::WsAct,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            RateAction::Login => "login",
            RateAction::Register => "register",
            RateAction::Chat => "chat",
            RateAction::Whisper => "whisper",
            RateAction::Trade => "trade",
            RateAction::Market => "market",
            RateAction::Mail => "mail",
            RateAction::Ticket => "ticket",
            RateAction::WsJoin => "ws_join",
            RateAction::WsMove => "ws_move",
            RateAction::WsSay => "ws_say",
            RateAction::WsAct => "ws_act",
        }
    }
}

/// Where a write went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// Written to Redis.
    Redis,
    /// Redis could not be used: kept on this node only (and written when Redis returns, where
    /// the feature's docs say so).
    Local,
}

/// A read, and whether it came from the node alone because Redis could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup<T> {
    pub value: T,
    pub degraded: bool,
}

impl<T> Lookup<T> {
    pub(crate) fn fresh(value: T) -> Self {
        Self {
            value,
            degraded: false,
        }
    }

    pub(crate) fn degraded(value: T) -> Self {
        Self {
            value,
            degraded: true,
        }
    }
}
