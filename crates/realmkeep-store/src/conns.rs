//! The store's connections: sqlx's pool, and the connections kept between two uses.
//!
//! sqlx checks every connection handed back to its pool: dropping a `PoolConnection` spawns a
//! task that sends PostgreSQL a `Sync` and waits for its answer before the connection is idle
//! again. That is a second round trip for every store call, and wake-ups of the backend and of
//! client tasks each time: `bench store` measured 40-58 µs of the client's CPU per trade
//! without it, 60-84 µs with it (docs/BENCHMARKS.md).
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
//! acquire timeout and its connect-on-demand are unchanged. While a caller waits for the pool,
//! nothing is kept: a use that ends then hands its connection to sqlx (with its check), which
//! gives it to the caller waiting, so a connection kept while the pool is full is never missed.
//! The waiters are counted under the stack's lock, so a caller either finds a kept connection
//! or is counted before the next use ends.

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A kept connection found unused for longer than this, when the store next lends or keeps one,
/// goes back to sqlx's pool (which checks it, and closes it after its idle timeout). There is no
/// timer: a store that goes quiet keeps its kept connections open (at most the pool's size)
/// until its next call, and a connection that keeps being used is not retired by sqlx's
/// `max_lifetime` (the store does not set one).
pub(crate) const KEPT_IDLE_MAX: Duration = Duration::from_secs(30);
// Below sqlx's idle timeout (10 minutes by default, not changed by the store), so a connection
// idle for long is closed by sqlx as it would have been without the stack.
const _: () = assert!(KEPT_IDLE_MAX.as_secs() < 600);

/// Whether a connection that answered `e` is ready for the next statement: PostgreSQL answered
/// it (an error it raised, or no row) and the exchange ended normally. Not after an error with
/// which the server ends the session (severity FATAL or PANIC: a terminated backend, an idle
/// session timeout, a recovery conflict...), nor after one of `error::is_unavailable_sqlx`'s,
/// nor after a stale plan (see below: such a connection is closed, [`Held::settle_stale`]).
pub(crate) fn reusable_after(e: &sqlx::Error) -> bool {
    use sqlx::postgres::{PgDatabaseError, PgSeverity};
    if crate::error::is_stale_plan_sqlx(e) {
        return false;
    }
    match e {
        sqlx::Error::RowNotFound => true,
        sqlx::Error::Database(db) => {
            let ends_session = db
                .try_downcast_ref::<PgDatabaseError>()
                .is_none_or(|pg| matches!(pg.severity(), PgSeverity::Fatal | PgSeverity::Panic));
            !ends_session && !crate::error::is_unavailable_sqlx(e)
        }
        _ => false,
    }
}

// A schema changed under the store's prepared statements.
//
// Each connection prepares a statement once and runs it again and again (sqlx's statement
// cache). When a later release's contract migration changes the type of a column a statement
// returns (while this release still serves: a rolling deploy), PostgreSQL refuses to run that
// statement again ("cached plan must not change result type") for as long as it stays prepared,
// that is for the connection's life. So the first stale plan of a change is recorded here (a
// count, and when), and from then on no connection opened before it is lent again: the one that
// met it is closed ([`Held::settle_stale`]), the kept ones when they are next taken or put back
// (each carries the count it was lent under), and sqlx's idle ones by the pool's
// `before_acquire` check ([`opened_before_schema_change`]). Their replacements prepare their
// statements against the new schema. A transaction that met the stale plan was rolled back whole
// and is run again (`in_tx!`: `error::is_retryable_sqlx`); a single read on a connection lent
// before the record may fail once. A stale plan met on a connection lent under the current count
// is a new change; on one lent earlier, the same change met again. The record is per process (a
// test process's stores all share it): at worst another store's connections are opened again.

/// The instant [`SCHEMA_CHANGED_NS`] is counted from.
fn clock_zero() -> Instant {
    static ZERO: OnceLock<Instant> = OnceLock::new();
    *ZERO.get_or_init(Instant::now)
}

