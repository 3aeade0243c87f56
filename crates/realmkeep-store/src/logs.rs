//! `game_logs`: important events, append-only, partitioned by month. Economy actions write their
//! rows inside their own transaction (`write_in_tx`); non-critical events arrive in batches
//! (`Store::append_logs`), one multi-row statement per batch.
//!
//! A row whose month has no partition lands in the DEFAULT partition `game_logs_default` rather
//! than failing its transaction. `Store::log_partition_upkeep` (run by every node's job scheduler)
//! keeps the months ahead created, reports rows found in DEFAULT (an alert: upkeep fell behind),
//! and moves them into their month's partition as it creates it.

use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::Store;
use chrono::{DateTime, Utc};
use realmkeep_domain::limits::LOG_BATCH_ROWS_MAX;
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, PgConnection};
use std::time::SystemTime;

/// The DEFAULT partition of `game_logs`: rows of months without their own partition.
pub const LOG_DEFAULT_PARTITION: &str = "game_logs_default";
/// Months of rows found in DEFAULT given their own partition by one upkeep run; the rest wait for
/// the next run (each month moves in one transaction that locks DEFAULT).
pub const LOG_DEFAULT_MONTHS_PER_RUN_MAX: i64 = 12;

/// What one partition upkeep run found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionUpkeep {
    /// Partitions that did not exist before this run, by name (`game_logs_yYYYYmMM`).
    pub created: Vec<String>,
    /// Rows found in DEFAULT at the start of the run: above zero means upkeep fell behind.
    pub default_rows: i64,
    /// Rows found in DEFAULT whose months this run saw to (moved by it, or by another node's
    /// upkeep running at the same time).
    pub moved_rows: i64,
}

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
        on_conn!(self.conns(), |conn| write_in_tx(conn, events))
    }

    /// Creates the month partitions of `game_logs` from `months_back` months ago to `months_ahead`
    /// months ahead by the database's clock. Run at start-up; the nodes' job scheduler keeps them
    /// ahead (`log_partition_upkeep`). A row outside them lands in DEFAULT.
    pub async fn ensure_log_partitions(
        &self,
        months_back: i32,
        months_ahead: i32,
    ) -> StoreResult<()> {
        on_conn!(self.conns(), |conn| sqlx::query(
            "SELECT ensure_game_logs_partition(now() + make_interval(months => m))
             FROM generate_series(-$1::int, $2::int) AS m",
        )
        .bind(months_back)
        .bind(months_ahead)
        .execute(conn))
        .map_err(db("ensure log partitions"))?;
        Ok(())
    }

    /// Keeps `game_logs` partitioned around `now` (the caller's clock): creates the month
    /// partitions from `months_back` months before to `months_ahead` months after, and one for
    /// each month (at most `LOG_DEFAULT_MONTHS_PER_RUN_MAX`) whose rows wait in DEFAULT, moving
    /// them in. Safe on several nodes at once: `ensure_game_logs_partition` serializes creators
    /// with an advisory lock, and creating an existing partition is a no-op.
    pub async fn log_partition_upkeep(
        &self,
        now: SystemTime,
        months_back: i32,
        months_ahead: i32,
    ) -> StoreResult<PartitionUpkeep> {
        if months_back < 0 || months_ahead < 0 {
            refuse!(Refusal::Invalid("months must not be negative".into()));
        }
        let now = DateTime::<Utc>::from(now);
        let before = self.log_partitions().await?;
        // Safe to format: the table name is a constant.
        let waiting: Vec<(DateTime<Utc>, i64)> =
            on_conn!(self.conns(), |conn| sqlx::query_as(AssertSqlSafe(format!(
                "SELECT min(occurred_at), count(*) FROM {LOG_DEFAULT_PARTITION}
             GROUP BY date_trunc('month', occurred_at AT TIME ZONE 'UTC')
             ORDER BY 1"
            )))
            .fetch_all(conn))
            .map_err(db("game logs in DEFAULT"))?;
        let default_rows = waiting.iter().map(|w| w.1).sum();
        let mut moved_rows = 0;
        for (at, rows) in waiting.iter().take(LOG_DEFAULT_MONTHS_PER_RUN_MAX as usize) {
            self.ensure_log_partition_for(*at).await?;
            moved_rows += rows;
        }
        on_conn!(self.conns(), |conn| sqlx::query(
            "SELECT ensure_game_logs_partition($3 + make_interval(months => m))
             FROM generate_series(-$1::int, $2::int) AS m",
        )
        .bind(months_back)
        .bind(months_ahead)
        .bind(now)
        .execute(conn))
        .map_err(db("ensure log partitions"))?;
        let created = self
            .log_partitions()
            .await?
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        Ok(PartitionUpkeep {
            created,
            default_rows,
            moved_rows,
        })
    }

    /// The names of `game_logs`' partitions, DEFAULT excepted.
    pub async fn log_partitions(&self) -> StoreResult<Vec<String>> {
        on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'game_logs'::regclass
               AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
             ORDER BY 1",
        )
        .fetch_all(conn))
        .map_err(db("list log partitions"))
    }

    /// Creates the partition that holds `at`.
    pub async fn ensure_log_partition_for(&self, at: DateTime<Utc>) -> StoreResult<String> {
        on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT ensure_game_logs_partition($1)"
        )
        .bind(at)
        .fetch_one(conn))
        .map_err(db("ensure log partition"))
    }

    /// Whether the connected role could rewrite or remove `game_logs`: UPDATE, DELETE or
    /// TRUNCATE on it, or membership in its owner (DROP, ALTER, disabling its triggers). A game
    /// server's role should be a member of `realmkeep_game` only (migration 20261201154500), for
    /// which this is false; `realmkeep serve` warns when it is true.
    pub async fn game_logs_rewritable(&self) -> StoreResult<bool> {
        on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT has_table_privilege('game_logs', 'UPDATE')
                 OR has_table_privilege('game_logs', 'DELETE')
                 OR has_table_privilege('game_logs', 'TRUNCATE')
                 OR pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'game_logs'::regclass), 'MEMBER')",
        )
        .fetch_one(conn))
        .map_err(db("game_logs privileges"))
    }

    /// The most recent events of a character, newest first (admin tools).
    pub async fn logs_of_character(
        &self,
        character: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredLog>> {
        on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT id, occurred_at, event_type, actor_character_id, target_character_id, item_id,
                    item_def_id, quantity, gold, zone_id, details
             FROM game_logs WHERE actor_character_id = $1 OR target_character_id = $1
             ORDER BY occurred_at DESC, id DESC LIMIT $2",
        )
        .bind(character)
        .bind(limit.clamp(1, 1_000))
        .fetch_all(conn))
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
