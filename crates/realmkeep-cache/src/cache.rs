//! The [`Cache`] handle: connecting (which starts the health watcher), a clean stop, and one
//! accessor per feature, each handing the feature the core and its own state. Adding a feature
//! is its module, its accessor here, its state in `shared` if it keeps any, and its layer in
//! `tests/layers.rs`.

use crate::admin_sessions::AdminSessions;
use crate::chat::Chat;
use crate::cooldowns::Cooldowns;
use crate::core::{lock, CacheMetrics, Health};
use crate::defs_cache::Definitions;
use crate::error::CacheError;
use crate::gateways::Gateways;
use crate::guild_war::GuildWars;
use crate::health::{self, Recovery};
use crate::inbox::Inbox;
use crate::leaderboard::Leaderboards;
use crate::login_backoff::LoginBackoff;
use crate::matchmaking::Matchmaking;
use crate::nodes;
use crate::options::CacheOptions;
use crate::presence::Presence;
use crate::pubsub::Events;
use crate::rate_limit::RateLimits;
use crate::rate_tally::{self, RateTally};
use crate::sessions::Sessions;
use crate::shared::Shared;
use crate::subscriber::Subscriber;
use crate::tickets::Tickets;
use crate::vocab::{Channel, NodeId, Served};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The handle to Redis for one node: cheap to clone, shared by every zone of the node.
#[derive(Clone)]
pub struct Cache {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("node", &self.shared.core.opts.node)
            .field("health", &self.shared.core.health())
            .finish()
    }
}

impl Cache {
    /// Connects to Redis at `url` and starts the health watcher. Fails only for a URL that does
    /// not parse: a Redis that is down at start gives a cache that starts degraded and connects
    /// in the background.
    pub async fn connect(url: &str, opts: CacheOptions) -> Result<Cache, CacheError> {
        let client = redis::Client::open(url).map_err(|e| CacheError::Invalid {
            what: "Redis URL",
            detail: e.to_string(),
        })?;
        let shared = Arc::new(Shared::new(client, opts));
        match shared.core.open_connection().await {
            Ok(conn) => {
                if let Err(e) = health::recover(&shared, conn, Recovery::Start).await {
                    tracing::warn!(error = %e, "Redis answered but the first registration failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "Redis is unreachable at start: degraded mode"),
        }
        let watcher = tokio::spawn(health::watch(Arc::downgrade(&shared)));
        *lock(&shared.watcher) = Some(watcher);
        let wake = rate_tally::wake_of(&shared.tally);
        let flusher = tokio::spawn(flush_tally(Arc::downgrade(&shared), wake));
        *lock(&shared.tally_flusher) = Some(flusher);
        Ok(Cache { shared })
    }

    pub fn node(&self) -> &NodeId {
        &self.shared.core.opts.node
    }

    pub fn health(&self) -> Health {
        self.shared.core.health()
    }

    /// Changes of health, for the zone's status line and for tests.
    pub fn watch_health(&self) -> watch::Receiver<Health> {
        self.shared.core.watch_health()
    }

    pub fn metrics(&self) -> CacheMetrics {
        self.shared.core.metrics()
    }

    /// A clean stop of the node: the health watcher stops (no more lease, no reconnects), every
    /// player of the node leaves its zone, and the node's lease and sets go. `Local` if Redis
    /// could not be reached: then the surviving nodes sweep what is left once the lease expires.
    pub async fn close(&self) -> Served {
        let watcher = lock(&self.shared.watcher).take();
        if let Some(w) = watcher {
            w.abort();
            let _ = w.await;
        }
        // What the tally holds is counted before the node goes (it would be lost, not wrong).
        let flusher = lock(&self.shared.tally_flusher).take();
        if let Some(f) = flusher {
            f.abort();
            let _ = f.await;
        }
        rate_tally::flush(
            &self.shared.core,
            &self.shared.rate_limits,
            &self.shared.tally,
        )
        .await;
        nodes::close_node(&self.shared.core, &self.shared.registry).await
    }

    /// Waits until Redis is up, at most `max`; true if it is.
    pub async fn wait_until_up(&self, max: Duration) -> bool {
        let mut rx = self.watch_health();
        let r = tokio::time::timeout(max, rx.wait_for(|h| h.is_up())).await;
        matches!(r, Ok(Ok(_)))
    }

    pub fn sessions(&self) -> Sessions<'_> {
        Sessions::new(&self.shared.core, &self.shared.sessions)
    }

    pub fn gateways(&self) -> Gateways<'_> {
        Gateways::new(&self.shared.core)
    }

    pub fn tickets(&self) -> Tickets<'_> {
        Tickets::new(&self.shared.core)
    }

    pub fn admin_sessions(&self) -> AdminSessions<'_> {
        AdminSessions::new(&self.shared.core)
    }

    pub fn login_backoff(&self) -> LoginBackoff<'_> {
        LoginBackoff::new(&self.shared.core)
    }

    pub fn presence(&self) -> Presence<'_> {
        Presence::new(&self.shared.core, &self.shared.registry)
    }

    pub fn matchmaking(&self) -> Matchmaking<'_> {
        Matchmaking::new(&self.shared.core)
    }

    pub fn chat(&self) -> Chat<'_> {
        Chat::new(&self.shared.core)
    }

    pub fn rate_limits(&self) -> RateLimits<'_> {
        RateLimits::new(&self.shared.core, &self.shared.rate_limits)
    }

    /// The frequent hits' rate limits, tallied on the node and counted in Redis a flush later.
    pub fn rate_tally(&self) -> RateTally<'_> {
        RateTally::new(&self.shared.core, &self.shared.tally)
    }

    pub fn cooldowns(&self) -> Cooldowns<'_> {
        Cooldowns::new(&self.shared.core, &self.shared.cooldowns)
    }

    pub fn guild_wars(&self) -> GuildWars<'_> {
        GuildWars::new(&self.shared.core)
    }

    pub fn leaderboards(&self) -> Leaderboards<'_> {
        Leaderboards::new(&self.shared.core)
    }

    pub fn definitions(&self) -> Definitions<'_> {
        Definitions::new(&self.shared.core)
    }

    pub fn events(&self) -> Events<'_> {
        Events::new(&self.shared.core)
    }

    pub fn inbox(&self) -> Inbox<'_> {
        Inbox::new(&self.shared.core)
    }

    /// Starts a subscriber on `channels` (more can be added later).
    pub fn subscribe(
        &self,
        channels: impl IntoIterator<Item = Channel>,
    ) -> Result<Subscriber, CacheError> {
        Subscriber::start(self.shared.core.clone(), channels)
    }
}

/// The rate tally's flusher: it sleeps until a hit comes to an empty tally, and counts the tally
/// `RATE_TALLY_FLUSH_EVERY` later. It holds the node only while it flushes: when the last handle
/// is dropped, the tally's drop wakes it and it ends (or `close` stops it).
async fn flush_tally(weak: std::sync::Weak<Shared>, wake: Arc<tokio::sync::Notify>) {
    loop {
        wake.notified().await;
        tokio::time::sleep(rate_tally::RATE_TALLY_FLUSH_EVERY).await;
        let Some(shared) = weak.upgrade() else {
            return;
        };
        rate_tally::flush(&shared.core, &shared.rate_limits, &shared.tally).await;
    }
}
