//! `Cluster`: the zones of one node (process), the transfer router between them, the node's
//! status, and its shutdown. Used by the demo, the simulated players and `realmkeep serve`.

use crate::clock::{Clock, SystemClock};
use crate::config::{ClusterConfig, Endpoints};
use crate::events::{notify_failed, Transfer};
use crate::health::{Backoff, StoreHealth};
use crate::host::{Backends, JoinReceipt, ShutdownReport, ZoneHost};
use crate::jobs::{JobCounters, JobMetrics, JobsCtx};
use crate::limits::{
    pool_connections_for, LOG_PARTITION_MONTHS_AHEAD, LOG_PARTITION_MONTHS_BACK, TRANSFER_QUEUE_MAX,
};
use crate::metrics::{HostMetrics, Percentiles};
use crate::sources::{ContentDefinitions, StoreLeaderboards};
use crate::HostError;
use realmkeep_cache::{Cache, CacheOptions, NodeId, SessionSecret};
use realmkeep_domain::content::Content;
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_store::takeover::NodeLock;
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
/// How long a starting node keeps trying for its node lock: a killed predecessor's connection
/// closes with it, but PostgreSQL may take a moment to notice.
const NODE_LOCK_WAIT: Duration = Duration::from_secs(3);
const NODE_LOCK_RETRY: Duration = Duration::from_millis(100);
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
    /// The node's periodic jobs (expiry, log partitions).
    pub jobs: JobMetrics,
    /// How late the node's async runtime runs what is ready (`lag.rs`), microseconds: the mean
    /// of the probe's last window.
    pub runtime_lag_us: u64,
    /// The latest of that window's probe messages, microseconds.
    pub runtime_lag_worst_us: u64,
}

struct Inner {
    config: ClusterConfig,
    backends: Backends,
    hosts: BTreeMap<ZoneId, ZoneHost>,
    started: Instant,
    /// (when, saves, rows) at the last status, for the rates.
    last_rates: Mutex<(Instant, u64, u64)>,
    router: Mutex<Option<JoinHandle<()>>>,
    jobs: Mutex<Option<JoinHandle<()>>>,
    /// Reads the guild wars for the zones (`crate::wars`); woken by `wars_changed`.
    wars: Mutex<Option<JoinHandle<()>>>,
    wars_changed: Arc<tokio::sync::Notify>,
    /// Pops the queues this node serves (`crate::matchmaker`).
    matchmaker: Mutex<Option<JoinHandle<()>>>,
    /// Measures the runtime's lag into `backends.lag` (`crate::lag`).
    lag_probe: Mutex<Option<JoinHandle<()>>>,
    job_counters: Arc<JobCounters>,
    /// Held while this process runs: no other process of this node name is alive.
    node_lock: tokio::sync::Mutex<Option<NodeLock>>,
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
    /// Starts every configured zone on `store` and `cache`, and the node's periodic jobs on the
    /// real clock. Must run inside a Tokio runtime.
    pub async fn start(
        config: ClusterConfig,
        content: Arc<Content>,
        store: Store,
        cache: Cache,
    ) -> Result<Cluster, HostError> {
        Self::start_with_clock(config, content, store, cache, Arc::new(SystemClock)).await
    }

