//! What a zone host counts, as atomics any thread bumps without waiting, read as one
//! [`HostMetrics`] snapshot for status lines, the admin page and the benchmark.

use hdrhistogram::Histogram;
use realmkeep_zone::TickStats;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The counters of one zone host. Gauges (`*_pending`, `*_backlog`) go up and down.
#[derive(Debug, Default)]
pub struct Counters {
    pub ticks: AtomicU64,
    pub ticks_late: AtomicU64,
    pub ticks_skipped: AtomicU64,
    /// Passes between ticks that applied inputs (`Zone::react`).
    pub reactions: AtomicU64,
    pub commands_busy: AtomicU64,
    pub inputs_held: AtomicU64,
    pub saves_ok: AtomicU64,
    pub save_rows_ok: AtomicU64,
    pub save_rows_refused: AtomicU64,
    pub saves_failed: AtomicU64,
    pub save_retries: AtomicU64,
    pub releases_ok: AtomicU64,
    pub level_up_saves_ok: AtomicU64,
    pub critical_ok: AtomicU64,
    pub critical_refused: AtomicU64,
    pub critical_unavailable: AtomicU64,
    pub store_busy: AtomicU64,
    pub answered_busy: AtomicU64,
    /// "Busy" notices a zone routed to its players (`Denial::Busy`: a critical action over
    /// `PENDING_CRITICAL_PER_PLAYER_MAX`, or the zone's pending requests full); a client hears
    /// `try_again`. Counted as routed (a notice to a player without a connection is counted too).
    pub told_busy: AtomicU64,
    /// The zone's views of watching players since it started (`realmkeep_zone::ViewCounts`):
    /// computed, skipped (nothing around had changed), and of those computed, in a crowd (so the
    /// viewer's next view comes at the crowd's pace).
    pub views_computed: AtomicU64,
    pub views_skipped: AtomicU64,
    pub views_crowded: AtomicU64,
    /// How many times slower than their pace the zone tells its viewers now (a gauge, 1 at the
    /// full pace; `pace.rs`), the ticks run with the pace stretched (and of those, stretched to
    /// the most), and the mean wait for a core per tick of the last window the pace was judged on
    /// (microseconds, a gauge).
    pub view_stretch: AtomicU64,
    pub ticks_stretched: AtomicU64,
    pub ticks_stretched_max: AtomicU64,
    pub tick_wait_us: AtomicU64,
    pub store_pending: AtomicU64,
    pub store_backlog: AtomicU64,
    pub cache_applied: AtomicU64,
    pub cache_dropped: AtomicU64,
    pub cache_backlog: AtomicU64,
    pub log_events_written: AtomicU64,
    pub log_batches_dropped: AtomicU64,
    pub log_events_dropped: AtomicU64,
    pub log_backlog: AtomicU64,
    pub notices_dropped: AtomicU64,
    pub joins: AtomicU64,
    pub joins_refused: AtomicU64,
    pub leaves: AtomicU64,
    pub claims_lost: AtomicU64,
    pub renewals_failed: AtomicU64,
    /// 1 while the last claim renewal of the zone failed (a gauge; 0 at start).
    pub renewal_failing: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

pub(crate) fn set(c: &AtomicU64, n: u64) {
    c.store(n, Ordering::Relaxed);
}

pub(crate) fn dec(c: &AtomicU64) {
    // A gauge never goes below zero, even if a decrement raced ahead of its increment.
    let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_sub(1))
    });
}

/// A latency histogram in microseconds, shared behind a mutex held only to record or read.
#[derive(Debug)]
pub struct Latency {
    hist: Mutex<Histogram<u64>>,
    max_us: u64,
}

