//! Quest completion: `Store::complete_quest`, whose answer is the receipt the zone shows (purse
//! after, items as placed, experience after), committed with the completion: nothing is read
//! back, so nothing can be shown that the store did not commit.

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::complete_quest::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let run = ex
        .store
        .complete_quest_keyed(Actor::Zone(r.fence), r.quest, r.xp, key);
    let done = super::keyed(ex, key, run).await?;
    Ok(Receipt {
        gold: done.gold_after,
        items: done.items,
        xp: done.xp_after,
    })
}
