//! `game_logs`: important events, append-only, partitioned by month. Economy actions write their
//! rows inside their own transaction (`write_in_tx`); non-critical events arrive in batches
//! (`Store::append_logs`), one multi-row statement per batch.

use crate::error::{db, refuse, Refusal, StoreResult};
use crate::Store;
use chrono::{DateTime, Utc};
use realmkeep_domain::limits::LOG_BATCH_ROWS_MAX;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

pub use realmkeep_domain::records::LogEvent;

/// Writes events in the caller's transaction, one statement.
pub(crate) async fn write_in_tx(tx: &mut PgConnection, events: &[LogEvent]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    if events.len() > LOG_BATCH_ROWS_MAX {
        refuse!(Refusal::LimitReached("log batch rows"));
    }
    let n = events.len();
    let mut at = Vec::with_capacity(n);
    let mut ty = Vec::with_capacity(n);
    let mut actor = Vec::with_capacity(n);
    let mut target = Vec::with_capacity(n);
    let mut item = Vec::with_capacity(n);
    let mut def = Vec::with_capacity(n);
    let mut qty = Vec::with_capacity(n);
    let mut gold = Vec::with_capacity(n);
    let mut zone = Vec::with_capacity(n);
    let mut details = Vec::with_capacity(n);
    for e in events {
        at.push(e.occurred_at);
        ty.push(e.event_type.as_str());
        actor.push(e.actor);
        target.push(e.target);
        item.push(e.item_id);
        def.push(e.item_def_id);
        qty.push(e.quantity);
        gold.push(e.gold);
        zone.push(e.zone_id);
        details.push(sqlx::types::Json(&e.details));
    }
    sqlx::query(
        "INSERT INTO game_logs (occurred_at, event_type, actor_character_id, target_character_id,
                                item_id, item_def_id, quantity, gold, zone_id, details)
         SELECT coalesce(t.at, now()), t.ty, t.actor, t.target, t.item, t.def, t.qty, t.gold, t.zone, t.details
         FROM UNNEST($1::timestamptz[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int4[],
                     $7::int4[], $8::int8[], $9::int4[], $10::jsonb[])
              AS t(at, ty, actor, target, item, def, qty, gold, zone, details)",
    )
    .bind(&at)
    .bind(&ty)
    .bind(&actor)
    .bind(&target)
    .bind(&item)
    .bind(&def)
    .bind(&qty)
    .bind(&gold)
    .bind(&zone)
    .bind(&details)
    .execute(&mut *tx)
    .await
    .map_err(db("write game logs"))?;
    Ok(())
}

impl Store {
    /// Appends non-critical events in one statement (at most `LOG_BATCH_ROWS_MAX`).
    pub async fn append_logs(&self, events: &[LogEvent]) -> StoreResult<()> {
        let mut conn = self.pool().acquire().await.map_err(db("acquire"))?;
        write_in_tx(&mut conn, events).await
    }

    /// Creates the month partitions of `game_logs` from `months_back` months ago to `months_ahead`
    /// months ahead. Run at start-up and daily by servers; inserts outside them fail loudly.
    pub async fn ensure_log_partitions(
        &self,
        months_back: i32,
        months_ahead: i32,
    ) -> StoreResult<()> {
        sqlx::query(
            "SELECT ensure_game_logs_partition(now() + make_interval(months => m))
             FROM generate_series(-$1::int, $2::int) AS m",
        )
        .bind(months_back)
        .bind(months_ahead)
        .execute(self.pool())
        .await
        .map_err(db("ensure log partitions"))?;
        Ok(())
    }

    /// Creates the partition that holds `at`.
    pub async fn ensure_log_partition_for(&self, at: DateTime<Utc>) -> StoreResult<String> {
        sqlx::query_scalar("SELECT ensure_game_logs_partition($1)")
            .bind(at)
            .fetch_one(self.pool())
            .await
            .map_err(db("ensure log partition"))
    }

    /// The most recent events of a character, newest first (admin tools).
    pub async fn logs_of_character(
        &self,
        character: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredLog>> {
        sqlx::query_as(
            "SELECT id, occurred_at, event_type, actor_character_id, target_character_id, item_id,
                    item_def_id, quantity, gold, zone_id, details
             FROM game_logs WHERE actor_character_id = $1 OR target_character_id = $1
             ORDER BY occurred_at DESC, id DESC LIMIT $2",
        )
        .bind(character)
        .bind(limit.clamp(1, 1_000))
        .fetch_all(self.pool())
        .await
        .map_err(db("read game logs"))
    }
}

/// A stored row of `game_logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct StoredLog {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub event_type: String,
    pub actor_character_id: Option<i64>,
    pub target_character_id: Option<i64>,
    pub item_id: Option<i64>,
    pub item_def_id: Option<i32>,
    pub quantity: Option<i32>,
    pub gold: Option<i64>,
    pub zone_id: Option<i32>,
    pub details: serde_json::Value,
}