    /// `start`, with the clock the node's periodic jobs go by (a test sets one ahead).
    pub async fn start_with_clock(
        config: ClusterConfig,
        content: Arc<Content>,
        store: Store,
        cache: Cache,
        clock: Arc<dyn Clock>,
    ) -> Result<Cluster, HostError> {
        config.host.check()?;
        let needed = pool_connections_for(config.zones.len());
        if store.pool_connections_max() < needed {
            tracing::warn!(
                pool = store.pool_connections_max(),
                needed,
                zones = config.zones.len(),
                "the store's connection pool is smaller than the node's lanes: actions may be \
                 answered \"try again\" while the pool is busy"
            );
        }
        let node_lock = take_over_node(&store, &config.host.node).await;
        let partitions = store
            .ensure_log_partitions(LOG_PARTITION_MONTHS_BACK, LOG_PARTITION_MONTHS_AHEAD)
            .await;
        if let Err(e) = partitions {
            tracing::warn!(error = %e, "game log partitions not checked: logs may wait");
        }
        let backends = Backends {
            store,
            cache,
            health: StoreHealth::new(),
            lag: crate::lag::RuntimeLag::default(),
            step_backs: crate::pace::StepBacks::default(),
        };
        // Before the zones, which read it: stopped with the node's other tasks.
        let cancel = CancellationToken::new();
        let lag_probe = crate::lag::start(backends.lag.clone(), cancel.clone())
            .map_err(|e| HostError::Start(format!("starting the runtime lag probe: {e}")))?;
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
                    cancel.cancel();
                    return Err(e);
                }
            }
        }
        drop(tx);
        let router = tokio::spawn(route_transfers(hosts.clone(), rx, cancel.clone()));
        let job_counters = Arc::new(JobCounters::default());
        let jobs = tokio::spawn(crate::jobs::run(Arc::new(JobsCtx {
            store: backends.store.clone(),
            health: backends.health.clone(),
            clock,
            every: config.jobs,
            counters: job_counters.clone(),
            cancel: cancel.clone(),
        })));
        let wars_changed = Arc::new(tokio::sync::Notify::new());
        let wars = tokio::spawn(crate::wars::run(
            backends.cache.clone(),
            hosts.values().cloned().collect(),
            wars_changed.clone(),
            cancel.clone(),
        ));
        let matchmaker = tokio::spawn(crate::matchmaker::run(
            backends.cache.clone(),
            config.instances.clone(),
            cancel.clone(),
        ));
        Ok(Cluster {
            inner: Arc::new(Inner {
                config,
                backends,
                hosts,
                started: Instant::now(),
                last_rates: Mutex::new((Instant::now(), 0, 0)),
                router: Mutex::new(Some(router)),
                jobs: Mutex::new(Some(jobs)),
                wars: Mutex::new(Some(wars)),
                wars_changed,
                matchmaker: Mutex::new(Some(matchmaker)),
                lag_probe: Mutex::new(Some(lag_probe)),
                job_counters,
                node_lock: tokio::sync::Mutex::new(node_lock),
                cancel,
            }),
        })
    }

    /// Connects to PostgreSQL and Redis and starts: what `realmkeep serve` runs. PostgreSQL must
    /// answer at start; Redis may be down (the cache starts degraded and connects later). The
    /// connection pool holds at least `pool_connections_for` the configured zones.
    pub async fn connect(
        config: ClusterConfig,
        endpoints: &Endpoints,
        store_options: &StoreOptions,
        content: Arc<Content>,
    ) -> Result<Cluster, HostError> {
        crate::telemetry::install();
        let store_options = StoreOptions {
            pool_connections_max: store_options
                .pool_connections_max
                .max(pool_connections_for(config.zones.len())),
            ..store_options.clone()
        };
        let store = Store::connect(&endpoints.database_url, &store_options)
            .await
            .map_err(HostError::from_store)?;
        let node = NodeId::parse(&config.host.node)?;
        let secret = SessionSecret::new(&endpoints.session_secret)?;
        let mut opts = CacheOptions::new(node, secret)
            .with_leaderboard_source(Arc::new(StoreLeaderboards(store.clone())))
            .with_definition_source(Arc::new(ContentDefinitions(content.clone())));
        opts.rate_limits = config.rate_limits.clone();
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

    /// How late the node's async runtime runs what is ready now (`ClusterStatus::runtime_lag_us`).
    pub fn runtime_lag(&self) -> Duration {
        self.inner.backends.lag.mean()
    }

    /// The latest of the runtime lag probe's messages in its last window
    /// (`ClusterStatus::runtime_lag_worst_us`).
    pub fn runtime_lag_worst(&self) -> Duration {
        self.inner.backends.lag.worst()
    }

    /// Whether the node believes PostgreSQL reachable (`StoreHealth::is_up`): not found away by
    /// a call, and the workers' calls under way are being answered.
    pub fn postgres_up(&self) -> bool {
        self.inner.backends.health.is_up()
    }

    pub fn zone(&self, zone: ZoneId) -> Option<&ZoneHost> {
        self.inner.hosts.get(&zone)
    }

    pub fn zones(&self) -> impl Iterator<Item = &ZoneHost> {
        self.inner.hosts.values()
    }

    /// The zone of this node that holds `character`, if any.
    pub fn holding(&self, character: CharacterId) -> Option<&ZoneHost> {
        self.inner.hosts.values().find(|h| h.holds(character))
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
        // A ping that waited out a busy pool found the database there, only busy; one that
        // takes too long leaves the answer to the node's view of PostgreSQL.
        let store = &inner.backends.store;
        let postgres_up = match tokio::time::timeout(STATUS_PING_WAIT, store.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => !store.is_outage(&e),
            Err(_) => inner.backends.health.is_up(),
        };
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
            jobs: inner.job_counters.snapshot(),
            runtime_lag_us: inner.backends.lag.mean().as_micros() as u64,
            runtime_lag_worst_us: inner.backends.lag.worst().as_micros() as u64,
        }
    }

    /// A guild war was declared or ended somewhere: the zones learn the wars in force now
    /// rather than at the next refresh.
    pub fn wars_changed(&self) {
        self.inner.wars_changed.notify_one();
    }

    /// What the node's periodic jobs did since it started.
    pub fn job_metrics(&self) -> JobMetrics {
        self.inner.job_counters.snapshot()
    }

    /// Stops accepting joins everywhere, final-saves and releases every character (zones in
    /// parallel, each waiting at most its shutdown wait), stops the router, and takes the node's
    /// players out of Redis.
    pub async fn shutdown(&self) -> Vec<ShutdownReport> {
        let inner = &self.inner;
        let reports = futures::future::join_all(inner.hosts.values().map(|h| h.shutdown())).await;
        inner.cancel.cancel();
        for task in [
            &inner.router,
            &inner.jobs,
            &inner.wars,
            &inner.matchmaker,
            &inner.lag_probe,
        ] {
            join_task(task).await;
        }
        inner.backends.cache.close().await;
        // Only once every zone is done: a successor must not free claims still being saved.
        if let Some(lock) = inner.node_lock.lock().await.take() {
            lock.release().await;
        }
        for r in &reports {
            tracing::info!(zone = %r.zone, complete = r.complete, still_held = r.still_held, elapsed = ?r.elapsed, "zone shut down");
        }
        reports
    }
}

