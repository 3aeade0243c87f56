//! Shutdown of one zone: stop accepting joins, final-save and release every character, wait
//! (bounded), then stop the tick thread and the workers.

use super::ZoneHost;
use crate::messages::Control;
use realmkeep_domain::ZoneId;
use realmkeep_zone::io::ZoneInput;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Longest the workers get to finish what they hold after the tick thread stopped.
const WORKERS_STOP_WAIT: Duration = Duration::from_secs(10);

/// What `ZoneHost::shutdown` managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    pub zone: ZoneId,
    /// Every character was saved and released.
    pub complete: bool,
    /// Characters still held when the wait ran out (their claims expire with the lease).
    pub still_held: usize,
    pub elapsed: Duration,
}

impl ZoneHost {
    /// Stops accepting joins, final-saves and releases every character, waits (at most the
    /// configured shutdown wait), then stops the tick thread and the workers.
    pub async fn shutdown(&self) -> ShutdownReport {
        let inner = &self.inner;
        let started = Instant::now();
        inner.accepting.store(false, Ordering::Release);
        let wait = inner.config.shutdown_wait;
        let mut done = inner.shutdown_complete.clone();
        let complete = tokio::time::timeout(wait, async {
            // Waits for room on the lane: a store result ahead of it is never pushed out.
            if inner
                .control
                .send(Control::Input(ZoneInput::Shutdown))
                .await
                .is_err()
            {
                // Already stopped (a second shutdown): report what the first one saw.
                return *done.borrow();
            }
            done.wait_for(|d| *d).await.is_ok()
        })
        .await
        .unwrap_or(false);
        if !complete {
            tracing::warn!(zone = %inner.zone, still_held = inner.roster.len(), "shutdown wait ran out: unsaved characters keep their last saved state; their claims expire");
        }
        self.stop().await;
        ShutdownReport {
            zone: inner.zone,
            complete,
            still_held: inner.roster.len(),
            elapsed: started.elapsed(),
        }
    }

    /// Stops the tick thread, lets the workers finish what they hold (bounded), then cancels.
    async fn stop(&self) {
        let inner = &self.inner;
        inner.tick_stop.cancel();
        let thread = inner
            .thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        // The tick thread held the senders of the store, cache, log and events queues: with it
        // gone those workers drain what they hold and end. The renewer keeps the claims alive
        // meanwhile; it is cancelled last.
        let tasks = std::mem::take(&mut *inner.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let drained =
            tokio::time::timeout(WORKERS_STOP_WAIT, futures::future::join_all(tasks)).await;
        if drained.is_err() {
            tracing::warn!(zone = %inner.zone, "workers did not finish in time: cancelled");
        }
        inner.workers.cancel();
        let renewer = inner
            .renewer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(r) = renewer {
            let _ = r.await;
        }
        tracing::info!(zone = %inner.zone, "zone stopped");
    }
}
