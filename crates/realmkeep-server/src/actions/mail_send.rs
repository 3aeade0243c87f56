//! Sending mail: `Store::send_mail_keyed`, fenced by the zone's claim, under the request's key.

use super::{keyed, Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::mail_send::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let actor = Actor::Zone(r.fence);
    let run = ex
        .store
        .send_mail_keyed(actor, r.to, &r.subject, &r.body, r.gold, &r.items, key);
    let sent = keyed(ex, key, run).await?;
    Ok(Receipt {
        mail: sent.mail,
        gold_after: sent.gold_after,
    })
}
