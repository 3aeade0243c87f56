//! `serve`: one node as its own process — what `realmkeep serve` runs once it has connected the
//! node (`Cluster::connect`) and opened its gateway: logs the status every
//! `STATUS_LOG_INTERVAL`, and once `stop` resolves (the binary's: SIGTERM or Ctrl-C, then its
//! drain) saves and releases every character before it returns.

use crate::{Cluster, ShutdownReport};
use std::time::Duration;

/// How often a serving node logs its status line.
pub const STATUS_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Runs a node until `stop` resolves; returns how each zone's shutdown went.
pub async fn serve(
    cluster: Cluster,
    stop: impl std::future::Future<Output = ()>,
) -> Vec<ShutdownReport> {
    tracing::info!(node = %cluster.node(), zones = ?cluster.zones().map(|z| z.zone()).collect::<Vec<_>>(), "serving");
    let status = {
        let cluster = cluster.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(STATUS_LOG_INTERVAL);
            every.tick().await;
            loop {
                every.tick().await;
                let s = cluster.status().await;
                for z in &s.zones {
                    tracing::info!(
                        zone = %z.zone, players = z.players, tick_p50_us = z.tick.p50_us,
                        tick_p99_us = z.tick.p99_us, pending = z.metrics.store_pending,
                        backlog = z.metrics.store_backlog, "zone status"
                    );
                }
                tracing::info!(
                    node = %s.node, players = s.players, saves_per_s = s.saves_per_s,
                    postgres_up = s.postgres_up, redis_up = s.redis_up,
                    runtime_lag_us = s.runtime_lag_us,
                    runtime_lag_worst_us = s.runtime_lag_worst_us, "node status"
                );
            }
        })
    };
    stop.await;
    tracing::info!(node = %cluster.node(), "stopping: saving every character");
    let reports = cluster.shutdown().await;
    status.abort();
    reports
}