/// p50/p99/max of a [`Latency`], in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Latency {
    pub fn new(max_us: u64) -> Self {
        Self {
            hist: Mutex::new(
                Histogram::new_with_bounds(1, max_us, 3).expect("histogram bounds are valid"),
            ),
            max_us,
        }
    }

    pub fn record(&self, d: Duration) {
        let us = (d.as_micros() as u64).clamp(1, self.max_us);
        let mut h = self.hist.lock().unwrap_or_else(|p| p.into_inner());
        // Clamped into range above, so recording cannot fail.
        let _ = h.record(us);
    }

    /// The percentiles recorded since the last call, then an empty histogram (a benchmark's
    /// window).
    pub fn take(&self) -> Percentiles {
        let mut h = self.hist.lock().unwrap_or_else(|p| p.into_inner());
        // Read and emptied under one lock: a sample recorded meanwhile is in one window or the next.
        let taken = Self::of(&h);
        h.reset();
        taken
    }

    pub fn percentiles(&self) -> Percentiles {
        Self::of(&self.hist.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            p50_us: h.value_at_quantile(0.50),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        }
    }
}

/// A snapshot of one zone host's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostMetrics {
    pub ticks: u64,
    /// Ticks that started after their deadline, and ticks given up to catch up.
    pub ticks_late: u64,
    pub ticks_skipped: u64,
    pub reactions: u64,
    pub tick: Percentiles,
    pub join: Percentiles,
    pub players: u64,
    pub commands_busy: u64,
    /// "Busy" notices the zone routed to players (a critical action over the player's or the
    /// zone's bound).
    pub told_busy: u64,
    pub views_computed: u64,
    pub views_skipped: u64,
    pub views_crowded: u64,
    /// The views' pace stretched this many times (1: the full pace), the ticks run stretched
    /// (and stretched to the most), and the mean wait for a core per tick the pace was last
    /// judged on.
    pub view_stretch: u64,
    pub ticks_stretched: u64,
    pub ticks_stretched_max: u64,
    pub tick_wait_us: u64,
    pub inputs_held: u64,
    pub saves_ok: u64,
    pub save_rows_ok: u64,
    pub save_rows_refused: u64,
    /// Saves answered `Unavailable` after their retries (the zone keeps the state dirty).
    pub saves_failed: u64,
    pub save_retries: u64,
    pub releases_ok: u64,
    /// Immediate full saves after a level-up.
    pub level_up_saves_ok: u64,
    pub critical_ok: u64,
    pub critical_refused: u64,
    /// Critical actions answered "try again" because PostgreSQL could not be reached.
    pub critical_unavailable: u64,
    /// Store calls that found every pooled connection busy until the acquire timeout ("try
    /// again", the database was not marked down).
    pub store_busy: u64,
    /// Requests answered "try again" because every queue and backlog was full.
    pub answered_busy: u64,
    /// Requests in the store worker (queued or running).
    pub store_pending: u64,
    /// Requests held on the tick thread because the store queue was full.
    pub store_backlog: u64,
    pub cache_applied: u64,
    pub cache_dropped: u64,
    pub cache_backlog: u64,
    pub log_events_written: u64,
    pub log_batches_dropped: u64,
    pub log_events_dropped: u64,
    pub log_backlog: u64,
    pub notices_dropped: u64,
    pub joins: u64,
    pub joins_refused: u64,
    pub leaves: u64,
    pub claims_lost: u64,
    pub renewals_failed: u64,
    /// The last claim renewal failed: this zone may lose its players when the lease runs out.
    pub renewal_failing: bool,
    pub last_error: Option<String>,
    /// Since the last tick ended (`None`: no tick yet). Readiness wants it small.
    pub last_tick_age_ms: Option<u64>,
}

fn percentiles(s: realmkeep_zone::TickSummary) -> Percentiles {
    Percentiles {
        count: s.count,
        p50_us: s.p50_us,
        p99_us: s.p99_us,
        max_us: s.max_us,
    }
}

/// A benchmark's window of a zone: its ticks' wall and CPU time, and its commands' waits.
#[derive(Debug, Clone, Copy, Default)]
pub struct TickWindowTaken {
    pub wall: Percentiles,
    pub cpu: Percentiles,
    pub command_wait: Percentiles,
}

/// A benchmark's window of ticks: wall and CPU time of the same ticks.
#[derive(Debug, Default)]
struct TickWindow {
    wall: TickStats,
    cpu: TickStats,
    /// How long players' commands waited in the zone's queue for the tick thread.
    command_wait: TickStats,
}

