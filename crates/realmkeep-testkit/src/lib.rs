//! Test kit: one private PostgreSQL and one private Redis per test process, and a fresh database
//! per test, cloned from a migrated and seeded template; hosts of a test's own (`hosts`).
//!
//! Tests run on many threads, each with its own Tokio runtime, so what is shared is the server
//! process (behind a `Mutex`), never a pool: every test gets its own `Store`.

pub mod hosts;

use realmkeep_launcher::{PostgresOptions, PostgresServer, PrivateNet, RedisOptions, RedisServer};
use realmkeep_store::{Store, StoreOptions};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

const TEMPLATE_DB: &str = "realmkeep_template";
/// The login role a game server connects as in tests: a member of `realmkeep_game` (the game
/// servers' least-privileged role, made by the migrations) and nothing more.
pub const GAME_LOGIN_ROLE: &str = "realmkeep_node";
/// The password of the operators' accounts `operator` makes.
pub const OPERATOR_PASSWORD: &str = "an operator's long password";

static POSTGRES: OnceLock<Mutex<PostgresServer>> = OnceLock::new();
static TEMPLATE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
static CREATE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static DB_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Log output for tests, silent unless `RUST_LOG` asks for it.
pub fn init_tracing() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
    });
}

/// The process's PostgreSQL server (started on first use).
pub fn postgres() -> MutexGuard<'static, PostgresServer> {
    POSTGRES
        .get_or_init(|| {
            init_tracing();
            Mutex::new(
                PostgresServer::start(PostgresOptions::for_tests())
                    .expect("private PostgreSQL starts"),
            )
        })
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Starts the process's PostgreSQL listening on `net` too, its hosts trusted: for tests whose
/// nodes run on hosts of their own (`hosts::Lan`). Call it before anything else uses the server.
pub fn postgres_also_on(net: PrivateNet) {
    assert!(
        POSTGRES.get().is_none(),
        "postgres_also_on before the process's PostgreSQL is first used"
    );
    init_tracing();
    let opts = PostgresOptions {
        also_on: Some(net),
        ..PostgresOptions::for_tests()
    };
    let server = PostgresServer::start(opts).expect("private PostgreSQL starts");
    assert!(
        POSTGRES.set(Mutex::new(server)).is_ok(),
        "the process's PostgreSQL started once"
    );
}

fn admin_url() -> String {
    postgres().url("postgres")
}

async fn ensure_template() {
    TEMPLATE_READY
        .get_or_init(|| async {
            let admin = Store::connect(&admin_url(), &StoreOptions::default())
                .await
                .expect("admin connects");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {TEMPLATE_DB}"
            )))
            .execute(admin.pool())
            .await
            .expect("drop old template");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {TEMPLATE_DB}"
            )))
            .execute(admin.pool())
            .await
            .expect("create template");
            admin.close().await;
            let url = postgres().url(TEMPLATE_DB);
            let t = Store::connect(&url, &StoreOptions::default())
                .await
                .expect("template connects");
            t.migrate()
                .await
                .expect("migrations apply to an empty database");
            let content = realmkeep_store::seed::bundled_content().expect("bundled content parses");
            t.seed_content(&content).await.expect("content seeds");
            // A role belongs to the server, made once per test process (each has its own server).
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DO $$ BEGIN
                     IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{GAME_LOGIN_ROLE}') THEN
                         CREATE ROLE {GAME_LOGIN_ROLE} LOGIN IN ROLE realmkeep_game;
                     END IF;
                 END $$"
            )))
            .execute(t.pool())
            .await
            .expect("the game servers' login role is made");
            t.close().await;
        })
        .await;
}

/// A fresh database of its own, migrated and seeded, for one test.
pub struct TestDb {
    /// As the superuser (who migrated it): tests look behind the game's back with it.
    pub store: Store,
    pub url: String,
    /// The same database as a game server's role ([`GAME_LOGIN_ROLE`]): what a node connects as.
    pub game_url: String,
    pub name: String,
}

impl TestDb {
    /// [`TestDb::game_url`] through `host`: this machine's address on the private network the
    /// server also listens on (`postgres_also_on`), for a node on a host of that network.
    pub fn game_url_at(&self, host: Ipv4Addr) -> String {
        postgres().url_at(host, GAME_LOGIN_ROLE, &self.name)
    }

