//! The durable tier: everything Realmkeep keeps in PostgreSQL, and the only crate that speaks SQL.
//!
//! Architecture invariants:
//! - Every action that creates, destroys or moves items or gold runs in one transaction
//!   (`in_tx!`), writes its `game_logs` rows in that same transaction, and returns only after the
//!   commit. A refusal (`StoreError::Refused`) changes nothing.
//! - Every write on a character's behalf is fenced: `Actor::Zone` carries the claim epoch and is
//!   refused when stale; `Actor::Offline` is refused while a live claim holds the character.
//! - Batch saves write positions and stats only, never gold or items, so no snapshot of a zone can
//!   roll an economy action back.
//! - Locks on character rows are taken in ascending id order (`common::lock_characters`).

pub mod accounts;
pub mod action_keys;
pub mod admin;
pub mod admin_accounts;
pub mod admin_reads;
pub mod archive;
pub mod archiving;
pub mod bans;
pub mod bench_seed;
pub mod characters;
pub mod claims;
pub(crate) mod common;
pub(crate) mod conns;
pub mod error;
pub mod guilds;
pub mod items;
pub mod logs;
pub mod mail;
pub mod maintenance;
pub mod market;
pub mod migration_lint;
pub mod progress;
pub mod quest_abandon;
pub mod saves;
pub mod seed;
pub mod social;
pub mod sql_sources;
pub mod takeover;
pub mod trade;
pub(crate) mod tx;

pub use error::{Refusal, StoreError, StoreResult};

use crate::conns::on_conn;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// The migrations shipped with this release, applied by `Store::migrate`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections in the pool at the most.
    pub pool_connections_max: u32,
    /// How long a caller waits for a pooled connection before `Busy` ("try again").
    pub acquire_timeout: Duration,
    /// Statement timeout set on every connection: no query holds locks for longer.
    pub statement_timeout: Duration,
    /// Argon2id parameters and how many hashes run at once.
    pub password_hashing: accounts::PasswordHashing,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_connections_max: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            password_hashing: accounts::PasswordHashing::default(),
        }
    }
}

/// A handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    conns: conns::Conns,
    hashing: std::sync::Arc<accounts::Hashing>,
}

impl Store {
    /// Connects lazily: the pool opens connections on demand, so a store can be built while
    /// PostgreSQL is down and starts answering when it is back.
    pub fn connect_lazy(url: &str, opts: &StoreOptions) -> StoreResult<Self> {
        opts.password_hashing.check()?;
        let connect = PgConnectOptions::from_str(url)
            .map_err(error::db("parsing the database URL"))?
            .application_name("realmkeep")
            .options([(
                "statement_timeout",
                format!("{}", opts.statement_timeout.as_millis()),
            )]);
        let pool = PgPoolOptions::new()
            .max_connections(opts.pool_connections_max)
            .acquire_timeout(opts.acquire_timeout)
            // A ping before every acquire would double the round trips; a dead connection surfaces
            // as `Unavailable` on its query instead, and the pool replaces it.
            .test_before_acquire(false)
            // A connection opened before a stale plan was met is closed, not lent (`conns.rs`).
            .before_acquire(|_, meta| {
                Box::pin(async move { Ok(!conns::opened_before_schema_change(meta.age)) })
            })
            .connect_lazy_with(connect);
        Ok(Self {
            conns: conns::Conns::new(pool),
            hashing: std::sync::Arc::new(accounts::Hashing::new(opts.password_hashing)),
        })
    }

    /// Connects and checks that the database answers.
    pub async fn connect(url: &str, opts: &StoreOptions) -> StoreResult<Self> {
        let store = Self::connect_lazy(url, opts)?;
        store.ping().await?;
        Ok(store)
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            conns: conns::Conns::new(pool),
            hashing: std::sync::Arc::new(accounts::Hashing::new(Default::default())),
        }
    }

    /// The connection pool, for tests that look at or damage the database behind the store's
    /// back (feature `testing`). Code outside this crate calls store functions.
    ///
    /// The connections the store keeps between two uses go back to the pool first, and none is
    /// kept for the pool's acquire timeout (`Conns::pool_for_direct_use`), so a caller of the
    /// pool itself gets the next connection freed.
    #[cfg(feature = "testing")]
    pub fn pool(&self) -> &PgPool {
        self.conns.pool_for_direct_use()
    }

    /// The pool itself, for sqlx's migrator and the bench's seeding, which take their own
    /// connections (see the testing version). The store's calls go through `conns`.
    #[cfg(not(feature = "testing"))]
    pub(crate) fn pool(&self) -> &PgPool {
        self.conns.pool_for_direct_use()
    }

    /// The pool's connections lent for one use and kept after it (`conns.rs`): what the store's
    /// calls and transactions run on.
    pub(crate) fn conns(&self) -> &conns::Conns {
        &self.conns
    }

    /// Connections the pool has open, how many of them are idle (in sqlx's pool, or kept by the
    /// store between two uses), and the most it opens.
    pub fn pool_gauges(&self) -> (u32, u32, u32) {
        (
            self.conns.pool().size(),
            (self.conns.pool().num_idle() + self.conns.kept()) as u32,
            self.conns.pool().options().get_max_connections(),
        )
    }

    /// Connections the store keeps idle between two uses (`conns.rs`), for tests (feature
    /// `testing`). The node reports them within `pool_gauges`' idle count (`/metrics`), and sqlx's
    /// own pool counts them as lent.
    #[cfg(feature = "testing")]
    pub fn kept_connections(&self) -> usize {
        self.conns.kept()
    }

    /// The most connections the pool opens (`StoreOptions::pool_connections_max`).
    pub fn pool_connections_max(&self) -> u32 {
        self.conns.pool().options().get_max_connections()
    }

    /// Whether `e` means PostgreSQL is away, as opposed to a refusal, a failed statement, or a
    /// busy pool. A pool timeout (`StoreError::Busy`) is an outage only when the pool had room for
    /// another connection and still got none (sqlx keeps trying to connect until the acquire
    /// timeout, then reports the same timeout as when every connection is in use): with every
    /// connection open and lent out, the pool is busy and the database is there.
    pub fn is_outage(&self, e: &StoreError) -> bool {
        match e {
            StoreError::Unavailable(_) => true,
            StoreError::Busy(_) => self.conns.pool().size() < self.pool_connections_max(),
            _ => false,
        }
    }

    /// Applies the shipped migrations, then the SQL source files that changed
    /// (`sql_sources::SQL_SOURCES`, see `apply_sql_sources`).
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(self.pool()).await?;
        self.apply_sql_sources(sql_sources::SQL_SOURCES).await?;
        Ok(())
    }

    /// One round trip: is the database there?
    pub async fn ping(&self) -> StoreResult<()> {
        on_conn!(self.conns(), |conn| sqlx::query("SELECT 1").execute(conn))
            .map_err(error::db("ping"))?;
        Ok(())
    }

    pub async fn close(&self) {
        self.conns.close().await;
    }
}
