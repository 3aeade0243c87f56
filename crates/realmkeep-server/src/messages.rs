//! What travels between the host's async side and a zone's tick thread, besides the zone's own
//! `ZoneInput`/`ZoneOutput`.

use futures::StreamExt;
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_zone::io::{LeftReason, PlayerEvent, ReplyTo, SpawnRefusal, ZoneInput};

/// Host → tick thread, on the control lane (everything but player commands).
#[derive(Debug)]
pub(crate) enum Control {
    /// Passed to the zone as is.
    Input(ZoneInput),
    /// A `ZoneInput::Spawn`, with the channel the character's notices go to from now on.
    Spawn {
        character: CharacterId,
        notices: NoticeSender,
        input: ZoneInput,
    },
    /// A reconnecting player's new channel: the character's notices go there from now on (the
    /// old channel's reader is gone).
    Attach {
        character: CharacterId,
        notices: NoticeSender,
    },
}

/// A new channel for one player's notices, of `capacity`. An empty channel allocates no slots
/// (a flume queue grows when notices wait), and its slots hold boxed notices: a `Notice` is about
/// a hundred bytes, and a queue keeps the room its largest burst needed, so every player would
/// keep kilobytes for a queue that is nearly always empty (a notice is boxed once, on the tick
/// thread, when it is sent).
pub fn notice_channel(capacity: usize) -> (NoticeSender, NoticeReceiver) {
    let (tx, rx) = flume::bounded(capacity);
    let stream = rx.clone().into_stream();
    (NoticeSender(tx), NoticeReceiver { rx, stream })
}

/// Why a notice was not queued (`NoticeSender::try_send`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeSendError {
    /// The player's queue is full: the notice is dropped.
    Full,
    /// Nobody listens any more (the receiver is gone).
    Closed,
}

/// Why no notice was taken (`NoticeReceiver::try_recv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeRecvError {
    /// Nothing is queued now.
    Empty,
    /// Nothing is queued and every sender is gone.
    Closed,
}

/// The sending side of a player's notices (`notice_channel`).
#[derive(Debug, Clone)]
pub struct NoticeSender(flume::Sender<Box<Notice>>);

impl NoticeSender {
    /// Sends without waiting; a full or closed channel drops the notice and says which.
    pub fn try_send(&self, notice: Notice) -> Result<(), NoticeSendError> {
        self.0.try_send(Box::new(notice)).map_err(|e| match e {
            flume::TrySendError::Full(_) => NoticeSendError::Full,
            flume::TrySendError::Disconnected(_) => NoticeSendError::Closed,
        })
    }
}

/// The receiving side of a player's notices (`notice_channel`). Waiting goes through a stream
/// that stays registered with the channel between waits: a connection that waits for its
/// notices, its socket and its timers in one `select!` does not register and unregister with the
/// channel each time something else woke it (a `recv_async` future per wait would).
#[derive(Debug)]
pub struct NoticeReceiver {
    rx: flume::Receiver<Box<Notice>>,
    stream: flume::r#async::RecvStream<'static, Box<Notice>>,
}

impl NoticeReceiver {
    /// The next notice, or `None` once every sender is gone and nothing is queued. Cancel safe:
    /// a notice is taken only by the call that returns it.
    pub async fn recv(&mut self) -> Option<Notice> {
        self.recv_boxed().await.map(|n| *n)
    }

    /// As `recv`, the notice left in the box it travelled in: a task that waits for notices for
    /// a player's whole session keeps a pointer in its state, not a notice.
    pub async fn recv_boxed(&mut self) -> Option<Box<Notice>> {
        self.stream.next().await
    }

    /// The next notice if one is queued.
    pub fn try_recv(&mut self) -> Result<Notice, NoticeRecvError> {
        self.try_recv_boxed().map(|n| *n)
    }

    /// As `try_recv`, the notice left in its box (`recv_boxed`).
    pub fn try_recv_boxed(&mut self) -> Result<Box<Notice>, NoticeRecvError> {
        self.rx.try_recv().map_err(|e| match e {
            flume::TryRecvError::Empty => NoticeRecvError::Empty,
            flume::TryRecvError::Disconnected => NoticeRecvError::Closed,
        })
    }
}

/// What a connected player hears from the host: the zone's notices, and the host's own news
/// about the character's place in the world. The gateway (or a simulated player) reads these
/// from [`crate::JoinReceipt::notices`].
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A notice of the zone (`PlayerEvent::Joined` arrives first, at the tick after the join).
    Event(PlayerEvent),
    /// The zone's first notice about a tagged command (`ZoneHost::command_tagged`): its answer.
    Reply {
        reply_to: ReplyTo,
        event: PlayerEvent,
        /// When the tick thread handed it over: the gateway measures how long it then waited
        /// for the connection (`realmkeep_gateway_reply_wait_seconds`).
        at: std::time::Instant,
    },
    /// The zone did not take the character; its claim was released again.
    SpawnRefused(SpawnRefusal),
    /// The character is out of the zone: saved and released (`Released`), or lost to another
    /// zone (`ClaimLost`). With `transfer_to`, the next zone's join follows on the same channel.
    Left(LeftReason),
    /// The transfer's destination did not take the character. It is saved and released, offline.
    TransferFailed { to: ZoneId, reason: String },
}

/// Tick thread → the host's events task: what needs I/O after the zone let a character go.
#[derive(Debug)]
pub(crate) enum HostEvent {
    Left {
        character: CharacterId,
        reason: LeftReason,
        /// The channel the player read, handed on to the next zone on a transfer.
        notices: Option<NoticeSender>,
    },
    SpawnRefused {
        fence: realmkeep_domain::Fence,
        reason: SpawnRefusal,
    },
    ShutdownComplete,
}
