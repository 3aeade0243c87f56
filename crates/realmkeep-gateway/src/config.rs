//! How a gateway is set up: where it listens, and TLS.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7400";

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    /// PEM certificate chain and private key: HTTPS and WSS on the same listener.
    pub tls: Option<TlsFiles>,
    pub connections_per_ip: usize,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl GatewayConfig {
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            tls: None,
            connections_per_ip: crate::limits::CONNECTIONS_PER_IP_MAX,
        }
    }

    pub fn with_tls(mut self, tls: TlsFiles) -> Self {
        self.tls = Some(tls);
        self
    }

    pub fn with_connections_per_ip(mut self, n: usize) -> Self {
        self.connections_per_ip = n.clamp(1, crate::limits::CONNECTIONS_MAX);
        self
    }
}
