//! Abandoning a quest: `Store::abandon_quest_keyed`, fenced by the zone's claim.

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::abandon_quest::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let run = ex
        .store
        .abandon_quest_keyed(Actor::Zone(r.fence), r.quest, key);
    super::keyed(ex, key, run).await?;
    Ok(Receipt)
}
