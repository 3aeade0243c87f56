//! A PvP kill: `Store::record_pvp_kill`.

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::pvp_kill::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.killer.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    let run = ex
        .store
        .record_pvp_kill_keyed(Actor::Zone(r.killer), r.victim.character, key);
    super::keyed(ex, key, run).await?;
    Ok(Receipt)
}
