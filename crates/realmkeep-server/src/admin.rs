//! What an operator's action sends into the world through Redis, the same for the command line
//! (`realmkeep admin`) and the gateway's admin API. A kick puts an account out: every session of
//! the account revoked and every character of it that a zone holds sent `PlayerEvent::Kicked`
//! (live on its channel and into its inbox stream, so a node that was not listening still finds
//! it). An announcement goes to every connected player of every node on `server_events`.
//!
//! PostgreSQL stays the final word: a ban refuses the next login and the next claim whether or
//! not this reached Redis. This only shortens what is already in the world.
//!
//! `change.rs`: an operator's gold or item change, through the zone holding the character when
//! it is in the world.

mod change;

pub use change::{change_character, ChangeError, Reach, LIVE_CHANGE_WAIT};

use realmkeep_cache::{
    Cache, CacheError, Channel, ChannelMessage, PlayerEvent, ServerEvent, CHAT_TEXT_CHARS_MAX,
};
use realmkeep_domain::AccountId;
use realmkeep_store::{Store, StoreError};

/// What a kick reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kicked {
    /// Characters of the account held by a live claim, each sent `Kicked`.
    pub characters: usize,
    /// Subscribers that got the kicks live (the rest wait in the inboxes).
    pub live: u64,
}

/// Why a kick or an announcement did not go out.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("revoking the account's sessions: {0}")]
    Revoke(#[source] CacheError),
    #[error("listing the account's characters in the world: {0}")]
    Store(#[source] StoreError),
    #[error("kicking character {character}: {source}")]
    Kick {
        character: i64,
        #[source]
        source: CacheError,
    },
    #[error("the text must have 1 to {CHAT_TEXT_CHARS_MAX} characters")]
    Text,
    #[error("publishing on server_events: {0}")]
    Publish(#[source] CacheError),
}

/// Revokes every session of `account` and kicks each of its characters a zone holds.
pub async fn kick_account(
    store: &Store,
    cache: &Cache,
    account: AccountId,
    reason: &str,
) -> Result<Kicked, WorldError> {
    cache
        .sessions()
        .revoke_account(account)
        .await
        .map_err(WorldError::Revoke)?;
    let characters = store
        .claimed_characters_of_account(account)
        .await
        .map_err(WorldError::Store)?;
    let mut live = 0;
    for &c in &characters {
        let event = PlayerEvent::Kicked {
            reason: reason.to_string(),
        };
        let sent = cache
            .events()
            .notify_player(c, event)
            .await
            .map_err(|source| WorldError::Kick {
                character: c.0,
                source,
            })?;
        live += sent.receivers;
    }
    Ok(Kicked {
        characters: characters.len(),
        live,
    })
}

/// What an announcement says: a text, or a maintenance countdown that clients show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub text: String,
    /// Minutes from now until the maintenance starts.
    pub maintenance_in_minutes: Option<u64>,
}

impl Announcement {
    /// The server event, at `now_unix_ms`; refuses an empty or too long text.
    fn event(&self, now_unix_ms: i64) -> Result<ServerEvent, WorldError> {
        let text = self.text.trim();
        if text.is_empty() || text.chars().count() > CHAT_TEXT_CHARS_MAX {
            return Err(WorldError::Text);
        }
        Ok(match self.maintenance_in_minutes {
            None => ServerEvent::Announcement {
                text: text.to_string(),
            },
            Some(m) => ServerEvent::Maintenance {
                starts_unix_ms: now_unix_ms
                    .saturating_add((m.min(i64::MAX as u64) as i64).saturating_mul(60_000)),
                message: text.to_string(),
            },
        })
    }
}

/// Publishes an announcement on `server_events`; the gateways of every node deliver it to their
/// players. Returns how many subscribers got it.
pub async fn announce(cache: &Cache, a: &Announcement) -> Result<u64, WorldError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let event = a.event(now)?;
    cache
        .events()
        .publish(&Channel::ServerEvents, &ChannelMessage::Server(event))
        .await
        .map_err(WorldError::Publish)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_needs_a_text_within_the_chat_limit() {
        let a = |t: &str| Announcement {
            text: t.into(),
            maintenance_in_minutes: None,
        };
        assert!(matches!(a("  ").event(0), Err(WorldError::Text)));
        assert!(matches!(
            a(&"x".repeat(CHAT_TEXT_CHARS_MAX + 1)).event(0),
            Err(WorldError::Text)
        ));
        assert_eq!(
            a(" restart at noon ").event(0).unwrap(),
            ServerEvent::Announcement {
                text: "restart at noon".into()
            }
        );
        let m = Announcement {
            text: "maintenance".into(),
            maintenance_in_minutes: Some(5),
        };
        assert_eq!(
            m.event(1_000).unwrap(),
            ServerEvent::Maintenance {
                starts_unix_ms: 301_000,
                message: "maintenance".into()
            }
        );
    }
}
