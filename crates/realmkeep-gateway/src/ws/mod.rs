//! The WebSocket at `/v1/ws`: protocol version 1 (`realmkeep_protocol::ws`).

pub(crate) mod admission;
mod commands;
mod conn;
pub mod decode;
mod history;
mod info;
mod join;
mod lists;
mod me;
mod notices;
mod queue;
mod redirect;
mod transfer;
mod translate;
mod war;
mod wire;

use crate::http::AppState;
use crate::limits::{SOCKET_READ_BUFFER_BYTES, SOCKET_WRITE_BUFFER_BYTES};
use crate::listener::SlotHandle;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use axum::Extension;
use realmkeep_protocol::limits::FRAME_BYTES_MAX;
use std::net::SocketAddr;

pub(crate) async fn upgrade(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(slot): Extension<SlotHandle>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(FRAME_BYTES_MAX)
        .max_frame_size(FRAME_BYTES_MAX)
        .read_buffer_size(SOCKET_READ_BUFFER_BYTES)
        .write_buffer_size(SOCKET_WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| conn::run(app, peer, slot, socket))
}
