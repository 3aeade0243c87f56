//! Cancelling a listing: `Store::cancel_listing_keyed`, fenced by the zone's claim.

use super::{keyed, Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::market_cancel::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let run = ex
        .store
        .cancel_listing_keyed(Actor::Zone(r.fence), r.listing, key);
    let item = keyed(ex, key, run).await?;
    Ok(Receipt { item })
}
