//! `Cluster`: the zones of one node (process), the transfer router between them, the node's
//! status, and its shutdown. Used by the demo, the simulated players and `realmkeep serve`.

use crate::config::{ClusterConfig, Endpoints};
use crate::events::{notify_failed, Transfer};
use crate::health::{Backoff, StoreHealth};
use crate::host::{Backends, JoinReceipt, ShutdownReport, ZoneHost};
use crate::limits::TRANSFER_QUEUE_MAX;
use crate::metrics::{HostMetrics, Percentiles};
use crate::sources::{ContentDefinitions, StoreLeaderboards};
use crate::HostError;
use realmkeep_cache::{Cache, CacheOptions, NodeId, SessionSecret};
use realmkeep_domain::content::Content;
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_store::{Store, StoreOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Tries of a transfer's destination join that failed for a passing reason.
const TRANSFER_JOIN_TRIES_MAX: u32 = 5;
/// Longest the status waits for PostgreSQL's answer to its ping.
const STATUS_PING_WAIT: Duration = Duration::from_secs(1);

/// One zone in a status snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneStatus {
    pub zone: ZoneId,
    pub holder: String,
    pub players: u64,
    pub tick: Percentiles,
    pub join: Percentiles,
    pub metrics: HostMetrics,
}

/// The node at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    pub node: String,
    pub uptime_s: f64,
    pub zones: Vec<ZoneStatus>,
    pub players: u64,
    /// Saves done (batch, level-up, release) and characters saved, per second since the last
    /// status.
    pub saves_per_s: f64,
    pub save_rows_per_s: f64,
    /// Requests waiting for PostgreSQL, and held on tick threads because queues were full.
    pub store_pending: u64,
    pub store_backlog: u64,
    pub postgres_up: bool,
    pub redis_up: bool,
}

struct Inner {
    config: ClusterConfig,
    backends: Backends,
    hosts: BTreeMap<ZoneId, ZoneHost>,
    started: Instant,
    /// (when, saves, rows) at the last status, for the rates.
    last_rates: Mutex<(Instant, u64, u64)>,
    router: Mutex<Option<JoinHandle<()>>>,
    cancel: CancellationToken,
}

