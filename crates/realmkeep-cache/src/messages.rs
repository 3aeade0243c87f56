//! The typed messages that travel between nodes (JSON on the wire): chat lines, server events,
//! player events, each checked against its bounds when encoded and parsed at the boundary when
//! decoded. Shared by publishing ([`crate::pubsub`]), the subscriber, chat history and the
//! player inbox; no Redis here.

use crate::clock::now_unix_ms;
use crate::error::CacheError;
use crate::vocab::{Channel, QueueKind};
use realmkeep_domain::{AdminOrder, CharacterId, CharacterName, GuildId, MailId, ZoneId};
use serde::{Deserialize, Serialize};

/// Largest message published or accepted, serialized.
pub const PUBSUB_PAYLOAD_BYTES_MAX: usize = 16 * 1024;
/// Longest chat line, announcement or kick reason.
pub const CHAT_TEXT_CHARS_MAX: usize = 256;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLine {
    pub from: CharacterId,
    pub from_name: CharacterName,
    pub text: String,
    pub sent_unix_ms: i64,
}

impl ChatLine {
    /// A line sent now; refused if empty or longer than [`CHAT_TEXT_CHARS_MAX`].
    pub fn new(
        from: CharacterId,
        from_name: CharacterName,
        text: &str,
    ) -> Result<Self, CacheError> {
        let text = text.trim();
        check_text(text)?;
        Ok(Self {
            from,
            from_name,
            text: text.to_string(),
            sent_unix_ms: now_unix_ms(),
        })
    }
}

fn check_text(text: &str) -> Result<(), CacheError> {
    let n = text.chars().count();
    if n == 0 || n > CHAT_TEXT_CHARS_MAX {
        return Err(CacheError::Invalid {
            what: "text",
            detail: format!("1 to {CHAT_TEXT_CHARS_MAX} characters expected"),
        });
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServerEvent {
    WorldBoss {
        zone: ZoneId,
        name: String,
    },
    Maintenance {
        starts_unix_ms: i64,
        message: String,
    },
    Announcement {
        text: String,
    },
    /// `by` declared war on `on` (`at_war`), or one of them ended it: every node reads the
    /// wars in force again and tells the online members of both guilds.
    GuildWar {
        by: GuildId,
        on: GuildId,
        at_war: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PlayerEvent {
    /// Disconnect the player (a ban, an admin kick). Must arrive.
    Kicked {
        reason: String,
    },
    /// A mail is waiting (the mail itself is in PostgreSQL). Must arrive.
    MailArrived {
        mail: MailId,
    },
    Whisper {
        line: ChatLine,
    },
    FriendOnline {
        friend: CharacterId,
    },
    FriendOffline {
        friend: CharacterId,
    },
    /// The player's queue formed a full group (popped at once, `members` at most
    /// `GROUP_SIZE_MAX`): the player's connection takes it to `zone`, the queue's instance zone.
    GroupFormed {
        queue: QueueKind,
        zone: ZoneId,
        members: Vec<CharacterId>,
    },
    /// An operator's gold or item change, for the node whose zone holds the character (not for
    /// the player's connection). At most once: its sender reads the outcome from PostgreSQL
    /// under the order's key and gives the key up after its wait.
    Admin {
        order: AdminOrder,
    },
}

impl PlayerEvent {
    /// Whether losing it would be a bug: such events also go through the inbox stream.
    pub fn must_arrive(&self) -> bool {
        matches!(
            self,
            PlayerEvent::Kicked { .. } | PlayerEvent::MailArrived { .. }
        )
    }
}

/// What travels on a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum ChannelMessage {
    Chat(ChatLine),
    Server(ServerEvent),
    Player(PlayerEvent),
}

impl ChannelMessage {
    /// Whether this message belongs on `channel` (chat on chat channels, and so on).
    pub fn fits(&self, channel: &Channel) -> bool {
        matches!(
            (self, channel),
            (
                ChannelMessage::Chat(_),
                Channel::GlobalChat | Channel::KingdomChat(_) | Channel::GuildChat(_)
            ) | (ChannelMessage::Server(_), Channel::ServerEvents)
                | (ChannelMessage::Player(_), Channel::PlayerEvents(_))
        )
    }

    /// Serialized and checked against the bounds.
    pub(crate) fn encode(&self) -> Result<String, CacheError> {
        let s = serde_json::to_string(self).expect("channel messages serialize");
        if s.len() > PUBSUB_PAYLOAD_BYTES_MAX {
            return Err(CacheError::Limit {
                what: "message bytes",
                max: PUBSUB_PAYLOAD_BYTES_MAX,
            });
        }
        Ok(s)
    }

    /// Parsed at the boundary: oversized or malformed payloads are `None`.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > PUBSUB_PAYLOAD_BYTES_MAX {
            return None;
        }
        let m: Self = serde_json::from_slice(bytes).ok()?;
        let text_ok = match &m {
            ChannelMessage::Chat(l) | ChannelMessage::Player(PlayerEvent::Whisper { line: l }) => {
                check_text(&l.text).is_ok()
            }
            _ => true,
        };
        text_ok.then_some(m)
    }
}

/// A message as a subscriber receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub channel: Channel,
    pub message: ChannelMessage,
}
