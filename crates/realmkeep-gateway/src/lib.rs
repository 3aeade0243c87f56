//! The door: an HTTP and WebSocket gateway in front of a node's zones.
//!
//! One listener (`GatewayConfig::listen`, optionally TLS) serves:
//! - `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus, `realmkeep_server::telemetry`);
//! - the JSON API under `/v1/` (`http`): accounts, sessions, characters, WebSocket tickets;
//! - the WebSocket at `/v1/ws` (`ws`): protocol version 1 of `realmkeep-protocol`.
//!
//! The gateway trusts nothing a client sends for authority: a connection is bound to the
//! session that asked for its ticket, to that session's account, and to the character the
//! ticket named; positions are the zone's. It never touches PostgreSQL or Redis directly for
//! game state: accounts and characters go through `realmkeep-store`, sessions, tickets and rate
//! limits through `realmkeep-cache`, play through the node's `ZoneHost`s.
//!
//! Codemap: `config.rs`, `limits.rs` (every limit, named), `error.rs`, `listener.rs` (accept,
//! connections per address, TLS, hyper), `state.rs` (shared state, live connections, pub/sub),
//! `sweep.rs` (every connection's session and inbox looked at together, for lost notices),
//! `http/` (one module per resource), `ws/` (`decode.rs`: frames to commands, the fuzzed part;
//! `conn.rs`: one connection's loop; `join.rs`: ticket to character in the world;
//! `translate.rs`: zone notices to protocol messages); `echo.rs` (a bare WebSocket echo on the
//! same stack: the gateway benchmark's reference, not served by a node).

mod broadcast;
mod config;
pub mod echo;
mod error;
mod http;
pub mod limits;
mod listener;
mod meters;
mod state;
mod sweep;
pub mod ws;

pub use config::{GatewayConfig, MetricsAccess, TlsFiles, DEFAULT_LISTEN};
pub use error::GatewayError;

use realmkeep_server::Cluster;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A running gateway (cheap to clone). Dropping it does not stop it: call `stop`.
#[derive(Debug, Clone)]
pub struct Gateway {
    local_addr: SocketAddr,
    public_url: String,
    stop: CancellationToken,
    draining: CancellationToken,
    tls: bool,
    conns: Arc<listener::Conns>,
    /// The gateway's meters (the answers' latency window).
    meters: meters::Meters,
}

impl Gateway {
    /// Binds the listener and starts serving. Must run inside a Tokio runtime.
    pub async fn start(cluster: Cluster, config: GatewayConfig) -> Result<Gateway, GatewayError> {
        let tls = config
            .tls
            .as_ref()
            .map(listener::tls_acceptor)
            .transpose()?;
        let tcp =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| GatewayError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = tcp.local_addr().map_err(|source| GatewayError::Listen {
            addr: config.listen,
            source,
        })?;
        let stop = CancellationToken::new();
        let conns = Arc::new(listener::Conns::default());
        let mut config = config;
        let scheme = if tls.is_some() { "wss" } else { "ws" };
        let public_url = config
            .public_url
            .get_or_insert_with(|| format!("{scheme}://{local_addr}/v1/ws"))
            .clone();
        tokio::spawn(metrics_upkeep(stop.clone()));
        tokio::spawn(announce_zones(
            cluster.clone(),
            public_url.clone(),
            stop.clone(),
        ));
        let (app, pubsub_rx) = state::App::new(cluster, config.clone(), stop.clone());
        let draining = app.draining.clone();
        let meters = app.meters.clone();
        tokio::spawn(state::run_pubsub(app.clone(), pubsub_rx));
        tokio::spawn(sweep::run(app.clone()));
        tokio::spawn(broadcast::run_rounds(app.clone()));
        let router = http::router(app);
        let has_tls = tls.is_some();
        tokio::spawn(listener::accept_loop(
            tcp,
            router,
            tls,
            conns.clone(),
            config,
            stop.clone(),
        ));
        tracing::info!(%local_addr, tls = has_tls, "gateway listening");
        Ok(Gateway {
            public_url,
            local_addr,
            stop,
            draining,
            tls: has_tls,
            conns,
            meters,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://` or `https://` and the address.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Open TCP connections (HTTP and WebSocket).
    pub fn open_connections(&self) -> usize {
        self.conns.open()
    }

    /// How long the node took to answer the commands its zones answer (from the command's read
    /// to its answer queued for the socket) since the last call: a benchmark's window.
    pub fn take_answer_window(&self) -> realmkeep_server::Percentiles {
        self.meters.take_answer_window()
    }

    /// How long the zones' answers waited for their connections' tasks to take them since the
    /// last call (`realmkeep_gateway_reply_wait_seconds`): a part of the answer window.
    pub fn take_reply_wait_window(&self) -> realmkeep_server::Percentiles {
        self.meters.take_reply_wait_window()
    }

    /// The WebSocket URL other nodes send this node's players to.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The first step of a graceful stop: `/readyz` answers 503 (`stopping`) so a load balancer
    /// sends no one new, while connected players go on playing until `stop`.
    pub fn drain(&self) {
        self.draining.cancel();
    }

    /// Stops accepting, and closes every WebSocket with 1001 (their characters stay for the
    /// disconnect grace; the node's shutdown saves them).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// Folds the node's recorded metric samples into their buckets every `UPKEEP_EVERY` until the
/// gateway stops, scraped or not.
async fn metrics_upkeep(stop: CancellationToken) {
    let mut every = tokio::time::interval(realmkeep_server::telemetry::UPKEEP_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => realmkeep_server::telemetry::upkeep(),
        }
    }
}

/// Says which zones this gateway serves (`zone:{id}:gateway`) every third of the key's TTL,
/// until the gateway stops; a failed write is tried again at the next round.
async fn announce_zones(cluster: Cluster, url: String, stop: CancellationToken) {
    let zones: Vec<_> = cluster.zones().map(|z| z.zone()).collect();
    let mut every = tokio::time::interval(realmkeep_cache::keys::ZONE_GATEWAY_TTL / 3);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Err(e) = cluster.cache().gateways().announce(&zones, &url).await {
            tracing::debug!(error = %e, "zone gateways not announced; trying again");
        }
    }
}
