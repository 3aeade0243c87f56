//! Loot pickup: `Store::pickup_loot_once`, keyed by the zone's life and the loot entity, so a
//! pickup tried again after a lost answer is answered from what was done.

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::pickup::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    let origin = format!("monster:{}", r.monster);
    // The keys prefix is new in every process and the entity unique in the zone's life.
    let key = format!("{}:{}", ex.keys, r.loot);
    let actor = Actor::Zone(r.fence);
    let p = ex
        .store
        .pickup_loot_once(actor, r.def, r.quantity, Some(r.zone), &origin, &key)
        .await?;
    Ok(Receipt {
        merged: p.merged,
        created: p.created,
    })
}
