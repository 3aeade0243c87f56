//! The node's periodic jobs, on one scheduler task per node: market expiry (expired listings go
//! back to their sellers by mail), mail expiry (expired mail goes back to its sender or is
//! deleted), `game_logs` partition upkeep (months kept created ahead; rows found in the DEFAULT
//! partition raise an alert and move into their month's partition), and pruning of idempotency
//! keys past their retention.
//!
//! Every job runs once when the node starts and then every interval of `JobIntervals`, reading
//! the time from the node's [`Clock`]. Each run is bounded (`*_ROWS_PER_RUN_MAX`, `JOB_RUN_WAIT`).
//! Several nodes run the same jobs at once: the store's expiry transactions take their rows `FOR
//! UPDATE SKIP LOCKED` (a row another node holds is left to it) and partition creators take
//! turns under an advisory lock, so no coordination between nodes is needed. The scheduler stops
//! when the node shuts down; a run in progress is abandoned and its transaction rolls back.

use crate::clock::Clock;
use crate::config::JobIntervals;
use crate::health::StoreHealth;
use crate::limits::{
    JOB_RUN_WAIT, KEY_PRUNE_ROWS_PER_RUN_MAX, LOG_PARTITION_MONTHS_AHEAD,
    LOG_PARTITION_MONTHS_BACK, MAIL_EXPIRY_ROWS_PER_RUN_MAX, MARKET_EXPIRY_ROWS_PER_RUN_MAX,
};
use crate::metrics::{add, bump, set};
use realmkeep_store::logs::LOG_DEFAULT_PARTITION;
use realmkeep_store::{Store, StoreError};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The periodic jobs, in the order they run when several are due at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    MarketExpiry,
    MailExpiry,
    LogPartitions,
    KeyPruning,
}

const JOBS: [Job; 4] = [
    Job::MarketExpiry,
    Job::MailExpiry,
    Job::LogPartitions,
    Job::KeyPruning,
];

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::MarketExpiry => "market expiry",
            Job::MailExpiry => "mail expiry",
            Job::LogPartitions => "log partition upkeep",
            Job::KeyPruning => "idempotency key pruning",
        }
    }

    fn interval(self, every: &JobIntervals) -> Duration {
        match self {
            Job::MarketExpiry => every.market_expiry,
            Job::MailExpiry => every.mail_expiry,
            Job::LogPartitions => every.log_partitions,
            Job::KeyPruning => every.key_pruning,
        }
    }
}

/// What the node's jobs did since it started.
#[derive(Debug, Default)]
pub(crate) struct JobCounters {
    runs: AtomicU64,
    runs_failed: AtomicU64,
    listings_expired: AtomicU64,
    mails_expired: AtomicU64,
    log_partitions_created: AtomicU64,
    log_rows_moved: AtomicU64,
    log_default_alerts: AtomicU64,
    log_default_rows: AtomicU64,
    keys_pruned: AtomicU64,
}

/// A snapshot of the node's job counters (in [`crate::ClusterStatus`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobMetrics {
    /// Job runs finished, and those that failed (the next run tries again).
    pub runs: u64,
    pub runs_failed: u64,
    pub listings_expired: u64,
    /// Expired mails returned to their senders or deleted.
    pub mails_expired: u64,
    pub log_partitions_created: u64,
    /// Upkeep runs that found rows in the DEFAULT partition of `game_logs`: an alert (partition
    /// upkeep fell behind or a row came with a time far from now). Zero on a healthy node.
    pub log_default_alerts: u64,
    /// Rows found in DEFAULT by the last upkeep run, and rows moved out since start.
    pub log_default_rows: u64,
    pub log_rows_moved: u64,
    /// Idempotency keys (action and loot keys) deleted past their retention.
    pub keys_pruned: u64,
}

impl JobCounters {
    pub(crate) fn snapshot(&self) -> JobMetrics {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        JobMetrics {
            runs: g(&self.runs),
            runs_failed: g(&self.runs_failed),
            listings_expired: g(&self.listings_expired),
            mails_expired: g(&self.mails_expired),
            log_partitions_created: g(&self.log_partitions_created),
            log_default_alerts: g(&self.log_default_alerts),
            log_default_rows: g(&self.log_default_rows),
            log_rows_moved: g(&self.log_rows_moved),
            keys_pruned: g(&self.keys_pruned),
        }
    }
}

