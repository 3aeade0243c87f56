//! Quest completion: the one economy action whose store answer does not carry what the zone
//! wants back, so the worker reads the rest after the commit.
//!
//! `Store::complete_quest` answers with the reward (gold amount, item ids); the zone wants the
//! purse after the reward and the reward items as placed (`Applied::QuestRewarded`). The commit
//! is done before the read, so a failed read must not turn into "try again" (the zone would not
//! grant the quest's experience, and its next save would write the lower value back): the read is
//! retried, and if it still fails the answer is sent with what is known.

use crate::store_worker::{observe_to, StoreCtx};
use realmkeep_domain::{Actor, Fence, QuestId};
use realmkeep_store::characters::InventoryItem;
use realmkeep_store::progress::QuestCompletion;
use realmkeep_zone::io::{Applied, Outcome};

/// Reads of the purse after a committed completion.
const READ_BACK_TRIES_MAX: u32 = 3;

pub(crate) async fn complete(ctx: &StoreCtx, fence: Fence, quest: QuestId) -> Outcome {
    let r = ctx.store.complete_quest(Actor::Zone(fence), quest).await;
    let done: Option<QuestCompletion> = r.as_ref().ok().cloned();
    let outcome = observe_to(ctx, r, |c| Applied::QuestRewarded {
        gold: c.gold,
        items: Vec::new(),
    });
    let Some(done) = done else {
        return outcome;
    };
    let mut backoff = crate::health::Backoff::default();
    for _ in 0..READ_BACK_TRIES_MAX {
        match ctx.store.load_character(fence.character).await {
            Ok(loaded) => {
                let items: Vec<InventoryItem> = loaded
                    .inventory
                    .into_iter()
                    .filter(|i| done.items.contains(&i.item))
                    .collect();
                return Outcome::Ok(Applied::QuestRewarded {
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
    tracing::warn!(character = %fence.character, quest = %quest,
        "quest completed, but the purse could not be read back: answering with the reward alone");
    outcome
}
