//! A connection's socket, read and written by the connection's own task: no writer task, no
//! channel between them, no lock around the socket. Messages are queued (`OUTBOUND_QUEUE_MAX`:
//! a client that lets the queue fill does not read, `TooSlow`) and written whenever the task
//! waits for its next event (`Wire::recv` writes while it waits for the client), so what a
//! wake-up queued together (a view, its events, the answers) goes out in one write. A message
//! that may wait (a chat line, an announcement) is written without a flush: it goes out with
//! the next one that may not, or `HELD_FLUSH_MAX` after it (times the stretch of the zone's
//! views when the node is short of cores, `HELD_STRETCH_MAX` times at the most: `stretch_hold`;
//! later only if the connection is then in the middle of a command's own I/O, a Redis round
//! trip), so a busy channel does not cost a system call per line per player. A flush the
//! socket does not finish within `SEND_TIMEOUT` (nothing more is handed to it meanwhile) is a
//! client too slow to read, too.

use super::conn::End;
use crate::limits::{HELD_FLUSH_MAX, HELD_STRETCH_MAX, SEND_TIMEOUT, WRITE_BATCH_MAX};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{SinkExt, StreamExt};
use realmkeep_protocol::CloseCode;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::time::{Instant, Sleep};

/// Queue slots a connection keeps once a burst (a join's welcome and first view) is written:
/// an idle player does not hold the room of its largest burst. The queue is shrunk only when it
/// grew past four times this, so a tick's few frames never cost a reallocation.
const QUEUE_KEPT_SLOTS: usize = 16;
/// Where the timer goes when nothing waits on it: moving a registered timer later is one atomic
/// store, and it then does not wake the connection at the deadline it had.
const TIMER_PARKED: std::time::Duration = std::time::Duration::from_secs(3_600);

/// One message for the socket, as small as it can be (a `Message` would make a slot 56 bytes).
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
const _: () = assert!(QUEUE_KEPT_SLOTS * 4 <= crate::limits::OUTBOUND_QUEUE_MAX);
const _: () = assert!(TIMER_PARKED.as_secs() > SEND_TIMEOUT.as_secs() * 100);

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

/// What the one timer of a connection's socket waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Off,
    /// Messages that may wait were written without a flush: flush them then.
    Held,
    /// The socket takes nothing more: the client is too slow if it still does not at that time.
    Stalled,
}

pub(super) struct Wire {
    /// The connection's id, for the log.
    conn: u64,
    /// The gateway's count of flushes (`realmkeep_gateway_flushes_total`).
    flushes: metrics::Counter,
    socket: WebSocket,
    queue: VecDeque<Outgoing>,
    capacity: usize,
    /// Messages handed to the socket since its last flush.
    unflushed: usize,
    /// One of them may not wait.
    flush_now: bool,
    /// A flush the socket has not finished: it is retried before anything more is handed over.
    flushing: bool,
    /// The connection ends: everything is flushed, bounded by `finish`'s own time.
    finishing: bool,
    /// The close frame was handed to the socket: nothing is written after it.
    closed: bool,
    timer: Pin<Box<Sleep>>,
    timer_for: Timer,
    /// How long messages that may wait are held: `HELD_FLUSH_MAX`, times the stretch of the
    /// zone's views (`stretch_hold`).
    hold: std::time::Duration,
}

impl Wire {
    pub(super) fn new(
        conn: u64,
        socket: WebSocket,
        capacity: usize,
        flushes: metrics::Counter,
    ) -> Self {
        Self {
            conn,
            flushes,
            socket,
            queue: VecDeque::new(),
            capacity,
            unflushed: 0,
            flush_now: false,
            flushing: false,
            finishing: false,
            closed: false,
            timer: Box::pin(tokio::time::sleep(TIMER_PARKED)),
            timer_for: Timer::Off,
            hold: HELD_FLUSH_MAX,
        }
    }

    /// The views of the connection's zone go `stretch` times slower than their pace (1: they do
    /// not): messages that may wait are held as many times longer (`HELD_STRETCH_MAX` at the
    /// most), so they still go out with the next view. A hold already running keeps its deadline.
    pub(super) fn stretch_hold(&mut self, stretch: u64) {
        let stretch = stretch.clamp(1, HELD_STRETCH_MAX) as u32;
        self.hold = HELD_FLUSH_MAX * stretch;
    }

    /// Queues a message; a full queue means the client does not read (`TooSlow`).
    pub(super) fn push(&mut self, m: Outgoing) -> Result<(), End> {
        if self.queue.len() >= self.capacity {
            return Err(End::Close(CloseCode::TooSlow));
        }
        self.queue.push_back(m);
        Ok(())
    }

    /// Half the queue's bound is used: a connection writes before it handles more notices.
    pub(super) fn half_full(&self) -> bool {
        self.queue.len() >= self.capacity / 2
    }

    /// Queues the close frame after what is queued (`Wire::finish` writes it): it is never
    /// refused, so it may go one past the queue's bound.
    pub(super) fn push_close(&mut self, code: CloseCode) {
        self.queue.push_back(Outgoing::Close(code));
    }

    /// Drops what is queued (the client does not read it) and queues the close frame.
    pub(super) fn give_up(&mut self, code: CloseCode) {
        self.queue.clear();
        self.push_close(code);
    }

