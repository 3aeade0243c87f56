//! Claiming attachments: `Store::claim_attachments_keyed`, fenced by the zone's claim, under the
//! request's key; the receipt (items as placed, purse after) is what the player is shown.

use super::{keyed, Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::mail_claim::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let run = ex
        .store
        .claim_attachments_keyed(Actor::Zone(r.fence), r.mail, key);
    let c = keyed(ex, key, run).await?;
    Ok(Receipt {
        gold: c.gold.get(),
        items: c.placed,
        gold_after: c.gold_after,
    })
}
