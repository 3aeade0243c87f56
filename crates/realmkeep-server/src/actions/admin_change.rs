//! An operator's change of a player in the world: `Store::admin_change` under the zone's fence
//! and the order's own key (the one its sender reads the outcome under). The operator's role is
//! read again here: an order names an operator, it does not carry its powers. A refusal is kept
//! under the key too, so the sender hears why at once.

use super::{Executor, Lane};
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{Actor, AdminOutcome, CharacterId};
use realmkeep_store::admin::AdminNote;
use realmkeep_store::{StoreError, StoreResult};
use realmkeep_zone::actions::admin_change::{Receipt, Request};

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

async fn run(ex: &Executor<'_>, r: &Request) -> StoreResult<AdminOutcome> {
    let operator = ex
        .store
        .operator(r.order.operator)
        .await?
        .ok_or(StoreError::Refused(Refusal::NotAllowed(
            "the operator's account is disabled or gone",
        )))?;
    let note = AdminNote::new(operator, &r.order.reason)?;
    let key = r.order.key.as_str();
    let change = ex
        .store
        .admin_change(Actor::Zone(r.fence), &r.order.change, &note, Some(key));
    super::keyed(ex, key, async { change.await.map(AdminOutcome::Applied) }).await
}

pub(super) async fn execute(ex: &Executor<'_>, _key: &str, r: &Request) -> StoreResult<Receipt> {
    match run(ex, r).await {
        Ok(AdminOutcome::Applied(receipt)) => Ok(Receipt { receipt }),
        // Settled after a lost answer and found refused: nothing changed.
        Ok(AdminOutcome::Refused { message }) => Err(StoreError::Refused(Refusal::Invalid(message))),
        Err(StoreError::Refused(refusal)) => {
            if let Err(e) = ex.store.admin_refused(&r.order.key, &refusal).await {
                tracing::warn!(key = %r.order.key, error = %e, "an operator's refusal not kept: they hear it after their wait");
            }
            Err(StoreError::Refused(refusal))
        }
        Err(e) => Err(e),
    }
}
