//! A market search: `Store::search_market`, a read (no claim, no key).

use super::{Executor, Lane};
use realmkeep_domain::{CharacterId, ItemDefId, ListingId};
use realmkeep_store::market::MarketQuery;
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::market_search::{ListingSeen, Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.character
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    let s = &r.search;
    let query = MarketQuery {
        item_def: s.item_def,
        min_price: s.min_price,
        max_price: s.max_price,
        seller: None,
        after: s.after,
        page_rows: s.rows,
    };
    let page = ex.store.search_market(&query).await?;
    Ok(Receipt {
        rows: page
            .rows
            .into_iter()
            .map(|row| ListingSeen {
                listing: ListingId(row.listing_id),
                def: ItemDefId(row.item_def_id),
                quantity: row.quantity,
                price: row.price,
                seller: CharacterId(row.seller_id),
            })
            .collect(),
        next: page.next,
    })
}
