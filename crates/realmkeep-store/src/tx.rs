//! Running a transaction body again after a serialization failure or deadlock.

/// Backoff before retry `attempt` (1-based): a few milliseconds, growing, with jitter, so two
/// transactions that deadlocked do not meet again in lockstep.
pub(crate) fn retry_backoff(attempt: u32) -> std::time::Duration {
    use rand::Rng;
    let base_ms = 2u64 << attempt.min(6);
    std::time::Duration::from_millis(rand::rng().random_range(1..=base_ms))
}

/// `in_tx!(pool, |tx| body)`: begins a transaction, evaluates the future `body` with `tx: &mut
/// PgConnection`, commits on `Ok` and rolls back on `Err`. The whole body runs again, up to
/// `TX_RETRIES_MAX` times, when PostgreSQL reports a serialization failure or deadlock, so the
/// body must not have effects outside the transaction.
macro_rules! in_tx {
    ($pool:expr, |$tx:ident| $body:expr) => {{
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut txn = $pool.begin().await.map_err($crate::error::db("begin"))?;
            let result: Result<_, $crate::error::StoreError> = {
                let $tx: &mut sqlx::PgConnection = &mut *txn;
                $body.await
            };
            let err = match result {
                Ok(v) => match txn.commit().await {
                    Ok(()) => break Ok(v),
                    Err(e) => $crate::error::db("commit")(e),
                },
                Err(e) => {
                    let _ = txn.rollback().await;
                    e
                }
            };
            if err.is_retryable() && attempt < realmkeep_domain::limits::TX_RETRIES_MAX {
                tracing::debug!(attempt, error = %err, "transaction retried");
                tokio::time::sleep($crate::tx::retry_backoff(attempt)).await;
                continue;
            }
            break Err(err);
        }
    }};
}
pub(crate) use in_tx;
