//! Taking one's listing off the market (`Store::cancel_listing`): the item comes back to a free
//! slot of the bag, as the receipt places it.

use super::{open_critical, AnswerCtx, Outcome};
use crate::io::{Action, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{CharacterId, Fence, ListingId};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub listing: ListingId,
}

/// The item as placed back in the bag.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub item: InventoryItem,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub listing: ListingId,
}

/// `PlayerCommand::CancelListing`: only the seller's own listing (the store checks).
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, listing: ListingId) {
    let me = a.player.character;
    let request = Request {
        fence: a.player.fence,
        listing,
    };
    let waiting = Waiting {
        character: me,
        listing,
    };
    open_critical(ctx, &mut a, Action::Market, waiting.into(), request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let Outcome::Ok(r) = outcome else {
            return ctx.failed(self.character, Action::Market, &outcome);
        };
        let item = r.item.item;
        if let Some(mut p) = ctx.player(self.character) {
            p.inventory.upsert(r.item);
        }
        let listing = self.listing;
        ctx.outbox
            .tell(self.character, PlayerEvent::ListingCancelled { listing, item });
        ctx.tell_items(self.character);
    }
}
