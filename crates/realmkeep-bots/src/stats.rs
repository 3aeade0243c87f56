//! What the bots did, shared by all of them: connections, commands, answers by kind, redirects,
//! reconnects, WebSocket traffic, and the round-trip time from a command to its answer (for a
//! critical action, to its commit). Besides the run's totals, a window (`take_window`) that a
//! benchmark opens and closes around what it measures.

use crate::config::BotsConfig;
use crate::ledger::{Acked, Ledger};
use crate::stood::{Standings, Stood};
use hdrhistogram::Histogram;
use realmkeep_protocol::client::Traffic;
use realmkeep_protocol::ws::{Answer, CommandKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest round trip recorded (µs); longer ones count as this.
const RTT_MAX_US: u64 = 60_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, RTT_MAX_US, 3).expect("valid bounds")
}

/// Round trips: every answered command, critical actions alone (answered after their commit),
/// and the others alone (answered by the zone or the gateway): where a tail of all comes from.
#[derive(Debug, Clone)]
struct Rtts {
    all: Histogram<u64>,
    critical: Histogram<u64>,
    routine: Histogram<u64>,
    /// By the command's kind (its rate limit's), critical or not.
    by_kind: HashMap<CommandKind, Histogram<u64>>,
}

impl Rtts {
    fn new() -> Self {
        Self {
            all: histogram(),
            critical: histogram(),
            routine: histogram(),
            by_kind: HashMap::new(),
        }
    }

    fn record(&mut self, us: u64, critical: bool, kind: Option<CommandKind>) {
        let _ = self.all.record(us);
        if let Some(k) = kind {
            let _ = self.by_kind.entry(k).or_insert_with(histogram).record(us);
        }
        let _ = match critical {
            true => self.critical.record(us),
            false => self.routine.record(us),
        };
    }
}

fn quantile_ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        return 0.0;
    }
    h.value_at_quantile(q) as f64 / 1_000.0
}

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
    pub frames_up: AtomicU64,
    pub bytes_up: AtomicU64,
    pub frames_down: AtomicU64,
    pub bytes_down: AtomicU64,
    /// The run's round trips, and the current window's.
    rtt: Mutex<(Rtts, Rtts)>,
    last: Mutex<(u64, Duration)>,
    /// Acknowledged critical actions (kept when `BotsConfig::ledger`).
    pub(crate) ledger: Ledger,
    /// Where bots stood when they logged out (kept when `BotsConfig::positions`).
    pub(crate) stood: Standings,
    /// The counters when the window opened, and when.
    window: Mutex<(Counts, Instant)>,
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
            frames_up: AtomicU64::new(0),
            bytes_up: AtomicU64::new(0),
            frames_down: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
            rtt: Mutex::new((Rtts::new(), Rtts::new())),
            last: Mutex::new((0, Duration::ZERO)),
            ledger: Ledger::default(),
            stood: Standings::default(),
            window: Mutex::new((Counts::default(), Instant::now())),
        }
    }
}

fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

pub(crate) fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

/// The counters a window differences.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    commands: u64,
    ok: u64,
    refused: u64,
    try_again: u64,
    rate_limited: u64,
    reconnects: u64,
    errors: u64,
    traffic: Traffic,
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
    pub critical_rtt_p50_ms: f64,
    pub critical_rtt_p99_ms: f64,
    pub frames_up: u64,
    pub bytes_up: u64,
    pub frames_down: u64,
    pub bytes_down: u64,
    /// Every critical action a bot was told committed, with its durable id (`--ledger` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged: Vec<Acked>,
    /// Acknowledgements not kept for want of room (`LEDGER_ENTRIES_MAX`).
    #[serde(default)]
    pub acknowledged_dropped: u64,
    /// Where each bot stood, stopped, when its logout was answered (`positions` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stood: Vec<Stood>,
}

/// What the bots did between two `take_window` calls.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub seconds: f64,
    /// Connections joined and open now.
    pub connected: u64,
    pub joined: u64,
    pub commands: u64,
    pub answered: u64,
    pub ok: u64,
    pub refused: u64,
    pub try_again: u64,
    pub rate_limited: u64,
    pub reconnects: u64,
    pub errors: u64,
    pub rtt_p50_ms: f64,
    pub rtt_p99_ms: f64,
    pub rtt_max_ms: f64,
    /// Critical actions (answered after their commit) alone.
    pub critical_answered: u64,
    pub critical_rtt_p50_ms: f64,
    pub critical_rtt_p99_ms: f64,
    /// The others (answered by the zone or the gateway) alone.
    pub routine_rtt_p99_ms: f64,
    /// By the command's kind (`CommandKind`, in lower case): `kind_{k}_answered` and
    /// `kind_{k}_rtt_p99_ms`, beside the other figures (processes' windows add up key by key).
    #[serde(flatten)]
    pub by_kind: BTreeMap<String, f64>,
    pub frames_up: u64,
    pub bytes_up: u64,
    pub frames_down: u64,
    pub bytes_down: u64,
}

impl Stats {
    pub(crate) fn answered(&self, a: &Answer, rtt: Duration, critical: bool, kind: CommandKind) {
        bump(match a {
            Answer::Ok => &self.ok,
            Answer::Refused { .. } => &self.refused,
            Answer::TryAgain { .. } => &self.try_again,
            Answer::RateLimited { .. } => &self.rate_limited,
        });
        self.round_trip(rtt, critical, Some(kind));
    }

