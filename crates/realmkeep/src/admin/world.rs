//! What admin commands send into the world through Redis. A kick puts an account out: every
//! session of the account revoked and every character of it that a zone holds sent
//! `PlayerEvent::Kicked` (live on its channel and into its inbox stream, so a node that was not
//! listening still finds it). An announcement goes to every connected player on `server_events`.
//!
//! PostgreSQL stays the final word: a ban refuses the next login and the next claim whether or
//! not this reached Redis. This only shortens what is already in the world.

use crate::cli::RedisArgs;
use anyhow::{bail, Context, Result};
use realmkeep_cache::{Cache, CacheOptions, NodeId, PlayerEvent, SessionSecret};
use realmkeep_domain::AccountId;
use realmkeep_store::Store;
use std::time::Duration;

/// How long an admin command waits for Redis to answer before it gives up on delivery.
const REDIS_ANSWER_WAIT: Duration = Duration::from_secs(5);
/// Bytes of the throwaway session secret of the admin's cache handle: it issues and validates
/// no token, but a cache handle needs a secret.
const THROWAWAY_SECRET_BYTES: usize = 32;

/// What a kick reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kicked {
    /// Characters of the account held by a live claim, each sent `Kicked`.
    pub characters: usize,
    /// Subscribers that got the kicks live (the rest wait in the inboxes).
    pub live: u64,
}

/// Revokes every session of `account` and kicks each of its characters a zone holds.
pub async fn kick_account(
    store: &Store,
    redis: &RedisArgs,
    account: AccountId,
    reason: &str,
) -> Result<Kicked> {
    let cache = connect(redis).await?;
    let done = deliver(store, &cache, account, reason).await;
    cache.close().await;
    done
}

/// A cache handle for one admin command, under a node name of its own (closed afterwards, so it
/// leaves no node registered behind).
async fn connect(redis: &RedisArgs) -> Result<Cache> {
    let node = NodeId::parse(&format!("admin-{}", std::process::id()))?;
    let secret: Vec<u8> = (0..THROWAWAY_SECRET_BYTES)
        .map(|_| rand::random::<u8>())
        .collect();
    let cache = Cache::connect(
        &redis.redis_url,
        CacheOptions::new(node, SessionSecret::new(&secret)?),
    )
    .await
    .context("opening Redis")?;
    if !cache.wait_until_up(REDIS_ANSWER_WAIT).await {
        cache.close().await;
        bail!(
            "Redis at {} did not answer within {REDIS_ANSWER_WAIT:?} (down, or a wrong user or password)",
            realmkeep_domain::redact_url(&redis.redis_url)
        );
    }
    Ok(cache)
}

async fn deliver(store: &Store, cache: &Cache, account: AccountId, reason: &str) -> Result<Kicked> {
    cache
        .sessions()
        .revoke_account(account)
        .await
        .context("revoking the account's sessions")?;
    let characters = store
        .claimed_characters_of_account(account)
        .await
        .context("listing the account's characters in the world")?;
    let mut live = 0;
    for &c in &characters {
        let event = PlayerEvent::Kicked {
            reason: reason.to_string(),
        };
        let sent = cache
            .events()
            .notify_player(c, event)
            .await
            .with_context(|| format!("kicking character {}", c.0))?;
        live += sent.receivers;
    }
    Ok(Kicked {
        characters: characters.len(),
        live,
    })
}

/// Publishes an announcement (or a maintenance countdown) on `server_events`; the gateways of
/// every node deliver it to their players. Returns how many subscribers got it.
pub async fn announce(
    redis: &RedisArgs,
    text: &str,
    maintenance_in_minutes: Option<u64>,
) -> Result<u64> {
    use realmkeep_cache::{Channel, ChannelMessage, ServerEvent};
    let text = text.trim();
    if text.is_empty() || text.chars().count() > realmkeep_cache::CHAT_TEXT_CHARS_MAX {
        bail!(
            "the text must have 1 to {} characters",
            realmkeep_cache::CHAT_TEXT_CHARS_MAX
        );
    }
    let event = match maintenance_in_minutes {
        None => ServerEvent::Announcement {
            text: text.to_string(),
        },
        Some(m) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            ServerEvent::Maintenance {
                starts_unix_ms: now.saturating_add((m as i64).saturating_mul(60_000)),
                message: text.to_string(),
            }
        }
    };
    let cache = connect(redis).await?;
    let sent = cache
        .events()
        .publish(&Channel::ServerEvents, &ChannelMessage::Server(event))
        .await;
    cache.close().await;
    sent.context("publishing on server_events")
}
