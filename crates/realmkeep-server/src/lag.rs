//! How late the node's async runtime runs what is ready: the gateway's connections, the
//! zones' workers and every answer go through it, so a runtime that is behind is a player's
//! answer that is late.
//!
//! A probe thread (a plain thread, as a zone's tick thread is) sends the time every
//! `RUNTIME_LAG_PROBE_EVERY` to a probe task, which measures how long the message took to be
//! read: the wake-up of a task from outside the runtime and its wait in the runtime's queues
//! behind every other ready task, the path of every view and answer a zone hands to a
//! connection. The task publishes the mean of each `RUNTIME_LAG_WINDOW`, and its worst message:
//! the mean hides the bursts (a zone's views handed out on its tick wake thousands of connections
//! at once), and an answer caught in one waits behind it. The zones' tick loops read both to pace
//! their views (`pace.rs`): a node whose tick threads find a core at once may still be short for
//! its connections. (A sleep timed in the runtime read far less than the
//! players' answers waited, in the benchmark: a task its own worker's timer wakes may run next,
//! ahead of the queue.)

use crate::limits::{
    RUNTIME_LAG_PROBES_IN_FLIGHT_MAX, RUNTIME_LAG_PROBE_EVERY, RUNTIME_LAG_WINDOW,
};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One full window of the probe: how late its messages were read on average, and the latest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LagReading {
    pub mean: Duration,
    pub worst: Duration,
}

/// The node's runtime lag, as the probe last published it (zero until it has, and where no
/// probe runs): the mean, then the worst, in microseconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuntimeLag(Arc<[AtomicU64; 2]>);

impl RuntimeLag {
    /// The mean lateness of the probe's last full window.
    pub fn mean(&self) -> Duration {
        Duration::from_micros(self.0[0].load(Relaxed))
    }

    /// The lateness of the latest message of the probe's last full window.
    pub fn worst(&self) -> Duration {
        Duration::from_micros(self.0[1].load(Relaxed))
    }

    /// The last full window (its two figures are read one after the other: a window published
    /// between the two reads mixes two windows, which the pace's judgement bears).
    pub fn reading(&self) -> LagReading {
        LagReading {
            mean: self.mean(),
            worst: self.worst(),
        }
    }

    /// Sets the lag as if the probe had measured it (tests of what reads it).
    #[cfg(test)]
    pub fn set(&self, reading: LagReading) {
        self.publish(reading);
    }

    fn publish(&self, r: LagReading) {
        let us = |d: Duration| d.as_micros().min(u64::MAX as u128) as u64;
        self.0[0].store(us(r.mean), Relaxed);
        self.0[1].store(us(r.worst), Relaxed);
    }
}

/// Starts measuring the runtime's lag into `lag` until `cancel`: the probe thread and the
/// task (whose handle this is); the thread ends with the task.
pub(crate) fn start(lag: RuntimeLag, cancel: CancellationToken) -> std::io::Result<JoinHandle<()>> {
    let (tx, rx) = mpsc::channel(RUNTIME_LAG_PROBES_IN_FLIGHT_MAX);
    let stop = cancel.clone();
    std::thread::Builder::new()
        .name("lag-probe".into())
        .spawn(move || {
            while !stop.is_cancelled() {
                std::thread::sleep(RUNTIME_LAG_PROBE_EVERY);
                // Full: the task is that late already, and its next read measures it.
                if let Err(TrySendError::Closed(_)) = tx.try_send(Instant::now()) {
                    return;
                }
            }
        })?;
    Ok(tokio::spawn(read(lag, rx, cancel)))
}

async fn read(lag: RuntimeLag, mut probes: mpsc::Receiver<Instant>, cancel: CancellationToken) {
    let mut window_started = Instant::now();
    let (mut late, mut worst, mut count) = (Duration::ZERO, Duration::ZERO, 0u32);
    loop {
        let sent = tokio::select! {
            _ = cancel.cancelled() => return,
            sent = probes.recv() => match sent {
                Some(sent) => sent,
                None => return,
            },
        };
        let now = Instant::now();
        let this = now.saturating_duration_since(sent);
        late = late.saturating_add(this);
        worst = worst.max(this);
        count += 1;
        if now.saturating_duration_since(window_started) >= RUNTIME_LAG_WINDOW {
            lag.publish(LagReading {
                mean: late / count,
                worst,
            });
            (window_started, late, worst, count) = (now, Duration::ZERO, Duration::ZERO, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runtime whose only thread is kept busy by a task that yields only every 30 ms: the
    /// probe's messages wait for it, and the lag published is about half that; once the runtime
    /// is free again the lag falls back.
    #[tokio::test(flavor = "current_thread")]
    async fn a_busy_runtime_is_measured_late_and_a_free_one_is_not() {
        let lag = RuntimeLag::default();
        let cancel = CancellationToken::new();
        let probe = start(lag.clone(), cancel.clone()).expect("the probe thread starts");
        assert_eq!(lag.mean(), Duration::ZERO, "nothing published yet");
        // Hog the one thread in slices of 30 ms, yielding in between, for four windows.
        let hog = Duration::from_millis(30);
        let until = std::time::Instant::now() + RUNTIME_LAG_WINDOW * 4;
        while std::time::Instant::now() < until {
            std::thread::sleep(hog);
            tokio::task::yield_now().await;
        }
        let busy = lag.reading();
        assert!(
            busy.mean >= Duration::from_millis(10),
            "a probe behind 30 ms slices is late by more than 10 ms on average: {busy:?}"
        );
        assert!(
            busy.worst >= Duration::from_millis(20) && busy.worst >= busy.mean,
            "the latest of its messages waited most of a slice: {busy:?}"
        );
        // Free: the next windows' messages are read at once.
        tokio::time::sleep(RUNTIME_LAG_WINDOW * 3).await;
        let free = lag.reading();
        assert!(
            free.mean < Duration::from_millis(5),
            "a free runtime reads the probe's messages at once: {free:?}"
        );
        cancel.cancel();
        probe.await.expect("the probe ends when cancelled");
    }
}