    /// A round trip that is not a protocol answer (an echo).
    pub(crate) fn round_trip(&self, rtt: Duration, critical: bool, kind: Option<CommandKind>) {
        let us = (rtt.as_micros() as u64).clamp(1, RTT_MAX_US);
        let mut r = self.rtt.lock().unwrap_or_else(|e| e.into_inner());
        r.0.record(us, critical, kind);
        r.1.record(us, critical, kind);
    }

    /// Adds what a socket sent and received since `last` was taken, and moves `last` on.
    pub(crate) fn traffic(&self, now: Traffic, last: &mut Traffic) {
        let d = now.since(last);
        self.frames_up.fetch_add(d.frames_sent, Ordering::Relaxed);
        self.bytes_up.fetch_add(d.bytes_sent, Ordering::Relaxed);
        self.frames_down
            .fetch_add(d.frames_received, Ordering::Relaxed);
        self.bytes_down
            .fetch_add(d.bytes_received, Ordering::Relaxed);
        *last = now;
    }

    fn counts(&self) -> Counts {
        Counts {
            commands: get(&self.commands),
            ok: get(&self.ok),
            refused: get(&self.refused),
            try_again: get(&self.try_again),
            rate_limited: get(&self.rate_limited),
            reconnects: get(&self.reconnects),
            errors: get(&self.errors),
            traffic: Traffic {
                frames_sent: get(&self.frames_up),
                bytes_sent: get(&self.bytes_up),
                frames_received: get(&self.frames_down),
                bytes_received: get(&self.bytes_down),
            },
        }
    }

    /// What happened since the previous call (or the start); a new window opens.
    pub fn take_window(&self) -> Window {
        let now = self.counts();
        let (then, since) = {
            let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut *w, (now, Instant::now()))
        };
        let rtt = {
            let mut r = self.rtt.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::replace(&mut r.1, Rtts::new())
        };
        let d = |a: u64, b: u64| a.saturating_sub(b);
        let t = now.traffic.since(&then.traffic);
        Window {
            seconds: since.elapsed().as_secs_f64(),
            connected: get(&self.connected),
            joined: get(&self.joined),
            commands: d(now.commands, then.commands),
            answered: rtt.all.len(),
            ok: d(now.ok, then.ok),
            refused: d(now.refused, then.refused),
            try_again: d(now.try_again, then.try_again),
            rate_limited: d(now.rate_limited, then.rate_limited),
            reconnects: d(now.reconnects, then.reconnects),
            errors: d(now.errors, then.errors),
            rtt_p50_ms: quantile_ms(&rtt.all, 0.5),
            rtt_p99_ms: quantile_ms(&rtt.all, 0.99),
            rtt_max_ms: quantile_ms(&rtt.all, 1.0),
            critical_answered: rtt.critical.len(),
            critical_rtt_p50_ms: quantile_ms(&rtt.critical, 0.5),
            critical_rtt_p99_ms: quantile_ms(&rtt.critical, 0.99),
            routine_rtt_p99_ms: quantile_ms(&rtt.routine, 0.99),
            by_kind: rtt
                .by_kind
                .iter()
                .flat_map(|(k, h)| {
                    let k = format!("{k:?}").to_lowercase();
                    [
                        (format!("kind_{k}_answered"), h.len() as f64),
                        (format!("kind_{k}_rtt_p99_ms"), quantile_ms(h, 0.99)),
                    ]
                })
                .collect(),
            frames_up: t.frames_sent,
            bytes_up: t.bytes_sent,
            frames_down: t.frames_received,
            bytes_down: t.bytes_received,
        }
    }

    fn run_rtts(&self) -> Rtts {
        self.rtt.lock().unwrap_or_else(|e| e.into_inner()).0.clone()
    }

    /// One status line: connections, commands per second since the last line, answers, RTT.
    pub fn line(&self, elapsed: Duration) -> String {
        let commands = get(&self.commands);
        let rtt = self.run_rtts();
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
            quantile_ms(&rtt.all, 0.5),
            quantile_ms(&rtt.all, 0.99),
        )
    }

    pub fn report(&self, config: &BotsConfig, elapsed: Duration) -> Report {
        let secs = elapsed.as_secs_f64().max(0.001);
        let (acknowledged, acknowledged_dropped) = self.ledger.take();
        let rtt = self.run_rtts();
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
            rtt_p50_ms: quantile_ms(&rtt.all, 0.5),
            rtt_p99_ms: quantile_ms(&rtt.all, 0.99),
            rtt_max_ms: quantile_ms(&rtt.all, 1.0),
            critical_rtt_p50_ms: quantile_ms(&rtt.critical, 0.5),
            critical_rtt_p99_ms: quantile_ms(&rtt.critical, 0.99),
            frames_up: get(&self.frames_up),
            bytes_up: get(&self.bytes_up),
            frames_down: get(&self.frames_down),
            bytes_down: get(&self.bytes_down),
            acknowledged,
            acknowledged_dropped,
            stood: self.stood.take(),
        }
    }
}
