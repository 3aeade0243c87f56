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
//!
//! A lost network fails nothing: its packets are dropped, and a call on a connection it cut waits
//! until the network returns. So the workers' calls are counted while under way
//! (`StoreHealth::under_way`): with calls under way and no answer from PostgreSQL (a result or a
//! refusal) for `STORE_STALL_AFTER`, the database is believed unreachable too (stalled) until one
//! of them is answered. The calls already under way are answered when the network returns, with
//! what they did.

use crate::limits::{RETRY_DELAY_MAX, RETRY_DELAY_MIN, STORE_PROBE_INTERVAL, STORE_STALL_AFTER};
use realmkeep_store::{Store, StoreError};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Shared by every worker of a node: one view of PostgreSQL.
#[derive(Debug)]
pub struct StoreHealth {
    down: AtomicBool,
    probing: AtomicBool,
    up_again: Notify,
    /// The workers' store calls under way.
    under_way: AtomicU32,
    /// When PostgreSQL last answered a worker's call, or calls began to be under way after none
    /// were (milliseconds of `now_ms`).
    heard_ms: AtomicU64,
    /// Whether the stall was logged (once per stall).
    stall_told: AtomicBool,
    stall_after: Duration,
}

/// Milliseconds since the first call in this process: a monotonic clock in an atomic.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// One store call of a worker under way (`StoreHealth::under_way`), until dropped.
#[must_use = "the call is under way while this lives"]
pub struct UnderWay<'a>(&'a StoreHealth);

impl Drop for UnderWay<'_> {
    fn drop(&mut self) {
        self.0.under_way.fetch_sub(1, Ordering::AcqRel);
    }
}

impl StoreHealth {
    pub fn new() -> Arc<Self> {
        Self::stalling_after(STORE_STALL_AFTER)
    }

    /// With calls under way and no answer for `after`, the database is believed unreachable.
    pub fn stalling_after(after: Duration) -> Arc<Self> {
        Arc::new(Self {
            down: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            up_again: Notify::new(),
            under_way: AtomicU32::new(0),
            heard_ms: AtomicU64::new(now_ms()),
            stall_told: AtomicBool::new(false),
            stall_after: after,
        })
    }

    /// Believed reachable: no call found it away, and the calls under way are being answered.
    pub fn is_up(&self) -> bool {
        !self.down.load(Ordering::Acquire) && !self.stalled()
    }

    /// Calls under way and none answered for `stall_after` (logged once per stall).
    fn stalled(&self) -> bool {
        if self.under_way.load(Ordering::Acquire) == 0 {
            return false;
        }
        let silent_ms = now_ms().saturating_sub(self.heard_ms.load(Ordering::Acquire));
        let stalled = silent_ms > self.stall_after.as_millis() as u64;
        if stalled && !self.stall_told.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                under_way = self.under_way.load(Ordering::Relaxed),
                silent_ms,
                "PostgreSQL does not answer: critical actions and joins answer \"try again\" until the calls under way are answered"
            );
        }
        stalled
    }

    /// Counts a worker's store call as under way until the returned guard is dropped; record its
    /// result with `observe`.
    pub fn under_way(&self) -> UnderWay<'_> {
        if self.under_way.load(Ordering::Acquire) == 0 {
            // The silence is counted from now, not from the last answer of a quiet spell (set
            // before the count, so no check sees the call under way with the old answer's time).
            self.heard_ms.store(now_ms(), Ordering::Release);
        }
        self.under_way.fetch_add(1, Ordering::AcqRel);
        UnderWay(self)
    }

    /// Records the answer of a store call.
    pub fn observe<T>(self: &Arc<Self>, store: &Store, r: &Result<T, StoreError>) {
        match r {
            Err(e) if store.is_outage(e) => self.mark_down(store),
            // PostgreSQL answered: a result, a refusal, or an error of its own (a statement
            // timeout, a deadlock, a key used before).
            Ok(_)
            | Err(StoreError::Refused(_) | StoreError::Database { .. } | StoreError::KeyUsed) => {
                self.answered()
            }
            Err(_) => {}
        }
    }

    /// While PostgreSQL is believed away (`is_up` false), starts the probe if it is not running:
    /// a stall is over as soon as PostgreSQL answers anything (its ping), and a busy node whose
    /// calls all wait on locks is not held stalled by them.
    pub fn probe_while_away(self: &Arc<Self>, store: &Store) {
        if !self.is_up() {
            self.probe(store);
        }
    }

    /// PostgreSQL answered a call: it is there.
    fn answered(&self) {
        self.heard_ms.store(now_ms(), Ordering::Release);
        if self.stall_told.swap(false, Ordering::AcqRel) {
            tracing::info!("PostgreSQL answers again after a stall");
        }
        self.mark_up();
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
        self.probe(store);
    }

    /// Pings every `STORE_PROBE_INTERVAL` until PostgreSQL is believed up again (one probe at a
    /// time).
    fn probe(self: &Arc<Self>, store: &Store) {
        if !self.probing.swap(true, Ordering::AcqRel) {
            let me = self.clone();
            let store = store.clone();
            tokio::spawn(async move {
                while !me.is_up() {
                    tokio::time::sleep(STORE_PROBE_INTERVAL).await;
                    if store.ping().await.is_ok() {
                        me.answered();
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
    fn calls_under_way_without_an_answer_stall_until_one_is_answered() {
        let h = StoreHealth::stalling_after(Duration::from_millis(50));
        assert!(h.is_up());
        // Nothing under way: silence is no stall, however long.
        std::thread::sleep(Duration::from_millis(80));
        assert!(h.is_up(), "a quiet node is not stalled");
        let first = h.under_way();
        assert!(
            h.is_up(),
            "the silence counts from the first call under way"
        );
        std::thread::sleep(Duration::from_millis(80));
        assert!(!h.is_up(), "a call under way, unanswered past the limit");
        let second = h.under_way();
        assert!(!h.is_up(), "another call does not end the stall");
        drop(second);
        assert!(
            !h.is_up(),
            "a call that ended without an answer does not end it"
        );
        h.answered();
        assert!(h.is_up(), "an answer ends it");
        drop(first);
        std::thread::sleep(Duration::from_millis(800));
        assert!(h.is_up(), "nothing under way again");
    }

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
