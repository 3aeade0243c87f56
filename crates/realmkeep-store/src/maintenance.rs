//! Operator chores that are not game actions: looking an account up by name, creating a
//! database on a server (the demo's and the benchmarks' private servers), and letting PostgreSQL
//! settle after a bulk load. Callers outside this crate never hold the pool: they call these.

use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::Store;
use realmkeep_domain::AccountId;
use sqlx::AssertSqlSafe;

/// Longest database name PostgreSQL keeps (NAMEDATALEN - 1).
const DATABASE_NAME_BYTES_MAX: usize = 63;

impl Store {
    /// The account with this user name (any case), if there is one.
    pub async fn account_id_by_name(&self, name: &str) -> StoreResult<Option<AccountId>> {
        let id: Option<i64> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT id FROM accounts WHERE lower(username) = lower($1)"
        )
        .bind(name.trim())
        .fetch_optional(conn))
        .map_err(db("account by name"))?;
        Ok(id.map(AccountId))
    }

    /// Creates database `name` on this connection's server unless it exists. The name is a plain
    /// identifier (letters, digits, underscores), so it is safe to splice into the statement.
    pub async fn create_database_if_missing(&self, name: &str) -> StoreResult<()> {
        let plain = !name.is_empty()
            && name.len() <= DATABASE_NAME_BYTES_MAX
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !plain {
            refuse!(Refusal::Invalid(format!(
                "a database name is 1 to {DATABASE_NAME_BYTES_MAX} letters, digits or underscores"
            )));
        }
        let exists: bool = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)"
        )
        .bind(name)
        .fetch_one(conn))
        .map_err(db("database exists"))?;
        if !exists {
            // Checked above to be a plain identifier.
            let create = format!("CREATE DATABASE \"{name}\"");
            on_conn!(self.conns(), |conn| sqlx::query(AssertSqlSafe(create))
                .execute(conn))
            .map_err(db("create database"))?;
        }
        Ok(())
    }

    /// `VACUUM ANALYZE` then `CHECKPOINT`: after a bulk load, so what is measured next does not
    /// pay for autovacuum or a checkpoint the load caused.
    pub async fn settle(&self) -> StoreResult<()> {
        for statement in ["VACUUM ANALYZE", "CHECKPOINT"] {
            on_conn!(self.conns(), |conn| sqlx::query(statement).execute(conn))
                .map_err(db("settle"))?;
        }
        Ok(())
    }

    /// Items not in exactly one place (bag, equipment, mail, market), read back independently of
    /// the constraints that should make it impossible: the check the test kit runs after every economy test.
    pub async fn misplaced_items(&self) -> StoreResult<i64> {
        on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT count(*) FROM item_instances i
             WHERE (SELECT count(*) FROM inventories WHERE item_id = i.id)
                 + (SELECT count(*) FROM equipment WHERE item_id = i.id)
                 + (SELECT count(*) FROM mail_attachments WHERE item_id = i.id)
                 + (SELECT count(*) FROM marketplace_listings WHERE item_id = i.id) <> 1",
        )
        .fetch_one(conn))
        .map_err(db("misplaced items"))
    }
}
