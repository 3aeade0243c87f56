//! A connection's writer: the only task that writes to the socket, fed by the bounded outbound
//! queue. What is queued together (up to `WRITE_BATCH_MAX`) goes out in one write. A message
//! that may wait (a chat line, an announcement) is written without a flush: it goes out with
//! the next one that may not (the next view, an answer), or `HELD_FLUSH_MAX` after it at the
//! latest, so a busy channel does not cost a system call per line per player. Told to give up
//! (the client does not read), it drops what is queued and attempts a close (4000), bounded by
//! `SEND_TIMEOUT`.

use crate::limits::{HELD_FLUSH_MAX, SEND_TIMEOUT, WRITE_BATCH_MAX};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::stream::SplitSink;
use futures::SinkExt;
use realmkeep_protocol::CloseCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// One message for the socket, as small as it can be: a connection's queue keeps the room its
/// largest burst needed (a `Message` would make a slot 56 bytes).
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A server frame. `may_wait`: it may wait up to `HELD_FLUSH_MAX` for company before it is
    /// flushed.
    Text {
        text: String,
        may_wait: bool,
    },
    Ping,
    /// The close frame with this code (its text is the reason).
    Close(CloseCode),
}

const _: () = assert!(std::mem::size_of::<Outgoing>() <= 32);

impl Outgoing {
    fn may_wait(&self) -> bool {
        matches!(self, Outgoing::Text { may_wait: true, .. })
    }

    fn into_message(self) -> Message {
        match self {
            Outgoing::Text { text, .. } => Message::Text(Utf8Bytes::from(text)),
            Outgoing::Ping => Message::Ping(Default::default()),
            Outgoing::Close(code) => Message::Close(Some(CloseFrame {
                code: code.code(),
                reason: Utf8Bytes::from_static(code.text()),
            })),
        }
    }
}

pub(crate) async fn run(
    mut sink: SplitSink<WebSocket, Message>,
    out_rx: flume::Receiver<Outgoing>,
    give_up: CancellationToken,
) {
    // When what was written without a flush must go out: armed by the first held message.
    let held_until = tokio::time::sleep(HELD_FLUSH_MAX);
    tokio::pin!(held_until);
    let mut holding = false;
    loop {
        let first = tokio::select! {
            biased;
            _ = give_up.cancelled() => {
                let close = sink.send(Outgoing::Close(CloseCode::TooSlow).into_message());
                let _ = tokio::time::timeout(SEND_TIMEOUT, close).await;
                return;
            }
            () = &mut held_until, if holding => None,
            m = out_rx.recv_async() => match m {
                Ok(m) => Some(m),
                Err(_) => break,
            },
        };
        let mut closing = false;
        // The held time is up: flush what waits.
        let mut flush = first.is_none();
        let batch = async {
            let Some(m) = first else {
                return sink.flush().await;
            };
            closing = matches!(m, Outgoing::Close(_));
            flush |= closing || !m.may_wait();
            sink.feed(m.into_message()).await?;
            for _ in 1..WRITE_BATCH_MAX {
                if closing {
                    break;
                }
                let Ok(m) = out_rx.try_recv() else {
                    break;
                };
                closing = matches!(m, Outgoing::Close(_));
                flush |= closing || !m.may_wait();
                sink.feed(m.into_message()).await?;
            }
            if flush {
                sink.flush().await
            } else {
                Ok(())
            }
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
        if flush {
            holding = false;
        } else if !holding {
            holding = true;
            held_until.as_mut().reset(Instant::now() + HELD_FLUSH_MAX);
        }
    }
    let _ = tokio::time::timeout(SEND_TIMEOUT, sink.close()).await;
}
