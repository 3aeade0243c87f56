//! Idempotency keys of critical actions (`action_keys`, migration 5): a committed action leaves
//! its key, with its receipt, in the same transaction. When the answer of an action is lost (the
//! connection dropped during COMMIT), nothing is known: [`Store::settle_action`] asks the
//! database what happened instead of guessing, and makes sure the answer cannot change later.
//!
//! Keys are made by the caller, unique per attempt of one player's action (the server uses the
//! zone's claim holder, which is unique per process, and the zone's request id).

use crate::conns::on_conn;
use crate::error::{db, refuse, unique_violation, Refusal, StoreError, StoreResult};
use crate::saves::CharacterSnapshot;
use crate::Store;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgConnection;

/// Longest idempotency key accepted.
pub const ACTION_KEY_CHARS_MAX: usize = 200;
/// Keys are kept a day: far longer than any retry of one action (seconds), short enough that the
/// table stays small. Older ones are pruned by the node's job scheduler (`Store::prune_keys_at`),
/// not by the actions, so no action pays for it.
pub const ACTION_KEY_RETENTION_SECS: f64 = 86_400.0;
/// Keys one pruning statement deletes at most (a short transaction; the job loops).
pub const KEY_PRUNE_BATCH_ROWS: i64 = 1_000;

/// The unique index of `action_keys`, named in a unique violation when a key is used twice.
pub(crate) const ACTION_KEY_CONSTRAINT: &str = "action_keys_pkey";

pub(crate) fn check_key(key: &str) -> StoreResult<()> {
    if key.is_empty() || key.len() > ACTION_KEY_CHARS_MAX {
        refuse!(Refusal::Invalid(format!(
            "action key must be 1 to {ACTION_KEY_CHARS_MAX} bytes"
        )));
    }
    Ok(())
}

/// True when `e` says the key was already used: the action was decided before.
pub(crate) fn is_key_taken(e: &sqlx::Error) -> bool {
    unique_violation(e).is_some_and(|c| c == ACTION_KEY_CONSTRAINT)
}

/// Records `key` as committed with `receipt` in the caller's transaction.
pub(crate) async fn record_in(
    tx: &mut PgConnection,
    key: &str,
    receipt: serde_json::Value,
) -> StoreResult<()> {
    match sqlx::query("INSERT INTO action_keys (action_key, receipt) VALUES ($1, $2)")
        .bind(key)
        .bind(receipt)
        .execute(&mut *tx)
        .await
    {
        Ok(_) => Ok(()),
        // Decided before under this key (or given up by `settle_action`): this attempt must not
        // commit; the caller asks what the first one did.
        Err(e) if is_key_taken(&e) => Err(StoreError::KeyUsed),
        Err(e) => Err(db("action key")(e)),
    }
}

/// Keeps `receipt` under `key` in the caller's transaction, so the action and its key commit
/// together; `settle_action::<T>(key)` reads it back after a lost answer.
pub(crate) async fn keep_in<T: Serialize>(
    tx: &mut PgConnection,
    key: &str,
    receipt: &T,
) -> StoreResult<()> {
    let value = serde_json::to_value(receipt)
        .map_err(|e| StoreError::Io(format!("action key {key}: receipt: {e}")))?;
    record_in(tx, key, value).await
}

async fn release_keyed_in(
    tx: &mut PgConnection,
    s: &CharacterSnapshot,
    key: &str,
) -> StoreResult<()> {
    crate::claims::release_in(tx, s).await?;
    record_in(tx, key, serde_json::json!({})).await
}

