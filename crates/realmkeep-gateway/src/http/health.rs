//! `/healthz` (the process answers) and `/readyz` (PostgreSQL and Redis answer, every zone of
//! the node ticks and renews its claims, and the node is not stopping).

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use realmkeep_protocol::http::Readiness;

/// A zone that has not ticked for this long (100 ticks at 20 Hz) is stuck: not ready.
const ZONE_TICK_STALE_MS: u64 = 5_000;

pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

pub(crate) async fn readyz(State(app): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let status = app.cluster.status().await;
    let zones_ticking = !status.zones.is_empty()
        && status.zones.iter().all(|z| {
            z.metrics
                .last_tick_age_ms
                .is_some_and(|a| a <= ZONE_TICK_STALE_MS)
        });
    let claims_renewable = status.zones.iter().all(|z| !z.metrics.renewal_failing);
    let stopping = app.draining.is_cancelled() || app.stop.is_cancelled();
    let r = Readiness {
        ready: status.postgres_up
            && status.redis_up
            && zones_ticking
            && claims_renewable
            && !stopping,
        postgres: status.postgres_up,
        redis: status.redis_up,
        zones_ticking,
        claims_renewable,
        stopping,
    };
    let code = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(r))
}
