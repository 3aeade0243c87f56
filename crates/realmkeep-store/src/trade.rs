//! Trade between two characters: items and gold both ways at once, in one transaction. Both
//! characters are locked in ascending id order, so concurrent trades never deadlock each other;
//! a serialization failure or deadlock with anything else reruns the whole trade.

use crate::common::{add_gold, check_actor, free_slots, lock_characters, place_in_inventory, take_from_inventory};
use crate::error::{refuse, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::limits::TRADE_ITEMS_PER_SIDE_MAX;
use realmkeep_domain::*;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// What one side puts into a trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeSide {
    pub actor: Actor,
    pub items: Vec<ItemId>,
    pub gold: Gold,
}

/// What a completed trade did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeReceipt {
    /// Items `a` received, with their new slots in `a`'s bag.
    pub a_received: Vec<(ItemId, i16)>,
    pub b_received: Vec<(ItemId, i16)>,
    pub a_gold: i64,
    pub b_gold: i64,
}

fn check_side(side: &TradeSide) -> StoreResult<()> {
    if side.items.len() > TRADE_ITEMS_PER_SIDE_MAX {
        refuse!(Refusal::LimitReached("items per trade side"));
    }
    let mut seen = std::collections::HashSet::new();
    if !side.items.iter().all(|i| seen.insert(*i)) {
        refuse!(Refusal::Invalid("an item is offered twice".into()));
    }
    Ok(())
}

async fn trade_in(tx: &mut PgConnection, a: &TradeSide, b: &TradeSide) -> StoreResult<TradeReceipt> {
    let (ca, cb) = (a.actor.character(), b.actor.character());
    let locked = lock_characters(tx, &[ca, cb]).await?;
    for row in &locked {
        let actor = if row.id == ca.0 { &a.actor } else { &b.actor };
        check_actor(row, actor)?;
    }
    // Take every offered item out of its owner's bag first: a missing item refuses the trade.
    let mut from_a = Vec::with_capacity(a.items.len());
    for item in &a.items {
        from_a.push(take_from_inventory(tx, ca, *item).await?);
    }
    let mut from_b = Vec::with_capacity(b.items.len());
    for item in &b.items {
        from_b.push(take_from_inventory(tx, cb, *item).await?);
    }
    // Then give: each side needs room for what it receives (slots freed above count).
    let slots_a = free_slots(tx, ca, from_b.len()).await?;
    let slots_b = free_slots(tx, cb, from_a.len()).await?;
    let mut a_received = Vec::with_capacity(from_b.len());
    for (t, slot) in from_b.iter().zip(slots_a) {
        place_in_inventory(tx, ca, slot, ItemId(t.item_id)).await?;
        a_received.push((ItemId(t.item_id), slot));
    }
    let mut b_received = Vec::with_capacity(from_a.len());
    for (t, slot) in from_a.iter().zip(slots_b) {
        place_in_inventory(tx, cb, slot, ItemId(t.item_id)).await?;
        b_received.push((ItemId(t.item_id), slot));
    }
    // Gold: pay out first so an overdraft refuses before anything is credited.
    add_gold(tx, ca, -a.gold.get()).await?;
    add_gold(tx, cb, -b.gold.get()).await?;
    let a_gold = add_gold(tx, ca, b.gold.get()).await?;
    let b_gold = add_gold(tx, cb, a.gold.get()).await?;

    let trade_id = uuid_like();
    let mut events = Vec::with_capacity(2 + from_a.len() + from_b.len());
    events.push(LogEvent::new("trade").actor(ca.0).target(cb.0).gold(a.gold.get()).details(serde_json::json!({
        "trade": trade_id, "a_items": a.items, "b_items": b.items, "a_gold": a.gold.get(), "b_gold": b.gold.get(),
    })));
    for t in &from_a {
        events.push(LogEvent::new("trade_item").actor(ca.0).target(cb.0).item(t.item_id, t.def_id, t.quantity).details(serde_json::json!({"trade": trade_id})));
    }
    for t in &from_b {
        events.push(LogEvent::new("trade_item").actor(cb.0).target(ca.0).item(t.item_id, t.def_id, t.quantity).details(serde_json::json!({"trade": trade_id})));
    }
    write_in_tx(tx, &events).await?;
    Ok(TradeReceipt { a_received, b_received, a_gold, b_gold })
}

/// A short random id tying a trade's log rows together.
fn uuid_like() -> String {
    use rand::Rng;
    format!("{:016x}", rand::rng().random::<u64>())
}

impl Store {
    /// Swaps what both sides offer, all at once or not at all.
    pub async fn trade(&self, a: &TradeSide, b: &TradeSide) -> StoreResult<TradeReceipt> {
        if a.actor.character() == b.actor.character() {
            refuse!(Refusal::Invalid("a character cannot trade with itself".into()));
        }
        check_side(a)?;
        check_side(b)?;
        if a.items.is_empty() && b.items.is_empty() && a.gold == Gold::ZERO && b.gold == Gold::ZERO {
            refuse!(Refusal::Invalid("an empty trade".into()));
        }
        in_tx!(self.pool(), |tx| trade_in(tx, a, b))
    }
}
