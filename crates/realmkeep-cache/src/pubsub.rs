//! Publishing on the pub/sub channels between nodes.
//!
//! Channels: `global_chat`, `kingdom_chat:{kingdom}`, `guild_chat:{guild_id}`, `server_events`,
//! `player_events:{player_id}`. Pub/sub is at most once: whatever is published while a
//! subscriber is away is lost. So a player event that must arrive (a kick after a ban, a mail
//! notification) also goes into the player's inbox stream ([`crate::Inbox`]), and PostgreSQL
//! (the bans and mail tables) stays the final word.

use crate::core::Core;
use crate::error::CacheError;
use crate::inbox::{self, InboxId};
use crate::keys;
use crate::messages::{ChannelMessage, PlayerEvent};
use crate::vocab::Channel;
use realmkeep_domain::CharacterId;

/// What [`Events::notify_player`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notified {
    /// Subscribers that got it live (zero if the player's node was not listening).
    pub receivers: u64,
    /// Where it waits in the player's inbox, for must-arrive events.
    pub inbox_id: Option<InboxId>,
}

/// Publishing. Get it from [`crate::Cache::events`].
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    core: &'a Core,
}

impl<'a> Events<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }
}

impl Events<'_> {
    fn core(&self) -> &Core {
        self.core
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
            inbox::append_cmd(&mut pipe, player, &payload);
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
