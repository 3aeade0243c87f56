//! Listing an item: `Store::list_item_keyed`, fenced by the zone's claim, under the request's key.

use super::{keyed, Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::market_list::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let actor = Actor::Zone(r.fence);
    let run = ex
        .store
        .list_item_keyed(actor, r.item, r.price, r.hours, key);
    let listing = keyed(ex, key, run).await?;
    Ok(Receipt { listing })
}
