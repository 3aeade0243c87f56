//! The store's connections: sqlx's pool, and the connections kept between two uses.
//!
//! sqlx checks every connection handed back to its pool: dropping a `PoolConnection` spawns a
//! task that sends PostgreSQL a `Sync` and waits for its answer before the connection is idle
//! again. That is a second round trip for every store call, a wake-up of the backend and of a
//! client task each time: 30-40 µs of the client's CPU per trade on this machine, out of 80.
//!
//! The check is there for connections left in an unknown state: a future dropped in the middle
//! of a statement, or a broken socket. A use that ended cleanly needs none: its answer was read
//! to its end, or PostgreSQL answered an error and is ready for the next statement. So the store
//! lends connections through [`Conns::acquire`], and a use that ended cleanly puts its
//! connection back with [`Held::settle`] on a stack of kept connections, lent again at once
//! without asking sqlx or PostgreSQL. Anything else (a cancelled use, a broken socket, a
//! connection idle for longer than [`KEPT_IDLE_MAX`]) goes back through sqlx as before, which
//! checks it or closes it. deadpool's "fast" recycling makes the same choice.
//!
//! The pool still owns every connection, and counts the kept ones as lent: its limit, its
//! acquire timeout and its connect-on-demand are unchanged. A caller waiting for the pool also
//! waits for the stack, so a connection kept while the pool is full is never missed.

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A kept connection unused for longer than this goes back to sqlx's pool (which checks it
/// before lending it again, and closes it after its idle timeout).
pub(crate) const KEPT_IDLE_MAX: Duration = Duration::from_secs(30);
// Below sqlx's idle timeout (10 minutes by default, not changed by the store), so a connection
// idle for long is closed by sqlx as it would have been without the stack.
const _: () = assert!(KEPT_IDLE_MAX.as_secs() < 600);

/// Whether a connection that answered `e` is ready for the next statement: PostgreSQL answered
/// it (an error it raised, or no row) and the exchange ended normally. Not after the errors that
/// mean the server ends the session (`57P01` when the backend is terminated, `08xxx`).
pub(crate) fn reusable_after(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(_) | sqlx::Error::RowNotFound)
        && !crate::error::is_unavailable_sqlx(e)
}

/// The error of a use whose connection never came (`on_conn!`).
pub(crate) trait FromAcquire {
    fn from_acquire(e: sqlx::Error) -> Self;
}

impl FromAcquire for sqlx::Error {
    fn from_acquire(e: sqlx::Error) -> Self {
        e
    }
}

impl FromAcquire for crate::error::StoreError {
    fn from_acquire(e: sqlx::Error) -> Self {
        crate::error::db("acquire")(e)
    }
}

/// An answer that tells whether its connection is ready for the next statement.
pub(crate) trait Clean {
    fn clean(&self) -> bool;
}

impl<T> Clean for Result<T, sqlx::Error> {
    fn clean(&self) -> bool {
        self.as_ref().map_or_else(reusable_after, |_| true)
    }
}

impl<T> Clean for Result<T, crate::error::StoreError> {
    fn clean(&self) -> bool {
        self.as_ref()
            .map_or_else(|e| e.connection_clean(), |_| true)
    }
}

/// The pool and its kept connections. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Conns {
    pool: PgPool,
    kept: Arc<Kept>,
}

impl std::fmt::Debug for Conns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conns")
            .field("kept", &self.kept.len())
            .finish_non_exhaustive()
    }
}

struct Kept {
    /// The most recently kept last. At most the pool's `max_connections` (each holds a pool
    /// slot), so it is bounded by the pool's limit.
    stack: Mutex<Vec<(PoolConnection<Postgres>, Instant)>>,
    /// Woken when a connection is kept, for callers waiting on a full pool.
    returned: Notify,
}

impl Kept {
    fn len(&self) -> usize {
        self.stack.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// The most recently kept connection that is not stale. The stale ones met on the way go
    /// back to sqlx (dropped outside the lock: the drop spawns sqlx's check).
    fn take(&self) -> Option<PoolConnection<Postgres>> {
        let mut stale = Vec::new();
        let found = {
            let mut stack = self.stack.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                match stack.pop() {
                    Some((c, since)) if since.elapsed() <= KEPT_IDLE_MAX => break Some(c),
                    Some((c, _)) => stale.push(c),
                    None => break None,
                }
            }
        };
        drop(stale);
        found
    }

