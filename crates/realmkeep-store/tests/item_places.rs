//! An item stands in exactly the one place its `location` names, and the database holds it there
//! whoever writes (`items.sql`; migrations 20261127000001, 20261204000010, 20261204000012): these
//! tests go around the store's code with raw SQL. They cover what the cheaper forms of the checks
//! must still refuse: a place row gone whose item moved skips its own check (the item's row
//! checks the new place), the place keys refuse at once (`ON UPDATE RESTRICT`) an item that
//! leaves a place row behind, and the item's own triggers watch only the columns their rules read
//! (the rules of the place it moves to are its place row's).

mod support;

use realmkeep_domain::Gold;
use realmkeep_store::Store;
use realmkeep_testkit::fresh_db;
use support::{commit_all, sql_refused};

const PLACED: (&str, &str) = ("23514", "item_must_be_placed");

fn placed_rule() -> (String, String) {
    (PLACED.0.into(), PLACED.1.into())
}

/// A listed item of a new seller named `name`: its listing's id and its item's id.
async fn listed(s: &Store, name: &str) -> (i64, i64) {
    let c = support::character(s, name).await;
    let item = support::grant_bag_item(s, c, 200, 1).await;
    let listing = s
        .list_item(support::off(c), item, Gold::new(5).unwrap(), 24)
        .await
        .unwrap();
    (listing.0, item.0)
}

#[tokio::test]
async fn an_item_that_leaves_its_place_must_stand_in_its_new_one_at_the_commit() {
    let db = fresh_db().await;
    let s = &db.store;
    let buyer = support::character(s, "Buyer").await;
    let (listing, item) = listed(s, "Seller").await;
    let bagged = support::grant_bag_item(s, buyer, 200, 1).await.0;
    let before = support::economy_snapshot(s).await;
    let unlist = format!("DELETE FROM marketplace_listings WHERE id = {listing}");
    let to_bag = format!("UPDATE item_instances SET location = 'inventory' WHERE id = {item}");
    let unbag = format!("DELETE FROM inventories WHERE item_id = {bagged}");
    let to =
        |place: &str| format!("UPDATE item_instances SET location = '{place}' WHERE id = {bagged}");
    for (sqls, what) in [
        // The listing's row no longer checks the item (it moved); the item's row does, in the
        // bag it names.
        (
            vec![unlist.clone(), to_bag.clone()],
            "moved to a bag it is not in",
        ),
        // The listing's row checks it.
        (vec![unlist.clone()], "left in a market without its listing"),
        // Checks made to run early in the middle of a move run the item's own check then.
        (
            vec![
                unlist.clone(),
                to_bag.clone(),
                "SET CONSTRAINTS ALL IMMEDIATE".into(),
            ],
            "checked early, half moved",
        ),
        (
            vec![unbag.clone(), to("mail")],
            "moved to mail it is not in",
        ),
        (
            vec![unbag.clone(), to("mail"), to("inventory")],
            "back to the bag it left",
        ),
    ] {
        assert_eq!(
            sql_refused(commit_all(s, &sqls).await),
            placed_rule(),
            "{what}"
        );
        assert_eq!(
            support::economy_snapshot(s).await,
            before,
            "{what}: nothing changed"
        );
    }
    // The whole move, as a purchase makes it, is accepted.
    commit_all(
        s,
        &[
            format!("DELETE FROM marketplace_listings WHERE id = {listing}"),
            format!("UPDATE item_instances SET location = 'inventory' WHERE id = {item}"),
            format!(
                "INSERT INTO inventories (character_id, slot, item_id) VALUES ({}, 40, {item})",
                buyer.0
            ),
        ],
    )
    .await
    .expect("a whole move is accepted");
    support::assert_items_placed(s).await;
}

