//! The single-column rules of `characters` and the bag slot live on domains (migration
//! 20261204000009), so a statement that writes these tables does not plan every CHECK again. The
//! tests go around the store's code with raw SQL: a new row is refused as before, under the same
//! SQLSTATE and constraint name, and the tables keep only the checks that cannot move.

mod support;

use support::sql_refused as refused;

use realmkeep_testkit::fresh_db;

/// A domain's check runs where a value is assigned to its column, so a new row is checked too:
/// the same refusal, under the same name, as the table's CHECK gave. (The rules of an update, each
/// column's bounds and the bag slot are in `rule_constraints.rs`.)
#[tokio::test]
async fn a_new_row_is_refused_under_the_column_rules_name() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Domain").await;
    let account: i64 = sqlx::query_scalar("SELECT account_id FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap();
    for (column, value, constraint) in [
        ("health", "-5", "characters_health_check"),
        ("level", "61", "characters_level_check"),
        ("gold", "1000000000001", "characters_gold_check"),
        ("name", "' Other'", "characters_name_trimmed"),
    ] {
        // A valid new character but for one column.
        let mut row = [
            ("name", "'Other'"),
            ("class", "'mage'"),
            ("kingdom", "'aldor'"),
            ("level", "1"),
            ("gold", "0"),
            ("strength", "1"),
            ("agility", "1"),
            ("intellect", "1"),
            ("stamina", "1"),
            ("health", "1"),
            ("mana", "1"),
            ("zone_id", "1"),
        ];
        row.iter_mut().find(|(c, _)| *c == column).unwrap().1 = value;
        let columns: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
        let values: Vec<&str> = row.iter().map(|(_, v)| *v).collect();
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO characters (account_id, {}) VALUES ($1, {})",
            columns.join(", "),
            values.join(", ")
        )))
        .bind(account)
        .execute(s.pool())
        .await;
        assert_eq!(refused(r), ("23514".into(), constraint.into()), "{column}");
    }
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
