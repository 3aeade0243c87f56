//! Reading one mail: `Store::read_mail`, fenced by the zone's claim (it marks the mail read).

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::mail_read::{Letter, Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    let m = ex.store.read_mail(Actor::Zone(r.fence), r.mail).await?;
    Ok(Receipt {
        letter: Letter {
            mail: m.id,
            from: m.sender,
            subject: m.subject,
            body: m.body,
            gold: m.gold,
            items: m.attachments.len() as i64,
            claimed: m.claimed_at.is_some(),
        },
    })
}
