//! Logout and zone change: `Store::release`, the final save and the release in one fenced
//! transaction.

use super::{Executor, Lane};
use realmkeep_domain::CharacterId;
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::release::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Save;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.snapshot.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, r: &Request) -> StoreResult<Receipt> {
    ex.store.release(&r.snapshot).await?;
    ex.observer.released(r.snapshot.fence);
    Ok(Receipt)
}
