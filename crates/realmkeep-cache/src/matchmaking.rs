//! Matchmaking queues: `matchmaking:queue:{type}`, sorted sets scored by the Redis clock at
//! enqueue time. A player waits in at most one queue; a Lua script drops timed-out entries and
//! pops the oldest full group in one step, so two nodes popping the same queue never put one
//! player in two groups. While Redis is down matchmaking is paused
//! ([`MatchmakingError::Paused`], with [`MATCHMAKING_PAUSED_MESSAGE`] for the player).

use crate::core::Core;
use crate::error::CacheError;
use crate::vocab::QueueKind;
use crate::{keys, scripts};
use realmkeep_domain::CharacterId;

/// What the player reads while matchmaking is paused.
pub const MATCHMAKING_PAUSED_MESSAGE: &str =
    "Matchmaking is paused for a moment while a server recovers. Please queue again shortly.";
/// Largest group any queue may form.
pub const GROUP_SIZE_MAX: usize = 40;
/// Timed-out entries dropped per pop at most (the rest go on the next pops).
pub const QUEUE_EXPIRED_PER_POP_MAX: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum MatchmakingError {
    #[error("matchmaking is paused: Redis is unavailable")]
    Paused,
    #[error(transparent)]
    Cache(CacheError),
}

impl MatchmakingError {
    /// What to tell the player (never the detail).
    pub fn player_message(&self) -> &'static str {
        match self {
            MatchmakingError::Paused => MATCHMAKING_PAUSED_MESSAGE,
            MatchmakingError::Cache(_) => "Matchmaking failed. Please try again.",
        }
    }
}

impl From<CacheError> for MatchmakingError {
    fn from(e: CacheError) -> Self {
        if e.is_unavailable() {
            MatchmakingError::Paused
        } else {
            MatchmakingError::Cache(e)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueJoin {
    Joined,
    /// Already waiting, in this queue or another.
    AlreadyQueued(QueueKind),
}

/// What one pop did: a full group if there was one, and who was dropped for waiting too long.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Popped {
    pub group: Option<Vec<CharacterId>>,
    pub timed_out: Vec<CharacterId>,
}

/// Matchmaking. Get it from [`crate::Cache::matchmaking`].
#[derive(Debug, Clone, Copy)]
pub struct Matchmaking<'a> {
    core: &'a Core,
}

impl<'a> Matchmaking<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }
}

fn ids(v: Vec<String>) -> Vec<CharacterId> {
    v.iter()
        .filter_map(|s| s.parse().ok())
        .map(CharacterId)
        .collect()
}

impl Matchmaking<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    pub async fn join(
        &self,
        kind: QueueKind,
        player: CharacterId,
    ) -> Result<QueueJoin, MatchmakingError> {
        let core = self.core();
        let mut inv = scripts::QUEUE_JOIN.prepare_invoke();
        for k in QueueKind::ALL {
            inv.key(keys::matchmaking_queue(*k));
        }
        let target = QueueKind::ALL
            .iter()
            .position(|k| *k == kind)
            .expect("kind is listed")
            + 1;
        inv.arg(player.0).arg(target);
        for k in QueueKind::ALL {
            inv.arg(core.opts.queue(*k).timeout.as_millis() as u64);
        }
        match core.eval::<usize>(&inv).await? {
            0 => Ok(QueueJoin::Joined),
            i => Ok(QueueJoin::AlreadyQueued(
                QueueKind::ALL.get(i - 1).copied().unwrap_or(kind),
            )),
        }
    }

    /// Leaves the queue; `false` if the player was not in it.
    pub async fn leave(
        &self,
        kind: QueueKind,
        player: CharacterId,
    ) -> Result<bool, MatchmakingError> {
        let cmd = redis::cmd("ZREM")
            .arg(keys::matchmaking_queue(kind))
            .arg(player.0)
            .to_owned();
        Ok(self.core().query::<i64>(&cmd).await? > 0)
    }

    /// Players waiting.
    pub async fn len(&self, kind: QueueKind) -> Result<u64, MatchmakingError> {
        let cmd = redis::cmd("ZCARD")
            .arg(keys::matchmaking_queue(kind))
            .to_owned();
        Ok(self.core().query(&cmd).await?)
    }

    /// Drops timed-out players and pops the oldest full group, if there is one.
    pub async fn pop_group(&self, kind: QueueKind) -> Result<Popped, MatchmakingError> {
        let core = self.core();
        let cfg = core.opts.queue(kind);
        if cfg.group_size == 0 || cfg.group_size > GROUP_SIZE_MAX {
            return Err(MatchmakingError::Cache(CacheError::Invalid {
                what: "group size",
                detail: format!("between 1 and {GROUP_SIZE_MAX} expected"),
            }));
        }
        let mut inv = scripts::QUEUE_POP.prepare_invoke();
        inv.key(keys::matchmaking_queue(kind))
            .arg(cfg.group_size)
            .arg(cfg.timeout.as_millis() as u64)
            .arg(QUEUE_EXPIRED_PER_POP_MAX);
        let (group, expired): (Vec<String>, Vec<String>) = core.eval(&inv).await?;
        let group = ids(group);
        Ok(Popped {
            group: (group.len() == cfg.group_size).then_some(group),
            timed_out: ids(expired),
        })
    }
}
