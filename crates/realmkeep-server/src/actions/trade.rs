//! A trade: `Store::trade_keyed`, both sides fenced, all or nothing, under the request's
//! idempotency key. When the answer is lost (a connection cut during COMMIT), the database is
//! asked what happened (`Store::settle_trade`): a committed trade is answered done with its
//! receipt; one that did not commit is answered "try again", and can no longer commit.

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

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let done = ex
        .store
        .trade_keyed(&side(r.a, &r.a_gives), &side(r.b, &r.b_gives), key)
        .await;
    let t = match done {
        Ok(t) => t,
        Err(e) if !e.outcome_unknown() => return Err(e),
        // The answer was lost (or the key was used): ask the database what happened.
        Err(e) => match super::settle(key, || ex.store.settle_trade(key)).await {
            Some(t) => t,
            None => return Err(e),
        },
    };
    Ok(Receipt {
        a_received: t.a_received,
        b_received: t.b_received,
        a_gold: t.a_gold,
        b_gold: t.b_gold,
        trade: t.trade,
    })
}
