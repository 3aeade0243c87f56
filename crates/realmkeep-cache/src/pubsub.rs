//! Pub/sub channels and their typed messages (JSON on the wire), and publishing.
//!
//! Channels: `global_chat`, `kingdom_chat:{kingdom}`, `guild_chat:{guild_id}`, `server_events`,
//! `player_events:{player_id}`. Pub/sub is at most once: whatever is published while a
//! subscriber is away is lost. So a player event that must arrive (a kick after a ban, a mail
//! notification) also goes into the player's inbox stream ([`crate::Inbox`]), and PostgreSQL
//! (the bans and mail tables) stays the final word.

use crate::core::{Cache, Core};
use crate::inbox::InboxId;
use crate::token::now_unix_ms;
use crate::{keys, CacheError};
use realmkeep_domain::{CharacterId, CharacterName, GuildId, Kingdom, MailId, ZoneId};
use serde::{Deserialize, Serialize};

/// Largest message published or accepted, serialized.
pub const PUBSUB_PAYLOAD_BYTES_MAX: usize = 16 * 1024;
/// Longest chat line, announcement or kick reason.
pub const CHAT_TEXT_CHARS_MAX: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    GlobalChat,
    KingdomChat(Kingdom),
    GuildChat(GuildId),
    ServerEvents,
    PlayerEvents(CharacterId),
}

impl Channel {
    pub fn name(&self) -> String {
        keys::channel_name(self)
    }
}

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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub channel: Channel,
    pub message: ChannelMessage,
}

/// What [`Events::notify_player`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notified {
    /// Subscribers that got it live (zero if the player's node was not listening).
    pub receivers: u64,
    /// Where it waits in the player's inbox, for must-arrive events.
    pub inbox_id: Option<InboxId>,
}

/// Publishing. Get it from [`Cache::events`].
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    cache: &'a Cache,
}

impl Cache {
    pub fn events(&self) -> Events<'_> {
        Events { cache: self }
    }
}

impl Events<'_> {
    fn core(&self) -> &Core {
        &self.cache.core
    }

    /// Publishes `message` on `channel`; returns how many subscribers got it. While Redis is
    /// down: [`CacheError::Unavailable`], and the caller delivers inside its zone only.
    pub async fn publish(
        &self,
        channel: &Channel,
        message: &ChannelMessage,
    ) -> Result<u64, CacheError> {
        if !message.fits(channel) {
            return Err(CacheError::Invalid {
                what: "message",
                detail: format!("does not belong on {}", channel.name()),
            });
        }
        let payload = message.encode()?;
        self.core()
            .query(
                &redis::cmd("PUBLISH")
                    .arg(channel.name())
                    .arg(payload)
                    .to_owned(),
            )
            .await
    }

    /// Sends `event` to a player: live on `player_events:{player}`, and for must-arrive events
    /// also into `player_inbox:{player}` in the same round trip. While Redis is down this fails;
    /// the caller relies on PostgreSQL (the ban refuses the next login, the mail waits in the
    /// mailbox).
    pub async fn notify_player(
        &self,
        player: CharacterId,
        event: PlayerEvent,
    ) -> Result<Notified, CacheError> {
        let must = event.must_arrive();
        let message = ChannelMessage::Player(event);
        let payload = message.encode()?;
        let mut pipe = redis::pipe();
        if must {
            crate::inbox::append_cmd(&mut pipe, player, &payload);
        }
        pipe.cmd("PUBLISH")
            .arg(keys::channel_name(&Channel::PlayerEvents(player)))
            .arg(&payload);
        if must {
            let (id, receivers): (String, u64) = self.core().query_pipe(&pipe).await?;
            Ok(Notified {
                receivers,
                inbox_id: Some(InboxId::parse(&id)?),
            })
        } else {
            let (receivers,): (u64,) = self.core().query_pipe(&pipe).await?;
            Ok(Notified {
                receivers,
                inbox_id: None,
            })
        }
    }
}
