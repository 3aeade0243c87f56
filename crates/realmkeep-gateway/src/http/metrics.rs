//! `GET /metrics`: the node's Prometheus text exposition (`realmkeep_server::telemetry`), to
//! scrapers from the addresses `GatewayConfig::metrics_access` allows (by default loopback and
//! private networks: the listener may face players, the numbers are the operator's).

use super::AppState;
use crate::error::ApiFailure;
use axum::extract::{ConnectInfo, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use realmkeep_protocol::Reason;
use realmkeep_server::telemetry::{self, PoolGauges};
use std::net::SocketAddr;

/// The text exposition format's content type.
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) async fn metrics(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !app.config.metrics_access.allows(peer.ip()) {
        return ApiFailure::new(Reason::NotAllowed, "metrics are not served to this address")
            .into_response();
    }
    let status = app.cluster.status().await;
    let (open, idle, max) = app.store().pool_gauges();
    let pool = PoolGauges { open, idle, max };
    match telemetry::render(&status, &app.cache().metrics(), pool) {
        Some(text) => ([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], text).into_response(),
        None => ApiFailure::new(
            Reason::Internal,
            "no Prometheus recorder in this process (another one was installed first)",
        )
        .into_response(),
    }
}
