//! Buying a marketplace listing (`Store::buy_listing`): the price leaves the purse, the item
//! arrives in the bag, both from the receipt.

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

/// The item as placed in the buyer's bag, what was paid, and the purse after.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub item: InventoryItem,
    pub price: i64,
    pub gold_after: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub listing: ListingId,
}

/// `PlayerCommand::BuyListing`. Whether the listing is still there, affordable and not the
/// buyer's own is for the store to say.
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
        if let Some(mut p) = ctx.player(self.character) {
            p.inventory.upsert(r.item.clone());
            p.inventory.gold = r.gold_after;
        }
        let event = PlayerEvent::Bought {
            listing: self.listing,
            item: r.item.item,
            def: r.item.def,
            quantity: r.item.quantity,
            price: r.price,
        };
        ctx.outbox.tell(self.character, event);
        let gold = r.gold_after;
        ctx.outbox
            .tell(self.character, PlayerEvent::GoldChanged { gold });
        ctx.tell_items(self.character);
    }
}
