//! Trade between two characters: items and gold both ways at once, in one transaction. The body
//! is the server-side function `realmkeep_trade` (the source `trade.sql` beside this file,
//! applied by `Store::migrate`): one round trip, both characters locked in ascending id order
//! (concurrent trades never deadlock each other), the actors' claims checked, log rows written in
//! the same transaction. A serialization failure or deadlock with anything else reruns the whole
//! trade.

use crate::action_keys::{check_key, is_key_taken};
use crate::conns::on_conn;
use crate::error::{db, is_retryable_sqlx, refuse, Refusal, StoreError, StoreResult};
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
    /// The trade's reference: `details->>'trade'` of its `game_logs` rows (empty only for a
    /// trade settled from a key kept before references were kept with it).
    pub trade: String,
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

// `realmkeep_free_slots` (`bag.sql`) reads a bag's occupied slots as a bigint bit mask.
const _: () = assert!(INVENTORY_SLOTS >= 1 && INVENTORY_SLOTS <= 64);

type TradeRow = (Vec<i64>, Vec<i16>, Vec<i64>, Vec<i16>, i64, i64);

const TRADE_SQL: &str =
    "SELECT * FROM realmkeep_trade($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// The trade and its idempotency key with its receipt (the function's row and the trade's
/// reference), in one statement (so one transaction).
const TRADE_KEYED_SQL: &str = "
    WITH t AS MATERIALIZED (
        SELECT * FROM realmkeep_trade($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)),
    k AS (INSERT INTO action_keys (action_key, receipt)
          SELECT $12, to_jsonb(t) || jsonb_build_object('trade', $9::text) FROM t)
    SELECT * FROM t";

/// A trade's receipt as `action_keys` keeps it: the row of `realmkeep_trade`.
#[derive(Deserialize)]
struct StoredTrade {
    a_received: Vec<i64>,
    a_slots: Vec<i16>,
    b_received: Vec<i64>,
    b_slots: Vec<i16>,
    a_gold_after: i64,
    b_gold_after: i64,
    #[serde(default)]
    trade: String,
}

fn receipt(
    (a_items, a_slots, b_items, b_slots, a_gold, b_gold): TradeRow,
    trade: &str,
) -> TradeReceipt {
    TradeReceipt {
        trade: trade.to_owned(),
        a_received: a_items.into_iter().map(ItemId).zip(a_slots).collect(),
        b_received: b_items.into_iter().map(ItemId).zip(b_slots).collect(),
        a_gold,
        b_gold,
    }
}

/// Runs the trade as one statement (the server-side function `realmkeep_trade`, which is its own
/// transaction), again after a serialization failure or deadlock.
async fn trade_once(
    conns: &crate::conns::Conns,
    a: &TradeSide,
    b: &TradeSide,
    trade_ref: &str,
    key: Option<&str>,
) -> StoreResult<TradeReceipt> {
    let epoch = |actor: &Actor| match actor {
        Actor::Zone(f) => Some(f.epoch.0),
        Actor::Offline(_) => None,
    };
    let ids = |side: &TradeSide| side.items.iter().map(|i| i.0).collect::<Vec<i64>>();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sql = if key.is_some() {
            TRADE_KEYED_SQL
        } else {
            TRADE_SQL
        };
        let r: Result<TradeRow, sqlx::Error> = on_conn!(conns, |conn| sqlx::query_as(sql)
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
            .bind(key)
            .fetch_one(conn));
        match r {
            Ok(row) => return Ok(receipt(row, trade_ref)),
            Err(e) => {
                // A refusal (its own SQLSTATE, see `error::refusal_of_sqlstate`) becomes
                // `Refused` in `db`; it is not retryable.
                if key.is_some() && is_key_taken(&e) {
                    // Decided before under this key: answer what it did.
                    return Err(StoreError::KeyUsed);
                }
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
        trade_once(self.conns(), a, b, &uuid_like(), None).await
    }

    /// `trade` under an idempotency key (see `action_keys`): the key and the receipt commit with
    /// the trade. A key used before is answered `StoreError::KeyUsed`; ask `settle_trade` then.
    pub async fn trade_keyed(
        &self,
        a: &TradeSide,
        b: &TradeSide,
        key: &str,
    ) -> StoreResult<TradeReceipt> {
        check_key(key)?;
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
        trade_once(self.conns(), a, b, &uuid_like(), Some(key)).await
    }

    /// What became of the trade under `key` after its answer was lost: its receipt if it
    /// committed; `None` if it did not, and then it never will (`Store::settle_action`).
    pub async fn settle_trade(&self, key: &str) -> StoreResult<Option<TradeReceipt>> {
        let stored: Option<StoredTrade> = self.settle_action(key).await?;
        Ok(stored.map(|t| {
            receipt(
                (
                    t.a_received,
                    t.a_slots,
                    t.b_received,
                    t.b_slots,
                    t.a_gold_after,
                    t.b_gold_after,
                ),
                &t.trade,
            )
        }))
    }
}
