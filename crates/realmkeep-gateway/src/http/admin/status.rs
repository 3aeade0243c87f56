//! `GET /v1/admin/status`: the live state of this node and its zones (players, tick p50/p99,
//! saves per second, queue depths, PostgreSQL and Redis health), read from the node's own
//! status (`Cluster::status`, the numbers the Prometheus scrape copies in). Each node's gateway
//! answers for its own node.

use super::Op;
use crate::error::ApiFailure;
use crate::http::AppState;
use axum::extract::State;
use axum::Json;
use realmkeep_domain::AdminPower;
use realmkeep_protocol::admin::{NodeState, ZoneState};

fn ms(us: u64) -> f64 {
    us as f64 / 1_000.0
}

#[utoipa::path(get, path = "/v1/admin/status", tag = "status",
    security(("operator" = [])),
    responses((status = 200, body = NodeState)))]
pub(crate) async fn status(
    State(app): State<AppState>,
    op: Op,
) -> Result<Json<NodeState>, ApiFailure> {
    op.require(AdminPower::Read)?;
    let s = app.cluster.status().await;
    let sum =
        |f: fn(&realmkeep_server::HostMetrics) -> u64| s.zones.iter().map(|z| f(&z.metrics)).sum();
    Ok(Json(NodeState {
        node: s.node.clone(),
        uptime_s: s.uptime_s,
        players: s.players,
        saves_per_s: s.saves_per_s,
        save_rows_per_s: s.save_rows_per_s,
        postgres_up: s.postgres_up,
        redis_up: s.redis_up,
        store_pending: s.store_pending,
        store_backlog: s.store_backlog,
        cache_backlog: sum(|m| m.cache_backlog),
        log_backlog: sum(|m| m.log_backlog),
        log_default_rows: s.jobs.log_default_rows,
        zones: s
            .zones
            .iter()
            .map(|z| ZoneState {
                zone: z.zone.0,
                players: z.players,
                ticks: z.metrics.ticks,
                ticks_late: z.metrics.ticks_late,
                tick_p50_ms: ms(z.tick.p50_us),
                tick_p99_ms: ms(z.tick.p99_us),
                tick_max_ms: ms(z.tick.max_us),
                last_tick_age_ms: z.metrics.last_tick_age_ms,
                renewal_failing: z.metrics.renewal_failing,
            })
            .collect(),
    }))
}
