//! The gateway's Prometheus series (rendered with the node's at `/metrics`): open WebSockets,
//! frames and bytes in and out, closes by code, rate-limited requests by action, and what the
//! sweep found that live notices missed. Handles
//! are made once per gateway; labelled counters when their (rare) event happens.

use metrics::{Counter, Gauge};
use realmkeep_protocol::CloseCode;

pub(crate) const CONNECTIONS: &str = "realmkeep_gateway_connections";
pub(crate) const MESSAGES_IN: &str = "realmkeep_gateway_messages_in_total";
pub(crate) const MESSAGES_OUT: &str = "realmkeep_gateway_messages_out_total";
pub(crate) const BYTES_IN: &str = "realmkeep_gateway_bytes_in_total";
pub(crate) const BYTES_OUT: &str = "realmkeep_gateway_bytes_out_total";
pub(crate) const CLOSES: &str = "realmkeep_gateway_closes_total";
pub(crate) const RATE_LIMITED: &str = "realmkeep_rate_limited_total";
/// What the sweep found that a live notice missed, by `what` (`revoked`, `inbox`).
pub(crate) const SWEEP_FOUND: &str = "realmkeep_gateway_sweep_found_total";

#[derive(Debug, Clone)]
pub(crate) struct Meters {
    pub connections: Gauge,
    pub messages_in: Counter,
    pub messages_out: Counter,
    pub bytes_in: Counter,
    pub bytes_out: Counter,
}

impl Meters {
    pub fn new() -> Self {
        realmkeep_server::telemetry::install();
        Self {
            connections: metrics::gauge!(CONNECTIONS),
            messages_in: metrics::counter!(MESSAGES_IN),
            messages_out: metrics::counter!(MESSAGES_OUT),
            bytes_in: metrics::counter!(BYTES_IN),
            bytes_out: metrics::counter!(BYTES_OUT),
        }
    }

    /// A WebSocket closed by the server with `code` (kicks and ordinary ends alike).
    pub fn closed(code: CloseCode) {
        metrics::counter!(CLOSES, "code" => code.code().to_string()).increment(1);
    }

    /// A request answered `rate_limited`; `action` is the rate action, or `flood` for the
    /// connection's own frames-per-second bound.
    pub fn rate_limited(action: &'static str) {
        metrics::counter!(RATE_LIMITED, "action" => action).increment(1);
    }
}
