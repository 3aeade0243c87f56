//! How a gateway is set up: where it listens, and TLS.

use realmkeep_protocol::limits::{IDLE_CLOSE_SECS, PING_EVERY_SECS};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7400";

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    /// PEM certificate chain and private key: HTTPS and WSS on the same listener.
    pub tls: Option<TlsFiles>,
    pub connections_per_ip: usize,
    /// How often a WebSocket is pinged, and how long a silent one lives (the protocol's
    /// `PING_EVERY_SECS` and `IDLE_CLOSE_SECS`; tests shorten them).
    pub ping_every: Duration,
    pub idle_close: Duration,
    /// How often the sweep rechecks every connection's session and inbox (`SWEEP_EVERY`; tests
    /// shorten it).
    pub sweep_every: Duration,
    /// Server messages queued for one WebSocket (`OUTBOUND_QUEUE_MAX`).
    pub outbound_queue: usize,
    /// The kernel's send buffer of each accepted socket, if set (default: the system's).
    pub socket_send_buffer: Option<usize>,
    /// The WebSocket URL players of other nodes are sent to for this node's zones (default:
    /// `ws://` or `wss://` and the listening address, right only when that address is reachable
    /// as it is).
    pub public_url: Option<String>,
    /// Who may scrape `/metrics`.
    pub metrics_access: MetricsAccess,
}

/// Who may scrape `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetricsAccess {
    /// Loopback, private (RFC 1918), link-local and unique-local (fc00::/7) addresses.
    #[default]
    Private,
    /// Any address (a firewall or proxy in front decides).
    Any,
}

impl MetricsAccess {
    pub fn allows(self, ip: IpAddr) -> bool {
        match self {
            MetricsAccess::Any => true,
            MetricsAccess::Private => match ip {
                IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => MetricsAccess::Private.allows(IpAddr::V4(v4)),
                    None => {
                        v6.is_loopback()
                            || (v6.segments()[0] & 0xfe00) == 0xfc00
                            || (v6.segments()[0] & 0xffc0) == 0xfe80
                    }
                },
            },
        }
    }
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
            ping_every: Duration::from_secs(PING_EVERY_SECS),
            idle_close: Duration::from_secs(IDLE_CLOSE_SECS),
            sweep_every: crate::limits::SWEEP_EVERY,
            outbound_queue: crate::limits::OUTBOUND_QUEUE_MAX,
            socket_send_buffer: None,
            public_url: None,
            metrics_access: MetricsAccess::default(),
        }
    }

    pub fn with_tls(mut self, tls: TlsFiles) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Pings every `ping`, closes (4003) after `idle` without a frame; `idle` > `ping`.
    pub fn with_keepalive(mut self, ping: Duration, idle: Duration) -> Self {
        self.ping_every = ping.max(Duration::from_millis(10));
        self.idle_close = idle.max(self.ping_every + Duration::from_millis(10));
        self
    }

    /// A smaller outbound queue and socket send buffer: a slow reader is found sooner.
    pub fn with_outbound(mut self, queue: usize, socket_send_buffer: Option<usize>) -> Self {
        self.outbound_queue = queue.clamp(1, crate::limits::OUTBOUND_QUEUE_MAX);
        self.socket_send_buffer = socket_send_buffer;
        self
    }

    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    pub fn with_metrics_access(mut self, access: MetricsAccess) -> Self {
        self.metrics_access = access;
        self
    }

    pub fn with_connections_per_ip(mut self, n: usize) -> Self {
        self.connections_per_ip = n.clamp(1, crate::limits::CONNECTIONS_MAX);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_metrics_access() {
        let p = MetricsAccess::Private;
        for ok in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "172.16.4.4",
            "::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(p.allows(ok.parse().unwrap()), "{ok}");
        }
        for no in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "::ffff:1.1.1.1"] {
            assert!(!p.allows(no.parse().unwrap()), "{no}");
            assert!(MetricsAccess::Any.allows(no.parse().unwrap()));
        }
    }
}
