//! The accept loop: one TCP listener, a bound on connections per address and in all, optional
//! TLS (rustls, handshake in the connection's own task with a timeout), then hyper serving the
//! axum router with upgrades (WebSocket) on each connection. The peer's address is put in each
//! request's extensions (`ConnectInfo`).

use crate::config::TlsFiles;
use crate::error::GatewayError;
use crate::limits::{CONNECTIONS_MAX, TLS_HANDSHAKE_TIMEOUT};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

/// Open connections per address: a slot is taken at accept and given back when the connection
/// ends (`Slot`'s drop).
#[derive(Debug, Default)]
pub(crate) struct Conns {
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

pub(crate) struct Slot {
    conns: Arc<Conns>,
    ip: IpAddr,
}

/// The connection's slot, in each request's extensions: a WebSocket holds it for as long as it
/// lives (after the upgrade hyper lets go of the connection).
#[derive(Clone)]
pub(crate) struct SlotHandle(#[allow(dead_code)] pub Arc<Slot>);

impl Conns {
    fn take(self: &Arc<Self>, ip: IpAddr, per_ip_max: usize) -> Option<Slot> {
        let mut m = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = m.values().sum();
        let n = m.entry(ip).or_default();
        if *n >= per_ip_max || total >= CONNECTIONS_MAX {
            return None;
        }
        *n += 1;
        Some(Slot {
            conns: self.clone(),
            ip,
        })
    }

    pub fn open(&self) -> usize {
        self.per_ip
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut m = self.conns.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// Reads the PEM certificate chain and key into a rustls server configuration.
pub(crate) fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, GatewayError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| GatewayError::Tls(format!("certificate {}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(GatewayError::Tls(format!(
            "no certificate in {}",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| GatewayError::Tls(format!("private key {}: {e}", files.key.display())))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| GatewayError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

pub(crate) async fn accept_loop(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    conns: Arc<Conns>,
    config: crate::GatewayConfig,
    stop: CancellationToken,
) {
    let per_ip_max = config.connections_per_ip;
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => return,
            r = listener.accept() => match r {
                Ok(v) => v,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = conns.take(peer.ip(), per_ip_max) else {
            tracing::debug!(ip = %peer.ip(), "connection refused: too many from this address");
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        if let Some(n) = config.socket_send_buffer {
            let _ = socket2::SockRef::from(&tcp).set_send_buffer_size(n);
        }
        let router = router.clone();
        let tls = tls.clone();
        let stop = stop.clone();
        let slot = SlotHandle(Arc::new(slot));
        tokio::spawn(async move {
            match tls {
                None => serve_connection(tcp, peer, slot, router, stop).await,
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => serve_connection(stream, peer, slot, router, stop).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    slot: SlotHandle,
    router: Router,
    stop: CancellationToken,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(slot.clone());
        router.clone().call(req)
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn).await;
        }
    }
}
