//! A node restarted under the same name takes its characters back at once, instead of leaving its
//! players locked out until the dead process's leases run out.
//!
//! A claim holder is named `<zone>/<node>/<process>`: the node's name is the second part. While a
//! process of a node runs, it holds a session-scoped advisory lock named after the node
//! ([`NodeLock`]), on a connection of its own. PostgreSQL releases that lock the moment the
//! process's connection closes, and a killed process's connection closes with it. So a process
//! that gets the lock knows no other process of its node is alive, and may free the claims its
//! predecessors held ([`Store::release_claims_of_previous_processes`], which needs the lock).
//! Freeing bumps each claim's epoch: whatever the dead process might still send (a write in
//! flight) carries a stale epoch and is refused by the fence. A live process's claims are never
//! touched: while it lives, nobody else gets its node's lock.

use crate::conns::on_conn;
use crate::error::{db, StoreResult};
use crate::Store;
use sqlx::{Connection, PgConnection};

/// Claims freed in one statement; a node's characters are freed in as many as needed.
pub const TAKEOVER_BATCH_ROWS_MAX: i64 = 1_000;
/// Batches one takeover runs at the most (a million claims): a node never holds more.
pub const TAKEOVER_BATCHES_MAX: usize = 1_000;

/// Proof that this process is the only live one of its node (see the module doc). Dropping it
/// closes its connection, which releases the lock.
#[derive(Debug)]
pub struct NodeLock {
    node: String,
    conn: PgConnection,
}

impl NodeLock {
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Releases the lock now (a clean stop).
    pub async fn release(self) {
        let _ = self.conn.close().await;
    }
}

impl Store {
    /// Takes the node's lock if no live process holds it: `None` means another process of this
    /// node name is alive. The lock lives on a connection outside the pool.
    pub async fn try_lock_node(&self, node: &str) -> StoreResult<Option<NodeLock>> {
        let mut conn = self
            .conns()
            .acquire()
            .await
            .map_err(db("acquire"))?
            .detach();
        let got: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_lock(hashtextextended('realmkeep:node:' || $1, 0))",
        )
        .bind(node)
        .fetch_one(&mut conn)
        .await
        .map_err(db("lock node"))?;
        if !got {
            let _ = conn.close().await;
            return Ok(None);
        }
        Ok(Some(NodeLock {
            node: node.to_string(),
            conn,
        }))
    }

    /// Frees every claim held by an earlier process of the lock's node (holders
    /// `<zone>/<node>/<process>` other than `current`'s), bumping each epoch so the dead
    /// process's writes are refused. Rows are locked in ascending id order, in batches of
    /// `TAKEOVER_BATCH_ROWS_MAX`. Returns how many claims were freed.
    pub async fn release_claims_of_previous_processes(
        &self,
        lock: &NodeLock,
        current: &[String],
    ) -> StoreResult<u64> {
        let mut freed = 0u64;
        for _ in 0..TAKEOVER_BATCHES_MAX {
            let n = on_conn!(self.conns(), |conn| sqlx::query(
                "UPDATE characters SET claim_holder = NULL, claim_expires_at = NULL,
                        claim_epoch = claim_epoch + 1
                 WHERE id IN (SELECT id FROM characters
                              WHERE claim_holder IS NOT NULL
                                AND split_part(claim_holder, '/', 2) = $1
                                AND claim_holder <> ALL($2::text[])
                              ORDER BY id LIMIT $3 FOR UPDATE)",
            )
            .bind(&lock.node)
            .bind(current)
            .bind(TAKEOVER_BATCH_ROWS_MAX)
            .execute(conn))
            .map_err(db("release claims of previous processes"))?
            .rows_affected();
            freed += n;
            if (n as i64) < TAKEOVER_BATCH_ROWS_MAX {
                break;
            }
        }
        Ok(freed)
    }
}
