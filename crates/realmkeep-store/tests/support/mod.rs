//! Helpers shared by the store's integration tests (included with `mod support;`).
#![allow(dead_code)]

use realmkeep_domain::*;
use realmkeep_store::Store;

/// Test accounts and characters, made the same way in every crate's tests.
#[allow(unused_imports)]
pub use realmkeep_testkit::{account, character, TEST_HASH};

/// Sets a character's gold directly (test setup only).
pub async fn set_gold(store: &Store, c: CharacterId, gold: i64) {
    sqlx::query("UPDATE characters SET gold = $2 WHERE id = $1")
        .bind(c.0)
        .bind(gold)
        .execute(store.pool())
        .await
        .unwrap();
}

pub async fn gold(store: &Store, c: CharacterId) -> i64 {
    sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Total gold in the world: purses, mail and nothing else (listings hold items, not gold).
pub async fn total_gold(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT ((SELECT coalesce(sum(gold), 0) FROM characters) + (SELECT coalesce(sum(gold), 0) FROM mail))::int8")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Checks that every item is in exactly one place: the database's own constraints should make
/// this impossible to break, and this reads it back independently.
pub async fn assert_items_placed(store: &Store) {
    assert_eq!(
        realmkeep_testkit::misplaced_items(store).await,
        0,
        "items not in exactly one place"
    );
}

/// Sum of quantities per item definition across the world.
pub async fn item_totals(store: &Store) -> Vec<(i32, i64)> {
    sqlx::query_as(
        "SELECT def_id, sum(quantity)::int8 FROM item_instances GROUP BY def_id ORDER BY def_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// Creates an item of `def` (quantity `qty`) in the lowest free slot of `c`'s bag (test setup
/// only: the store's economy functions are what tests exercise).
pub async fn grant_bag_item(store: &Store, c: CharacterId, def: i32, qty: i32) -> ItemId {
    let mut tx = store.pool().begin().await.unwrap();
    let slot: i16 = sqlx::query_scalar(
        "SELECT min(s)::int2 FROM generate_series(0, 59) s
         WHERE s NOT IN (SELECT slot FROM inventories WHERE character_id = $1)",
    )
    .bind(c.0)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO item_instances (def_id, quantity, location, origin)
         VALUES ($1, $2, 'inventory', 'test') RETURNING id",
    )
    .bind(def)
    .bind(qty)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query("INSERT INTO inventories (character_id, slot, item_id) VALUES ($1, $2, $3)")
        .bind(c.0)
        .bind(slot)
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ItemId(id)
}

/// Fills every free slot of `c`'s bag with one Wolf Pelt each.
pub async fn fill_bag(store: &Store, c: CharacterId) {
    let free: i64 =
        sqlx::query_scalar("SELECT 60 - count(*) FROM inventories WHERE character_id = $1")
            .bind(c.0)
            .fetch_one(store.pool())
            .await
            .unwrap();
    for _ in 0..free {
        grant_bag_item(store, c, 200, 1).await;
    }
}

/// The items in `c`'s bag as (item, definition, quantity, slot), by slot.
pub async fn bag_items(store: &Store, c: CharacterId) -> Vec<(i64, i32, i32, i16)> {
    sqlx::query_as(
        "SELECT i.id, i.def_id, i.quantity, inv.slot FROM inventories inv
         JOIN item_instances i ON i.id = inv.item_id WHERE inv.character_id = $1 ORDER BY inv.slot",
    )
    .bind(c.0)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// Rows of a table (a fixed name from the test's own code).
pub async fn row_count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Rows of `game_logs` of one event type.
pub async fn log_count(store: &Store, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM game_logs WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Everything an economy action may change, read back whole so that a test can check a refusal
/// changed nothing.
#[derive(Debug, PartialEq)]
pub struct EconomySnapshot {
    /// (character, gold)
    pub purses: Vec<(i64, i64)>,
    /// (item, definition, quantity, location)
    pub items: Vec<(i64, i32, i32, String)>,
    /// (character, slot, item)
    pub bags: Vec<(i64, i16, i64)>,
    /// (mail, recipient, gold, read, claimed)
    pub mails: Vec<(i64, i64, i64, bool, bool)>,
    /// (mail, position, item)
    pub attachments: Vec<(i64, i16, i64)>,
    /// (listing, seller, item, price)
    pub listings: Vec<(i64, i64, i64, i64)>,
    pub log_rows: i64,
}

pub async fn economy_snapshot(store: &Store) -> EconomySnapshot {
    let p = store.pool();
    EconomySnapshot {
        purses: sqlx::query_as("SELECT id, gold FROM characters ORDER BY id")
            .fetch_all(p)
            .await
            .unwrap(),
        items: sqlx::query_as(
            "SELECT id, def_id, quantity, location FROM item_instances ORDER BY id",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        bags: sqlx::query_as("SELECT character_id, slot, item_id FROM inventories ORDER BY 1, 2")
            .fetch_all(p)
            .await
            .unwrap(),
        mails: sqlx::query_as(
            "SELECT id, recipient_character_id, gold, read_at IS NOT NULL, claimed_at IS NOT NULL
             FROM mail ORDER BY id",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        attachments: sqlx::query_as(
            "SELECT mail_id, position, item_id FROM mail_attachments ORDER BY 1, 2",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        listings: sqlx::query_as(
            "SELECT id, seller_character_id, item_id, price FROM marketplace_listings ORDER BY id",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        log_rows: row_count(store, "game_logs").await,
    }
}

/// The refusal of a call that must be refused (not an operating error).
pub fn refusal<T: std::fmt::Debug>(
    r: Result<T, realmkeep_store::StoreError>,
) -> realmkeep_store::Refusal {
    r.expect_err("should be refused")
        .refusal()
        .cloned()
        .expect("a refusal, not an operating error")
}

/// An actor out of the world.
pub fn off(c: CharacterId) -> Actor {
    Actor::Offline(c)
}

/// The SQLSTATE and constraint name of a statement or commit the database must refuse (the
/// tests that go around the store's code with raw SQL).
pub fn sql_refused(r: Result<impl std::fmt::Debug, sqlx::Error>) -> (String, String) {
    let err = r.expect_err("the database refuses");
    let db = err.as_database_error().expect("a database error");
    (
        db.code().unwrap_or_default().to_string(),
        db.constraint().unwrap_or_default().to_string(),
    )
}

/// Runs `sqls` in one transaction and commits (deferred checks run at the commit).
pub async fn commit_all(store: &Store, sqls: &[String]) -> Result<(), sqlx::Error> {
    let mut tx = store.pool().begin().await?;
    for sql in sqls {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
