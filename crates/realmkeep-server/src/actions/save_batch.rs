//! Periodic batch save: `Store::save_batch` (one statement, fenced row by row).

use super::{Executor, Lane};
use realmkeep_domain::CharacterId;
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::save_batch::{Receipt, Request};
use std::time::Instant;

pub(super) const LANE: Lane = Lane::Save;

pub(super) fn lane_key(_: &Request) -> CharacterId {
    CharacterId(0)
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    let started = Instant::now();
    let report = ex.store.save_batch(&r.0).await?;
    ex.observer
        .batch_saved(r.0.len(), report.refused.len(), started.elapsed());
    if !report.refused.is_empty() {
        tracing::warn!(refused = ?report.refused, "batch save rows refused: claims lost");
    }
    Ok(Receipt {
        refused: report.refused,
    })
}
