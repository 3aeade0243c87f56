//! A whisper's check: `Store::may_whisper` (a read; the line itself goes through the cache).

use super::{Executor, Lane};
use realmkeep_domain::CharacterId;
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::whisper::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.from
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    ex.store.may_whisper(r.from, r.to).await?;
    Ok(Receipt)
}
