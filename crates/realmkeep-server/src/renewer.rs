//! The claims renewer of one zone: every lease/3, one `Store::renew` call extends every claim the
//! zone holds. A claim found lost (another zone took it after the lease expired, or an operator
//! stole it) is reported to the zone as `ZoneInput::ClaimLost`, which despawns the character
//! without a save.

use crate::health::StoreHealth;
use crate::messages::Control;
use crate::metrics::{bump, set, Metrics};
use crate::roster::Roster;
use realmkeep_domain::{Fence, ZoneId};
use realmkeep_store::claims::RENEW_ROWS_MAX;
use realmkeep_store::Store;
use realmkeep_zone::io::ZoneInput;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// After a failed renewal the next try comes sooner than a full period, never sooner than this.
const RENEW_RETRY_MIN: Duration = Duration::from_millis(200);

pub(crate) struct RenewCtx {
    pub zone: ZoneId,
    pub store: Store,
    pub health: Arc<StoreHealth>,
    pub metrics: Arc<Metrics>,
    pub roster: Arc<Roster>,
    pub lease: Duration,
    pub control: mpsc::Sender<Control>,
    pub cancel: CancellationToken,
}

pub(crate) async fn run(ctx: Arc<RenewCtx>) {
    let period = ctx.lease / 3;
    let retry = (ctx.lease / 10).max(RENEW_RETRY_MIN).min(period);
    let mut wait = period;
    loop {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        let renewed = renew_once(&ctx).await;
        set(
            &ctx.metrics.counters.renewal_failing,
            renewed.is_err() as u64,
        );
        wait = match renewed {
            Ok(()) => period,
            Err(()) => retry,
        };
    }
}

/// Renews every claim once. Err if any chunk could not be renewed.
pub(crate) async fn renew_once(ctx: &RenewCtx) -> Result<(), ()> {
    let fences = ctx.roster.fences();
    let mut result = Ok(());
    for chunk in fences.chunks(RENEW_ROWS_MAX) {
        let r = ctx
            .store
            .renew(chunk, ctx.lease)
            .instrument(tracing::debug_span!(
                "store",
                action = "renew",
                rows = chunk.len()
            ))
            .await;
        ctx.health.observe(&ctx.store, &r);
        match r {
            Ok(lost) => {
                ::metrics::counter!(crate::telemetry::CLAIMS_RENEWED)
                    .increment(chunk.len().saturating_sub(lost.len()) as u64);
                for character in lost {
                    let Some(fence) = chunk.iter().find(|f| f.character == character) else {
                        continue;
                    };
                    report_lost(ctx, *fence).await;
                }
            }
            Err(e) => {
                bump(&ctx.metrics.counters.renewals_failed);
                ctx.metrics
                    .set_last_error(format_args!("claim renewal: {e}"));
                tracing::warn!(zone = %ctx.zone, claims = chunk.len(), error = %e, "claims not renewed; retrying soon");
                result = Err(());
            }
        }
    }
    result
}

async fn report_lost(ctx: &RenewCtx, fence: Fence) {
    // A claim this zone released itself (the final save of a character on its way out, whose
    // `Left` has not reached the roster yet) is not lost: the epoch is unchanged and nobody holds
    // it. Only a claim another holder took, or a newer epoch, is.
    if let Ok(info) = ctx.store.claim_info(fence.character).await {
        if info.holder.is_none() && info.epoch == fence.epoch.0 {
            return;
        }
    }
    // Only if this is still the claim the zone plays under: a character that left and came back
    // meanwhile has a new fence and must not be despawned for the old one.
    if !ctx.roster.mark_lost(fence) {
        return;
    }
    bump(&ctx.metrics.counters.claims_lost);
    tracing::warn!(zone = %ctx.zone, character = %fence.character, epoch = %fence.epoch, "claim lost: despawning without a save");
    let input = ZoneInput::ClaimLost {
        character: fence.character,
    };
    let _ = ctx.control.send(Control::Input(input)).await;
}
