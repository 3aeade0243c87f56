//! The command line's way into the world through Redis: a cache handle of its own for one
//! command, then the server crate's `admin` (the kick and the announcement the gateway's admin
//! API sends too).

use crate::cli::{MaybeRedis, RedisArgs};
use anyhow::{bail, Context, Result};
use realmkeep_cache::{Cache, CacheOptions, NodeId, SessionSecret};
use realmkeep_domain::{AccountId, AdminChange, AdminReceipt, CharacterId};
use realmkeep_server::admin::{change_character, Announcement, Kicked, Reach};
use realmkeep_store::admin::AdminNote;
use realmkeep_store::Store;
use std::time::Duration;

/// How long an admin command waits for Redis to answer before it gives up on delivery.
const REDIS_ANSWER_WAIT: Duration = Duration::from_secs(5);
/// Bytes of the throwaway session secret of the admin's cache handle: it issues and validates
/// no token, but a cache handle needs a secret.
const THROWAWAY_SECRET_BYTES: usize = 32;

/// Revokes every session of `account` and kicks each of its characters a zone holds.
pub async fn kick_account(
    store: &Store,
    redis: &RedisArgs,
    account: AccountId,
    reason: &str,
) -> Result<Kicked> {
    let cache = connect(redis).await?;
    let done = realmkeep_server::admin::kick_account(store, &cache, account, reason).await;
    cache.close().await;
    Ok(done?)
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

/// An operator's gold or item change of `c`: at once out of the world; in the world, through
/// the zone holding it, over Redis when `redis` names it (refused with "in the world" otherwise).
pub async fn change(
    store: &Store,
    redis: &MaybeRedis,
    c: CharacterId,
    change: AdminChange,
    note: &AdminNote,
) -> Result<AdminReceipt> {
    let cache = match &redis.redis_url {
        Some(url) => Some(
            connect(&RedisArgs {
                redis_url: url.clone(),
            })
            .await?,
        ),
        None => None,
    };
    let reach = Reach {
        store,
        cache: cache.as_ref(),
        node: None,
    };
    let done = change_character(reach, c, change, note).await;
    if let Some(cache) = cache {
        cache.close().await;
    }
    Ok(done?)
}

/// Publishes an announcement (or a maintenance countdown) on `server_events`. Returns how many
/// subscribers got it.
pub async fn announce(redis: &RedisArgs, a: &Announcement) -> Result<u64> {
    let cache = connect(redis).await?;
    let sent = realmkeep_server::admin::announce(&cache, a).await;
    cache.close().await;
    Ok(sent?)
}
