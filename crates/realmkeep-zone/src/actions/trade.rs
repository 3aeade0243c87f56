//! A trade between two characters of this zone: offered, then agreed when the other side sends
//! the mirror offer within `TRADE_OFFER_MS`; then one request swaps everything at once or nothing
//! (`Store::trade`). Both views change only from the receipt.

use super::{AnswerCtx, Outcome};
use crate::io::{Action, Denial, PlayerEvent, RequestId, TradeOffer};
use crate::limits::TRADE_OFFER_MS;
use crate::resources::OpenOffer;
use crate::systems::commands::{room_for, Actor, ActorItem, Ctx};
use bevy_ecs::prelude::*;
use realmkeep_domain::limits::TRADE_ITEMS_PER_SIDE_MAX;
use realmkeep_domain::records::{InventoryItem, Refusal};
use realmkeep_domain::{CharacterId, Fence, ItemId};

/// Side `a` is the first offerer.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub a: Fence,
    pub a_gives: TradeOffer,
    pub b: Fence,
    pub b_gives: TradeOffer,
}

/// Items each side received with their new bag slot, and both purses after.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub a_received: Vec<(ItemId, i16)>,
    pub b_received: Vec<(ItemId, i16)>,
    pub a_gold: i64,
    pub b_gold: i64,
    /// The trade's reference in the store's logs, told to both sides.
    pub trade: String,
}

/// The items each side gives, as they were in its bag, to move them on success.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub a: CharacterId,
    pub a_items: Vec<InventoryItem>,
    pub a_offer: TradeOffer,
    pub b: CharacterId,
    pub b_items: Vec<InventoryItem>,
    pub b_offer: TradeOffer,
}

/// The items of an offer as the giver's view holds them, if it holds them all (and the gold).
fn held(a: &ActorItem, offer: &TradeOffer) -> Option<Vec<InventoryItem>> {
    if offer.gold.get() > a.inventory.gold {
        return None;
    }
    offer
        .items
        .iter()
        .map(|id| a.inventory.item(*id).cloned())
        .collect()
}

fn same(x: &TradeOffer, y: &TradeOffer) -> bool {
    let (mut xi, mut yi) = (x.items.clone(), y.items.clone());
    xi.sort();
    yi.sort();
    x.gold == y.gold && xi == yi
}

/// `PlayerCommand::TradeCancel`: withdraws the player's open offer to `with` before the other
/// side agreed to it; the other side hears it. Nothing was promised, so nothing moves.
pub(crate) fn cancel(ctx: &mut Ctx, me: CharacterId, with: CharacterId) {
    if ctx.offers.take(me, with).is_none() {
        return ctx.deny(me, Action::Trade, Denial::NoSuchTarget);
    }
    ctx.outbox
        .tell(with, PlayerEvent::TradeCancelled { from: me });
}

