//! A bare WebSocket echo at `/v1/echo`, on the same axum, hyper and tungstenite as the gateway:
//! the reference `realmkeep bench gateway` measures the gateway's CPU per message against. Each
//! text or binary frame comes back as it was; nothing else happens (no session, no zone, no
//! Redis). It is not part of a serving node.

use crate::error::GatewayError;
use crate::limits::{CONNECTIONS_MAX, SEND_TIMEOUT};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use realmkeep_protocol::limits::FRAME_BYTES_MAX;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The path of the echo.
pub const ECHO_PATH: &str = "/v1/echo";

/// A running echo endpoint.
#[derive(Debug, Clone)]
pub struct Echo {
    local_addr: SocketAddr,
    stop: CancellationToken,
}

impl Echo {
    /// Binds `listen` and serves the echo until `stop`. At most the gateway's `CONNECTIONS_MAX`
    /// WebSockets at once; more are refused with 503.
    pub async fn start(listen: SocketAddr) -> Result<Echo, GatewayError> {
        let tcp = TcpListener::bind(listen)
            .await
            .map_err(|source| GatewayError::Listen {
                addr: listen,
                source,
            })?;
        let local_addr = tcp.local_addr().map_err(|source| GatewayError::Listen {
            addr: listen,
            source,
        })?;
        let stop = CancellationToken::new();
        let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
        let router = Router::new()
            .route(ECHO_PATH, get(upgrade))
            .with_state(slots);
        let until = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(tcp, router)
                .with_graceful_shutdown(async move { until.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "echo endpoint stopped");
            }
        });
        Ok(Echo { local_addr, stop })
    }

    /// `ws://` and the address and path.
    pub fn url(&self) -> String {
        format!("ws://{}{ECHO_PATH}", self.local_addr)
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}

async fn upgrade(State(slots): State<Arc<Semaphore>>, ws: WebSocketUpgrade) -> Response {
    let Ok(slot) = slots.try_acquire_owned() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    // The gateway's own socket settings: the reference differs from it only in what it does.
    ws.max_message_size(FRAME_BYTES_MAX)
        .max_frame_size(FRAME_BYTES_MAX)
        .read_buffer_size(crate::limits::SOCKET_READ_BUFFER_BYTES)
        .write_buffer_size(crate::limits::SOCKET_WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            echo(socket).await;
            drop(slot);
        })
}

/// Sends back every data frame until the client closes or a send takes longer than the
/// gateway allows.
async fn echo(mut socket: WebSocket) {
    while let Some(Ok(m)) = socket.recv().await {
        let back = match m {
            Message::Text(_) | Message::Binary(_) => m,
            Message::Close(_) => return,
            // Pings are answered by the library.
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        match tokio::time::timeout(SEND_TIMEOUT, socket.send(back)).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
}
