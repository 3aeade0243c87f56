//! The player's own bag and equipment: move, split, merge, equip, unequip, destroy
//! (`Store::item_op_keyed`, fenced by the claim). The zone checks what it can from its view and
//! the item definitions (the item is in the bag, the slot rule, the level requirement); the store
//! decides. The receipt is everything the character holds once committed: the view takes it
//! whole, and an equipment change recomputes the combat stats.

use super::{open_critical, AnswerCtx, Outcome};
use crate::game::player_stats;
use crate::io::{Action, Denial, PlayerEvent, RequestId};
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::records::{Belongings, ItemOp};
use realmkeep_domain::{CharacterId, Fence};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub fence: Fence,
    pub op: ItemOp,
}

/// The bag and equipment after the operation, as committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub held: Belongings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
}

/// Why the zone refuses `op` before asking the store, if it does.
fn precheck(ctx: &Ctx, a: &ActorItem, op: &ItemOp) -> Option<Denial> {
    let bag = |item| a.inventory.item(item);
    let def = |d| ctx.content.content.items.iter().find(|x| x.id == d);
    match *op {
        ItemOp::Move { item, .. } | ItemOp::Destroy { item } => {
            bag(item).is_none().then_some(Denial::NoSuchTarget)
        }
        ItemOp::Split { item, quantity, to } => match bag(item) {
            None => Some(Denial::NoSuchTarget),
            Some(s) if quantity.get() >= s.quantity => Some(Denial::Invalid),
            Some(_) if a.inventory.items.iter().any(|i| i.slot == to.get()) => {
                Some(Denial::Invalid)
            }
            Some(_) => None,
        },
        ItemOp::Merge { from, onto } => match (bag(from), bag(onto)) {
            (Some(f), Some(o)) if from != onto && f.def == o.def => None,
            (Some(_), Some(_)) => Some(Denial::Invalid),
            _ => Some(Denial::NoSuchTarget),
        },
        ItemOp::Equip { item } => {
            let d = bag(item).and_then(|i| def(i.def));
            match d {
                None => Some(Denial::NoSuchTarget),
                Some(d) if d.equip_slot.is_none() || d.level_req > a.level.level => {
                    Some(Denial::NotAllowed)
                }
                Some(_) => None,
            }
        }
        ItemOp::Unequip { slot, .. } => {
            let worn = a.inventory.equipment.iter().any(|e| e.slot == slot);
            (!worn).then_some(Denial::NoSuchTarget)
        }
    }
}

/// `PlayerCommand::Item`.
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, op: ItemOp) {
    let me = a.player.character;
    if let Some(denial) = precheck(ctx, &a, &op) {
        return ctx.deny(me, Action::Item, denial);
    }
    let request = Request {
        fence: a.player.fence,
        op,
    };
    let waiting = Waiting { character: me };
    open_critical(ctx, &mut a, Action::Item, waiting.into(), request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        let Outcome::Ok(r) = outcome else {
            return ctx.failed(self.character, Action::Item, &outcome);
        };
        let Some(mut p) = ctx.player(self.character) else {
            return;
        };
        let Belongings { bag, equipment } = r.held;
        if p.inventory.equipment != equipment {
            let (stats, max_health, max_mana) =
                player_stats(p.player.class, p.level.level, &equipment);
            *p.stats = stats;
            p.health.max = max_health;
            p.health.current = p.health.current.min(max_health);
            p.mana.max = max_mana;
            p.mana.current = p.mana.current.min(max_mana);
            p.inventory.equipment = equipment.clone();
        }
        p.inventory.items = bag.clone();
        let event = PlayerEvent::ItemsChanged { bag, equipment };
        ctx.outbox.tell(self.character, event);
    }
}
