//! SQL functions as source files: the functions the store calls (and the trigger functions that
//! hold its rules) live in `.sql` files beside the Rust that uses them, not in frozen migration
//! text, so a fix is an edit of one file that review sees as a diff.
//!
//! `Store::migrate` applies them right after the migrations, in one transaction under an advisory
//! lock (several nodes may migrate at once): a file whose SHA-256 differs from the one recorded in
//! `realmkeep_sql_sources` is run (each file holds only `CREATE OR REPLACE FUNCTION` statements,
//! checked by the migration lint) and its new hash recorded; an unchanged file is not run again.
//! Sources run after every migration, so a migration must not redefine a function a source owns
//! (the source would silently replace it).

use crate::error::{db, StoreResult};
use crate::migration_lint::sha256_hex;
use crate::Store;
use sqlx::AssertSqlSafe;

/// One source file: its name (the path under `src/`) and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlSource<'a> {
    pub name: &'a str,
    pub sql: &'a str,
}

/// The sources of this release, in the order they are applied.
pub const SQL_SOURCES: &[SqlSource<'static>] = &[
    SqlSource {
        name: "logs.sql",
        sql: include_str!("logs.sql"),
    },
    SqlSource {
        name: "items.sql",
        sql: include_str!("items.sql"),
    },
    SqlSource {
        name: "bag.sql",
        sql: include_str!("bag.sql"),
    },
    SqlSource {
        name: "trade.sql",
        sql: include_str!("trade.sql"),
    },
    SqlSource {
        name: "pickup.sql",
        sql: include_str!("pickup.sql"),
    },
    SqlSource {
        name: "market.sql",
        sql: include_str!("market.sql"),
    },
];

/// The advisory lock key that serialises source application across nodes ("rk-sql-s" in ASCII).
const SOURCES_LOCK_KEY: i64 = 0x726b_2d73_716c_2d73;

/// The bookkeeping table, like sqlx's own `_sqlx_migrations`: created on first use.
const CREATE_TABLE_SQL: &str = "CREATE TABLE IF NOT EXISTS realmkeep_sql_sources (
    name        text        PRIMARY KEY,
    sha256      text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now())";

impl Store {
    /// Applies `sources` whose hash differs from the recorded one, all in one transaction, and
    /// guards every `game_logs` partition against TRUNCATE (one made by any path since the last
    /// run). Returns the names of the sources it ran. `Store::migrate` calls it with
    /// `SQL_SOURCES`.
    pub async fn apply_sql_sources(&self, sources: &[SqlSource<'_>]) -> StoreResult<Vec<String>> {
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SOURCES_LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(db("lock sql sources"))?;
        sqlx::query(CREATE_TABLE_SQL)
            .execute(&mut *tx)
            .await
            .map_err(db("create realmkeep_sql_sources"))?;
        let mut applied = Vec::new();
        for source in sources {
            let sha = sha256_hex(source.sql.as_bytes());
            let recorded: Option<String> =
                sqlx::query_scalar("SELECT sha256 FROM realmkeep_sql_sources WHERE name = $1")
                    .bind(source.name)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db("read sql source hash"))?;
            if recorded.as_deref() == Some(sha.as_str()) {
                continue;
            }
            tracing::info!(source = source.name, "applying SQL source");
            // A source is this release's own SQL (a file shipped in the crate), never input.
            sqlx::raw_sql(AssertSqlSafe(source.sql))
                .execute(&mut *tx)
                .await
                .map_err(db("apply sql source"))?;
            sqlx::query(
                "INSERT INTO realmkeep_sql_sources (name, sha256) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()",
            )
            .bind(source.name)
            .bind(&sha)
            .execute(&mut *tx)
            .await
            .map_err(db("record sql source"))?;
            applied.push(source.name.to_string());
        }
        sqlx::query("SELECT guard_game_logs_partitions()")
            .execute(&mut *tx)
            .await
            .map_err(db("guard game_logs partitions"))?;
        tx.commit().await.map_err(db("commit sql sources"))?;
        held.settle(true);
        Ok(applied)
    }
}
