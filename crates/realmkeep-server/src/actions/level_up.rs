//! Level-up save: `Store::level_up` (a full save with its log row).

use super::{Executor, Lane};
use realmkeep_domain::CharacterId;
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::level_up::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Save;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.0.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    ex.store.level_up(&r.0).await?;
    ex.observer.level_up_saved();
    Ok(Receipt)
}
