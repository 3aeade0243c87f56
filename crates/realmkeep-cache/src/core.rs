//! What every feature stands on: the connection, its health, the per-command timeout and the
//! metrics. Architecture invariant: the core knows no feature; each feature keeps its own
//! degraded-mode state, and the health watcher (above the features) calls them.

use crate::error::CacheError;
use crate::options::CacheOptions;
use redis::aio::MultiplexedConnection;
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, ScriptInvocation};
use serde::Serialize;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};
use std::time::Instant;
use tokio::sync::{watch, Notify};

/// Whether Redis answers, as the health watcher last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Up,
    Down { since: Instant },
}

impl Health {
    pub fn is_up(&self) -> bool {
        matches!(self, Health::Up)
    }
}

/// Counters of the cache, read as one [`CacheMetrics`] snapshot.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub commands_ok: AtomicU64,
    pub commands_failed: AtomicU64,
    pub command_timeouts: AtomicU64,
    pub degraded_answers: AtomicU64,
    pub disconnects: AtomicU64,
    pub reconnects: AtomicU64,
    pub reregistrations: AtomicU64,
    pub ghosts_removed: AtomicU64,
    pub leaderboard_rebuilds: AtomicU64,
    pub pubsub_received: AtomicU64,
    pub pubsub_dropped: AtomicU64,
    pub pubsub_resubscribes: AtomicU64,
}

/// A snapshot of the cache's counters (for logs, the admin page and the benchmark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheMetrics {
    pub up: bool,
    pub commands_ok: u64,
    pub commands_failed: u64,
    pub command_timeouts: u64,
    /// Answers given from local state or from the token alone because Redis could not be used.
    pub degraded_answers: u64,
    pub disconnects: u64,
    /// Successful reconnections after Redis was seen down.
    pub reconnects: u64,
    /// Times this node registered its players, zones and sessions again.
    pub reregistrations: u64,
    pub ghosts_removed: u64,
    pub leaderboard_rebuilds: u64,
    pub pubsub_received: u64,
    /// Pub/sub messages dropped because a subscriber's queue was full.
    pub pubsub_dropped: u64,
    pub pubsub_resubscribes: u64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

pub(crate) struct Core {
    pub client: redis::Client,
    pub opts: CacheOptions,
    conn: RwLock<Option<MultiplexedConnection>>,
    up: AtomicBool,
    health_tx: watch::Sender<Health>,
    pub metrics: Metrics,
    /// Wakes the health watcher when a command saw the connection fail.
    pub suspect: Notify,
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("node", &self.opts.node)
            .field("health", &self.health())
            .finish_non_exhaustive()
    }
}

/// Locks a std mutex; a panic elsewhere while holding it leaves data that is still usable here
/// (plain maps), so poisoning is ignored rather than spread.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

