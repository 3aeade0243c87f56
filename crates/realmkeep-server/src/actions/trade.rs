//! A trade: `Store::trade`, both sides fenced, all or nothing.

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId, Fence};
use realmkeep_store::trade::TradeSide;
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::trade::{Receipt, Request};
use realmkeep_zone::io::TradeOffer;

pub(super) const LANE: Lane = Lane::Action;

/// Both sides' trades share the lane of the lower id.
pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.a.character.min(r.b.character)
}

fn side(fence: Fence, offer: &TradeOffer) -> TradeSide {
    TradeSide {
        actor: Actor::Zone(fence),
        items: offer.items.clone(),
        gold: offer.gold,
    }
}

pub(super) async fn execute(ex: &Executor<'_>, r: &Request) -> StoreResult<Receipt> {
    let t = ex
        .store
        .trade(&side(r.a, &r.a_gives), &side(r.b, &r.b_gives))
        .await?;
    Ok(Receipt {
        a_received: t.a_received,
        b_received: t.b_received,
        a_gold: t.a_gold,
        b_gold: t.b_gold,
    })
}