/// `PlayerCommand::Trade`: an offer, stored until the other side sends the mirror offer, then one
/// request with both fences.
pub(crate) fn command(
    ctx: &mut Ctx,
    actors: &mut Query<Actor>,
    me: CharacterId,
    with: CharacterId,
    give: TradeOffer,
    want: TradeOffer,
) {
    let bounded = give.items.len() <= TRADE_ITEMS_PER_SIDE_MAX
        && want.items.len() <= TRADE_ITEMS_PER_SIDE_MAX
        && !(give.items.is_empty()
            && want.items.is_empty()
            && give.gold.get() == 0
            && want.gold.get() == 0);
    let (Some(mine), Some(theirs)) = (ctx.index.player(me), ctx.index.player(with)) else {
        return ctx.deny(me, Action::Trade, Denial::NoSuchTarget);
    };
    if !bounded || me == with {
        return ctx.deny(me, Action::Trade, Denial::Invalid);
    }
    let Ok([a, b]) = actors.get_many_mut([mine, theirs]) else {
        return ctx.deny(me, Action::Trade, Denial::NoSuchTarget);
    };
    if b.leaving || b.dead {
        return ctx.deny(me, Action::Trade, Denial::NotAllowed);
    }
    if b.blocks.blocks(me) {
        // Not delivered: the other side never hears of it.
        return ctx.deny(me, Action::Trade, Denial::Blocked);
    }
    let Some(my_items) = held(&a, &give) else {
        return ctx.deny(me, Action::Trade, Denial::NotAllowed);
    };
    let matching = ctx
        .offers
        .0
        .iter()
        .find(|o| o.from == with && o.to == me)
        .is_some_and(|o| same(&o.give, &want) && same(&o.want, &give));
    if !matching {
        let expires_at_ms = ctx.clock.now_ms + TRADE_OFFER_MS;
        ctx.offers.put(OpenOffer {
            from: me,
            to: with,
            give: give.clone(),
            want: want.clone(),
            expires_at_ms,
        });
        ctx.outbox.tell(
            with,
            PlayerEvent::TradeOffered {
                from: me,
                give,
                want,
            },
        );
        return;
    }
    // Room on both sides before the offer is used: while either side has too many critical
    // actions waiting, the one agreeing is told to try again (not the other side, whose command
    // this is not) and the offer stays for that retry.
    if !room_for(ctx, &a) || !room_for(ctx, &b) {
        return ctx.deny(me, Action::Trade, Denial::Busy);
    }
    let offer = ctx.offers.take(with, me).expect("matching offer exists");
    let Some(their_items) = held(&b, &offer.give) else {
        ctx.deny(me, Action::Trade, Denial::NotAllowed);
        return ctx.deny(with, Action::Trade, Denial::NotAllowed);
    };
    let waiting = Waiting {
        a: with,
        a_items: their_items,
        a_offer: offer.give.clone(),
        b: me,
        b_items: my_items,
        b_offer: give.clone(),
    };
    let Some(id) = ctx.pending.open(waiting.into()) else {
        // Not reached while `room_for` holds the zone's bound; if it were, the offer stays and
        // the one agreeing hears "busy", never an answer with no trade behind it.
        ctx.offers.put(offer);
        return ctx.deny(me, Action::Trade, Denial::Busy);
    };
    let request = Request {
        a: b.player.fence,
        a_gives: offer.give,
        b: a.player.fence,
        b_gives: give,
    };
    let (mut a, mut b) = (a, b);
    a.critical.0 += 1;
    b.critical.0 += 1;
    ctx.outbox.persist(id, request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.a, self.b]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let Waiting {
            a,
            a_items,
            b,
            b_items,
            ..
        } = self;
        let Outcome::Ok(r) = outcome else {
            if outcome == Outcome::Refused(Refusal::StaleClaim) {
                // Which side went stale is unknown: tell both; renewal sorts the claims out.
                let o: Outcome<Receipt> = Outcome::Unavailable;
                ctx.failed(a, Action::Trade, &o);
                return ctx.failed(b, Action::Trade, &o);
            }
            ctx.failed(a, Action::Trade, &outcome);
            return ctx.failed(b, Action::Trade, &outcome);
        };
        settle(ctx, a, &a_items, &b_items, &r.a_received, r.a_gold, b, &r.trade);
        settle(ctx, b, &b_items, &a_items, &r.b_received, r.b_gold, a, &r.trade);
    }
}

/// One side of a done trade: what it gave leaves its view, what it got arrives in its new slots.
#[allow(clippy::too_many_arguments)]
fn settle(
    ctx: &mut AnswerCtx,
    me: CharacterId,
    gave: &[InventoryItem],
    got: &[InventoryItem],
    received: &[(ItemId, i16)],
    gold: i64,
    with: CharacterId,
    trade: &str,
) {
    let Some(mut p) = ctx.player(me) else {
        return;
    };
    for item in gave {
        p.inventory.remove(item.item);
    }
    for (item, slot) in received {
        if let Some(g) = got.iter().find(|g| g.item == *item) {
            p.inventory.upsert(InventoryItem {
                slot: *slot,
                ..g.clone()
            });
        }
    }
    p.inventory.gold = gold;
    let trade = trade.to_owned();
    ctx.outbox.tell(me, PlayerEvent::TradeDone { with, trade });
    ctx.outbox.tell(me, PlayerEvent::GoldChanged { gold });
    ctx.tell_items(me);
}