impl Core {
    pub fn new(client: redis::Client, opts: CacheOptions) -> Self {
        let (health_tx, _) = watch::channel(Health::Down {
            since: Instant::now(),
        });
        Self {
            client,
            opts,
            conn: RwLock::new(None),
            up: AtomicBool::new(false),
            health_tx,
            metrics: Metrics::default(),
            suspect: Notify::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    pub fn health(&self) -> Health {
        *self.health_tx.borrow()
    }

    pub fn watch_health(&self) -> watch::Receiver<Health> {
        self.health_tx.subscribe()
    }

    /// Opens a fresh connection, bounded by the connect timeout; the caller decides what to do
    /// with it (the watcher installs it after re-registering).
    pub async fn open_connection(&self) -> Result<MultiplexedConnection, CacheError> {
        let cfg = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.opts.connect_timeout))
            .set_response_timeout(Some(self.opts.command_timeout));
        let fut = self
            .client
            .get_multiplexed_async_connection_with_config(&cfg);
        match tokio::time::timeout(self.opts.connect_timeout, fut).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) if is_connection_error(&e) => Err(CacheError::Unavailable),
            Ok(Err(e)) => Err(CacheError::Redis(e)),
            Err(_) => Err(CacheError::Timeout(self.opts.connect_timeout)),
        }
    }

    /// Installs `conn` and declares Redis up. Called by the watcher, holding the registry lock.
    pub fn mark_up(&self, conn: MultiplexedConnection) {
        *self.conn.write().unwrap_or_else(|p| p.into_inner()) = Some(conn);
        self.up.store(true, Ordering::Release);
        self.health_tx.send_replace(Health::Up);
    }

    pub fn mark_down(&self) {
        let was_up = self.up.swap(false, Ordering::AcqRel);
        *self.conn.write().unwrap_or_else(|p| p.into_inner()) = None;
        if was_up {
            bump(&self.metrics.disconnects);
            self.health_tx.send_replace(Health::Down {
                since: Instant::now(),
            });
            tracing::warn!(node = %self.opts.node, "Redis is down: answering in degraded mode");
        }
    }

    pub(crate) fn connection(&self) -> Result<MultiplexedConnection, CacheError> {
        if !self.is_up() {
            return Err(CacheError::Unavailable);
        }
        self.conn
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(CacheError::Unavailable)
    }

    fn finish<T>(
        &self,
        r: Result<RedisResult<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, CacheError> {
        match r {
            Ok(Ok(v)) => {
                bump(&self.metrics.commands_ok);
                Ok(v)
            }
            Ok(Err(e)) => {
                bump(&self.metrics.commands_failed);
                if is_connection_error(&e) {
                    self.suspect.notify_one();
                    Err(CacheError::Unavailable)
                } else {
                    Err(CacheError::Redis(e))
                }
            }
            Err(_) => {
                bump(&self.metrics.command_timeouts);
                self.suspect.notify_one();
                Err(CacheError::Timeout(self.opts.command_timeout))
            }
        }
    }

    /// `query` with its own timeout (the health check's, longer than a command's).
    pub async fn query_within<T: FromRedisValue>(
        &self,
        cmd: &Cmd,
        wait: std::time::Duration,
    ) -> Result<T, CacheError> {
        let mut c = self.connection()?;
        let r = tokio::time::timeout(wait, cmd.query_async(&mut c)).await;
        self.finish(r)
    }

    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, CacheError> {
        let mut c = self.connection()?;
        let r = tokio::time::timeout(self.opts.command_timeout, cmd.query_async(&mut c)).await;
        self.finish(r)
    }

    pub async fn query_pipe<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T, CacheError> {
        let mut c = self.connection()?;
        let r = tokio::time::timeout(self.opts.command_timeout, pipe.query_async(&mut c)).await;
        self.finish(r)
    }

    pub async fn eval<T: FromRedisValue>(
        &self,
        inv: &ScriptInvocation<'_>,
    ) -> Result<T, CacheError> {
        let mut c = self.connection()?;
        let r = tokio::time::timeout(self.opts.command_timeout, inv.invoke_async(&mut c)).await;
        self.finish(r)
    }

    /// The same, on a connection that is not installed yet (recovery runs before `mark_up`).
    pub async fn query_pipe_on<T: FromRedisValue>(
        &self,
        c: &mut MultiplexedConnection,
        pipe: &Pipeline,
    ) -> Result<T, CacheError> {
        let r = tokio::time::timeout(self.opts.command_timeout, pipe.query_async(c)).await;
        self.finish(r)
    }

    pub async fn eval_on<T: FromRedisValue>(
        &self,
        c: &mut MultiplexedConnection,
        inv: &ScriptInvocation<'_>,
    ) -> Result<T, CacheError> {
        let r = tokio::time::timeout(self.opts.command_timeout, inv.invoke_async(c)).await;
        self.finish(r)
    }

    /// Counts a degraded answer and logs why at debug level (an outage would flood warn).
    pub fn degraded(&self, what: &'static str, why: &CacheError) {
        bump(&self.metrics.degraded_answers);
        tracing::debug!(what, error = %why, "degraded answer");
    }

    pub fn metrics(&self) -> CacheMetrics {
        let m = &self.metrics;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CacheMetrics {
            up: self.is_up(),
            commands_ok: g(&m.commands_ok),
            commands_failed: g(&m.commands_failed),
            command_timeouts: g(&m.command_timeouts),
            degraded_answers: g(&m.degraded_answers),
            disconnects: g(&m.disconnects),
            reconnects: g(&m.reconnects),
            reregistrations: g(&m.reregistrations),
            ghosts_removed: g(&m.ghosts_removed),
            leaderboard_rebuilds: g(&m.leaderboard_rebuilds),
            pubsub_received: g(&m.pubsub_received),
            pubsub_dropped: g(&m.pubsub_dropped),
            pubsub_resubscribes: g(&m.pubsub_resubscribes),
        }
    }
}
