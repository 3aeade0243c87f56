//! An operator's gold, item or position change of a player in this zone (`Store::admin_change` under the
//! player's fence), opened by `ZoneInput::Admin`. The operator waits for the outcome in the
//! database under the order's key, not for this zone: the zone only keeps its view true and tells
//! the player what changed once it committed.

use super::{AnswerCtx, Outcome};
use crate::io::{PlayerEvent, RequestId};
use realmkeep_domain::records::{Belongings, Refusal};
use realmkeep_domain::{AdminOrder, AdminReceipt, CharacterId, Fence};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub order: AdminOrder,
}

/// What the character holds once the change committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub receipt: AdminReceipt,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    /// Where a teleport puts the character once it committed (already clamped to the zone).
    pub teleport: Option<(f32, f32)>,
}

impl Waiting {
    /// Not the player's request: it does not count against the player's critical actions.
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let character = self.character;
        let r = match outcome {
            Outcome::Ok(Receipt { receipt }) => receipt,
            Outcome::Refused(Refusal::StaleClaim) => return ctx.lost(character),
            other => {
                return tracing::debug!(%character, ?other, "an operator's change not applied")
            }
        };
        let AnswerCtx {
            players,
            index,
            outbox,
            ..
        } = ctx;
        let Some(mut p) = index.player(character).and_then(|e| players.get_mut(e).ok()) else {
            return;
        };
        if let Some((x, y)) = self.teleport {
            // Views show the move; the next save keeps it.
            p.transform.x = x;
            p.transform.y = y;
        }
        if p.inventory.gold != r.gold {
            p.inventory.gold = r.gold;
            outbox.tell(character, PlayerEvent::GoldChanged { gold: r.gold });
        }
        let Belongings { bag, equipment } = r.held;
        if p.inventory.items != bag || p.inventory.equipment != equipment {
            // An operator's change touches the bag only: the equipment (and so the stats) is
            // what the zone already has.
            p.inventory.items = bag.clone();
            outbox.tell(character, PlayerEvent::ItemsChanged { bag, equipment });
        }
    }
}
