//! Prometheus metrics of the node, through the `metrics` facade and its Prometheus recorder.
//!
//! Two kinds of series. Distributions (tick, batch-save, critical-action durations) are recorded
//! where they happen into Prometheus histograms with the buckets below. Counts the node already
//! keeps for its status line, readiness and benchmark (the host's, cache's and jobs' atomics)
//! are not counted a second time: they are copied into counters and gauges when `/metrics` is
//! scraped ([`render`]), so both views read one count.
//!
//! The recorder is process-wide ([`install`], idempotent): the first [`crate::Cluster`] of the
//! process installs it before its zones start, and the gateway renders it. Names and labels are
//! listed in `docs/OPERATIONS.md` ("Metrics").

use crate::cluster::ClusterStatus;
use crate::jobs::JobMetrics;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use realmkeep_cache::CacheMetrics;
use std::sync::OnceLock;

/// Buckets of every `*_seconds` histogram: from a fast tick (1 ms) to a save that waited out
/// PostgreSQL's restart (10 s). The tick budget (50 ms) and its target p99 (25 ms) are edges.
pub const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.002, 0.005, 0.010, 0.015, 0.020, 0.025, 0.035, 0.050, 0.075, 0.100, 0.250, 0.500, 1.0,
    2.5, 5.0, 10.0,
];
/// Buckets of the rows of one batch save (a batch is at most `BATCH_SAVE_ROWS_MAX` rows).
pub const ROWS_BUCKETS: &[f64] = &[
    1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 16384.0,
];

const _: () = {
    let mut i = 1;
    while i < SECONDS_BUCKETS.len() {
        assert!(SECONDS_BUCKETS[i - 1] < SECONDS_BUCKETS[i]);
        i += 1;
    }
    assert!(
        ROWS_BUCKETS[ROWS_BUCKETS.len() - 1]
            >= realmkeep_domain::limits::BATCH_SAVE_ROWS_MAX as f64
    );
};

pub const TICK_SECONDS: &str = "realmkeep_zone_tick_seconds";
pub const TICK_CPU_SECONDS: &str = "realmkeep_zone_tick_cpu_seconds";
pub const COMMAND_WAIT_SECONDS: &str = "realmkeep_zone_command_wait_seconds";
pub const SAVE_BATCH_SECONDS: &str = "realmkeep_save_batch_seconds";
pub const SAVE_BATCH_ROWS: &str = "realmkeep_save_batch_rows";
pub const CRITICAL_ACTION_SECONDS: &str = "realmkeep_critical_action_seconds";
pub const CLAIMS_RENEWED: &str = "realmkeep_claims_renewed_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's Prometheus recorder once and returns its handle; `None` if another
/// recorder was installed first (an embedding program's): then `/metrics` has nothing to show.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(SAVE_BATCH_ROWS.into()), ROWS_BUCKETS)
                })
                .and_then(|b| b.install_recorder());
            match built {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "no Prometheus metrics: a recorder is already installed");
                    None
                }
            }
        })
        .as_ref()
}

