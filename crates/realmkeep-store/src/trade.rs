//! Trade between two characters: items and gold both ways at once, in one transaction. The body
//! is the server-side function `realmkeep_trade` (the source `trade.sql` beside this file,
//! applied by `Store::migrate`): one round trip, both characters locked in ascending id order
//! (concurrent trades never deadlock each other), the actors' claims checked, log rows written in
//! the same transaction. A serialization failure or deadlock with anything else reruns the whole
//! trade.

use crate::error::{db, is_retryable_sqlx, refuse, Refusal, StoreResult};
use crate::Store;
use realmkeep_domain::limits::{
    GOLD_MAX, INVENTORY_SLOTS, TRADE_ITEMS_PER_SIDE_MAX, TX_RETRIES_MAX,
};
use realmkeep_domain::*;
use serde::{Deserialize, Serialize};

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

type TradeRow = (Vec<i64>, Vec<i16>, Vec<i64>, Vec<i16>, i64, i64);

/// Runs the trade as one statement (the server-side function `realmkeep_trade`, which is its own
/// transaction), again after a serialization failure or deadlock.
async fn trade_once(
    pool: &sqlx::PgPool,
    a: &TradeSide,
    b: &TradeSide,
    trade_ref: &str,
) -> StoreResult<TradeReceipt> {
    let epoch = |actor: &Actor| match actor {
        Actor::Zone(f) => Some(f.epoch.0),
        Actor::Offline(_) => None,
    };
    let ids = |side: &TradeSide| side.items.iter().map(|i| i.0).collect::<Vec<i64>>();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let r: Result<TradeRow, sqlx::Error> = sqlx::query_as(
            "SELECT * FROM realmkeep_trade($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(a.actor.character().0)
        .bind(epoch(&a.actor))
        .bind(ids(a))
        .bind(a.gold.get())
        .bind(b.actor.character().0)
        .bind(epoch(&b.actor))
        .bind(ids(b))
        .bind(b.gold.get())
        .bind(trade_ref)
        .bind(GOLD_MAX)
        .bind(INVENTORY_SLOTS as i32)
        .fetch_one(pool)
        .await;
        match r {
            Ok((a_items, a_slots, b_items, b_slots, a_gold, b_gold)) => {
                return Ok(TradeReceipt {
                    a_received: a_items.into_iter().map(ItemId).zip(a_slots).collect(),
                    b_received: b_items.into_iter().map(ItemId).zip(b_slots).collect(),
                    a_gold,
                    b_gold,
                })
            }
            Err(e) => {
                // A refusal (its own SQLSTATE, see `error::refusal_of_sqlstate`) becomes
                // `Refused` in `db`; it is not retryable.
                if is_retryable_sqlx(&e) && attempt < TX_RETRIES_MAX {
                    tokio::time::sleep(crate::tx::retry_backoff(attempt)).await;
                    continue;
                }
                return Err(db("trade")(e));
            }
        }
    }
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
            refuse!(Refusal::Invalid(
                "a character cannot trade with itself".into()
            ));
        }
        check_side(a)?;
        check_side(b)?;
        if a.items.is_empty() && b.items.is_empty() && a.gold == Gold::ZERO && b.gold == Gold::ZERO
        {
            refuse!(Refusal::Invalid("an empty trade".into()));
        }
        trade_once(self.pool(), a, b, &uuid_like()).await
    }
}
