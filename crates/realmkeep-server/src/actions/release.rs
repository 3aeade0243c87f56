//! Logout and zone change: `Store::release_keyed`, the final save and the release in one fenced
//! transaction under the request's idempotency key. The save lane tries a release again with the
//! same key after an unknown outcome; if the first attempt had committed, the retry is refused as
//! stale and the key tells it was this release: answered done, so the transfer goes on.

use super::{Executor, Lane};
use realmkeep_domain::CharacterId;
use realmkeep_domain::records::Refusal;
use realmkeep_store::{StoreError, StoreResult};
use realmkeep_zone::actions::release::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Save;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.snapshot.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, key: &str, r: &Request) -> StoreResult<Receipt> {
    match ex.store.release_keyed(&r.snapshot, key).await {
        Ok(()) => {}
        // Tried again after an attempt whose answer was lost: the claim is gone because that
        // attempt committed (its key says so), not because another zone took the character.
        Err(StoreError::Refused(Refusal::StaleClaim))
            if ex.store.action_committed(key).await.unwrap_or(false) => {}
        Err(e) => return Err(e),
    }
    ex.observer.released(r.snapshot.fence);
    Ok(Receipt)
}