/// The zones of one node. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.inner.config.host.node)
            .field("zones", &self.inner.hosts.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Starts every configured zone on `store` and `cache`. Must run inside a Tokio runtime.
    pub async fn start(
        config: ClusterConfig,
        content: Arc<Content>,
        store: Store,
        cache: Cache,
    ) -> Result<Cluster, HostError> {
        config.host.check()?;
        if let Err(e) = store.ensure_log_partitions(1, 2).await {
            tracing::warn!(error = %e, "game log partitions not checked: logs may wait");
        }
        let backends = Backends {
            store,
            cache,
            health: StoreHealth::new(),
        };
        let (tx, rx) = mpsc::channel(TRANSFER_QUEUE_MAX);
        let mut hosts = BTreeMap::new();
        for zone in &config.zones {
            let started = crate::zone_adapter::build(*zone, content.clone(), &config.host)
                .and_then(|sim| {
                    ZoneHost::start(
                        *zone,
                        sim,
                        backends.clone(),
                        config.host.clone(),
                        Some(tx.clone()),
                    )
                });
            match started {
                Ok(host) => {
                    hosts.insert(*zone, host);
                }
                Err(e) => {
                    // Nothing has joined yet: stopping the zones already started is quick.
                    futures::future::join_all(hosts.values().map(|h| h.shutdown())).await;
                    return Err(e);
                }
            }
        }
        drop(tx);
        let cancel = CancellationToken::new();
        let router = tokio::spawn(route_transfers(hosts.clone(), rx, cancel.clone()));
        Ok(Cluster {
            inner: Arc::new(Inner {
                config,
                backends,
                hosts,
                started: Instant::now(),
                last_rates: Mutex::new((Instant::now(), 0, 0)),
                router: Mutex::new(Some(router)),
                cancel,
            }),
        })
    }

    /// Connects to PostgreSQL and Redis and starts: what `realmkeep serve` runs. PostgreSQL must
    /// answer at start; Redis may be down (the cache starts degraded and connects later).
    pub async fn connect(
        config: ClusterConfig,
        endpoints: &Endpoints,
        store_options: &StoreOptions,
        content: Arc<Content>,
    ) -> Result<Cluster, HostError> {
        let store = Store::connect(&endpoints.database_url, store_options)
            .await
            .map_err(HostError::from_store)?;
        let node = NodeId::parse(&config.host.node)?;
        let secret = SessionSecret::new(&endpoints.session_secret)?;
        let opts = CacheOptions::new(node, secret)
            .with_leaderboard_source(Arc::new(StoreLeaderboards(store.clone())))
            .with_definition_source(Arc::new(ContentDefinitions(content.clone())));
        let cache = Cache::connect(&endpoints.redis_url, opts).await?;
        Cluster::start(config, content, store, cache).await
    }

    pub fn node(&self) -> &str {
        &self.inner.config.host.node
    }

    pub fn store(&self) -> &Store {
        &self.inner.backends.store
    }

    pub fn cache(&self) -> &Cache {
        &self.inner.backends.cache
    }

    pub fn zone(&self, zone: ZoneId) -> Option<&ZoneHost> {
        self.inner.hosts.get(&zone)
    }

    pub fn zones(&self) -> impl Iterator<Item = &ZoneHost> {
        self.inner.hosts.values()
    }

    /// Joins `character` into `zone` (see `ZoneHost::join`).
    pub async fn join(
        &self,
        zone: ZoneId,
        character: CharacterId,
    ) -> Result<JoinReceipt, HostError> {
        self.zone(zone)
            .ok_or(HostError::NoSuchZone)?
            .join(character)
            .await
    }

    /// Moves `character` from `from` to `to`: `from` saves and releases it, then `to` claims and
    /// loads it; at no moment do two zones hold it. Progress arrives on the player's notices.
    pub async fn transfer(
        &self,
        character: CharacterId,
        from: ZoneId,
        to: ZoneId,
    ) -> Result<(), HostError> {
        if self.zone(to).is_none() {
            return Err(HostError::NoSuchZone);
        }
        self.zone(from)
            .ok_or(HostError::NoSuchZone)?
            .transfer(character, to)
            .await
    }

    /// The node's status: players per zone, tick percentiles, save rates, pending work, and the
    /// health of PostgreSQL (a ping) and Redis (as the cache sees it).
    pub async fn status(&self) -> ClusterStatus {
        let inner = &self.inner;
        let zones: Vec<ZoneStatus> = inner
            .hosts
            .values()
            .map(|h| {
                let m = h.metrics();
                ZoneStatus {
                    zone: h.zone(),
                    holder: h.holder().to_string(),
                    players: m.players,
                    tick: m.tick,
                    join: m.join,
                    metrics: m,
                }
            })
            .collect();
        let saves: u64 = zones.iter().map(|z| z.metrics.saves_ok).sum();
        let rows: u64 = zones.iter().map(|z| z.metrics.save_rows_ok).sum();
        let (saves_per_s, save_rows_per_s) = {
            let mut last = inner.last_rates.lock().unwrap_or_else(|p| p.into_inner());
            let dt = last.0.elapsed().as_secs_f64().max(1e-3);
            let r = (
                saves.saturating_sub(last.1) as f64 / dt,
                rows.saturating_sub(last.2) as f64 / dt,
            );
            *last = (Instant::now(), saves, rows);
            r
        };
        let postgres_up = matches!(
            tokio::time::timeout(STATUS_PING_WAIT, inner.backends.store.ping()).await,
            Ok(Ok(()))
        );
        ClusterStatus {
            node: inner.config.host.node.clone(),
            uptime_s: inner.started.elapsed().as_secs_f64(),
            players: zones.iter().map(|z| z.players).sum(),
            store_pending: zones.iter().map(|z| z.metrics.store_pending).sum(),
            store_backlog: zones.iter().map(|z| z.metrics.store_backlog).sum(),
            zones,
            saves_per_s,
            save_rows_per_s,
            postgres_up,
            redis_up: inner.backends.cache.health().is_up(),
        }
    }

    /// Stops accepting joins everywhere, final-saves and releases every character (zones in
    /// parallel, each waiting at most its shutdown wait), stops the router, and takes the node's
    /// players out of Redis.
    pub async fn shutdown(&self) -> Vec<ShutdownReport> {
        let inner = &self.inner;
        let reports = futures::future::join_all(inner.hosts.values().map(|h| h.shutdown())).await;
        inner.cancel.cancel();
        let router = inner
            .router
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(r) = router {
            let _ = r.await;
        }
        inner.backends.cache.close().await;
        for r in &reports {
            tracing::info!(zone = %r.zone, complete = r.complete, still_held = r.still_held, elapsed = ?r.elapsed, "zone shut down");
        }
        reports
    }

    /// Runs until SIGTERM or Ctrl-C, then shuts down.
    pub async fn run_until_signal(&self) -> Vec<ShutdownReport> {
        let signal = crate::shutdown_signal().await;
        tracing::info!(signal, node = %self.node(), "stopping: saving every character");
        self.shutdown().await
    }
}

/// Joins each transferred character into its destination, after its source released it.
async fn route_transfers(
    hosts: BTreeMap<ZoneId, ZoneHost>,
    mut rx: mpsc::Receiver<Transfer>,
    cancel: CancellationToken,
) {
    loop {
        let t = tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            t = rx.recv() => match t {
                Some(t) => t,
                None => return,
            },
        };
        let Some(dest) = hosts.get(&t.to) else {
            tracing::warn!(character = %t.character, to = %t.to, "transfer to a zone this node does not run");
            notify_failed(t, "no such zone on this node");
            continue;
        };
        let mut backoff = Backoff::default();
        let mut tries = 0;
        let result = loop {
            tries += 1;
            match dest.join_transfer(t.character, t.notices.clone()).await {
                Err(e) if e.is_transient() && tries < TRANSFER_JOIN_TRIES_MAX => {
                    tracing::debug!(character = %t.character, error = %e, "transfer join failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.step()) => {}
                        _ = cancel.cancelled() => break Err(HostError::ShuttingDown),
                    }
                }
                r => break r,
            }
        };
        match result {
            Ok(fence) => {
                tracing::debug!(character = %t.character, from = %t.from, to = %t.to, epoch = %fence.epoch, "transferred")
            }
            Err(e) => {
                tracing::warn!(character = %t.character, from = %t.from, to = %t.to, error = %e, "transfer failed: the character is saved and offline");
                let reason = e.to_string();
                notify_failed(t, &reason);
            }
        }
    }
}
