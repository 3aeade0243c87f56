//! Matchmaking queues, answered by the gateway (no zone part): joining and leaving
//! `matchmaking:queue:{type}` in the cache (one queue at a time per player). When a node's
//! matchmaker pops a full group (atomically, `realmkeep-server`'s `matchmaker.rs`), each member
//! hears `GroupFormed` on `player_events:{id}` wherever it plays, and its connection here sends
//! the character to the queue's instance zone: the same zone change as `change_zone` (a new
//! `welcome`, or a `redirect` when that zone runs on another node).

use super::commands::Queue;
use super::join::Joined;
use crate::state::App;
use realmkeep_cache::{MatchmakingError, PlayerEvent, QueueJoin};
use realmkeep_domain::CharacterId;
use realmkeep_protocol::Reason;

type Failure = (Reason, String);

/// Paused (Redis away) or failed: nothing changed either way.
fn failed(e: MatchmakingError) -> Failure {
    (Reason::TryAgain, e.player_message().to_string())
}

pub(crate) async fn answer(app: &App, me: CharacterId, q: Queue) -> Result<(), Failure> {
    let mm = app.cache().matchmaking();
    match q {
        Queue::Join(kind) => match mm.join(kind, me).await.map_err(failed)? {
            QueueJoin::Joined => Ok(()),
            QueueJoin::AlreadyQueued(k) => Err((
                Reason::GameRule,
                format!("already waiting in the {} queue", k.as_str()),
            )),
        },
        Queue::Leave(kind) => match mm.leave(kind, me).await.map_err(failed)? {
            true => Ok(()),
            false => Err((
                Reason::GameRule,
                format!("not waiting in the {} queue", kind.as_str()),
            )),
        },
    }
}

/// A group formed for this connection's character: off to the queue's instance zone, unless it
/// is there already. The zone change is followed like any other (`transfer.rs`).
pub(crate) async fn follow(j: &Joined, ev: &PlayerEvent) {
    let PlayerEvent::GroupFormed { zone, .. } = ev else {
        return;
    };
    if j.zone == *zone {
        return;
    }
    let c = j.grant.character;
    if let Err(e) = j.host.transfer(c, *zone).await {
        tracing::warn!(character = %c, %zone, error = %e, "a group member was not sent to its instance");
    }
}
