//! What the host believes about PostgreSQL, and the backoff its retries follow.
//!
//! A call that finds the database unreachable marks it down; while it is down critical actions
//! are answered "try again" at once instead of each waiting for a connection timeout, and one
//! probe task pings until it answers. Any call that succeeds marks it up again.
//!
//! A busy pool is not an outage: a call that waited out the acquire timeout while every pooled
//! connection was in use (`StoreError::Busy`, `Store::is_outage` false) is answered "try again"
//! by its caller and changes nothing here, so the next action and join still go through as soon as
//! a connection frees.

use crate::limits::{RETRY_DELAY_MAX, RETRY_DELAY_MIN, STORE_PROBE_INTERVAL};
use realmkeep_store::{Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Shared by every worker of a node: one view of PostgreSQL.
#[derive(Debug, Default)]
pub struct StoreHealth {
    down: AtomicBool,
    probing: AtomicBool,
    up_again: Notify,
}

impl StoreHealth {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn is_up(&self) -> bool {
        !self.down.load(Ordering::Acquire)
    }

    /// Records the answer of a store call.
    pub fn observe<T>(self: &Arc<Self>, store: &Store, r: &Result<T, StoreError>) {
        match r {
            Err(e) if store.is_outage(e) => self.mark_down(store),
            Err(StoreError::Refused(_)) | Ok(_) => self.mark_up(),
            Err(_) => {}
        }
    }

    pub fn mark_up(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("PostgreSQL answers again: pending saves drain");
        }
        self.up_again.notify_waiters();
    }

    /// Marks the database down and starts the probe (once).
    pub fn mark_down(self: &Arc<Self>, store: &Store) {
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::warn!("PostgreSQL is unreachable: saves are held and retried, critical actions answer \"try again\"");
        }
        if !self.probing.swap(true, Ordering::AcqRel) {
            let me = self.clone();
            let store = store.clone();
            tokio::spawn(async move {
                while !me.is_up() {
                    tokio::time::sleep(STORE_PROBE_INTERVAL).await;
                    if store.ping().await.is_ok() {
                        me.mark_up();
                    }
                }
                me.probing.store(false, Ordering::Release);
            });
        }
    }

    /// Waits until the database is believed up, at most `max`.
    pub async fn wait_up(&self, max: Duration, cancel: &CancellationToken) {
        let notified = self.up_again.notified();
        tokio::pin!(notified);
        // Registered before the check, so a `mark_up` in between is not missed.
        notified.as_mut().enable();
        if self.is_up() {
            return;
        }
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(max) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

/// Exponential backoff between `RETRY_DELAY_MIN` and `RETRY_DELAY_MAX`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: RETRY_DELAY_MIN,
        }
    }
}

impl Backoff {
    /// The delay to wait now; the next one doubles.
    pub fn step(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(RETRY_DELAY_MAX);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut b = Backoff::default();
        assert_eq!(b.step(), RETRY_DELAY_MIN);
        assert_eq!(b.step(), RETRY_DELAY_MIN * 2);
        for _ in 0..20 {
            b.step();
        }
        assert_eq!(b.step(), RETRY_DELAY_MAX);
    }
}
