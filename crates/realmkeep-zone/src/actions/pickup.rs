//! A loot pickup: the item comes into existence in the picker's bag (`Store::pickup_loot_once`,
//! origin `monster:{monster}`). The loot entity stays reserved until the answer; only a commit
//! takes it off the ground and puts it in the bag view.

use super::{AnswerCtx, Outcome};
use crate::components::{Loot, Transform};
use crate::io::{Action, Denial, NetId, PlayerEvent, RequestId};
use crate::limits::PICKUP_RANGE;
use crate::systems::commands::{has_room, ActorItem, Ctx};
use bevy_ecs::prelude::*;
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{CharacterId, Fence, ItemDefId, ItemId, Quantity, ZoneId};

/// `loot` names this loot for the zone's whole life, so a pickup tried again after an answer that
/// was lost is not done twice (the server makes it the idempotency key).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub def: ItemDefId,
    pub quantity: Quantity,
    pub zone: ZoneId,
    pub monster: i32,
    pub loot: u64,
}

/// Stacks that grew (with their new quantity) and the new stack, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub merged: Vec<(ItemId, i32)>,
    pub created: Option<InventoryItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub loot: Entity,
    pub def: ItemDefId,
    pub quantity: i32,
}

/// `PlayerCommand::PickUp`: a loot entity in reach, not reserved by another pickup.
pub(crate) fn command(
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
    let waiting = Waiting {
        character: me,
        loot: entity,
        def: l.def,
        quantity: l.quantity.get(),
    };
    let Some(id) = ctx.pending.open(waiting.into()) else {
        return;
    };
    l.reserved = Some(id);
    a.critical.0 += 1;
    let request = Request {
        fence: a.player.fence,
        def: l.def,
        quantity: l.quantity,
        zone: ctx.content.zone.id,
        monster: l.monster,
        loot: entity.to_bits(),
    };
    ctx.outbox.persist(id, request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, id: RequestId, outcome: Outcome<Receipt>) {
        if let Ok(mut l) = ctx.loot.get_mut(self.loot) {
            if l.reserved == Some(id) {
                l.reserved = None;
                if outcome.is_ok() {
                    // Taken: the loot system despawns it (expiry now).
                    l.expires_at_ms = 0;
                }
            }
        }
        let Outcome::Ok(receipt) = outcome else {
            return ctx.failed(self.character, Action::Pickup, &outcome);
        };
        let Some(mut p) = ctx.player(self.character) else {
            return;
        };
        // The stack that took the loot's last part: the new one, else the last that grew.
        let item = receipt
            .created
            .as_ref()
            .map(|c| c.item)
            .or(receipt.merged.last().map(|m| m.0));
        for (item, q) in receipt.merged {
            p.inventory.set_quantity(item, q);
        }
        if let Some(item) = receipt.created {
            p.inventory.upsert(item);
        }
        let (def, quantity) = (self.def, self.quantity);
        ctx.outbox.tell(
            self.character,
            PlayerEvent::Looted {
                def,
                quantity,
                item,
            },
        );
        ctx.tell_items(self.character);
    }
}