/// Everything a host measures: counters, latencies and the last operating error.
#[derive(Debug)]
pub struct Metrics {
    pub counters: Counters,
    /// The zone's tick durations as the Prometheus histogram `realmkeep_zone_tick_seconds`.
    tick_seconds: ::metrics::Histogram,
    /// Wall-clock tick durations, in the zone crate's histogram (shared with the benchmark).
    tick: Mutex<TickStats>,
    /// The tick thread's own CPU time per tick (`realmkeep_zone_tick_cpu_seconds`): the zone's
    /// work alone. Wall minus CPU time is what the tick waited: for a core, mostly (page faults
    /// and locks too).
    tick_cpu_seconds: ::metrics::Histogram,
    /// How long each player's command waited in the zone's queue before the tick thread took
    /// it (`realmkeep_zone_command_wait_seconds`): a part of an answer's time.
    command_wait_seconds: ::metrics::Histogram,
    /// Wall and CPU time since the last `take_tick_window` (a benchmark's measured window), under
    /// one lock so that both hold the same ticks.
    tick_window: Mutex<TickWindow>,
    pub join: Latency,
    last_error: Mutex<Option<String>>,
    /// When the last tick ended.
    last_tick: Mutex<Option<std::time::Instant>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            counters: Counters::default(),
            tick_seconds: ::metrics::Histogram::noop(),
            tick: Mutex::new(TickStats::new()),
            tick_cpu_seconds: ::metrics::Histogram::noop(),
            command_wait_seconds: ::metrics::Histogram::noop(),
            tick_window: Mutex::new(TickWindow::default()),
            join: Latency::new(crate::limits::JOIN_LATENCY_MAX_US),
            last_error: Mutex::new(None),
            last_tick: Mutex::new(None),
        }
    }
}

impl Metrics {
    /// A zone's metrics, its tick durations also going to the process's Prometheus recorder.
    pub fn for_zone(zone: realmkeep_domain::ZoneId) -> Self {
        crate::telemetry::install();
        Self {
            tick_seconds: ::metrics::histogram!(crate::telemetry::TICK_SECONDS, "zone" => zone.0.to_string()),
            tick_cpu_seconds: ::metrics::histogram!(crate::telemetry::TICK_CPU_SECONDS, "zone" => zone.0.to_string()),
            command_wait_seconds: ::metrics::histogram!(crate::telemetry::COMMAND_WAIT_SECONDS, "zone" => zone.0.to_string()),
            ..Self::default()
        }
    }

    /// Called by the tick thread once per tick, with the tick's wall time and, where the thread's
    /// clock could be read, its CPU time; the locks are only ever held to record or read.
    pub fn record_tick(&self, d: Duration, cpu: Option<Duration>) {
        self.tick_seconds.record(d.as_secs_f64());
        if let Some(cpu) = cpu {
            self.tick_cpu_seconds.record(cpu.as_secs_f64());
        }
        self.tick
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(d);
        let mut w = self.tick_window.lock().unwrap_or_else(|p| p.into_inner());
        w.wall.record(d);
        if let Some(cpu) = cpu {
            w.cpu.record(cpu);
        }
        drop(w);
        *self.last_tick.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
    }

    /// Called by the tick thread with the waits of the commands it took from its queue at once:
    /// one lock for them all.
    pub fn record_command_waits(&self, waits: &[Duration]) {
        if waits.is_empty() {
            return;
        }
        for d in waits {
            self.command_wait_seconds.record(d.as_secs_f64());
        }
        let mut w = self.tick_window.lock().unwrap_or_else(|p| p.into_inner());
        for d in waits {
            w.command_wait.record(*d);
        }
    }

    pub fn tick_summary(&self) -> Percentiles {
        let s = self
            .tick
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .summary();
        percentiles(s)
    }

    /// Tick durations (wall, then the tick thread's CPU time) since the previous call (or the
    /// start), and a new window begins.
    pub fn take_tick_window(&self) -> TickWindowTaken {
        let mut w = self.tick_window.lock().unwrap_or_else(|p| p.into_inner());
        let taken = TickWindowTaken {
            wall: percentiles(w.wall.summary()),
            cpu: percentiles(w.cpu.summary()),
            command_wait: percentiles(w.command_wait.summary()),
        };
        w.wall.reset();
        w.cpu.reset();
        w.command_wait.reset();
        taken
    }

