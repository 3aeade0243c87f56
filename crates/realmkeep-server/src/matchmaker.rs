//! The node's matchmaker: for each queue it serves (`ClusterConfig::instances`), every
//! `MATCHMAKE_INTERVAL`, pops full groups from `matchmaking:queue:{type}` (a Lua script: the
//! oldest full group leaves the queue in one step, so two nodes popping at once never split nor
//! duplicate a group) and tells each member on `player_events:{id}` (`GroupFormed`), wherever
//! it plays: its connection's gateway sends it to the queue's instance zone. Players dropped
//! for waiting too long are simply out of the queue. While Redis is away nothing is popped.

use crate::limits::{GROUPS_PER_ROUND_MAX, MATCHMAKE_INTERVAL};
use realmkeep_cache::{Cache, Channel, ChannelMessage, PlayerEvent, QueueKind};
use realmkeep_domain::ZoneId;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(cache: Cache, queues: Vec<(QueueKind, ZoneId)>, cancel: CancellationToken) {
    if queues.is_empty() {
        return;
    }
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(MATCHMAKE_INTERVAL) => {}
        }
        for (queue, zone) in &queues {
            for _ in 0..GROUPS_PER_ROUND_MAX {
                match cache.matchmaking().pop_group(*queue).await {
                    Ok(p) => match p.group {
                        Some(members) => send(&cache, *queue, *zone, members).await,
                        None => break,
                    },
                    Err(e) => {
                        tracing::debug!(queue = queue.as_str(), error = %e, "no group popped");
                        break;
                    }
                }
            }
        }
    }
}

async fn send(
    cache: &Cache,
    queue: QueueKind,
    zone: ZoneId,
    members: Vec<realmkeep_domain::CharacterId>,
) {
    tracing::info!(queue = queue.as_str(), %zone, members = ?members, "a group formed");
    let event = ChannelMessage::Player(PlayerEvent::GroupFormed {
        queue,
        zone,
        members: members.clone(),
    });
    for m in members {
        if let Err(e) = cache
            .events()
            .publish(&Channel::PlayerEvents(m), &event)
            .await
        {
            // The group is formed; this member is not moved (it may queue again).
            tracing::warn!(character = %m, error = %e, "a group member was not told");
        }
    }
}
