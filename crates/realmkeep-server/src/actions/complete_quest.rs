//! Quest completion: `Store::complete_quest`, whose answer does not carry what the zone wants
//! back, so the purse and the placed items are read after the commit.
//!
//! The commit is done before the read, so a failed read must not turn into "try again" (the zone
//! would not grant the quest's experience, and its next save would write the lower value back):
//! the read is retried, and if it still fails the answer is sent with what is known.

use super::{Executor, Lane};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{Actor, CharacterId};
use realmkeep_store::StoreResult;
use realmkeep_zone::actions::complete_quest::{Receipt, Request};

/// Reads of the purse after a committed completion.
const READ_BACK_TRIES_MAX: u32 = 3;

pub(super) const LANE: Lane = Lane::Action;

pub(super) fn lane_key(r: &Request) -> CharacterId {
    r.fence.character
}

pub(super) async fn execute(ex: &Executor<'_>, r: &Request) -> StoreResult<Receipt> {
    let done = ex
        .store
        .complete_quest(Actor::Zone(r.fence), r.quest)
        .await?;
    let mut backoff = crate::health::Backoff::default();
    for _ in 0..READ_BACK_TRIES_MAX {
        match ex.store.load_character(r.fence.character).await {
            Ok(loaded) => {
                let items: Vec<InventoryItem> = loaded
                    .inventory
                    .into_iter()
                    .filter(|i| done.items.contains(&i.item))
                    .collect();
                return Ok(Receipt {
                    gold: loaded.gold,
                    items,
                });
            }
            Err(e) => {
                tracing::debug!(error = %e, "reading the purse after a quest reward failed");
                tokio::time::sleep(backoff.step()).await;
            }
        }
    }
    tracing::warn!(character = %r.fence.character, quest = %r.quest,
        "quest completed, but the purse could not be read back: answering with the reward alone");
    Ok(Receipt {
        gold: done.gold,
        items: Vec::new(),
    })
}