fn clock_ns() -> u64 {
    u64::try_from(clock_zero().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// When this process last recorded a schema change, in nanoseconds after [`clock_zero`] (at
/// least 1); 0 if never.
static SCHEMA_CHANGED_NS: AtomicU64 = AtomicU64::new(0);
/// How many schema changes this process has recorded: a connection lent under an older count is
/// not kept.
static SCHEMA_CHANGES: AtomicU64 = AtomicU64::new(0);
/// A stale plan met where the connection is not known (a path that settles its connection by
/// hand: `error::db`) is taken for the change last recorded if that is this recent.
const SCHEMA_CHANGE_BURST: Duration = Duration::from_secs(5);

fn schema_changes() -> u64 {
    SCHEMA_CHANGES.load(Ordering::Acquire)
}

/// Records a schema change (see above).
fn record_schema_change() {
    SCHEMA_CHANGED_NS.fetch_max(clock_ns().max(1), Ordering::Release);
    let n = SCHEMA_CHANGES.fetch_add(1, Ordering::AcqRel) + 1;
    tracing::warn!(
        changes = n,
        "a prepared statement's plan went stale (the database schema changed under this node): \
         connections opened before now are closed, their statements prepared again"
    );
}

/// A stale plan met on a connection lent under the count `lent_under`.
fn stale_plan_met(lent_under: u64) {
    if lent_under == schema_changes() {
        record_schema_change();
    }
}

/// A stale plan met where the connection is not known (`error::db`).
pub(crate) fn stale_plan_met_somewhere() {
    let last = SCHEMA_CHANGED_NS.load(Ordering::Acquire);
    let burst = u64::try_from(SCHEMA_CHANGE_BURST.as_nanos()).unwrap_or(u64::MAX);
    if last == 0 || clock_ns().saturating_sub(last) > burst {
        record_schema_change();
    }
}

/// Whether a connection `age` old was opened at or before the last schema change recorded (for
/// the pool's `before_acquire`: such a connection is closed rather than lent).
pub(crate) fn opened_before_schema_change(age: Duration) -> bool {
    let changed = SCHEMA_CHANGED_NS.load(Ordering::Acquire);
    if changed == 0 {
        return false;
    }
    let age = u64::try_from(age.as_nanos()).unwrap_or(u64::MAX);
    clock_ns().saturating_sub(age) <= changed
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
    /// A stale plan: the connection must be closed ([`Held::settle_stale`]).
    fn stale_plan(&self) -> bool;
}

impl<T> Clean for Result<T, sqlx::Error> {
    fn clean(&self) -> bool {
        self.as_ref().map_or_else(reusable_after, |_| true)
    }
    fn stale_plan(&self) -> bool {
        self.as_ref().is_err_and(crate::error::is_stale_plan_sqlx)
    }
}

impl<T> Clean for Result<T, crate::error::StoreError> {
    fn clean(&self) -> bool {
        self.as_ref()
            .map_or_else(|e| e.connection_clean(), |_| true)
    }
    fn stale_plan(&self) -> bool {
        self.as_ref().is_err_and(|e| e.is_stale_plan())
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
    state: Mutex<State>,
}

struct State {
    /// The most recently kept last, each with when it was kept and the [`SCHEMA_CHANGES`] count
    /// it was lent under. At most the pool's `max_connections` (each holds a pool slot), so it
    /// is bounded by the pool's limit.
    stack: Vec<(PoolConnection<Postgres>, Instant, u64)>,
    /// Callers waiting for the pool (none kept while there are).
    waiting: usize,
    /// Nothing is kept before this: the pool itself was handed out (`Conns::pool_for_direct_use`),
    /// and a direct caller may be waiting for it, unseen by `waiting`.
    paused_until: Option<Instant>,
}

impl Kept {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn len(&self) -> usize {
        self.state().stack.len()
    }

    /// The most recently kept connection that is not stale, or else the caller is counted as
    /// waiting for the pool (until its [`Waiting`] is dropped). The stale connections met on the
    /// way go back to sqlx (dropped outside the lock: the drop spawns sqlx's check), and those
    /// kept before a stale plan was met are closed.
    fn take_or_wait(&self) -> Result<PoolConnection<Postgres>, Waiting<'_>> {
        let mut stale = Vec::new();
        let found = {
            let mut state = self.state();
            let changes = schema_changes();
            loop {
                match state.stack.pop() {
                    Some((mut c, _, kept_under)) if kept_under != changes => {
                        c.close_on_drop();
                        stale.push(c);
                    }
                    Some((c, since, _)) if since.elapsed() <= KEPT_IDLE_MAX => break Ok(c),
                    Some((c, _, _)) => stale.push(c),
                    None => {
                        state.waiting += 1;
                        break Err(Waiting(self));
                    }
                }
            }
        };
        drop(stale);
        found
    }

    /// Keeps `c`, lent under the schema change count `lent_under`, unless a caller waits for the
    /// pool or the stack is full: then `c` goes back to sqlx, which gives it to a waiting caller.
    /// The oldest kept connection goes back to sqlx if it is stale, so the bottom of the stack
    /// does not age for ever under a steady load that never reaches it. A connection lent before
    /// the last schema change is closed instead.
    fn put(&self, mut c: PoolConnection<Postgres>, max: usize, lent_under: u64) {
        let (stale, not_kept) = {
            let mut state = self.state();
            let stale = match state.stack.first() {
                Some((_, since, _)) if since.elapsed() > KEPT_IDLE_MAX => {
                    Some(state.stack.remove(0).0)
                }
                _ => None,
            };
            let paused = state.paused_until.is_some_and(|t| Instant::now() < t);
            if lent_under != schema_changes() {
                c.close_on_drop();
                (stale, Some(c))
            } else if state.waiting == 0 && !paused && state.stack.len() < max {
                state.stack.push((c, Instant::now(), lent_under));
                (stale, None)
            } else {
                (stale, Some(c))
            }
        };
        drop((stale, not_kept));
    }

    /// Every kept connection, to go back to sqlx.
    fn drain(&self) -> Vec<PoolConnection<Postgres>> {
        self.state().stack.drain(..).map(|(c, _, _)| c).collect()
    }
}

/// A caller counted as waiting for the pool, until dropped (also when its acquire is cancelled).
struct Waiting<'a>(&'a Kept);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.state().waiting -= 1;
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
                state: Mutex::new(State {
                    stack: Vec::new(),
                    waiting: 0,
                    paused_until: None,
                }),
            }),
        }
    }

    /// The pool, for the store's gauges and options.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool, for a caller that acquires from it directly (the migrator, the bench's
    /// seeding, tests): the kept connections go back to it, and nothing is kept for the pool's
    /// acquire timeout, so a direct caller waiting for the pool gets the next connection freed.
    pub(crate) fn pool_for_direct_use(&self) -> &PgPool {
        let kept = {
            let mut state = self.kept.state();
            state.paused_until = Some(Instant::now() + self.pool.options().get_acquire_timeout());
            state.stack.drain(..).map(|(c, _, _)| c).collect::<Vec<_>>()
        };
        drop(kept);
        &self.pool
    }

    /// Connections kept, ready to lend.
    pub(crate) fn kept(&self) -> usize {
        self.kept.len()
    }

    /// A connection: a kept one at once if there is one, otherwise the pool's (which answers
    /// `sqlx::Error::PoolTimedOut` after its acquire timeout).
    pub(crate) async fn acquire(&self) -> Result<Held, sqlx::Error> {
        if self.pool.is_closed() {
            return Err(sqlx::Error::PoolClosed);
        }
        match self.kept.take_or_wait() {
            Ok(c) => Ok(self.held(c)),
            Err(waiting) => {
                let c = self.pool.acquire().await;
                drop(waiting);
                c.map(|c| self.held(c))
            }
        }
    }

    fn held(&self, c: PoolConnection<Postgres>) -> Held {
        Held {
            conn: Some(c),
            conns: self.clone(),
            lent_under: schema_changes(),
        }
    }

    /// Sends every kept connection back to sqlx (which checks them): after a broken socket,
    /// when the others are likely broken too, and before the pool closes.
    pub(crate) fn release_kept(&self) {
        drop(self.kept.drain());
    }

    /// Closes the pool: marks it closed (nothing is kept from then on), sends the kept
    /// connections back, and waits for every connection to be closed.
    pub(crate) async fn close(&self) {
        let closing = self.pool.close();
        self.release_kept();
        closing.await;
    }
}

