//! The database refuses states the rules refuse, whoever writes them: each test goes around the
//! store's code with raw SQL and watches PostgreSQL say no (migration 20261201000003, and the
//! column checks of migration 1, on domains since migration 20261204000009).

mod support;

use support::{commit_all, sql_refused as refused};

use chrono::{Duration as Age, Utc};
use realmkeep_store::Store;
use realmkeep_testkit::fresh_db;

/// Runs one of this file's own statements (raw SQL is what these tests are about).
async fn exec(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(store.pool())
        .await
        .map(|r| r.rows_affected())
}

#[tokio::test]
async fn a_ban_needs_a_reason_and_an_issuer_that_are_not_blank() {
    let db = fresh_db().await;
    let s = &db.store;
    let acc = support::account(s, "banme").await;
    for (reason, issuer, constraint) in [
        ("", "gm", "bans_reason_given"),
        ("   ", "gm", "bans_reason_given"),
        ("\t\n", "gm", "bans_reason_given"),
        ("cheating", "", "bans_issuer_given"),
        ("cheating", "  ", "bans_issuer_given"),
    ] {
        let r = sqlx::query("INSERT INTO bans (account_id, reason, issued_by) VALUES ($1, $2, $3)")
            .bind(acc.0)
            .bind(reason)
            .bind(issuer)
            .execute(s.pool())
            .await;
        assert_eq!(
            refused(r),
            ("23514".into(), constraint.into()),
            "{reason:?} {issuer:?}"
        );
    }
    exec(
        s,
        &format!(
            "INSERT INTO bans (account_id, reason, issued_by) VALUES ({}, 'cheating', 'gm')",
            acc.0
        ),
    )
    .await
    .unwrap();
    let r = exec(
        s,
        "UPDATE bans SET revoked_at = now(), revoked_by = ' ', revoke_reason = 'ok'",
    )
    .await;
    assert_eq!(refused(r), ("23514".into(), "bans_revocation_given".into()));
    assert_eq!(
        support::row_count(s, "bans WHERE revoked_at IS NULL").await,
        1
    );
}

#[tokio::test]
async fn names_equal_but_for_surrounding_spaces_are_refused() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Arwen").await;
    let account: i64 = sqlx::query_scalar("SELECT account_id FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap();
    for name in [" Arwen", "arwen ", "  ARWEN\t", ""] {
        let r = sqlx::query(
            "INSERT INTO characters (account_id, name, class, kingdom, strength, agility,
                                     intellect, stamina, health, mana, zone_id)
             VALUES ($1, $2, 'mage', 'aldor', 1, 1, 1, 1, 1, 1, 1)",
        )
        .bind(account)
        .bind(name)
        .execute(s.pool())
        .await;
        assert_eq!(
            refused(r),
            ("23514".into(), "characters_name_trimmed".into()),
            "{name:?}"
        );
    }
    let r = exec(
        s,
        &format!("UPDATE characters SET name = 'Arwen ' WHERE id = {}", c.0),
    )
    .await;
    assert_eq!(
        refused(r),
        ("23514".into(), "characters_name_trimmed".into())
    );
    exec(
        s,
        &format!(
            "INSERT INTO guilds (name, leader_character_id) VALUES ('Night Watch', {})",
            c.0
        ),
    )
    .await
    .unwrap();
    let r = exec(
        s,
        &format!(
            "INSERT INTO guilds (name, leader_character_id) VALUES (' Night Watch', {})",
            c.0
        ),
    )
    .await;
    assert_eq!(refused(r), ("23514".into(), "guilds_name_trimmed".into()));
    let r = exec(
        s,
        "INSERT INTO accounts (username, email, password_hash) VALUES ('banme ', 'x@y', 'h')",
    )
    .await;
    assert_eq!(
        refused(r),
        ("23514".into(), "accounts_username_trimmed".into())
    );
    assert_eq!(support::row_count(s, "characters").await, 1);
    assert_eq!(support::row_count(s, "guilds").await, 1);
}

#[tokio::test]
async fn a_stack_above_its_max_stack_is_refused() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Stacker").await;
    // Wolf Pelt (200) stacks to 50.
    let pelt = support::grant_bag_item(s, c, 200, 50).await;
    let before = support::economy_snapshot(s).await;
    let r = exec(
        s,
        &format!(
            "UPDATE item_instances SET quantity = 51 WHERE id = {}",
            pelt.0
        ),
    )
    .await;
    assert_eq!(refused(r), ("23514".into(), "item_stack_within_max".into()));
    let r = commit_all(
        s,
        &[
            "INSERT INTO item_instances (def_id, quantity, location, origin)
             VALUES (200, 51, 'inventory', 'test')"
                .into(),
            format!(
                "INSERT INTO inventories (character_id, slot, item_id)
                 VALUES ({}, 58, currval('item_instances_id_seq'))",
                c.0
            ),
        ],
    )
    .await;
    assert_eq!(refused(r), ("23514".into(), "item_stack_within_max".into()));
    let r = exec(
        s,
        &format!(
            "UPDATE item_instances SET def_id = 100 WHERE id = {}",
            pelt.0
        ),
    )
    .await;
    assert_eq!(
        refused(r),
        ("23514".into(), "item_stack_within_max".into()),
        "50 potions do not fit a stack of 20"
    );
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "nothing changed"
    );
}