    /// The client's next message, writing what is queued meanwhile. Cancel safe: a message
    /// leaves the queue only when the socket takes it, and a read is returned by the call that
    /// made it.
    pub(super) async fn recv(&mut self) -> Result<Message, End> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Writes and flushes what is queued, bounded by `SEND_TIMEOUT`, then closes the socket's
    /// sending side (the close frame, if none was queued).
    pub(super) async fn finish(&mut self) {
        // A stall before counts no more: the close has this call's own `SEND_TIMEOUT`.
        self.finishing = true;
        self.disarm();
        let _ = tokio::time::timeout(SEND_TIMEOUT, async {
            poll_fn(|cx| match self.poll_write(cx) {
                Err(_) => Poll::Ready(()),
                Ok(()) if self.queue.is_empty() && self.unflushed == 0 => Poll::Ready(()),
                Ok(()) => Poll::Pending,
            })
            .await;
            // The close frame's own flush.
            self.flushes.increment(1);
            let _ = self.socket.close().await;
        })
        .await;
    }

    /// Writes what the socket takes now, without waiting: what a handler queued goes out
    /// before the connection waits for its next event.
    pub(super) async fn write_now(&mut self) -> Result<(), End> {
        if self.queue.is_empty() && self.unflushed == 0 {
            return Ok(());
        }
        poll_fn(|cx| Poll::Ready(self.poll_write(cx))).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, End>> {
        if let Err(end) = self.poll_write(cx) {
            return Poll::Ready(Err(end));
        }
        match self.socket.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(Err(End::Gone)),
            Poll::Ready(Some(Ok(m))) => Poll::Ready(Ok(m)),
            Poll::Ready(Some(Err(e))) => {
                // tungstenite's capacity error: "Space limit exceeded: Message too long".
                let text = e.to_string();
                let too_big = text.contains("too long") || text.contains("Space limit");
                tracing::debug!(conn = self.conn, error = %e, "socket read failed");
                Poll::Ready(Err(if too_big {
                    End::Close(CloseCode::TooBig)
                } else {
                    End::Gone
                }))
            }
        }
    }

    /// Hands the socket what is queued and flushes when something may not wait (or the held
    /// time is up), as far as the socket takes it now. `Err`: the socket failed or the client
    /// is too slow.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Result<(), End> {
        loop {
            if self.flushing {
                match self.socket.poll_flush_unpin(cx) {
                    Poll::Pending => return self.stalled(cx),
                    Poll::Ready(Err(_)) => return Err(End::Gone),
                    Poll::Ready(Ok(())) => {
                        self.flushing = false;
                        self.unflushed = 0;
                        self.flush_now = false;
                        self.disarm();
                    }
                }
                if self.queue.is_empty() || self.closed {
                    return Ok(());
                }
            }
            while !self.closed && !self.queue.is_empty() && self.unflushed < WRITE_BATCH_MAX {
                match self.socket.poll_ready_unpin(cx) {
                    Poll::Pending => return self.stalled(cx),
                    Poll::Ready(Err(_)) => return Err(End::Gone),
                    // Ready after a stall here: the socket took what blocked it.
                    Poll::Ready(Ok(())) if self.timer_for == Timer::Stalled => self.disarm(),
                    Poll::Ready(Ok(())) => {}
                }
                let m = self.queue.pop_front().expect("not empty");
                self.closed = matches!(m, Outgoing::Close(_));
                self.flush_now |= self.closed || !m.may_wait();
                self.unflushed += 1;
                if self.socket.start_send_unpin(m.into_message()).is_err() {
                    return Err(End::Gone);
                }
            }
            if self.closed {
                self.queue.clear();
            }
            if self.queue.is_empty() && self.queue.capacity() > QUEUE_KEPT_SLOTS * 4 {
                self.queue.shrink_to(QUEUE_KEPT_SLOTS);
            }
            if self.unflushed == 0 {
                return Ok(());
            }
            let must = self.flush_now || self.finishing || self.unflushed >= WRITE_BATCH_MAX;
            if !must {
                // Only messages that may wait: until the held time is up.
                if self.timer_for != Timer::Held {
                    self.arm(Timer::Held, self.hold);
                }
                if self.timer.as_mut().poll(cx).is_pending() {
                    return Ok(());
                }
            }
            self.flushing = true;
            self.flushes.increment(1);
        }
    }

    /// The socket takes nothing now: fine for `SEND_TIMEOUT`, then the client is too slow.
    fn stalled(&mut self, cx: &mut Context<'_>) -> Result<(), End> {
        if self.finishing {
            return Ok(());
        }
        if self.timer_for != Timer::Stalled {
            self.arm(Timer::Stalled, SEND_TIMEOUT);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Pending => Ok(()),
            Poll::Ready(()) => Err(End::Close(CloseCode::TooSlow)),
        }
    }

    /// Nothing waits on the timer: it is moved out of the way (`TIMER_PARKED`).
    fn disarm(&mut self) {
        if self.timer_for != Timer::Off {
            self.timer_for = Timer::Off;
            self.timer.as_mut().reset(Instant::now() + TIMER_PARKED);
        }
    }

    fn arm(&mut self, what: Timer, after: std::time::Duration) {
        self.timer_for = what;
        self.timer.as_mut().reset(Instant::now() + after);
    }
}
