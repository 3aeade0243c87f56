//! A connection's writer: the only task that writes to the socket, fed by the bounded outbound
//! queue. Told to give up (the client does not read), it drops what is queued and attempts a
//! close (4000), bounded by `SEND_TIMEOUT`.

use crate::limits::SEND_TIMEOUT;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::stream::SplitSink;
use futures::SinkExt;
use realmkeep_protocol::CloseCode;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(
    mut sink: SplitSink<WebSocket, Message>,
    mut out_rx: mpsc::Receiver<Message>,
    give_up: CancellationToken,
) {
    loop {
        let m = tokio::select! {
            biased;
            _ = give_up.cancelled() => {
                let frame = CloseFrame {
                    code: CloseCode::TooSlow.code(),
                    reason: Utf8Bytes::from_static(CloseCode::TooSlow.text()),
                };
                let close = sink.send(Message::Close(Some(frame)));
                let _ = tokio::time::timeout(SEND_TIMEOUT, close).await;
                return;
            }
            m = out_rx.recv() => match m {
                Some(m) => m,
                None => break,
            },
        };
        let closing = matches!(m, Message::Close(_));
        let sent = tokio::select! {
            _ = give_up.cancelled() => continue,
            r = tokio::time::timeout(SEND_TIMEOUT, sink.send(m)) => r,
        };
        match sent {
            Ok(Ok(())) => {}
            _ => return,
        }
        if closing {
            break;
        }
    }
    let _ = tokio::time::timeout(SEND_TIMEOUT, sink.close()).await;
}