/// Takes a task's handle out of its slot (once: a second call finds it empty) and waits for the
/// task to end.
async fn join_task(slot: &Mutex<Option<JoinHandle<()>>>) {
    let handle = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(h) = handle {
        let _ = h.await;
    }
}

/// Takes the node's lock and frees the claims its earlier processes held, so the players of a
/// node that crashed and restarted play again at once instead of after the dead process's lease.
/// Without the lock (another process of this node name is alive, or PostgreSQL did not answer)
/// nothing is freed: a live process's claims are never taken, and the dead one's expire.
async fn take_over_node(store: &Store, node: &str) -> Option<NodeLock> {
    let deadline = Instant::now() + NODE_LOCK_WAIT;
    let lock = loop {
        match store.try_lock_node(node).await {
            Ok(Some(lock)) => break lock,
            Ok(None) if Instant::now() < deadline => tokio::time::sleep(NODE_LOCK_RETRY).await,
            Ok(None) => {
                tracing::warn!(%node, "another process of this node name is alive: its claims are left to it");
                return None;
            }
            Err(e) => {
                tracing::warn!(%node, error = %e, "node lock not taken: claims of an earlier process expire with their lease");
                return None;
            }
        }
    };
    match store.release_claims_of_previous_processes(&lock, &[]).await {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(%node, claims = n, "claims of this node's previous process freed: its players can join again")
        }
        Err(e) => {
            tracing::warn!(%node, error = %e, "claims of this node's previous process not freed: they expire with their lease")
        }
    }
    Some(lock)
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
