//! A connection's writer: the only task that writes to the socket, fed by the bounded outbound
//! queue. What is queued together (up to `WRITE_BATCH_MAX`) goes out in one write. Told to give
//! up (the client does not read), it drops what is queued and attempts a close (4000), bounded
//! by `SEND_TIMEOUT`.

use crate::limits::{SEND_TIMEOUT, WRITE_BATCH_MAX};
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
        let mut closing = false;
        let batch = async {
            closing = matches!(m, Message::Close(_));
            sink.feed(m).await?;
            for _ in 1..WRITE_BATCH_MAX {
                if closing {
                    break;
                }
                let Ok(m) = out_rx.try_recv() else {
                    break;
                };
                closing = matches!(m, Message::Close(_));
                sink.feed(m).await?;
            }
            sink.flush().await
        };
        let sent = tokio::select! {
            _ = give_up.cancelled() => continue,
            r = tokio::time::timeout(SEND_TIMEOUT, batch) => r,
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
