//! Deleting one mail that carries nothing any more: `Store::delete_mail`, fenced by the zone's
//! claim (logged in `game_logs`).

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::mail_delete::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    ex.store.delete_mail(Actor::Zone(r.fence), r.mail).await?;
    Ok(Receipt)
}
