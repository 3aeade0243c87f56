//! The shipped migrations: they pass the expand-only lint, apply to an empty database, run again
//! as a no-op, and leave a schema on which the store's reads work.
//!
//! About "the previous release": this crate's read queries stand in for the queries of the release
//! before the next migration. When a migration is added, this test runs the unchanged reads of the
//! commit before it against the migrated schema; it cannot replay an older binary, so review still
//! matters (see `migration_lint`).

mod support;

use realmkeep_domain::{CharacterName, Class, Kingdom};
use realmkeep_store::bans::BanTarget;
use realmkeep_store::logs::LogEvent;
use realmkeep_store::migration_lint::{
    check_dir, check_shipped, checksum_lines, Rule, CHECKSUMS_FILE,
};
use realmkeep_store::{Store, MIGRATOR};
use realmkeep_testkit::empty_db;
use std::path::PathBuf;

fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

fn listing(v: &[realmkeep_store::migration_lint::Violation]) -> String {
    v.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_shipped_migrations_pass_the_lint_and_match_their_checksums() {
    let embedded = check_shipped();
    assert!(embedded.is_empty(), "{}", listing(&embedded));
    let on_disk = check_dir(&migrations_dir()).unwrap();
    assert!(on_disk.is_empty(), "{}", listing(&on_disk));
    // Every shipped line of CHECKSUMS is what `checksum_lines` computes for the file today (new
    // migrations are appended to CHECKSUMS when their release ships, so they may be absent).
    let current = checksum_lines(&migrations_dir()).unwrap();
    let listed = std::fs::read_to_string(migrations_dir().join(CHECKSUMS_FILE)).unwrap();
    let shipped: Vec<&str> = listed
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert!(!shipped.is_empty(), "release 1 is shipped");
    for line in shipped {
        assert!(
            current.lines().any(|l| l == line),
            "{line} no longer matches its file"
        );
    }
}

#[tokio::test]
async fn check_dir_catches_an_edited_shipped_migration_a_bad_name_and_a_drop() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(migrations_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    assert!(
        check_dir(dir.path()).unwrap().is_empty(),
        "the copy is clean"
    );

    let shipped = dir.path().join("20261127000001_schema.sql");
    let mut sql = std::fs::read_to_string(&shipped).unwrap();
    sql.push_str("\n-- an innocent-looking edit\n");
    std::fs::write(&shipped, sql).unwrap();
    std::fs::write(dir.path().join("20991231000000_Bad Name.sql"), "SELECT 1;").unwrap();
    std::fs::write(
        dir.path().join("20991231000001_drop_bans.sql"),
        "SELECT 1;\nDROP TABLE bans;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("20991231000002_contract.sql"),
        "-- realmkeep:contract: nothing uses old_table since release 2\nDROP TABLE old_table;\n",
    )
    .unwrap();
    let mut found: Vec<(String, Rule, usize)> = check_dir(dir.path())
        .unwrap()
        .into_iter()
        .map(|v| (v.migration, v.rule, v.line))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("20261127000001_schema.sql".into(), Rule::ShippedEdited, 0),
            ("20991231000000_Bad Name.sql".into(), Rule::Naming, 0),
            ("20991231000001_drop_bans.sql".into(), Rule::Drop, 2),
        ]
    );

    std::fs::remove_file(dir.path().join(CHECKSUMS_FILE)).unwrap();
    assert!(check_dir(dir.path())
        .unwrap()
        .iter()
        .any(|v| v.rule == Rule::Checksums));
}

/// What the migrations built: every column, index, function and trigger of the public schema.
async fn schema_fingerprint(store: &Store) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '
                || is_nullable || ' ' || coalesce(column_default, '')
         FROM information_schema.columns WHERE table_schema = 'public'
         UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes
         WHERE schemaname = 'public'
         UNION ALL SELECT 'function ' || p.proname || ' ' || md5(p.prosrc) FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
         UNION ALL SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger
         WHERE NOT tgisinternal OR tgconstraint <> 0
         ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
}

async fn applied(store: &Store) -> Vec<(i64, bool, chrono::DateTime<chrono::Utc>)> {
    sqlx::query_as("SELECT version, success, installed_on FROM _sqlx_migrations ORDER BY version")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_a_second_run_changes_nothing() {
    let (url, _name) = empty_db().await;
    let store = Store::connect(&url, &Default::default()).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(tables, 0, "the database starts empty");

    store.migrate().await.unwrap();
    let first = applied(&store).await;
    let expected: Vec<i64> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    assert_eq!(
        first.iter().map(|a| a.0).collect::<Vec<_>>(),
        expected,
        "every migration applied once, in order"
    );
    assert!(first.iter().all(|a| a.1), "every migration succeeded");
    for table in [
        "accounts",
        "characters",
        "item_instances",
        "game_logs",
        "bans",
    ] {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(table)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(exists, "{table} exists");
    }
    let schema = schema_fingerprint(&store).await;
    assert!(schema.len() > 50, "the fingerprint sees the schema");

    store.migrate().await.unwrap();
    assert_eq!(applied(&store).await, first, "nothing applied again");
    assert_eq!(
        schema_fingerprint(&store).await,
        schema,
        "the schema is unchanged"
    );
    store.close().await;
}

#[tokio::test]
async fn the_stores_reads_work_on_a_schema_built_only_by_migrations() {
    let (url, _name) = empty_db().await;
    let store = Store::connect(&url, &Default::default()).await.unwrap();
    store.migrate().await.unwrap();
    store
        .seed_content(&realmkeep_store::seed::bundled_content().unwrap())
        .await
        .unwrap();
    let effect: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT effect FROM skill_definitions WHERE name = 'Frost Nova'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        effect,
        Some(
            serde_json::json!({"kind": "slow", "percent": 50, "duration_ms": 4000, "on_caster": false})
        ),
        "a skill's effect is content, seeded with the skill"
    );
    let account = support::account(&store, "oldrelease").await;
    let c = store
        .create_character(
            account,
            &CharacterName::parse("Veteran").unwrap(),
            Class::Mage,
            Kingdom::Veyra,
        )
        .await
        .unwrap();
    store
        .append_logs(&[LogEvent::new("test_event").actor(c.0).gold(5)])
        .await
        .unwrap();
    store
        .ban(BanTarget::Account(account), "testing reads", "gm", None)
        .await
        .unwrap();

    let listed = store.list_characters(account).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].level), (c.0, 1));
    let loaded = store.load_character(c).await.unwrap();
    assert_eq!(loaded.name.as_str(), "Veteran");
    assert_eq!(loaded.gold, 100);
    assert_eq!(loaded.equipment.len(), 2);
    assert_eq!(loaded.inventory.len(), 1, "potions are in the bag");
    assert_eq!(loaded.inventory[0].quantity, 5);
    assert_eq!(
        store.character_id_by_name("veteran").await.unwrap(),
        Some(c)
    );
    assert!(!store.claim_info(c).await.unwrap().live);
    let logs = store.logs_of_character(c.0, 10).await.unwrap();
    assert!(logs
        .iter()
        .any(|l| l.event_type == "test_event" && l.gold == Some(5)));
    assert_eq!(
        store
            .ban_history(BanTarget::Account(account))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .active_ban(Some(account), None)
        .await
        .unwrap()
        .is_some());
    store.close().await;
}
