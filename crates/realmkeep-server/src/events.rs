//! The events task of one zone host: the I/O that follows a zone letting a character go.
//! - `Left`: out of the roster, out of Redis, and on a transfer, on to the destination zone
//!   (the claim is already released: the destination claims only after that).
//! - `SpawnRefused`: the host still holds the claim it took for the spawn; it saves the loaded
//!   state back and releases it.
//! - `ShutdownComplete`: wakes `ZoneHost::shutdown`.

use crate::cache_worker;
use crate::health::{Backoff, StoreHealth};
use crate::limits::SAVE_RETRIES_MAX;
use crate::messages::{HostEvent, Notice, NoticeSender};
use crate::metrics::{bump, Metrics};
use crate::roster::Roster;
use realmkeep_cache::Cache;
use realmkeep_domain::{CharacterId, ZoneId};
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::{Store, StoreError};
use realmkeep_zone::io::LeftReason;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// A character on its way from one zone to another: released by `from`, to be claimed by `to`.
#[derive(Debug)]
pub(crate) struct Transfer {
    pub character: CharacterId,
    pub from: ZoneId,
    pub to: ZoneId,
    pub notices: Option<NoticeSender>,
}

pub(crate) struct EventsCtx {
    pub zone: ZoneId,
    pub store: Store,
    pub cache: Cache,
    pub health: Arc<StoreHealth>,
    pub metrics: Arc<Metrics>,
    pub roster: Arc<Roster>,
    pub transfers: Option<mpsc::Sender<Transfer>>,
    pub shutdown_complete: watch::Sender<bool>,
    pub cancel: CancellationToken,
}

pub(crate) async fn run(ctx: Arc<EventsCtx>, mut rx: mpsc::Receiver<HostEvent>) {
    loop {
        let ev = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => return,
            ev = rx.recv() => match ev {
                Some(ev) => ev,
                None => return,
            },
        };
        match ev {
            HostEvent::Left {
                character,
                reason,
                notices,
            } => left(&ctx, character, reason, notices).await,
            HostEvent::SpawnRefused { fence, reason } => {
                bump(&ctx.metrics.counters.joins_refused);
                tracing::info!(zone = %ctx.zone, character = %fence.character, ?reason, "spawn refused: releasing the claim");
                if let Some(seat) = ctx.roster.remove(fence.character, Some(fence)) {
                    release_unspawned(&ctx.store, &ctx.health, seat.loaded, &ctx.cancel).await;
                }
                cache_worker::leave(&ctx.cache, fence.character, ctx.zone).await;
            }
            HostEvent::ShutdownComplete => {
                ctx.shutdown_complete.send_replace(true);
            }
        }
    }
}

async fn left(
    ctx: &EventsCtx,
    character: CharacterId,
    reason: LeftReason,
    notices: Option<NoticeSender>,
) {
    ctx.roster.remove(character, None);
    bump(&ctx.metrics.counters.leaves);
    // The zone reports `Left` with `Released` only after the final save committed.
    cache_worker::leave(&ctx.cache, character, ctx.zone).await;
    tracing::debug!(zone = %ctx.zone, %character, ?reason, "left the zone");
    if let LeftReason::Released { transfer_to: None } = reason {
        crate::friends::tell(&ctx.store, &ctx.cache, character, false);
    }
    if let LeftReason::Released {
        transfer_to: Some(to),
    } = reason
    {
        let transfer = Transfer {
            character,
            from: ctx.zone,
            to,
            notices,
        };
        match &ctx.transfers {
            Some(tx) => {
                if let Err(e) = tx.send(transfer).await {
                    tracing::warn!(%character, %to, "transfer router gone: the character stays offline");
                    notify_failed(e.0, "the server is stopping");
                }
            }
            None => notify_failed(transfer, "zone transfers need a cluster"),
        }
    }
}

pub(crate) fn notify_failed(t: Transfer, reason: &str) {
    if let Some(n) = t.notices {
        let _ = n.try_send(Notice::TransferFailed {
            to: t.to,
            reason: reason.to_string(),
        });
    }
}

/// Releases a claim the zone never played under, writing back the state it was loaded with.
/// Retried with backoff (bounded); if it still fails the claim simply expires with its lease.
pub(crate) async fn release_unspawned(
    store: &Store,
    health: &Arc<StoreHealth>,
    loaded: CharacterSnapshot,
    cancel: &CancellationToken,
) {
    let mut backoff = Backoff::default();
    for _ in 0..=SAVE_RETRIES_MAX {
        let r = store.release(&loaded).await;
        health.observe(store, &r);
        match r {
            Ok(()) | Err(StoreError::Refused(_)) => return,
            Err(e) => {
                tracing::debug!(character = %loaded.fence.character, error = %e, "release of an unspawned claim failed; retrying");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.step()) => {}
            _ = cancel.cancelled() => return,
        }
    }
    tracing::warn!(character = %loaded.fence.character, "claim not released: it expires with its lease");
}
