//! Listing an item on the marketplace: the item leaves the bag for the market's escrow
//! (`Store::list_item`). The bag view loses it only from the receipt.

use super::{open_critical, AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::limits::{MARKET_LISTING_HOURS_MAX, MARKET_LISTING_HOURS_MIN};
use realmkeep_domain::{CharacterId, Fence, Gold, ItemId, ListingId};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub item: ItemId,
    pub price: Gold,
    pub hours: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub listing: ListingId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub item: ItemId,
}

/// `PlayerCommand::ListItem`: an item of the bag, a price above zero, a duration the market
/// allows.
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, item: ItemId, price: Gold, hours: i64) {
    let me = a.player.character;
    if price.get() <= 0 || !(MARKET_LISTING_HOURS_MIN..=MARKET_LISTING_HOURS_MAX).contains(&hours)
    {
        return ctx.deny(me, Action::Market, Denial::Invalid);
    }
    if a.inventory.item(item).is_none() {
        return ctx.deny(me, Action::Market, Denial::NoSuchTarget);
    }
    let request = Request {
        fence: a.player.fence,
        item,
        price,
        hours,
    };
    let waiting = Waiting {
        character: me,
        item,
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
            p.inventory.remove(self.item);
        }
        let event = PlayerEvent::Listed {
            listing: r.listing,
            item: self.item,
        };
        ctx.outbox.tell(self.character, event);
        ctx.tell_items(self.character);
    }
}
