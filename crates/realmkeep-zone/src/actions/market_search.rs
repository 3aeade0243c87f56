//! Searching the marketplace (`Store::search_market`): a read, answered as a page of listings.
//! Not critical: it changes nothing and needs no claim, but it goes through the zone like every
//! command so a client has one door.

use super::{AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::limits::MARKET_PAGE_ROWS_MAX;
use realmkeep_domain::{CharacterId, Gold, ItemDefId, ListingId};

/// A search: every filter optional; `after` is the `next` cursor of the previous page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MarketSearch {
    pub item_def: Option<ItemDefId>,
    pub min_price: Option<Gold>,
    pub max_price: Option<Gold>,
    pub after: Option<(i64, ListingId)>,
    /// Rows per page, 1 to `MARKET_PAGE_ROWS_MAX`.
    pub rows: i64,
}

/// One listing as a search shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingSeen {
    pub listing: ListingId,
    pub def: ItemDefId,
    pub quantity: i32,
    pub price: i64,
    pub seller: CharacterId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub character: CharacterId,
    pub search: MarketSearch,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub rows: Vec<ListingSeen>,
    pub next: Option<(i64, ListingId)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
}

/// `PlayerCommand::SearchMarket`: a page size the market serves.
pub(crate) fn command(ctx: &mut Ctx, a: ActorItem, search: MarketSearch) {
    let me = a.player.character;
    if !(1..=MARKET_PAGE_ROWS_MAX).contains(&search.rows) {
        return ctx.deny(me, Action::Market, Denial::Invalid);
    }
    if !ctx.pending.has_room() {
        return ctx.deny(me, Action::Market, Denial::Busy);
    }
    let Some(id) = ctx.pending.open(Waiting { character: me }.into()) else {
        return;
    };
    let request = Request {
        character: me,
        search,
    };
    ctx.outbox.persist(id, request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        Vec::new()
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let Outcome::Ok(r) = outcome else {
            return ctx.failed(self.character, Action::Market, &outcome);
        };
        let event = PlayerEvent::MarketPage {
            rows: r.rows,
            next: r.next,
        };
        ctx.outbox.tell(self.character, event);
    }
}