    /// A store connected as a game server's role ([`GAME_LOGIN_ROLE`]).
    pub async fn game_store(&self) -> Store {
        Store::connect(&self.game_url, &StoreOptions::default())
            .await
            .expect("the game role connects")
    }
}

/// Creates a fresh, migrated and seeded database.
pub async fn fresh_db() -> TestDb {
    fresh_db_with(StoreOptions::default()).await
}

pub async fn fresh_db_with(opts: StoreOptions) -> TestDb {
    ensure_template().await;
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        DB_COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    {
        // CREATE DATABASE ... TEMPLATE refuses while another copy of the template is running.
        let _guard = CREATE_LOCK.lock().await;
        let admin = Store::connect(&admin_url(), &StoreOptions::default())
            .await
            .expect("admin connects");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"
        )))
        .execute(admin.pool())
        .await
        .expect("create test database");
        admin.close().await;
    }
    let url = postgres().url(&name);
    let game_url = postgres().url_as(GAME_LOGIN_ROLE, &name);
    let store = Store::connect(&url, &opts)
        .await
        .expect("test database connects");
    TestDb {
        store,
        url,
        game_url,
        name,
    }
}

/// An empty database (no migrations): for migration tests.
pub async fn empty_db() -> (String, String) {
    let name = format!(
        "empty_{}_{}",
        std::process::id(),
        DB_COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let admin = Store::connect(&admin_url(), &StoreOptions::default())
        .await
        .expect("admin connects");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(admin.pool())
        .await
        .expect("create empty database");
    admin.close().await;
    (postgres().url(&name), name)
}

/// A private Redis server of its own (tests that kill Redis need one each).
pub fn redis() -> RedisServer {
    init_tracing();
    RedisServer::start(RedisOptions::for_tests()).expect("private Redis starts")
}

/// A private Redis server of its own that listens on `net` too (`hosts::Lan`).
pub fn redis_also_on(net: PrivateNet) -> RedisServer {
    init_tracing();
    let opts = RedisOptions {
        also_on: Some(net),
        ..RedisOptions::for_tests()
    };
    RedisServer::start(opts).expect("private Redis starts")
}

/// A well-formed Argon2id hash that no known password matches: test accounts are made with it
/// (hashing is deliberately slow) and never log in with a password.
pub const TEST_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$WkMa2wX5mDbuGXxYhS1Yr0ZHTVPSu3/4Dpfw7R0wyyc";

/// A new account named `name`.
pub async fn account(store: &Store, name: &str) -> realmkeep_domain::AccountId {
    store
        .create_account_with_hash(
            &realmkeep_domain::AccountName::parse(name).expect("a valid test account name"),
            &format!("{name}@example.test"),
            TEST_HASH,
        )
        .await
        .expect("the test account is created")
}

/// A new account with one warrior named `name`.
pub async fn character(store: &Store, name: &str) -> realmkeep_domain::CharacterId {
    let acc = account(store, &format!("acc_{name}")).await;
    store
        .create_character(
            acc,
            &realmkeep_domain::CharacterName::parse(name).expect("a valid test character name"),
            realmkeep_domain::Class::Warrior,
            realmkeep_domain::Kingdom::Aldor,
        )
        .await
        .expect("the test character is created")
}

/// A new operator's account named `name` with `role` (password [`OPERATOR_PASSWORD`]), as the
/// store reads it back.
pub async fn operator(
    store: &Store,
    name: &str,
    role: realmkeep_domain::AdminRole,
) -> realmkeep_store::admin_accounts::Operator {
    let password = realmkeep_domain::Password::parse(OPERATOR_PASSWORD).expect("a valid password");
    store
        .create_admin_account(name, role, &password, None, "a test's operator")
        .await
        .expect("the operator's account is created");
    store
        .operator_by_name(name)
        .await
        .expect("the operator reads back")
}

/// An operator's note (a game master named `name`) with `reason`.
pub async fn note(store: &Store, name: &str, reason: &str) -> realmkeep_store::admin::AdminNote {
    let op = operator(store, name, realmkeep_domain::AdminRole::GameMaster).await;
    realmkeep_store::admin::AdminNote::new(op, reason).expect("a valid reason")
}

/// Items not in exactly one place. The database's constraints should make this impossible; this
/// reads it back independently of them.
pub async fn misplaced_items(store: &Store) -> i64 {
    store
        .misplaced_items()
        .await
        .expect("the placement check runs")
}