/// A lent connection. Dropped, it goes back through sqlx's check; [`Held::settle`] keeps it when
/// its use ended cleanly.
pub(crate) struct Held {
    conn: Option<PoolConnection<Postgres>>,
    conns: Conns,
    /// The schema change count when it was lent.
    lent_under: u64,
}

impl Held {
    /// Ends this use: the connection is kept if `clean` (its last exchange with PostgreSQL ended
    /// normally), otherwise it goes back through sqlx, and so do the kept ones.
    pub(crate) fn settle(mut self, clean: bool) {
        let Some(c) = self.conn.take() else { return };
        // A closing pool waits for every connection to come back: none is kept then.
        if clean && !self.conns.pool.is_closed() {
            let max = self.conns.pool.options().get_max_connections() as usize;
            self.conns.kept.put(c, max, self.lent_under);
            // The pool may have closed since the check: its close waits for every connection,
            // so none may stay kept.
            if self.conns.pool.is_closed() {
                self.conns.release_kept();
            }
        } else {
            drop(c);
            self.conns.release_kept();
        }
    }

    /// Ends a use that met a stale plan: records the schema change unless it was recorded since
    /// this connection was lent, and closes the connection (its statements are prepared against
    /// the old schema).
    pub(crate) fn settle_stale(mut self) {
        let Some(mut c) = self.conn.take() else {
            return;
        };
        stale_plan_met(self.lent_under);
        c.close_on_drop();
        drop(c);
    }

    /// Takes the connection out of the pool for good (a session-long advisory lock); the pool
    /// may open another in its place.
    pub(crate) fn detach(mut self) -> PgConnection {
        self.conn
            .take()
            .expect("a held connection until settled")
            .detach()
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
                if $crate::conns::Clean::stale_plan(&r) {
                    held.settle_stale();
                } else {
                    held.settle($crate::conns::Clean::clean(&r));
                }
                r
            }
            Err(e) => Err($crate::conns::FromAcquire::from_acquire(e)),
        }
    }};
}
pub(crate) use on_conn;
