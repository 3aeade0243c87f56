//! The log worker of one zone: appends the zone's non-critical game events (kills, drops,
//! pickups, level-ups) to `game_logs` with `Store::append_logs`, merging queued batches into
//! one statement of at most `LOG_BATCH_ROWS_MAX` rows.
//!
//! While PostgreSQL is away the batches wait (at most `LOG_BACKLOG_BATCHES_MAX`) and the append
//! is retried with backoff; beyond the bound the oldest batch is dropped with a warning and a
//! counted metric. Economy actions are already logged by the store inside their own
//! transactions, so nothing an economy depends on is ever dropped here.

use crate::health::{Backoff, StoreHealth};
use crate::limits::{LOG_APPEND_TRIES_MAX, LOG_BACKLOG_BATCHES_MAX, LOG_FLUSH_WAIT};
use crate::metrics::{add, bump, set, Metrics};
use realmkeep_domain::limits::LOG_BATCH_ROWS_MAX;
use realmkeep_domain::ZoneId;
use realmkeep_store::logs::LogEvent;
use realmkeep_store::Store;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub(crate) struct LogCtx {
    pub zone: ZoneId,
    pub store: Store,
    pub health: Arc<StoreHealth>,
    pub metrics: Arc<Metrics>,
    pub cancel: CancellationToken,
}

struct Pending {
    batches: VecDeque<Vec<LogEvent>>,
}

impl Pending {
    fn push(&mut self, ctx: &LogCtx, batch: Vec<LogEvent>) {
        if batch.is_empty() {
            return;
        }
        if self.batches.len() >= LOG_BACKLOG_BATCHES_MAX {
            if let Some(old) = self.batches.pop_front() {
                drop_batch(ctx, old, "log backlog full");
            }
        }
        self.batches.push_back(batch);
        set(&ctx.metrics.counters.log_backlog, self.batches.len() as u64);
    }

    /// Takes the first batches, merged, up to `LOG_BATCH_ROWS_MAX` events (at least one batch),
    /// with the sizes of the batches it merged.
    fn take_merged(&mut self) -> (Vec<LogEvent>, Vec<usize>) {
        let first = self.batches.pop_front().unwrap_or_default();
        let mut sizes = vec![first.len()];
        let mut events = first;
        while let Some(next) = self.batches.front() {
            if events.len() + next.len() > LOG_BATCH_ROWS_MAX {
                break;
            }
            let next = self.batches.pop_front().unwrap_or_default();
            sizes.push(next.len());
            events.extend(next);
        }
        (events, sizes)
    }

    /// Puts merged batches back at the front as they were, so the bound keeps counting the
    /// zone's batches and dropping the oldest stays fine-grained.
    fn restore(&mut self, mut events: Vec<LogEvent>, sizes: &[usize]) {
        for size in sizes.iter().rev() {
            let batch = events.split_off(events.len() - size);
            self.batches.push_front(batch);
        }
    }
}

pub(crate) fn drop_batch(ctx: &LogCtx, batch: Vec<LogEvent>, why: &'static str) {
    let c = &ctx.metrics.counters;
    bump(&c.log_batches_dropped);
    add(&c.log_events_dropped, batch.len() as u64);
    tracing::warn!(zone = %ctx.zone, events = batch.len(), why, "dropped a batch of non-critical game logs");
}

pub(crate) async fn run(ctx: Arc<LogCtx>, mut rx: mpsc::Receiver<Vec<LogEvent>>) {
    let mut pending = Pending {
        batches: VecDeque::new(),
    };
    let mut backoff = Backoff::default();
    let mut retry_at: Option<Instant> = None;
    let mut failures = 0u32;
    // Set once the zone stopped sending: what is held gets until then to reach PostgreSQL.
    let mut flush_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if let Some(deadline) = flush_until {
            if pending.batches.is_empty() || now >= deadline {
                break;
            }
            if let Some(t) = retry_at.filter(|t| *t > now) {
                tokio::select! {
                    _ = tokio::time::sleep_until(t.min(deadline)) => {}
                    _ = ctx.cancel.cancelled() => break,
                }
                continue;
            }
        } else {
            let due = if pending.batches.is_empty() {
                None
            } else {
                Some(retry_at.unwrap_or(now))
            };
            if due.is_none_or(|t| t > now) {
                tokio::select! {
                    biased;
                    _ = ctx.cancel.cancelled() => break,
                    b = rx.recv() => match b {
                        Some(b) => pending.push(&ctx, b),
                        None => flush_until = Some(now + LOG_FLUSH_WAIT),
                    },
                    _ = tokio::time::sleep_until(due.unwrap_or(now)), if due.is_some() => {}
                }
                continue;
            }
            // Merge whatever else is queued into this write.
            while let Ok(b) = rx.try_recv() {
                pending.push(&ctx, b);
            }
        }
        retry_at = None;
        let (events, sizes) = pending.take_merged();
        let r = ctx
            .store
            .append_logs(&events)
            .instrument(tracing::debug_span!(
                "store",
                action = "append_logs",
                rows = events.len()
            ))
            .await;
        ctx.health.observe(&ctx.store, &r);
        match r {
            Ok(()) => {
                add(
                    &ctx.metrics.counters.log_events_written,
                    events.len() as u64,
                );
                backoff = Backoff::default();
                failures = 0;
            }
            Err(e) if e.is_unavailable() || e.is_busy() => {
                pending.restore(events, &sizes);
                retry_at = Some(Instant::now() + backoff.step());
                tracing::debug!(zone = %ctx.zone, error = %e, "game logs wait for PostgreSQL");
            }
            Err(e) => {
                failures += 1;
                ctx.metrics.set_last_error(format_args!("game logs: {e}"));
                if failures >= LOG_APPEND_TRIES_MAX {
                    failures = 0;
                    drop_batch(&ctx, events, "the database refused the batch");
                } else {
                    pending.restore(events, &sizes);
                    retry_at = Some(Instant::now() + backoff.step());
                }
            }
        }
        set(
            &ctx.metrics.counters.log_backlog,
            pending.batches.len() as u64,
        );
    }
    for b in pending.batches.drain(..) {
        drop_batch(&ctx, b, "the zone stopped before PostgreSQL took them");
    }
    set(&ctx.metrics.counters.log_backlog, 0);
}
