//! What travels between the host's async side and a zone's tick thread, besides the zone's own
//! `ZoneInput`/`ZoneOutput`.

use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_zone::io::{LeftReason, PlayerEvent, ReplyTo, SpawnRefusal, ZoneInput};
use tokio::sync::mpsc;

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

/// A new channel for one player's notices, of `capacity`. Its slots hold boxed notices: tokio
/// allocates a queue's first block of 32 slots when the channel is made, and a `Notice` is
/// about a hundred bytes, so every player would hold 3 KB for a queue that is nearly always
/// empty (a notice is boxed once, on the tick thread, when it is sent).
pub fn notice_channel(capacity: usize) -> (NoticeSender, NoticeReceiver) {
    let (tx, rx) = mpsc::channel(capacity);
    (NoticeSender(tx), NoticeReceiver(rx))
}

/// The sending side of a player's notices (`notice_channel`).
#[derive(Debug, Clone)]
pub struct NoticeSender(mpsc::Sender<Box<Notice>>);

impl NoticeSender {
    /// Sends without waiting; a full or closed channel gives the notice back.
    pub fn try_send(&self, notice: Notice) -> Result<(), mpsc::error::TrySendError<Box<Notice>>> {
        self.0.try_send(Box::new(notice))
    }
}

/// The receiving side of a player's notices (`notice_channel`).
#[derive(Debug)]
pub struct NoticeReceiver(mpsc::Receiver<Box<Notice>>);

impl NoticeReceiver {
    /// The next notice, or `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Notice> {
        self.0.recv().await.map(|n| *n)
    }

    /// The next notice if one is queued.
    pub fn try_recv(&mut self) -> Result<Notice, mpsc::error::TryRecvError> {
        self.0.try_recv().map(|n| *n)
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
