//! The single-column rules of `characters` and the bag slot live on domains (migration
//! 20261204000009), so a statement that writes these tables does not plan every CHECK again. The
//! tests go around the store's code with raw SQL: the same values are refused as before, under
//! the same SQLSTATE and constraint names, and the tables keep only the checks that cannot move.

mod support;

use realmkeep_store::Store;
use realmkeep_testkit::fresh_db;

/// The SQLSTATE and constraint name of a refused statement.
fn refused(r: Result<impl std::fmt::Debug, sqlx::Error>) -> (String, String) {
    let err = r.expect_err("the database refuses");
    let db = err.as_database_error().expect("a database error");
    (
        db.code().unwrap_or_default().to_string(),
        db.constraint().unwrap_or_default().to_string(),
    )
}

/// Runs one of this file's own statements (raw SQL is what these tests are about).
async fn exec(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(store.pool())
        .await
        .map(|r| r.rows_affected())
}

#[tokio::test]
async fn each_column_rule_refuses_what_it_refused_under_its_own_name() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Domain").await;
    let before: String =
        sqlx::query_scalar("SELECT row_to_json(c)::text FROM characters c WHERE id = $1")
            .bind(c.0)
            .fetch_one(s.pool())
            .await
            .unwrap();
    for (set, constraint) in [
        ("name = ''", "characters_name_trimmed"),
        ("name = ' Domain'", "characters_name_trimmed"),
        ("class = 'bard'", "characters_class_check"),
        ("kingdom = 'atlantis'", "characters_kingdom_check"),
        ("level = 0", "characters_level_check"),
        ("level = 61", "characters_level_check"),
        ("xp = -1", "characters_xp_check"),
        ("gold = -1", "characters_gold_check"),
        ("gold = 1000000000001", "characters_gold_check"),
        ("gold = gold - gold - 1", "characters_gold_check"),
        ("health = -1", "characters_health_check"),
        ("mana = -1", "characters_mana_check"),
        ("pvp_kills = -1", "characters_pvp_kills_check"),
        // The two-column rule stays a table check, refused as before.
        ("claim_holder = 'node-x'", "characters_check"),
    ] {
        let r = exec(
            s,
            &format!("UPDATE characters SET {set} WHERE id = {}", c.0),
        )
        .await;
        assert_eq!(refused(r), ("23514".into(), constraint.into()), "{set}");
    }
    // The bounds themselves are allowed.
    for set in [
        "level = 60",
        "level = 1",
        "xp = 0",
        "gold = 1000000000000",
        "gold = 0",
        "health = 0",
        "mana = 0",
        "pvp_kills = 0",
        "class = 'cleric'",
        "kingdom = 'korrim'",
        "name = 'Domain Two'",
    ] {
        assert_eq!(
            exec(
                s,
                &format!("UPDATE characters SET {set} WHERE id = {}", c.0)
            )
            .await
            .unwrap(),
            1,
            "{set}"
        );
    }
    // A new row is checked column by column too.
    let account: i64 = sqlx::query_scalar("SELECT account_id FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap();
    let r = sqlx::query(
        "INSERT INTO characters (account_id, name, class, kingdom, strength, agility,
                                 intellect, stamina, health, mana, zone_id)
         VALUES ($1, 'Other', 'mage', 'aldor', 1, 1, 1, 1, -5, 1, 1)",
    )
    .bind(account)
    .execute(s.pool())
    .await;
    assert_eq!(
        refused(r),
        ("23514".into(), "characters_health_check".into())
    );
    // A bag slot outside the bag, whether set or inserted.
    let bag = support::bag_items(s, c).await.len();
    let item = support::grant_bag_item(s, c, 2, 1).await;
    for slot in [-1, 60] {
        let r = exec(
            s,
            &format!(
                "UPDATE inventories SET slot = {slot} WHERE item_id = {}",
                item.0
            ),
        )
        .await;
        assert_eq!(
            refused(r),
            ("23514".into(), "inventories_slot_check".into()),
            "{slot}"
        );
    }
    assert_eq!(support::bag_items(s, c).await.len(), bag + 1);
    // Nothing refused changed anything: the row is the one the last allowed update left.
    let after: String =
        sqlx::query_scalar("SELECT row_to_json(c)::text FROM characters c WHERE id = $1")
            .bind(c.0)
            .fetch_one(s.pool())
            .await
            .unwrap();
    assert_ne!(before, after);
    assert!(after.contains("\"name\":\"Domain Two\""), "{after}");
    assert!(after.contains("\"gold\":0"), "{after}");
    assert_eq!(support::row_count(s, "characters").await, 1);
}

/// PostgreSQL 15 plans every CHECK of a table again in each statement that writes it, whatever
/// columns it sets; a single-column rule belongs on the column's domain, where it is planned once
/// per connection and checked only when the column is assigned. What stays on `characters` and
/// `inventories` cannot move: the claim's two-column rule, and the bag's `location`, which the
/// placement trigger watches (a column a trigger names cannot change its type).
#[tokio::test]
async fn the_tables_every_economy_action_writes_keep_only_the_checks_that_cannot_move() {
    let db = fresh_db().await;
    let checks: Vec<(String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, conname::text FROM pg_constraint
         WHERE contype = 'c' AND conrelid IN ('characters'::regclass, 'inventories'::regclass)
         ORDER BY 1, 2",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        checks,
        [
            ("characters".to_string(), "characters_check".to_string()),
            (
                "inventories".to_string(),
                "inventories_location_check".to_string()
            ),
        ]
    );
}