#[tokio::test]
async fn an_item_cannot_leave_a_place_row_behind_even_within_a_transaction() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Keeper").await;
    let item = support::grant_bag_item(s, c, 200, 1).await.0;
    let (_, listed_item) = listed(s, "Lister").await;
    let before = support::economy_snapshot(s).await;
    for (sql, key) in [
        (
            format!("UPDATE item_instances SET location = 'mail' WHERE id = {item}"),
            "inventories_item_id_location_fkey",
        ),
        (
            format!("UPDATE item_instances SET location = 'inventory' WHERE id = {listed_item}"),
            "marketplace_listings_item_id_location_fkey",
        ),
    ] {
        // Refused by the statement itself, not at the commit: the place keys are `ON UPDATE
        // RESTRICT`, so every flow removes the old place row first.
        let mut tx = s.pool().begin().await.unwrap();
        let r = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .execute(&mut *tx)
            .await
            .map(|_| ());
        assert_eq!(sql_refused(r), ("23503".into(), key.into()), "{sql}");
        tx.rollback().await.unwrap();
    }
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "nothing changed"
    );
    // The four keys: restrict on update, no action (deferred) on delete, still deferred for the
    // place rows' own writes, valid.
    let keys: Vec<(String, String, String, bool, bool, bool)> = sqlx::query_as(
        "SELECT conname::text, confupdtype::text, confdeltype::text, condeferrable, condeferred,
                convalidated
         FROM pg_constraint WHERE confrelid = 'item_instances'::regclass ORDER BY conname",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    let names: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "equipment_item_id_location_fkey",
            "inventories_item_id_location_fkey",
            "mail_attachments_item_id_location_fkey",
            "marketplace_listings_item_id_location_fkey",
        ]
    );
    for k in &keys {
        assert_eq!(
            (k.1.as_str(), k.2.as_str(), k.3, k.4, k.5),
            ("r", "a", true, true, true),
            "{}",
            k.0
        );
    }
}

#[tokio::test]
async fn the_items_own_checks_watch_only_the_columns_their_rules_read() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Mover").await;
    let cap = support::grant_bag_item(s, c, 12, 1).await.0;
    let before = support::economy_snapshot(s).await;
    // A new item with no place, its id renewed (`SET id = DEFAULT`, which an identity allows):
    // the insert's check finds no item under the old id, so the renewal is checked itself.
    let r = commit_all(
        s,
        &[
            "INSERT INTO item_instances (def_id, quantity, location, origin)
             VALUES (200, 1, 'inventory', 'test')"
                .into(),
            "UPDATE item_instances SET id = DEFAULT WHERE id = currval('item_instances_id_seq')"
                .into(),
        ],
    )
    .await;
    assert_eq!(sql_refused(r), placed_rule(), "an unplaced item renewed");
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "nothing changed"
    );
    // Moves into a place with rules, in either order of the item's move and its place row, the
    // row's `item_rules` made to run early (it then sees the item still in the bag): the item's
    // `item_rules_on_arrival` checks it after its move. A cap (its definition names the head)
    // onto the feet; a pelt (1 of definition 200) under a listing that shows 999 of 12.
    let pelt = support::grant_bag_item(s, c, 200, 1).await.0;
    let before = support::economy_snapshot(s).await;
    let onto_feet = format!(
        "INSERT INTO equipment (character_id, slot, item_id) VALUES ({}, 'feet', {cap})",
        c.0
    );
    let listed_wrong = format!(
        "INSERT INTO marketplace_listings
             (seller_character_id, item_id, item_def_id, quantity, price, expires_at)
         VALUES ({}, {pelt}, 12, 999, 100, now() + interval '1 day')",
        c.0
    );
    let early = "SET CONSTRAINTS item_rules IMMEDIATE".to_string();
    for (item, place, row, rule) in [
        (cap, "equipment", &onto_feet, "item_equipped_in_its_slot"),
        (pelt, "market", &listed_wrong, "listing_matches_item"),
    ] {
        let unbag = format!("DELETE FROM inventories WHERE item_id = {item}");
        let moved = format!("UPDATE item_instances SET location = '{place}' WHERE id = {item}");
        for (sqls, order) in [
            (
                vec![unbag.clone(), moved.clone(), row.clone()],
                "moved, then its row",
            ),
            (
                vec![unbag.clone(), row.clone(), early.clone(), moved.clone()],
                "its row checked early, then moved",
            ),
        ] {
            assert_eq!(
                sql_refused(commit_all(s, &sqls).await),
                ("23514".into(), rule.into()),
                "{place}: {order}"
            );
        }
    }
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "nothing changed"
    );
    // The columns each of the item's triggers watches (`tgattr`), by name.
    let watched: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.tgname::text, string_agg(a.attname::text, ',' ORDER BY a.attnum)
         FROM pg_trigger t
         JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr::int2[])
         WHERE t.tgrelid = 'item_instances'::regclass AND NOT t.tgisinternal
         GROUP BY t.tgname ORDER BY t.tgname",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert_eq!(
        watched,
        [
            ("item_must_be_placed".into(), "id,location".into()),
            ("item_rules".into(), "def_id,quantity".into()),
            ("item_rules_on_arrival".into(), "location".into()),
        ]
    );
}
