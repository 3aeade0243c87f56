//! Critical player actions: each becomes one store request and is answered only when the result
//! comes back (`results.rs`). Bounded per player by `PENDING_CRITICAL_PER_PLAYER_MAX` and
//! zone-wide by `PENDING_REQUESTS_MAX`; beyond, the player is told "busy".

use super::commands::{Actor, ActorItem, Ctx};
use crate::components::{Loot, Transform};
use crate::io::{Action, Denial, NetId, PersistKind, PlayerEvent, TradeOffer};
use crate::limits::{PENDING_CRITICAL_PER_PLAYER_MAX, PICKUP_RANGE, TRADE_OFFER_MS};
use crate::resources::{OpenOffer, PendingKind};
use bevy_ecs::prelude::*;
use realmkeep_domain::limits::TRADE_ITEMS_PER_SIDE_MAX;
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{CharacterId, QuestId};

fn has_room(ctx: &mut Ctx, a: &ActorItem, action: Action) -> bool {
    let room = (a.critical.0 as usize) < PENDING_CRITICAL_PER_PLAYER_MAX && ctx.pending.has_room();
    if !room {
        ctx.deny(a.player.character, action, Denial::Busy);
    }
    room
}

pub fn pick_up(
    ctx: &mut Ctx,
    mut a: ActorItem,
    loot: &mut Query<(&mut Loot, &Transform)>,
    net: NetId,
) {
    let me = a.player.character;
    let Some((entity, (mut l, t))) = ctx
        .index
        .entity(net)
        .and_then(|e| loot.get_mut(e).ok().map(|l| (e, l)))
    else {
        return ctx.deny(me, Action::Pickup, Denial::NoSuchTarget);
    };
    if l.reserved.is_some() || l.expires_at_ms <= ctx.clock.now_ms {
        return ctx.deny(me, Action::Pickup, Denial::Reserved);
    }
    if t.distance_to(a.transform) > PICKUP_RANGE {
        return ctx.deny(me, Action::Pickup, Denial::OutOfRange);
    }
    if !has_room(ctx, &a, Action::Pickup) {
        return;
    }
    let kind = PendingKind::Pickup {
        character: me,
        loot: entity,
        def: l.def,
        quantity: l.quantity.get(),
    };
    let Some(id) = ctx.pending.open(kind) else {
        return;
    };
    l.reserved = Some(id);
    a.critical.0 += 1;
    let request = PersistKind::PickupLoot {
        fence: a.player.fence,
        def: l.def,
        quantity: l.quantity,
        zone: ctx.content.zone.id,
        monster: l.monster,
        loot: entity.to_bits(),
    };
    ctx.outbox.persist(id, request);
}

pub fn accept_quest(ctx: &mut Ctx, mut a: ActorItem, quest: QuestId) {
    let me = a.player.character;
    let Some(def) = ctx.content.quest(quest) else {
        return ctx.deny(me, Action::Quest, Denial::Invalid);
    };
    if def.level_req > a.level.level || a.quests.get(quest).is_some() {
        return ctx.deny(me, Action::Quest, Denial::NotAllowed);
    }
    if !has_room(ctx, &a, Action::Quest) {
        return;
    }
    let Some(id) = ctx.pending.open(PendingKind::AcceptQuest {
        character: me,
        quest,
    }) else {
        return;
    };
    a.critical.0 += 1;
    let fence = a.player.fence;
    ctx.outbox
        .persist(id, PersistKind::AcceptQuest { fence, quest });
}

pub fn complete_quest(ctx: &mut Ctx, mut a: ActorItem, quest: QuestId) {
    let me = a.player.character;
    let target = ctx.content.quest(quest).map(|q| q.target_count);
    let ready = match (a.quests.get(quest), target) {
        (Some(q), Some(t)) => q.status == realmkeep_domain::QuestStatus::Active && q.progress >= t,
        _ => false,
    };
    if !ready {
        return ctx.deny(me, Action::Quest, Denial::NotAllowed);
    }
    if !has_room(ctx, &a, Action::Quest) {
        return;
    }
    let Some(id) = ctx.pending.open(PendingKind::CompleteQuest {
        character: me,
        quest,
    }) else {
        return;
    };
    a.critical.0 += 1;
    let fence = a.player.fence;
    ctx.outbox
        .persist(id, PersistKind::CompleteQuest { fence, quest });
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

/// A trade offer: stored until the other side sends the mirror offer, then one `Trade` request
/// with both fences (the first offerer is side `a`).
pub fn trade(
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
    let offer = ctx.offers.take(with, me).expect("matching offer exists");
    let Some(their_items) = held(&b, &offer.give) else {
        ctx.deny(me, Action::Trade, Denial::NotAllowed);
        return ctx.deny(with, Action::Trade, Denial::NotAllowed);
    };
    if !has_room(ctx, &a, Action::Trade) || !has_room(ctx, &b, Action::Trade) {
        return;
    }
    let kind = PendingKind::Trade {
        a: with,
        a_items: their_items,
        a_offer: offer.give.clone(),
        b: me,
        b_items: my_items,
        b_offer: give.clone(),
    };
    let Some(id) = ctx.pending.open(kind) else {
        return;
    };
    let request = PersistKind::Trade {
        a: b.player.fence,
        a_gives: offer.give,
        b: a.player.fence,
        b_gives: give,
    };
    let (mut a, mut b) = (a, b);
    a.critical.0 += 1;
    b.critical.0 += 1;
    ctx.outbox.persist(id, request);
}