impl Store {
    /// Deletes at most `limit` idempotency keys past their retention at `now`: action keys
    /// (`ACTION_KEY_RETENTION_SECS`) and loot keys (`items::LOOT_KEY_RETENTION_SECS`), in
    /// statements of `KEY_PRUNE_BATCH_ROWS` that skip rows another node is deleting. Returns how
    /// many went. Safe on several nodes at once.
    pub async fn prune_keys_at(&self, now: std::time::SystemTime, limit: i64) -> StoreResult<u64> {
        if limit < 0 {
            refuse!(Refusal::Invalid("limit must not be negative".into()));
        }
        let now = chrono::DateTime::<chrono::Utc>::from(now);
        let tables = [
            (
                "DELETE FROM action_keys WHERE action_key IN (
                     SELECT action_key FROM action_keys
                     WHERE created_at < $1 - make_interval(secs => $2)
                     LIMIT $3 FOR UPDATE SKIP LOCKED)",
                ACTION_KEY_RETENTION_SECS,
            ),
            (
                "DELETE FROM loot_pickups WHERE loot_key IN (
                     SELECT loot_key FROM loot_pickups
                     WHERE created_at < $1 - make_interval(secs => $2)
                     LIMIT $3 FOR UPDATE SKIP LOCKED)",
                crate::items::LOOT_KEY_RETENTION_SECS,
            ),
        ];
        let mut done: u64 = 0;
        for (sql, retention) in tables {
            loop {
                let left = limit - done as i64;
                if left <= 0 {
                    return Ok(done);
                }
                let batch = left.min(KEY_PRUNE_BATCH_ROWS);
                let n = on_conn!(self.conns(), |conn| sqlx::query(sql)
                    .bind(now)
                    .bind(retention)
                    .bind(batch)
                    .execute(conn))
                .map_err(db("prune keys"))?
                .rows_affected();
                done += n;
                if (n as i64) < batch {
                    break;
                }
            }
        }
        Ok(done)
    }

    /// What happened to the action with `key`, after an answer that was lost: `Some(receipt)` if
    /// it committed, `None` if it did not, and then it never will. A transaction still holding the
    /// key (a COMMIT on its way) is waited for; if none committed, the key is recorded as given up
    /// (a row without receipt), so the lost attempt, should it still arrive, fails on the key.
    pub async fn settle_action<T: DeserializeOwned>(&self, key: &str) -> StoreResult<Option<T>> {
        check_key(key)?;
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        // Waits for any transaction inserting the same key, then either takes the key or finds it.
        let given_up: Option<i32> = sqlx::query_scalar(
            "INSERT INTO action_keys (action_key, receipt) VALUES ($1, NULL)
             ON CONFLICT (action_key) DO NOTHING RETURNING 1",
        )
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("settle action key"))?;
        if given_up.is_some() {
            tx.commit().await.map_err(db("commit given-up key"))?;
            held.settle(true);
            return Ok(None);
        }
        let receipt: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT receipt FROM action_keys WHERE action_key = $1")
                .bind(key)
                .fetch_one(&mut *tx)
                .await
                .map_err(db("read action key"))?;
        tx.rollback().await.map_err(db("end settle"))?;
        held.settle(true);
        match receipt {
            // A key given up before: the action never committed.
            None => Ok(None),
            Some(r) => serde_json::from_value(r)
                .map(Some)
                .map_err(|e| StoreError::Io(format!("action key {key}: bad receipt: {e}"))),
        }
    }

    /// True when an action with `key` committed (its row has a receipt; a given-up key has none).
    pub async fn action_committed(&self, key: &str) -> StoreResult<bool> {
        check_key(key)?;
        let found: Option<i32> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT 1 FROM action_keys WHERE action_key = $1 AND receipt IS NOT NULL",
        )
        .bind(key)
        .fetch_optional(conn))
        .map_err(db("read action key"))?;
        Ok(found.is_some())
    }

    /// `release` that leaves `key`: tried again after a commit whose answer was lost, the retry
    /// is refused `StaleClaim` (the claim is gone), and `action_committed(key)` tells it was this
    /// release. The retry's fenced UPDATE waits for the first attempt's row lock, so by the time
    /// the refusal comes, the first attempt has committed or rolled back.
    pub async fn release_keyed(&self, snapshot: &CharacterSnapshot, key: &str) -> StoreResult<()> {
        check_key(key)?;
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        release_keyed_in(&mut tx, snapshot, key).await?;
        tx.commit().await.map_err(db("commit release"))?;
        held.settle(true);
        Ok(())
    }
}
