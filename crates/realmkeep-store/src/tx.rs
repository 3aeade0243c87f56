//! Running a transaction body again after a serialization failure or deadlock.

/// Backoff before retry `attempt` (1-based): a few milliseconds, growing, with jitter, so two
/// transactions that deadlocked do not meet again in lockstep.
pub(crate) fn retry_backoff(attempt: u32) -> std::time::Duration {
    use rand::Rng;
    let base_ms = 2u64 << attempt.min(6);
    std::time::Duration::from_millis(rand::rng().random_range(1..=base_ms))
}

/// `in_tx!(conns, |tx| body)`: begins a transaction on a connection lent by `conns`
/// (`Store::conns`), evaluates the future `body` with `tx: &mut PgConnection`, commits on `Ok`
/// and rolls back on `Err`. The whole body runs again, up to `TX_RETRIES_MAX` times, when
/// PostgreSQL reports a serialization failure or deadlock, so the body must not have effects
/// outside the transaction. The connection is kept for the next use when the commit or the
/// rollback was answered (`conns.rs`).
macro_rules! in_tx {
    ($conns:expr, |$tx:ident| $body:expr) => {{
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut held = $conns
                .acquire()
                .await
                .map_err($crate::error::db("begin"))?;
            // The transaction borrows the connection: it ends inside this block, and the
            // connection is settled after it.
            let (outcome, clean) = match sqlx::Connection::begin(&mut *held).await {
                Err(e) => {
                    let clean = $crate::conns::reusable_after(&e);
                    (Err($crate::error::db("begin")(e)), clean)
                }
                Ok(mut txn) => {
                    let result: Result<_, $crate::error::StoreError> = {
                        let $tx: &mut sqlx::PgConnection = &mut *txn;
                        $body.await
                    };
                    match result {
                        Ok(v) => match txn.commit().await {
                            Ok(()) => (Ok(v), true),
                            Err(e) => {
                                let clean = $crate::conns::reusable_after(&e);
                                (Err($crate::error::db("commit")(e)), clean)
                            }
                        },
                        Err(e) => {
                            // Kept only if the rollback was answered and the body's error left
                            // the connection usable (not a stale plan, say).
                            let clean = txn.rollback().await.is_ok() && e.connection_clean();
                            (Err(e), clean)
                        }
                    }
                }
            };
            if outcome.as_ref().is_err_and(|e| e.is_stale_plan()) {
                held.settle_stale();
            } else {
                held.settle(clean);
            }
            match outcome {
                Ok(v) => break Ok(v),
                Err(err) => {
                    if err.is_retryable() && attempt < realmkeep_domain::limits::TX_RETRIES_MAX {
                        tracing::debug!(attempt, error = %err, "transaction retried");
                        tokio::time::sleep($crate::tx::retry_backoff(attempt)).await;
                        continue;
                    }
                    break Err(err);
                }
            }
        }
    }};
}
pub(crate) use in_tx;
