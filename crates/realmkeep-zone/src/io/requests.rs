//! What the zone asks of the store and of the cache.

use super::{ChatChannel, PersistKind, RequestId};
use realmkeep_domain::{CharacterId, GuildId, Kingdom, MailId, SkillId, ZoneId};

/// One request for the store (its kinds: `crate::actions`).
#[derive(Debug, Clone, PartialEq)]
pub struct PersistRequest {
    pub id: RequestId,
    pub kind: PersistKind,
}

/// What the cache is asked to do (`realmkeep-cache`). Best effort, never answered.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheRequest {
    /// `zone:{id}:entity_count`, sent when it changed (at most once a second).
    EntityCount { zone: ZoneId, count: u32 },
    /// `leaderboard:{board}`.
    Leaderboard {
        board: Board,
        character: CharacterId,
        score: i64,
    },
    /// `cooldown:{player}:{skill}`, TTL the cooldown.
    Cooldown {
        character: CharacterId,
        skill: SkillId,
        ms: u32,
    },
    /// Tell a player (on any node, through its inbox) that a mail arrived.
    MailArrived { to: CharacterId, mail: MailId },
    /// Publish a chat message on a cross-zone channel.
    Chat {
        channel: ChatChannel,
        from: CharacterId,
        name: String,
        text: String,
        /// The speaker's kingdom and guild as the zone knows them now (the channel's key).
        kingdom: Kingdom,
        guild: Option<GuildId>,
    },
}

impl CacheRequest {
    /// The request's kind, for logs and spans.
    pub fn name(&self) -> &'static str {
        match self {
            CacheRequest::EntityCount { .. } => "entity_count",
            CacheRequest::Leaderboard { .. } => "leaderboard",
            CacheRequest::Cooldown { .. } => "cooldown",
            CacheRequest::MailArrived { .. } => "mail_arrived",
            CacheRequest::Chat { .. } => "chat",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    Level,
    Pvp,
}
