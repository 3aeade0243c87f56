//! Monster gold: `Store::loot_gold`.

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::loot_gold::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let run = ex
        .store
        .loot_gold_keyed(Actor::Zone(r.fence), r.amount, Some(r.zone), key);
    let gold = super::keyed(ex, key, run).await?;
    Ok(Receipt { gold })
}