#[tokio::test]
async fn an_item_equipped_in_a_slot_its_definition_does_not_name_is_refused() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Wearer").await;
    let before = support::economy_snapshot(s).await;
    // A Leather Cap (12, head) on the feet; a Wolf Pelt (200, no slot) on the head.
    for (def, slot) in [(12, "feet"), (200, "head")] {
        let r = commit_all(
            s,
            &[
                format!(
                    "DELETE FROM equipment WHERE character_id = {} AND slot = '{slot}'",
                    c.0
                ),
                format!(
                    "INSERT INTO item_instances (def_id, quantity, location, origin)
                     VALUES ({def}, 1, 'equipment', 'test')"
                ),
                format!(
                    "INSERT INTO equipment (character_id, slot, item_id)
                     VALUES ({}, '{slot}', currval('item_instances_id_seq'))",
                    c.0
                ),
            ],
        )
        .await;
        assert_eq!(
            refused(r),
            ("23514".into(), "item_equipped_in_its_slot".into()),
            "{def} in {slot}"
        );
    }
    // Moving an equipped weapon to another slot.
    let r = exec(
        s,
        &format!(
            "UPDATE equipment SET slot = 'off_hand' WHERE character_id = {} AND slot = 'main_hand'",
            c.0
        ),
    )
    .await;
    assert_eq!(
        refused(r),
        ("23514".into(), "item_equipped_in_its_slot".into())
    );
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_listing_that_does_not_show_its_item_is_refused() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Seller").await;
    let pelts = support::grant_bag_item(s, c, 200, 10).await;
    let list = |def: i32, qty: i32| {
        vec![
            format!("DELETE FROM inventories WHERE item_id = {}", pelts.0),
            format!(
                "UPDATE item_instances SET location = 'market' WHERE id = {}",
                pelts.0
            ),
            format!(
                "INSERT INTO marketplace_listings
                     (seller_character_id, item_id, item_def_id, quantity, price, expires_at)
                 VALUES ({}, {}, {def}, {qty}, 100, now() + interval '1 day')",
                c.0, pelts.0
            ),
        ]
    };
    let before = support::economy_snapshot(s).await;
    for (def, qty) in [(200, 9), (200, 11), (201, 10)] {
        let r = commit_all(s, &list(def, qty)).await;
        assert_eq!(
            refused(r),
            ("23514".into(), "listing_matches_item".into()),
            "{qty} of {def}"
        );
    }
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "nothing changed"
    );
    commit_all(s, &list(200, 10)).await.unwrap();
    for sql in [
        format!(
            "UPDATE item_instances SET quantity = 3 WHERE id = {}",
            pelts.0
        ),
        format!(
            "UPDATE marketplace_listings SET quantity = 50 WHERE item_id = {}",
            pelts.0
        ),
    ] {
        let r = exec(s, &sql).await;
        assert_eq!(
            refused(r),
            ("23514".into(), "listing_matches_item".into()),
            "{sql}"
        );
    }
}

#[tokio::test]
async fn truncating_one_month_of_game_logs_is_refused_for_old_and_new_partitions() {
    let db = fresh_db().await;
    let s = &db.store;
    let this_month = s.ensure_log_partition_for(Utc::now()).await.unwrap();
    // A partition made after the migrations, far ahead, by the store's own path.
    let later = s
        .ensure_log_partition_for(Utc::now() + Age::days(30 * 20))
        .await
        .unwrap();
    assert_ne!(this_month, later);
    s.append_logs(&[realmkeep_store::logs::LogEvent::new("kept").gold(7)])
        .await
        .unwrap();
    let before = support::row_count(s, "game_logs").await;
    for table in [&this_month, &later] {
        let r = exec(s, &format!("TRUNCATE {table}")).await;
        assert_eq!(refused(r).0, "42501", "TRUNCATE {table}");
    }
    assert_eq!(support::row_count(s, "game_logs").await, before);
    let unguarded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_inherits i WHERE i.inhparent = 'game_logs'::regclass
           AND NOT EXISTS (SELECT 1 FROM pg_trigger t
                           WHERE t.tgrelid = i.inhrelid AND t.tgname = 'game_logs_no_truncate')",
    )
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert_eq!(unguarded, 0, "every partition is guarded");
}

