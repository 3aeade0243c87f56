//! The gateway's Prometheus series (rendered with the node's at `/metrics`): open WebSockets,
//! frames and bytes in and out (out by the kind of message: what a player's bandwidth goes to),
//! the sockets' flushes, closes by code, rate-limited requests by action, what the
//! sweep found that live notices missed, chat lines dropped at a full box, and how long the
//! node took to answer the commands its zones answer. Handles are made once per gateway;
//! labelled counters when their (rare) event happens.

use crate::limits::ANSWER_LATENCY_MAX_US;
use metrics::{Counter, Gauge, Histogram};
use realmkeep_protocol::ws::ServerMsg;
use realmkeep_protocol::CloseCode;
use realmkeep_server::{Latency, Percentiles};
use std::sync::Arc;
use std::time::Duration;

pub(crate) const CONNECTIONS: &str = "realmkeep_gateway_connections";
pub(crate) const MESSAGES_IN: &str = "realmkeep_gateway_messages_in_total";
pub(crate) const MESSAGES_OUT: &str = "realmkeep_gateway_messages_out_total";
pub(crate) const BYTES_IN: &str = "realmkeep_gateway_bytes_in_total";
pub(crate) const BYTES_OUT: &str = "realmkeep_gateway_bytes_out_total";
/// Flushes of a connection's socket: a system call each (more only when the socket's buffer
/// is full). Frames out over flushes is how much the held messages share a write.
pub(crate) const FLUSHES: &str = "realmkeep_gateway_flushes_total";
pub(crate) const CLOSES: &str = "realmkeep_gateway_closes_total";
pub(crate) const RATE_LIMITED: &str = "realmkeep_rate_limited_total";
/// What the sweep found that a live notice missed, by `what` (`revoked`, `inbox`).
pub(crate) const SWEEP_FOUND: &str = "realmkeep_gateway_sweep_found_total";
/// Chat lines and announcements a hearer's full box could not take (`broadcast.rs`).
pub(crate) const LINES_DROPPED: &str = "realmkeep_gateway_lines_dropped_total";
/// From a command's read off the socket to its answer queued for it, for the commands a zone
/// answers (a critical one after its commit): the node's share of a player's round trip.
pub(crate) const ANSWER_SECONDS: &str = "realmkeep_gateway_answer_seconds";
/// From a zone's tick thread handing an answer to the connection's notice queue to the
/// connection taking it: the part of `ANSWER_SECONDS` after the zone (the connection's task
/// waiting to run, and what it was doing meanwhile: OPERATIONS.md).
pub(crate) const REPLY_WAIT_SECONDS: &str = "realmkeep_gateway_reply_wait_seconds";

/// What a server frame carries, as the `kind` label of the frames and bytes sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutKind {
    /// What the player sees around it (`view`).
    View,
    /// Chat lines and announcements.
    Chat,
    /// Answers to commands, and the data some carry.
    Answer,
    /// The player's own events and inbox events.
    Event,
    /// The rest: the welcome, redirects, closing notes.
    Other,
}

impl OutKind {
    const ALL: [OutKind; 5] = [
        OutKind::View,
        OutKind::Chat,
        OutKind::Answer,
        OutKind::Event,
        OutKind::Other,
    ];

    pub fn of(msg: &ServerMsg) -> Self {
        match msg {
            ServerMsg::View(_) => OutKind::View,
            ServerMsg::Chat(_) | ServerMsg::Announcement(_) => OutKind::Chat,
            ServerMsg::Answer { .. } | ServerMsg::Data { .. } => OutKind::Answer,
            ServerMsg::Event(_) | ServerMsg::Inbox(_) => OutKind::Event,
            _ => OutKind::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            OutKind::View => "view",
            OutKind::Chat => "chat",
            OutKind::Answer => "answer",
            OutKind::Event => "event",
            OutKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Meters {
    pub connections: Gauge,
    pub messages_in: Counter,
    pub bytes_in: Counter,
    pub flushes: Counter,
    pub lines_dropped: Counter,
    /// Frames and bytes sent, by [`OutKind`] (its index).
    messages_out: [Counter; OutKind::ALL.len()],
    bytes_out: [Counter; OutKind::ALL.len()],
    answer_seconds: Histogram,
    /// The same since the benchmark last took it (`Gateway::take_answer_window`).
    answer_window: Arc<Latency>,
    reply_wait_seconds: Histogram,
    reply_wait_window: Arc<Latency>,
}

impl Meters {
    pub fn new() -> Self {
        realmkeep_server::telemetry::install();
        Self {
            connections: metrics::gauge!(CONNECTIONS),
            messages_in: metrics::counter!(MESSAGES_IN),
            bytes_in: metrics::counter!(BYTES_IN),
            flushes: metrics::counter!(FLUSHES),
            lines_dropped: metrics::counter!(LINES_DROPPED),
            messages_out: OutKind::ALL
                .map(|k| metrics::counter!(MESSAGES_OUT, "kind" => k.label())),
            bytes_out: OutKind::ALL.map(|k| metrics::counter!(BYTES_OUT, "kind" => k.label())),
            answer_seconds: metrics::histogram!(ANSWER_SECONDS),
            answer_window: Arc::new(Latency::new(ANSWER_LATENCY_MAX_US)),
            reply_wait_seconds: metrics::histogram!(REPLY_WAIT_SECONDS),
            reply_wait_window: Arc::new(Latency::new(ANSWER_LATENCY_MAX_US)),
        }
    }

    /// A zone's answer to a command read `took` ago was queued for the socket.
    pub fn answered(&self, took: Duration) {
        self.answer_seconds.record(took.as_secs_f64());
        self.answer_window.record(took);
    }

    /// The answers' latency since the last call.
    pub fn take_answer_window(&self) -> Percentiles {
        self.answer_window.take()
    }

    /// A zone's answer waited `waited` in the connection's notice queue before it was taken.
    pub fn reply_waited(&self, waited: Duration) {
        self.reply_wait_seconds.record(waited.as_secs_f64());
        self.reply_wait_window.record(waited);
    }

    /// The answers' waits for their connections since the last call.
    pub fn take_reply_wait_window(&self) -> Percentiles {
        self.reply_wait_window.take()
    }

    /// A server frame of `bytes` queued for a socket.
    pub fn sent(&self, kind: OutKind, bytes: u64) {
        self.messages_out[kind as usize].increment(1);
        self.bytes_out[kind as usize].increment(bytes);
    }

    /// A WebSocket closed by the server with `code` (kicks and ordinary ends alike).
    pub fn closed(code: CloseCode) {
        metrics::counter!(CLOSES, "code" => code.code().to_string()).increment(1);
    }

    /// A request answered `rate_limited`; `action` is the rate action, or `flood` for the
    /// connection's own frames-per-second bound.
    pub fn rate_limited(action: &'static str) {
        metrics::counter!(RATE_LIMITED, "action" => action).increment(1);
    }
}
