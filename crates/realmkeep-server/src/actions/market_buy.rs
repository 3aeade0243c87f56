//! Buying a listing: `Store::buy_listing_keyed`, fenced by the zone's claim, under the request's
//! key; the receipt (item as placed, purse after) is what the buyer is shown.

use super::{keyed, Executor, Lane};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::market_buy::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let run = ex
        .store
        .buy_listing_keyed(Actor::Zone(r.fence), r.listing, key);
    let p = keyed(ex, key, run).await?;
    Ok(Receipt {
        item: InventoryItem {
            item: p.item,
            def: p.item_def,
            quantity: p.quantity,
            slot: p.slot,
        },
        price: p.price.get(),
        gold_after: p.gold_after,
    })
}
