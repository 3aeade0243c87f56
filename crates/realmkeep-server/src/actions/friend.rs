//! Friends and blocks, fenced by the zone's claim. None moves items or gold; each is refused or
//! harmless when done twice, so a retry after a lost answer cannot do it twice.

use super::{Executor, Lane};
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::social::FriendStatus;
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::friend::{FriendOp, Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    let (actor, other, store) = (Actor::Zone(r.fence), r.other, ex.store);
    let friends = match r.op {
        FriendOp::Request => store.request_friend(actor, other).await? == FriendStatus::Accepted,
        FriendOp::Accept => {
            store.accept_friend(actor, other).await?;
            true
        }
        FriendOp::Remove => store.remove_friend(actor, other).await.map(|()| false)?,
        FriendOp::Block => store.block(actor, other).await.map(|()| false)?,
        FriendOp::Unblock => store.unblock(actor, other).await.map(|()| false)?,
    };
    Ok(Receipt { friends })
}