/// How often samples recorded since the last scrape are folded into their buckets, so a node
/// nobody scrapes holds a bounded amount of them.
pub const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds recorded histogram samples into their buckets (the gateway runs it every
/// `UPKEEP_EVERY` while it serves; a scrape does it too).
pub fn upkeep() {
    if let Some(h) = install() {
        h.run_upkeep();
    }
}

/// What the store's pool looks like now.
#[derive(Debug, Clone, Copy)]
pub struct PoolGauges {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// The Prometheus text exposition of the node: `status`, the cache's and pool's state copied
/// into gauges and counters, then everything recorded. `None` without a recorder.
pub fn render(status: &ClusterStatus, cache: &CacheMetrics, pool: PoolGauges) -> Option<String> {
    let handle = install()?;
    export_status(status);
    export_cache(cache);
    export_jobs(&status.jobs);
    ::metrics::gauge!("realmkeep_postgres_pool_connections").set(pool.open);
    ::metrics::gauge!("realmkeep_postgres_pool_idle").set(pool.idle);
    ::metrics::gauge!("realmkeep_postgres_pool_max").set(pool.max);
    handle.run_upkeep();
    Some(handle.render())
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn export_status(s: &ClusterStatus) {
    ::metrics::gauge!("realmkeep_postgres_up").set(flag(s.postgres_up));
    ::metrics::gauge!("realmkeep_redis_up").set(flag(s.redis_up));
    ::metrics::gauge!("realmkeep_node_uptime_seconds").set(s.uptime_s);
    ::metrics::gauge!("realmkeep_node_runtime_lag_seconds").set(s.runtime_lag_us as f64 / 1e6);
    ::metrics::gauge!("realmkeep_node_runtime_lag_worst_seconds")
        .set(s.runtime_lag_worst_us as f64 / 1e6);
    for z in &s.zones {
        let m = &z.metrics;
        let zone = z.zone.0.to_string();
        let gauge = |name: &'static str, v: u64| {
            ::metrics::gauge!(name, "zone" => zone.clone()).set(v as f64);
        };
        gauge("realmkeep_zone_players", m.players);
        gauge("realmkeep_claims_renewal_failing", m.renewal_failing as u64);
        gauge("realmkeep_zone_view_stretch", m.view_stretch);
        ::metrics::gauge!("realmkeep_zone_tick_wait_seconds", "zone" => zone.clone())
            .set(m.tick_wait_us as f64 / 1e6);
        gauge(
            "realmkeep_zone_last_tick_age_seconds",
            m.last_tick_age_ms.unwrap_or(u64::MAX / 1000) / 1000,
        );
        let queue = |q: &'static str, v: u64| {
            ::metrics::gauge!("realmkeep_queue_depth", "zone" => zone.clone(), "queue" => q)
                .set(v as f64);
        };
        queue("store", m.store_pending);
        queue("store_held", m.store_backlog);
        queue("cache", m.cache_backlog);
        queue("log", m.log_backlog);
        let counter = |name: &'static str, v: u64| {
            ::metrics::counter!(name, "zone" => zone.clone()).absolute(v);
        };
        counter("realmkeep_zone_ticks_total", m.ticks);
        counter("realmkeep_zone_ticks_late_total", m.ticks_late);
        counter("realmkeep_zone_ticks_skipped_total", m.ticks_skipped);
        counter("realmkeep_zone_reactions_total", m.reactions);
        counter("realmkeep_zone_commands_busy_total", m.commands_busy);
        counter("realmkeep_zone_told_busy_total", m.told_busy);
        counter("realmkeep_zone_views_computed_total", m.views_computed);
        counter("realmkeep_zone_views_skipped_total", m.views_skipped);
        counter("realmkeep_zone_views_crowded_total", m.views_crowded);
        counter("realmkeep_zone_ticks_stretched_total", m.ticks_stretched);
        counter(
            "realmkeep_zone_ticks_stretched_max_total",
            m.ticks_stretched_max,
        );
        counter("realmkeep_saves_total", m.saves_ok);
        counter("realmkeep_saves_failed_total", m.saves_failed);
        counter("realmkeep_save_retries_total", m.save_retries);
        counter("realmkeep_save_rows_total", m.save_rows_ok);
        counter("realmkeep_save_rows_refused_total", m.save_rows_refused);
        counter("realmkeep_releases_total", m.releases_ok);
        counter("realmkeep_joins_total", m.joins);
        counter("realmkeep_joins_refused_total", m.joins_refused);
        counter("realmkeep_leaves_total", m.leaves);
        counter("realmkeep_claims_lost_total", m.claims_lost);
        counter("realmkeep_claim_renewals_failed_total", m.renewals_failed);
        counter("realmkeep_postgres_pool_timeouts_total", m.store_busy);
        counter("realmkeep_answered_busy_total", m.answered_busy);
        counter("realmkeep_cache_writes_total", m.cache_applied);
        counter("realmkeep_cache_writes_dropped_total", m.cache_dropped);
        counter("realmkeep_log_events_total", m.log_events_written);
        counter("realmkeep_log_events_dropped_total", m.log_events_dropped);
        counter("realmkeep_notices_dropped_total", m.notices_dropped);
        for (outcome, v) in [
            ("ok", m.critical_ok),
            ("refused", m.critical_refused),
            ("unavailable", m.critical_unavailable),
        ] {
            ::metrics::counter!("realmkeep_critical_actions_total", "zone" => zone.clone(), "outcome" => outcome)
                .absolute(v);
        }
    }
}

fn export_cache(c: &CacheMetrics) {
    let counter = |name: &'static str, v: u64| ::metrics::counter!(name).absolute(v);
    counter("realmkeep_redis_commands_total", c.commands_ok);
    counter("realmkeep_redis_commands_failed_total", c.commands_failed);
    counter("realmkeep_redis_command_timeouts_total", c.command_timeouts);
    counter("realmkeep_redis_degraded_answers_total", c.degraded_answers);
    counter("realmkeep_redis_disconnects_total", c.disconnects);
    counter("realmkeep_redis_reconnects_total", c.reconnects);
    counter("realmkeep_redis_reregistrations_total", c.reregistrations);
    counter("realmkeep_redis_pubsub_received_total", c.pubsub_received);
    counter("realmkeep_redis_pubsub_dropped_total", c.pubsub_dropped);
    counter(
        "realmkeep_leaderboard_rebuilds_total",
        c.leaderboard_rebuilds,
    );
    // Redis down means presence, chat history, rate limits and leaderboards answer degraded.
    ::metrics::gauge!("realmkeep_degraded").set(flag(!c.up));
}

fn export_jobs(j: &JobMetrics) {
    let counter = |name: &'static str, v: u64| ::metrics::counter!(name).absolute(v);
    counter("realmkeep_job_runs_total", j.runs);
    counter("realmkeep_job_runs_failed_total", j.runs_failed);
    counter("realmkeep_listings_expired_total", j.listings_expired);
    counter("realmkeep_mails_expired_total", j.mails_expired);
    counter("realmkeep_log_default_alerts_total", j.log_default_alerts);
    counter("realmkeep_keys_pruned_total", j.keys_pruned);
}
