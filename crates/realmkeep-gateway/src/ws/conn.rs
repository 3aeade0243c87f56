//! One WebSocket connection, one task: it reads the client's frames and writes what it queued
//! for the client while it waits for its next event (`wire.rs`).
//! Before `join` only `join` is accepted; after it, commands go to the character's zone, and the
//! zone's notices, inbox events and view deltas come back. The connection ends on logout (1000,
//! after the final save), on a close from the client (the character stays for the disconnect
//! grace), or with one of the protocol's close codes.

use super::commands::{self, Routed};
use super::decode;
use super::join::{self, Joined};
use super::me::welcome;
use super::wire::{Outgoing, Wire};
use crate::limits::*;
use crate::listener::SlotHandle;
use crate::meters::{Meters, OutKind};
use crate::state::{lock, App, ConnControl, PubsubCmd};
use axum::extract::ws::{Message, WebSocket};
use futures::future::Either;
use futures::StreamExt;
use realmkeep_protocol::ws::{Answer, Command, Data, EncodedMsg, ServerFrame, ServerMsg};
use realmkeep_protocol::{CloseCode, Reason};
use realmkeep_server::HostError;
use realmkeep_zone::io::ReplyTo;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest wait for the final save of a logout before the socket closes anyway (the zone
/// keeps retrying the save; the character leaves once it succeeds).
const LOGOUT_WAIT: Duration = Duration::from_secs(30);
/// When to try again a command the gateway answers itself (the cache or the store was away).
const GATEWAY_RETRY_MS: u64 = 1_000;

/// Why the connection ends.
pub(super) enum End {
    Close(CloseCode),
    /// The client closed or the socket failed: nothing to send.
    Gone,
}

pub(super) struct Conn {
    pub(super) app: Arc<App>,
    pub(super) peer: SocketAddr,
    /// The listener's slot, given back when the connection ends.
    _slot: SlotHandle,
    pub(super) id: u64,
    pub(super) wire: Wire,
    pub(super) seq: u64,
    pub(super) last_request: Option<u64>,
    pub(super) limited_in_a_row: u32,
    pub(super) window_start: Instant,
    pub(super) window_count: u32,
    pub(super) last_heard: Instant,
    /// Requests sent to the zone and not answered yet (`AWAITING_REPLIES_MAX`), with when
    /// each was read (`realmkeep_gateway_answer_seconds`).
    pub(super) awaiting: HashMap<u64, Instant>,
}

/// The connection's task. Its future is held for the whole connection, sized by its largest
/// state, so it is built to hold each thing once: the socket moves into `Conn` before the
/// future is made (an async fn would keep its arguments' space too), and what only the join or
/// one command awaits (store and Redis calls) is boxed.
pub(crate) fn run(
    app: Arc<App>,
    peer: SocketAddr,
    slot: SlotHandle,
    socket: WebSocket,
) -> impl std::future::Future<Output = ()> + Send {
    let id = app.conn_id();
    let wire = Wire::new(
        id,
        socket,
        app.config.outbound_queue,
        app.meters.flushes.clone(),
    );
    app.meters.connections.increment(1.0);
    let mut c = Conn {
        id,
        app,
        peer,
        _slot: slot,
        wire,
        seq: 0,
        last_request: None,
        limited_in_a_row: 0,
        window_start: Instant::now(),
        window_count: 0,
        last_heard: Instant::now(),
        awaiting: HashMap::new(),
    };
    async move {
        // The join's answer is out of scope before the play starts, and the play is moved
        // whole into its await: only the play is held.
        let play = {
            let joined = Box::pin(c.until_joined()).await;
            match joined {
                Ok((j, me)) => Either::Left(c.play(j, Some(me))),
                Err(end) => Either::Right(std::future::ready(end)),
            }
        };
        let end = play.await;
        c.end(end).await;
    }
}

impl Conn {
    /// Says why the connection ends, then writes what is queued and the close.
    async fn end(&mut self, end: End) {
        match &end {
            End::Close(CloseCode::TooSlow) => {
                tracing::info!(conn = self.id, peer = %self.peer, "closing a client too slow to read");
                Meters::closed(CloseCode::TooSlow);
                // What is queued is dropped: only the close frame is attempted.
                self.wire.give_up(CloseCode::TooSlow);
            }
            End::Close(code) => self.close(*code),
            End::Gone => {}
        }
        self.app.meters.connections.decrement(1.0);
        // What is queued, then the close, bounded by `SEND_TIMEOUT`.
        self.wire.finish().await;
        // Read (and drop) what the client still sends until its close or `CLOSE_DRAIN`: closing
        // the socket with unread data would reset it, and the client would lose the close frame.
        if matches!(end, End::Close(_)) {
            let _ = tokio::time::timeout(CLOSE_DRAIN, async {
                while let Ok(m) = self.wire.recv().await {
                    if matches!(m, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }

    /// Queues a message; a full queue means the client does not read: `TooSlow`. A chat line
    /// or an announcement may wait for the next view (`HELD_FLUSH_MAX`).
    pub(super) fn send(&mut self, msg: ServerMsg) -> Result<(), End> {
        self.seq += 1;
        let kind = OutKind::of(&msg);
        let may_wait = kind == OutKind::Chat;
        let frame = ServerFrame::new(self.seq, msg);
        let text = frame.to_text();
        self.queue(text, may_wait, kind)
    }

    /// Queues a message encoded once for many connections (a chat line, an announcement: it
    /// may wait for the next view, unless `now`).
    fn send_shared(&mut self, msg: &EncodedMsg, now: bool) -> Result<(), End> {
        self.seq += 1;
        self.queue(ServerFrame::encode_with(self.seq, msg), !now, OutKind::Chat)
    }

    /// Queues the chat lines and announcements held for the connection (`broadcast.rs`); `now`
    /// when they waited a round already.
    fn send_held(&mut self, j: &Joined, now: bool) -> Result<(), End> {
        let mut lines = Vec::new();
        j.held.take_into(&mut lines);
        lines
            .iter()
            .try_for_each(|line| self.send_shared(line, now))
    }

    fn queue(&mut self, text: String, may_wait: bool, kind: OutKind) -> Result<(), End> {
        let bytes = text.len() as u64;
        self.wire.push(Outgoing::Text { text, may_wait })?;
        self.app.meters.sent(kind, bytes);
        Ok(())
    }

    pub(super) fn answer(&mut self, id: u64, result: Answer) -> Result<(), End> {
        self.send(ServerMsg::Answer { id, result })
    }

    pub(super) fn refuse(
        &mut self,
        id: u64,
        reason: Reason,
        detail: impl Into<String>,
    ) -> Result<(), End> {
        self.answer(
            id,
            Answer::Refused {
                reason,
                detail: Some(detail.into()),
            },
        )
    }

    /// The answer to a command the gateway answered itself, with its data if any.
    fn answered(&mut self, id: u64, r: Result<Option<Data>, (Reason, String)>) -> Result<(), End> {
        match r {
            Ok(data) => {
                if let Some(data) = data {
                    self.send(ServerMsg::Data { id, data })?;
                }
                self.answer(id, Answer::Ok)
            }
            Err((Reason::TryAgain, _)) => {
                let retry_after_ms = Some(GATEWAY_RETRY_MS);
                self.answer(id, Answer::TryAgain { retry_after_ms })
            }
            Err((reason, detail)) => self.refuse(id, reason, detail),
        }
    }

    /// Says why, then queues the close frame (a client too slow to read gets only the frame).
    fn close(&mut self, code: CloseCode) {
        let _ = self.send(ServerMsg::Closing {
            code: code.code(),
            reason: code.text().to_string(),
        });
        self.wire.push_close(code);
        Meters::closed(code);
        tracing::debug!(conn = self.id, peer = %self.peer, ?code, "closing");
    }

    /// The next text frame, handling pings, binary frames and size errors; `Err` ends.
    /// Writes what is queued while it waits. Cancel safe (`Wire::recv`).
    async fn next_text(&mut self) -> Result<String, End> {
        loop {
            let m = self.wire.recv().await?;
            self.last_heard = Instant::now();
            match m {
                Message::Text(t) => {
                    self.app.meters.messages_in.increment(1);
                    self.app.meters.bytes_in.increment(t.len() as u64);
                    return Ok(t.to_string());
                }
                Message::Binary(_) => {
                    let _ = self.refuse(0, Reason::BinaryFrame, "the protocol is JSON text");
                    return Err(End::Close(CloseCode::Unsupported));
                }
                Message::Close(_) => return Err(End::Gone),
                Message::Ping(_) | Message::Pong(_) => {}
            }
        }
    }

    /// Request ids grow strictly on a connection; the local flood bound; then the address's
    /// rate limit for the command's kind (`rate_limit:{ip}:{action}`). `Ok(false)`: answered.
    async fn until_joined(&mut self) -> Result<(Joined, super::me::Place), End> {
        // Made once, not at every wait: each registers with its source when first polled.
        let late = tokio::time::sleep(JOIN_WAIT);
        let stop = self.app.stop.clone();
        let stopped = stop.cancelled();
        tokio::pin!(late, stopped);
        loop {
            self.wire.write_now().await?;
            let text = tokio::select! {
                _ = &mut stopped => return Err(End::Close(CloseCode::GoingAway)),
                _ = &mut late => return Err(End::Close(CloseCode::Policy)),
                t = self.next_text() => t?,
            };
            let frame = match decode::decode(&text) {
                Ok(f) => f,
                Err(b) => {
                    self.bad_frame(b)?;
                    continue;
                }
            };
            let id = frame.id;
            if !self.admit(id, frame.cmd.kind()).await? {
                continue;
            }
            let Command::Join { ticket } = frame.cmd else {
                self.refuse(id, Reason::NotJoined, "join first")?;
                continue;
            };
            match join::join(&self.app, self.id, self.peer.ip(), &ticket).await {
                Ok(joined) => {
                    let welcome = welcome(&joined).await;
                    match welcome {
                        Some(w) => {
                            let me = super::me::Place::standing(w.net_id, w.x, w.y);
                            self.send(ServerMsg::Welcome(Box::new(w)))?;
                            self.answer(id, Answer::Ok)?;
                            // The welcome goes out before the history's Redis reads.
                            self.wire.write_now().await?;
                            super::history::send(self, &joined).await?;
                            tracing::info!(conn = self.id, account = %joined.grant.account, character = %joined.grant.character, zone = %joined.zone, resumed = joined.resumed, "joined");
                            return Ok((joined, me));
                        }
                        None => {
                            let end = self.leave_joined(joined, false).await;
                            self.answer(
                                id,
                                Answer::TryAgain {
                                    retry_after_ms: Some(1_000),
                                },
                            )?;
                            return Err(end);
                        }
                    }
                }
                Err(r) if r.redirect.is_some() => {
                    let to = r.redirect.expect("checked");
                    self.send(ServerMsg::Redirect {
                        url: to.url,
                        ticket: to.ticket,
                        zone: to.zone.0,
                    })?;
                    self.refuse(id, r.reason, r.detail)?;
                    return Err(End::Close(CloseCode::Redirected));
                }
                Err(r) => match r.retry_after {
                    Some(after) if r.reason == Reason::TryAgain => self.answer(
                        id,
                        Answer::TryAgain {
                            retry_after_ms: Some(after.as_millis() as u64),
                        },
                    )?,
                    Some(after) if r.reason == Reason::RateLimited => self.answer(
                        id,
                        Answer::RateLimited {
                            retry_after_ms: after.as_millis().max(1) as u64,
                        },
                    )?,
                    _ => self.refuse(id, r.reason, r.detail)?,
                },
            }
        }
    }

    /// The joined connection until it ends. Not an async fn: one would hold its arguments
    /// twice for the whole connection (as arguments and as the locals they move into).
    #[allow(clippy::manual_async_fn)]
    fn play(
        &mut self,
        mut j: Joined,
        mut me: Option<super::me::Place>,
    ) -> impl std::future::Future<Output = End> + Send + '_ {
        async move {
            let mut ping = tokio::time::interval(self.app.config.ping_every);
            ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ping.tick().await;
            // The zone the character is moving to, between the first zone's release and the next
            // zone's spawn (the same notice channel carries on).
            let mut transferring: Option<realmkeep_domain::ZoneId> = None;
            let mut logout: Option<(u64, tokio::time::Instant)> = None;
            let stop = self.app.stop.clone();
            // Made once, not at every wait (it registers with the token when first polled).
            let stopped = stop.cancelled();
            tokio::pin!(stopped);
            let end = loop {
                // Chat waits as long as a view of the zone takes to come (`broadcast.rs`).
                let stretch = j.host.view_stretch();
                self.wire.stretch_hold(stretch);
                j.held.set_stretch(stretch);
                // Held lines join what the last step queued; it goes out before the wait (and while
                // it, `next_text`).
                if let Err(end) = self.send_held(&j, false) {
                    break end;
                }
                if let Err(end) = self.wire.write_now().await {
                    break end;
                }
                let logout_deadline = logout.map(|(_, t)| t);
                let step: Result<(), End> = tokio::select! {
                    _ = &mut stopped => Err(End::Close(CloseCode::GoingAway)),
                    // Boxed: a timer is large, and held in every connection's task otherwise.
                _ = async { Box::pin(tokio::time::sleep_until(logout_deadline.unwrap())).await }, if logout_deadline.is_some() => {
                        Err(End::Close(CloseCode::Normal))
                    }
                    t = self.next_text() => match t {
                        Ok(text) => Box::pin(self.command(&j, &text, &mut me, &mut logout)).await,
                        Err(e) => Err(e),
                    },
                    n = j.notices.recv_boxed() => match n {
                        Some(mut n) => {
                            // What the zone sent together is handled in one wake-up (and goes out in
                            // one write): up to `NOTICES_PER_WAKE_MAX`, or until half the outbound
                            // queue is used, the rest after a write.
                            let mut handled = 0;
                            loop {
                                let step = if super::transfer::concerns(&n, transferring) {
                                    Box::pin(super::transfer::follow(self, &mut j, *n, &mut transferring, &mut me)).await
                                } else {
                                    self.follow_guild(&j, &n);
                                    self.notice(*n, &mut me, &mut logout)
                                };
                                handled += 1;
                                if step.is_err() || handled == NOTICES_PER_WAKE_MAX || self.wire.half_full() {
                                    break step;
                                }
                                match j.notices.try_recv_boxed() {
                                    Ok(more) => n = more,
                                    Err(_) => break step,
                                }
                            }
                        }
                        None => Err(End::Close(CloseCode::Left)),
                    },
                    // Lines held before this message go out before it (a whisper after the channel
                    // line that came first).
                    ctl = j.control.next() => match ctl {
                        Some(ConnControl::SendHeld) => {
                            j.held.woke();
                            self.send_held(&j, true)
                        }
                        ctl => match self.send_held(&j, false) {
                            Err(end) => Err(end),
                            Ok(()) => self.control(&mut j, ctl).await,
                        },
                    },
                    _ = ping.tick() => {
                        if self.last_heard.elapsed() > self.app.config.idle_close {
                            Err(End::Close(CloseCode::Idle))
                        } else {
                            self.wire.push(Outgoing::Ping)
                        }
                    }
                };
                if let Err(end) = step {
                    break end;
                }
            };
            let logged_out = matches!(end, End::Close(CloseCode::Normal)) && logout.is_some();
            let left = matches!(
                end,
                End::Close(CloseCode::Left) | End::Close(CloseCode::Redirected)
            );
            Box::pin(self.leave_joined(j, logged_out || left)).await;
            end
        }
    }

    /// Lets go of the character: out of the live map and pub/sub, and unless it left (logout
    /// done, or gone from the zone), into the disconnect grace.
    async fn leave_joined(&mut self, j: Joined, gone: bool) -> End {
        let c = j.grant.character;
        if !gone {
            if let Err(e) = j.host.disconnect(c).await {
                tracing::debug!(character = %c, error = %e, "disconnect not delivered");
            }
        } else {
            // Unless a newer connection of the account took over meanwhile (its takeover wait
            // ran out before this one let go): the entry is its own now.
            let newer = lock(&self.app.live)
                .get(&j.grant.account)
                .is_some_and(|l| l.conn != self.id);
            if !newer {
                lock(&self.app.in_world).remove(&c);
            }
        }
        {
            let mut live = lock(&self.app.live);
            if live
                .get(&j.grant.account)
                .is_some_and(|l| l.conn == self.id)
            {
                let gone = live.remove(&j.grant.account);
                let _ = self.app.pubsub.try_send(PubsubCmd::Unsubscribe(c));
                if let Some(g) = gone.and_then(|l| l.guild) {
                    let cmd = PubsubCmd::Guild {
                        from: Some(g),
                        to: None,
                    };
                    let _ = self.app.pubsub.try_send(cmd);
                }
            }
        }
        let _ = j.released.send(());
        End::Gone
    }

    async fn command(
        &mut self,
        j: &Joined,
        text: &str,
        me: &mut Option<super::me::Place>,
        logout: &mut Option<(u64, tokio::time::Instant)>,
    ) -> Result<(), End> {
        let read_at = Instant::now();
        let frame = match decode::decode(text) {
            Ok(f) => f,
            Err(b) => return self.bad_frame(b),
        };
        let id = frame.id;
        if !self.admit(id, frame.cmd.kind()).await? {
            return Ok(());
        }
        if logout.is_some() {
            return self.refuse(id, Reason::NotAllowed, "logging out");
        }
        let c = j.grant.character;
        let command = match commands::route(frame.cmd, *me) {
            Ok(Routed::Zone(command)) => command,
            Ok(Routed::Logout) => {
                return match j.host.leave(c).await {
                    Ok(()) => {
                        *logout = Some((id, tokio::time::Instant::now() + LOGOUT_WAIT));
                        Ok(())
                    }
                    Err(e) => self.host_error(id, e),
                };
            }
            Ok(Routed::Info(info)) => {
                let r = super::info::answer(&self.app, c, info).await;
                return self.answered(id, r.map(Some));
            }
            Ok(Routed::War(war)) => {
                let r = super::war::answer(&self.app, c, war).await;
                return self.answered(id, r.map(|()| None));
            }
            Ok(Routed::Queue(q)) => {
                let r = super::queue::answer(&self.app, c, q).await;
                return self.answered(id, r.map(|()| None));
            }
            Err((reason, detail)) => return self.refuse(id, reason, detail),
        };
        // Answered by the zone's reply to it (after the commit, for a critical action).
        if self.awaiting.len() >= AWAITING_REPLIES_MAX {
            return self.answer(
                id,
                Answer::TryAgain {
                    retry_after_ms: Some(100),
                },
            );
        }
        match j.host.command_tagged(c, command, Some(ReplyTo(id))) {
            Ok(()) => {
                self.awaiting.insert(id, read_at);
                Ok(())
            }
            Err(e) => self.host_error(id, e),
        }
    }

    fn host_error(&mut self, id: u64, e: HostError) -> Result<(), End> {
        match e {
            HostError::Busy | HostError::Unavailable => self.answer(
                id,
                Answer::TryAgain {
                    retry_after_ms: Some(100),
                },
            ),
            HostError::ShuttingDown => {
                self.refuse(id, Reason::ShuttingDown, "the server is stopping")
            }
            HostError::NotHere => Err(End::Close(CloseCode::Left)),
            other => self.refuse(id, Reason::Internal, other.to_string()),
        }
    }
}