/// The placement trigger on `inventories` watches the columns that can take an item out of its
/// place (migration 20261203000008): a bag row may change bags (a trade moves items so), but a
/// bag row pointed at another item leaves the first one nowhere, and the commit refuses it.
#[tokio::test]
async fn a_bag_row_may_change_bags_but_not_leave_its_item_nowhere() {
    let db = fresh_db().await;
    let s = &db.store;
    let ivy = support::character(s, "Ivy").await;
    let jon = support::character(s, "Jon").await;
    let pelt = support::grant_bag_item(s, ivy, 200, 1).await;
    commit_all(
        s,
        &[format!(
            "UPDATE inventories SET character_id = {}, slot = 59 WHERE item_id = {}",
            jon.0, pelt.0
        )],
    )
    .await
    .expect("an item may change bags in place");
    support::assert_items_placed(s).await;
    let before = support::economy_snapshot(s).await;
    let r = commit_all(
        s,
        &[
            "INSERT INTO item_instances (def_id, quantity, location, origin)
             VALUES (200, 1, 'inventory', 'test')"
                .into(),
            format!(
                "UPDATE inventories SET item_id = currval('item_instances_id_seq') WHERE item_id = {}",
                pelt.0
            ),
        ],
    )
    .await;
    assert_eq!(refused(r), ("23514".into(), "item_must_be_placed".into()));
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "nothing changed"
    );
}

/// A character's row as text, to see that a refused statement changed nothing.
async fn character_row(store: &Store, c: realmkeep_domain::CharacterId) -> String {
    sqlx::query_scalar("SELECT row_to_json(c)::text FROM characters c WHERE id = $1")
        .bind(c.0)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_column_rule_of_a_character_and_a_bag_slot_refuses_under_its_own_name() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Ruled").await;
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
        "name = 'Ruled Two'",
    ] {
        let sql = format!("UPDATE characters SET {set} WHERE id = {}", c.0);
        assert_eq!(exec(s, &sql).await.unwrap(), 1, "{set}");
    }
    let before = character_row(s, c).await;
    for (set, constraint) in [
        ("name = ''", "characters_name_trimmed"),
        ("name = ' Ruled'", "characters_name_trimmed"),
        ("class = 'bard'", "characters_class_check"),
        ("kingdom = 'atlantis'", "characters_kingdom_check"),
        ("level = 0", "characters_level_check"),
        ("level = 61", "characters_level_check"),
        ("xp = -1", "characters_xp_check"),
        ("gold = -1", "characters_gold_check"),
        ("gold = 1000000000001", "characters_gold_check"),
        ("health = -1", "characters_health_check"),
        ("mana = -1", "characters_mana_check"),
        ("pvp_kills = -1", "characters_pvp_kills_check"),
        ("claim_holder = 'node-x'", "characters_check"),
    ] {
        let r = exec(
            s,
            &format!("UPDATE characters SET {set} WHERE id = {}", c.0),
        )
        .await;
        assert_eq!(refused(r), ("23514".into(), constraint.into()), "{set}");
    }
    assert_eq!(character_row(s, c).await, before);
    // A bag slot outside the bag, whether set or inserted.
    let bag = support::bag_items(s, c).await;
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
        let r = commit_all(
            s,
            &[
                "INSERT INTO item_instances (id, def_id, quantity, location, origin) OVERRIDING SYSTEM VALUE VALUES (999999, 2, 1, 'inventory', 'test')".to_string(),
                format!("INSERT INTO inventories (character_id, slot, item_id) VALUES ({}, {slot}, 999999)", c.0),
            ],
        )
        .await;
        assert_eq!(
            refused(r),
            ("23514".into(), "inventories_slot_check".into()),
            "{slot}"
        );
    }
    assert_eq!(support::bag_items(s, c).await.len(), bag.len() + 1);
}

/// Migration 20261204000013 dropped the index of items by definition (no query reads it; every
/// item written paid for it): a definition that items use is still refused, deleted or renumbered
/// (the key now finds the items by scanning), and nothing changes.
#[tokio::test]
async fn a_definition_in_use_stays_without_the_index_of_items_by_definition() {
    let db = fresh_db().await;
    let s = &db.store;
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = 'item_instances' ORDER BY 1",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert_eq!(
        indexes,
        ["item_instances_id_location_key", "item_instances_pkey"],
        "items are found by id only"
    );
    let c = support::character(s, "Keeper").await;
    support::grant_bag_item(s, c, 200, 1).await;
    let before = support::economy_snapshot(s).await;
    let defs = "SELECT count(*) FROM item_definitions";
    let n: i64 = sqlx::query_scalar(defs).fetch_one(s.pool()).await.unwrap();
    for sql in [
        "DELETE FROM item_definitions WHERE id = 200",
        "UPDATE item_definitions SET id = 9200 WHERE id = 200",
    ] {
        let r = commit_all(s, &[sql.into()]).await;
        assert_eq!(
            refused(r),
            ("23503".into(), "item_instances_def_id_fkey".into()),
            "{sql}"
        );
    }
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "nothing changed"
    );
    let after: i64 = sqlx::query_scalar(defs).fetch_one(s.pool()).await.unwrap();
    assert_eq!(after, n, "every definition is still there");
}
