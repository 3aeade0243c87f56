//! What the bots did, shared by all of them: connections, commands, answers by kind, redirects,
//! reconnects, and the round-trip time from a command to its answer (for a critical action, to
//! its commit).

use crate::config::BotsConfig;
use crate::ledger::{Acked, Ledger};
use hdrhistogram::Histogram;
use realmkeep_protocol::ws::Answer;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Longest round trip recorded (µs); longer ones count as this.
const RTT_MAX_US: u64 = 60_000_000;

#[derive(Debug)]
pub struct Stats {
    pub connected: AtomicU64,
    pub joined: AtomicU64,
    pub commands: AtomicU64,
    pub ok: AtomicU64,
    pub refused: AtomicU64,
    pub try_again: AtomicU64,
    pub rate_limited: AtomicU64,
    pub redirects: AtomicU64,
    pub reconnects: AtomicU64,
    pub errors: AtomicU64,
    rtt: Mutex<Histogram<u64>>,
    last: Mutex<(u64, Duration)>,
    /// Acknowledged critical actions (kept when `BotsConfig::ledger`).
    pub(crate) ledger: Ledger,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            connected: AtomicU64::new(0),
            joined: AtomicU64::new(0),
            commands: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            try_again: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            redirects: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            rtt: Mutex::new(Histogram::new_with_bounds(1, RTT_MAX_US, 3).expect("valid bounds")),
            last: Mutex::new((0, Duration::ZERO)),
            ledger: Ledger::default(),
        }
    }
}

fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

pub(crate) fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// What a run did, as the JSON report prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub url: String,
    pub players: usize,
    pub seed: u64,
    pub seconds: f64,
    pub joined: u64,
    pub connected_at_end: u64,
    pub commands: u64,
    pub commands_per_s: f64,
    pub ok: u64,
    pub refused: u64,
    pub try_again: u64,
    pub rate_limited: u64,
    pub redirects: u64,
    pub reconnects: u64,
    pub errors: u64,
    pub rtt_p50_ms: f64,
    pub rtt_p99_ms: f64,
    pub rtt_max_ms: f64,
    /// Every critical action a bot was told committed, with its durable id (`--ledger` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged: Vec<Acked>,
    /// Acknowledgements not kept for want of room (`LEDGER_ENTRIES_MAX`).
    #[serde(default)]
    pub acknowledged_dropped: u64,
}

impl Stats {
    pub(crate) fn answered(&self, a: &Answer, rtt: Duration) {
        bump(match a {
            Answer::Ok => &self.ok,
            Answer::Refused { .. } => &self.refused,
            Answer::TryAgain { .. } => &self.try_again,
            Answer::RateLimited { .. } => &self.rate_limited,
        });
        let us = (rtt.as_micros() as u64).clamp(1, RTT_MAX_US);
        let _ = self
            .rtt
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(us);
    }

    fn percentile_ms(&self, q: f64) -> f64 {
        let h = self.rtt.lock().unwrap_or_else(|e| e.into_inner());
        if h.is_empty() {
            return 0.0;
        }
        h.value_at_quantile(q) as f64 / 1_000.0
    }

    /// One status line: connections, commands per second since the last line, answers, RTT.
    pub fn line(&self, elapsed: Duration) -> String {
        let commands = get(&self.commands);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let dt = (elapsed - last.1).as_secs_f64().max(0.001);
        let rate = (commands - last.0) as f64 / dt;
        *last = (commands, elapsed);
        format!(
            "[{:>5.1} s] connected {} | {:.0} commands/s | ok {} refused {} try_again {} rate_limited {} | RTT p50 {:.1} ms p99 {:.1} ms",
            elapsed.as_secs_f64(),
            get(&self.connected),
            rate,
            get(&self.ok),
            get(&self.refused),
            get(&self.try_again),
            get(&self.rate_limited),
            self.percentile_ms(0.5),
            self.percentile_ms(0.99),
        )
    }

    pub fn report(&self, config: &BotsConfig, elapsed: Duration) -> Report {
        let secs = elapsed.as_secs_f64().max(0.001);
        let (acknowledged, acknowledged_dropped) = self.ledger.take();
        Report {
            url: config.url.clone(),
            players: config.players,
            seed: config.seed,
            seconds: secs,
            joined: get(&self.joined),
            connected_at_end: get(&self.connected),
            commands: get(&self.commands),
            commands_per_s: get(&self.commands) as f64 / secs,
            ok: get(&self.ok),
            refused: get(&self.refused),
            try_again: get(&self.try_again),
            rate_limited: get(&self.rate_limited),
            redirects: get(&self.redirects),
            reconnects: get(&self.reconnects),
            errors: get(&self.errors),
            rtt_p50_ms: self.percentile_ms(0.5),
            rtt_p99_ms: self.percentile_ms(0.99),
            rtt_max_ms: self.percentile_ms(1.0),
            acknowledged,
            acknowledged_dropped,
        }
    }
}
