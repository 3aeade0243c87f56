//! Monster gold: `Store::loot_gold`.

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::loot_gold::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    let gold = ex
        .store
        .loot_gold(Actor::Zone(r.fence), r.amount, Some(r.zone))
        .await?;
    Ok(Receipt { gold })
}