    pub fn set_last_error(&self, e: impl std::fmt::Display) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
    }

    pub fn snapshot(&self, players: u64) -> HostMetrics {
        let c = &self.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        HostMetrics {
            ticks: g(&c.ticks),
            ticks_late: g(&c.ticks_late),
            ticks_skipped: g(&c.ticks_skipped),
            reactions: g(&c.reactions),
            tick: self.tick_summary(),
            join: self.join.percentiles(),
            players,
            commands_busy: g(&c.commands_busy),
            told_busy: g(&c.told_busy),
            views_computed: g(&c.views_computed),
            views_skipped: g(&c.views_skipped),
            views_crowded: g(&c.views_crowded),
            view_stretch: g(&c.view_stretch).max(1),
            ticks_stretched: g(&c.ticks_stretched),
            ticks_stretched_max: g(&c.ticks_stretched_max),
            tick_wait_us: g(&c.tick_wait_us),
            inputs_held: g(&c.inputs_held),
            saves_ok: g(&c.saves_ok),
            save_rows_ok: g(&c.save_rows_ok),
            save_rows_refused: g(&c.save_rows_refused),
            saves_failed: g(&c.saves_failed),
            save_retries: g(&c.save_retries),
            releases_ok: g(&c.releases_ok),
            level_up_saves_ok: g(&c.level_up_saves_ok),
            critical_ok: g(&c.critical_ok),
            critical_refused: g(&c.critical_refused),
            critical_unavailable: g(&c.critical_unavailable),
            store_busy: g(&c.store_busy),
            answered_busy: g(&c.answered_busy),
            store_pending: g(&c.store_pending),
            store_backlog: g(&c.store_backlog),
            cache_applied: g(&c.cache_applied),
            cache_dropped: g(&c.cache_dropped),
            cache_backlog: g(&c.cache_backlog),
            log_events_written: g(&c.log_events_written),
            log_batches_dropped: g(&c.log_batches_dropped),
            log_events_dropped: g(&c.log_events_dropped),
            log_backlog: g(&c.log_backlog),
            notices_dropped: g(&c.notices_dropped),
            joins: g(&c.joins),
            joins_refused: g(&c.joins_refused),
            leaves: g(&c.leaves),
            claims_lost: g(&c.claims_lost),
            renewals_failed: g(&c.renewals_failed),
            renewal_failing: g(&c.renewal_failing) != 0,
            last_tick_age_ms: self
                .last_tick
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .map(|t| t.elapsed().as_millis() as u64),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_recorded_latencies() {
        let l = Latency::new(1_000_000);
        for ms in 1..=100u64 {
            l.record(Duration::from_millis(ms));
        }
        let p = l.percentiles();
        assert_eq!(p.count, 100);
        assert!((49_000..=51_000).contains(&p.p50_us), "{p:?}");
        assert!(p.p99_us >= 98_000 && p.max_us >= 99_900, "{p:?}");
        // Out of range values are clamped, not lost.
        l.record(Duration::from_secs(3600));
        assert_eq!(l.percentiles().count, 101);
    }

    #[test]
    fn a_window_taken_starts_the_next_one_empty() {
        let l = Latency::new(1_000_000);
        l.record(Duration::from_millis(80));
        l.record(Duration::from_millis(90));
        let first = l.take();
        assert_eq!(first.count, 2);
        assert!(first.p99_us >= 89_000, "{first:?}");
        assert_eq!(l.take(), Percentiles::default(), "nothing since");
        l.record(Duration::from_millis(1));
        let next = l.take();
        assert!(next.count == 1 && next.max_us < 2_000, "{next:?}");
    }

    #[test]
    fn gauges_never_go_negative() {
        let c = AtomicU64::new(0);
        dec(&c);
        assert_eq!(c.load(Ordering::Relaxed), 0);
    }
}