/// What the scheduler works with.
pub(crate) struct JobsCtx {
    pub store: Store,
    pub health: Arc<StoreHealth>,
    pub clock: Arc<dyn Clock>,
    pub every: JobIntervals,
    pub counters: Arc<JobCounters>,
    pub cancel: CancellationToken,
}

/// Runs every job at start, then each on its interval, until the token is cancelled.
pub(crate) async fn run(ctx: Arc<JobsCtx>) {
    let start = Instant::now();
    let mut due = [start; JOBS.len()];
    loop {
        let (i, at) = due
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|(_, at)| *at)
            .expect("there are jobs");
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return,
            _ = tokio::time::sleep_until(at) => {}
        }
        let job = JOBS[i];
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return,
            _ = run_job(&ctx, job) => {}
        }
        due[i] = Instant::now() + job.interval(&ctx.every);
    }
}

/// One run of `job`, bounded by `JOB_RUN_WAIT`; counts and logs what it did.
pub(crate) async fn run_job(ctx: &JobsCtx, job: Job) {
    let c = &ctx.counters;
    if !ctx.health.is_up() {
        // The probe is already waiting for PostgreSQL; the next run finds it back.
        tracing::debug!(job = job.name(), "PostgreSQL is down: job run skipped");
        return;
    }
    let r = match tokio::time::timeout(JOB_RUN_WAIT, run_job_once(ctx, job)).await {
        Ok(r) => r,
        Err(_) => Err(format!("did not finish within {JOB_RUN_WAIT:?}")),
    };
    bump(&c.runs);
    if let Err(e) = r {
        bump(&c.runs_failed);
        tracing::warn!(job = job.name(), error = %e, "periodic job failed; the next run tries again");
    }
}

async fn run_job_once(ctx: &JobsCtx, job: Job) -> Result<(), String> {
    let c = &ctx.counters;
    let now = ctx.clock.now();
    match job {
        Job::MarketExpiry => {
            let r = ctx
                .store
                .expire_listings_at(now, MARKET_EXPIRY_ROWS_PER_RUN_MAX)
                .await;
            let n = observed(ctx, r)?;
            add(&c.listings_expired, n);
            if n > 0 {
                tracing::info!(listings = n, "expired listings sent back by mail");
            }
        }
        Job::MailExpiry => {
            let r = ctx
                .store
                .return_expired_mail_at(now, MAIL_EXPIRY_ROWS_PER_RUN_MAX)
                .await;
            let n = observed(ctx, r)?;
            add(&c.mails_expired, n);
            if n > 0 {
                tracing::info!(mails = n, "expired mail returned or deleted");
            }
        }
        Job::LogPartitions => {
            let r = ctx
                .store
                .log_partition_upkeep(now, LOG_PARTITION_MONTHS_BACK, LOG_PARTITION_MONTHS_AHEAD)
                .await;
            let up = observed(ctx, r)?;
            let found = up.default_rows.max(0) as u64;
            set(&c.log_default_rows, found);
            if found > 0 {
                bump(&c.log_default_alerts);
                tracing::error!(
                    rows = found,
                    moved = up.moved_rows,
                    partition = LOG_DEFAULT_PARTITION,
                    "game log rows found in the DEFAULT partition: partition upkeep fell behind \
                     or rows carry a time far from now; moved into their months' partitions"
                );
            }
            add(&c.log_rows_moved, up.moved_rows.max(0) as u64);
            add(&c.log_partitions_created, up.created.len() as u64);
            if !up.created.is_empty() {
                tracing::info!(partitions = ?up.created, "game log partitions created");
            }
        }
        Job::KeyPruning => {
            let r = ctx
                .store
                .prune_keys_at(now, KEY_PRUNE_ROWS_PER_RUN_MAX)
                .await;
            let n = observed(ctx, r)?;
            add(&c.keys_pruned, n);
            if n > 0 {
                tracing::debug!(keys = n, "old idempotency keys pruned");
            }
        }
    }
    Ok(())
}

/// Records the answer in the node's view of PostgreSQL and keeps the error as text.
fn observed<T>(ctx: &JobsCtx, r: Result<T, StoreError>) -> Result<T, String> {
    ctx.health.observe(&ctx.store, &r);
    r.map_err(|e| e.to_string())
}
