//! An item operation of the player's own: `Store::item_op_keyed`, fenced by the zone's claim,
//! under the request's key (a retry after a lost answer is answered from what committed).

use super::{keyed, Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::inventory::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let run = ex.store.item_op_keyed(Actor::Zone(r.fence), r.op, key);
    let held = keyed(ex, key, run).await?;
    Ok(Receipt { held })
}