    /// Keeps `c`. The oldest kept connection goes back to sqlx if it is stale, so the bottom of
    /// the stack does not age for ever under a steady load that never reaches it.
    fn put(&self, c: PoolConnection<Postgres>, max: usize) {
        let (stale, overflow) = {
            let mut stack = self.stack.lock().unwrap_or_else(|p| p.into_inner());
            let stale = match stack.first() {
                Some((_, since)) if since.elapsed() > KEPT_IDLE_MAX => Some(stack.remove(0).0),
                _ => None,
            };
            if stack.len() < max {
                stack.push((c, Instant::now()));
                (stale, None)
            } else {
                (stale, Some(c))
            }
        };
        drop((stale, overflow));
        self.returned.notify_one();
    }

    /// Every kept connection, to go back to sqlx.
    fn drain(&self) -> Vec<PoolConnection<Postgres>> {
        let mut stack = self.stack.lock().unwrap_or_else(|p| p.into_inner());
        stack.drain(..).map(|(c, _)| c).collect()
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        let kept = self.drain();
        if tokio::runtime::Handle::try_current().is_ok() {
            // Back through sqlx, which closes them properly when the pool goes.
            drop(kept);
        } else {
            // sqlx's release needs a runtime to spawn on: outside one, close them here (the pool
            // counts them as gone and may open others).
            for c in kept {
                drop(c.detach());
            }
        }
    }
}

impl Conns {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self {
            pool,
            kept: Arc::new(Kept {
                stack: Mutex::new(Vec::new()),
                returned: Notify::new(),
            }),
        }
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Connections kept, ready to lend.
    pub(crate) fn kept(&self) -> usize {
        self.kept.len()
    }

    /// A connection: a kept one at once if there is one, otherwise the pool's, or the first one
    /// kept while waiting for the pool. `sqlx::Error::PoolTimedOut` after the pool's acquire
    /// timeout, as the pool answers.
    pub(crate) async fn acquire(&self) -> Result<Held, sqlx::Error> {
        let deadline = tokio::time::Instant::now() + self.pool().options().get_acquire_timeout();
        // Each turn ends with a connection, the deadline, or a connection kept meanwhile (which
        // another caller may take first: then the next turn waits again). Bounded by the
        // deadline.
        loop {
            let returned = self.kept.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if self.pool.is_closed() {
                return Err(sqlx::Error::PoolClosed);
            }
            if let Some(c) = self.kept.take() {
                return Ok(self.held(c));
            }
            tokio::select! {
                biased;
                _ = &mut returned => continue,
                c = self.pool().acquire() => return c.map(|c| self.held(c)),
                _ = tokio::time::sleep_until(deadline) => return Err(sqlx::Error::PoolTimedOut),
            }
        }
    }

    fn held(&self, c: PoolConnection<Postgres>) -> Held {
        Held {
            conn: Some(c),
            conns: self.clone(),
        }
    }

    /// Sends every kept connection back to sqlx (which checks them): after a broken socket,
    /// when the others are likely broken too, and before the pool closes.
    pub(crate) fn release_kept(&self) {
        drop(self.kept.drain());
    }

    pub(crate) async fn close(&self) {
        self.release_kept();
        self.pool().close().await;
    }
}

/// A lent connection. Dropped, it goes back through sqlx's check; [`Held::settle`] keeps it when
/// its use ended cleanly.
pub(crate) struct Held {
    conn: Option<PoolConnection<Postgres>>,
    conns: Conns,
}

impl Held {
    /// Ends this use: the connection is kept if `clean` (its last exchange with PostgreSQL ended
    /// normally), otherwise it goes back through sqlx, and so do the kept ones.
    pub(crate) fn settle(mut self, clean: bool) {
        let Some(c) = self.conn.take() else { return };
        // A closing pool waits for every connection to come back: none is kept then.
        if clean && !self.conns.pool.is_closed() {
            let max = self.conns.pool.options().get_max_connections() as usize;
            self.conns.kept.put(c, max);
        } else {
            drop(c);
            self.conns.release_kept();
        }
    }
}

impl std::ops::Deref for Held {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn.as_ref().expect("a held connection until settled")
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("a held connection until settled")
    }
}

/// `on_conn!(conns, |c| body)`: evaluates the future `body` with `c: &mut PgConnection` lent by
/// `conns`, keeps the connection if the exchange ended cleanly ([`Clean`]), and gives `body`'s
/// result. `body` answers `Result<_, sqlx::Error>` (and so does a failed acquire) or
/// `StoreResult<_>` (a failed acquire then as `StoreError::Busy` or `Unavailable`).
macro_rules! on_conn {
    ($conns:expr, |$c:ident| $body:expr) => {{
        match $conns.acquire().await {
            Ok(mut held) => {
                let r = {
                    let $c: &mut sqlx::PgConnection = &mut *held;
                    $body.await
                };
                held.settle($crate::conns::Clean::clean(&r));
                r
            }
            Err(e) => Err($crate::conns::FromAcquire::from_acquire(e)),
        }
    }};
}
pub(crate) use on_conn;
