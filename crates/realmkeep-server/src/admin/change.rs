//! An operator's gold or item change, wherever the character is; the same for the admin API and
//! the command line. Out of the world the store runs it at once (`Actor::Offline`). In the world,
//! the zone that holds the character runs it under its claim, so nothing changes behind the
//! zone's back and the player is told at once: the change goes as an `AdminOrder` with a fresh
//! key, to a zone of the caller's own node directly, or over `player_events:{id}` to whichever
//! node holds it, and the outcome is read from PostgreSQL under the key. After
//! `LIVE_CHANGE_WAIT` the key is given up (`Store::settle_action`): a late order can no longer
//! commit, so "not applied" is the truth.

use crate::Cluster;
use realmkeep_cache::{Cache, PlayerEvent};
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{Actor, AdminChange, AdminOrder, AdminOutcome, AdminReceipt, CharacterId};
use realmkeep_store::admin::AdminNote;
use realmkeep_store::{Store, StoreError};
use std::time::Duration;

/// How long the zone holding a character is given to run an operator's change.
pub const LIVE_CHANGE_WAIT: Duration = Duration::from_secs(3);
/// How often the outcome is looked for meanwhile.
const LIVE_CHANGE_POLL: Duration = Duration::from_millis(25);
const _: () = assert!(LIVE_CHANGE_POLL.as_millis() * 10 <= LIVE_CHANGE_WAIT.as_millis());

/// Why an operator's change did not happen. In every case nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Refused by the store (the role, the rules, a missing item), directly.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Refused by the rules in the zone that holds the character.
    #[error("{0}")]
    Refused(String),
    /// The character is in the world and its zone did not run the change in time (its node
    /// unreachable, Redis down, or busy): nothing changed, try again.
    #[error("the character is in the world and the zone holding it did not apply the change (not reachable from here, or not in time); nothing changed, try again")]
    NotApplied,
}

/// Where an operator's change can reach the world from.
#[derive(Clone, Copy)]
pub struct Reach<'a> {
    pub store: &'a Store,
    /// Redis, to reach a character on another node (none: only this node's zones).
    pub cache: Option<&'a Cache>,
    /// The caller's own node, whose zones are reached directly.
    pub node: Option<&'a Cluster>,
}

/// Runs `change` of `c` and answers what the character holds after it.
pub async fn change_character(
    reach: Reach<'_>,
    c: CharacterId,
    change: AdminChange,
    note: &AdminNote,
) -> Result<AdminReceipt, ChangeError> {
    match reach
        .store
        .admin_change(Actor::Offline(c), &change, note, None)
        .await
    {
        Err(StoreError::Refused(Refusal::ClaimHeld)) => in_world(reach, c, change, note).await,
        r => Ok(r?),
    }
}

fn fresh_key() -> String {
    format!("admin:{:032x}", rand::random::<u128>())
}

/// Hands the order to the zone holding `c`; false if nobody took it.
async fn send(reach: Reach<'_>, c: CharacterId, order: AdminOrder) -> bool {
    if let Some(host) = reach.node.and_then(|n| n.holding(c)) {
        return host.admin(c, order).await.is_ok();
    }
    let Some(cache) = reach.cache else {
        return false;
    };
    match cache
        .events()
        .notify_player(c, PlayerEvent::Admin { order })
        .await
    {
        Ok(n) => n.receivers > 0,
        Err(e) => {
            tracing::warn!(character = %c, error = %e, "an operator's change not sent to the character's node");
            false
        }
    }
}

async fn in_world(
    reach: Reach<'_>,
    c: CharacterId,
    change: AdminChange,
    note: &AdminNote,
) -> Result<AdminReceipt, ChangeError> {
    let order = AdminOrder {
        key: fresh_key(),
        change,
        operator: note.operator().id(),
        reason: note.reason().to_string(),
    };
    let key = order.key.clone();
    let store = reach.store;
    if send(reach, c, order).await {
        let deadline = tokio::time::Instant::now() + LIVE_CHANGE_WAIT;
        while tokio::time::Instant::now() < deadline {
            if let Some(o) = store.admin_outcome(&key).await? {
                return answer(o);
            }
            tokio::time::sleep(LIVE_CHANGE_POLL).await;
        }
    }
    match store.settle_action::<AdminOutcome>(&key).await? {
        Some(o) => answer(o),
        None => Err(ChangeError::NotApplied),
    }
}

fn answer(o: AdminOutcome) -> Result<AdminReceipt, ChangeError> {
    match o {
        AdminOutcome::Applied(r) => Ok(r),
        AdminOutcome::Refused { message } => Err(ChangeError::Refused(message)),
    }
}
