//! The one call a simulated player makes outside its zone, as a real client would through a
//! service that is not a zone: the dungeon queue (the cache's matchmaking). Everything else,
//! market and mail included, is a zone command (`PlayerCommand`), fenced by the zone's claim.

use realmkeep_cache::{Cache, QueueJoin, QueueKind};
use realmkeep_domain::CharacterId;

/// A call to make.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    Queue { character: CharacterId },
}

/// How a call went.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Done {
    /// Nothing to do (already queued).
    Nothing,
    Queued,
    /// Redis could not answer, or refused.
    Refused,
}

pub(crate) async fn call(cache: &Cache, call: Call) -> Done {
    match call {
        Call::Queue { character } => {
            match cache
                .matchmaking()
                .join(QueueKind::Dungeon, character)
                .await
            {
                Ok(QueueJoin::Joined) => Done::Queued,
                Ok(QueueJoin::AlreadyQueued(_)) => Done::Nothing,
                Err(e) => {
                    tracing::debug!(error = %e, "dungeon queue refused");
                    Done::Refused
                }
            }
        }
    }
}
