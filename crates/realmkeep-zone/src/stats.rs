//! Wall-clock tick durations, for the host and the benchmark (the zone itself never reads a
//! clock).

use hdrhistogram::Histogram;
use std::time::Duration;

/// Longest duration recorded; longer ones are clamped (a minute is already a disaster).
pub const TICK_DURATION_MAX_US: u64 = 60_000_000;

/// A histogram of tick durations in microseconds.
#[derive(Debug, Clone)]
pub struct TickStats {
    histogram: Histogram<u64>,
}

/// Percentiles of recorded ticks, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickSummary {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Default for TickStats {
    fn default() -> Self {
        Self::new()
    }
}

impl TickStats {
    pub fn new() -> Self {
        let histogram = Histogram::new_with_bounds(1, TICK_DURATION_MAX_US, 3)
            .expect("static histogram bounds are valid");
        Self { histogram }
    }

    pub fn record(&mut self, tick: Duration) {
        let us = (tick.as_micros() as u64).clamp(1, TICK_DURATION_MAX_US);
        self.histogram.saturating_record(us);
    }

    pub fn summary(&self) -> TickSummary {
        let h = &self.histogram;
        TickSummary {
            count: h.len(),
            p50_us: h.value_at_quantile(0.50),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        }
    }

    pub fn merge(&mut self, other: &TickStats) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.histogram.add(&other.histogram);
    }

    pub fn reset(&mut self) {
        self.histogram.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_recorded_ticks() {
        let mut s = TickStats::new();
        for ms in 1..=100u64 {
            s.record(Duration::from_millis(ms));
        }
        let sum = s.summary();
        assert_eq!(sum.count, 100);
        assert!((49_900..=50_100).contains(&sum.p50_us), "{sum:?}");
        assert!((98_900..=99_100).contains(&sum.p99_us), "{sum:?}");
        assert!((99_900..=100_100).contains(&sum.max_us), "{sum:?}");
        s.record(Duration::from_secs(3_600));
        assert_eq!(
            s.summary().max_us / 1_000_000,
            TICK_DURATION_MAX_US / 1_000_000,
            "clamped"
        );
    }
}
