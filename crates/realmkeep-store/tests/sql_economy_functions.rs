//! The pickup and purchase functions (`pickup.sql`, `market.sql`) called directly with bad
//! arguments: each refusal has its own SQLSTATE, mapped by the store, and nothing changes; and
//! where the three economy functions put the items that arrive in a bag.

mod support;

use realmkeep_domain::limits::GOLD_MAX;
use realmkeep_store::error::refusal_of_sqlstate;
use realmkeep_store::Store;
use realmkeep_testkit::fresh_db;

/// The SQLSTATE of `sql`, which must fail.
async fn sqlstate(store: &Store, sql: &str) -> String {
    let err = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(store.pool())
        .await
        .expect_err(sql);
    err.as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string())
        .unwrap_or_else(|| panic!("{sql}: not a database error: {err}"))
}

#[tokio::test]
async fn the_pickup_and_purchase_functions_refuse_bad_arguments_each_with_its_own_sqlstate_and_change_nothing(
) {
    let db = fresh_db().await;
    let s = &db.store;
    let a = support::character(s, "Alice").await;
    let b = support::character(s, "Bob").await;
    let pelt = support::grant_bag_item(s, b, 200, 5).await;
    let listing = s
        .list_item(
            realmkeep_domain::Actor::Offline(b),
            pelt,
            realmkeep_domain::Gold::new(10).unwrap(),
            24,
        )
        .await
        .unwrap();
    let before = support::economy_snapshot(s).await;
    let pickup = |c: String, def: &str, qty: &str, origin: &str, key: &str, slots: &str| {
        format!(
            "SELECT * FROM realmkeep_pickup({c}, NULL, {def}, {qty}, NULL, {origin}, {key}, {slots})"
        )
    };
    let ai = a.0.to_string();
    let cases = [
        (pickup(ai.clone(), "200", "0", "'x'", "NULL", "60"), "RK024"),
        (
            pickup(ai.clone(), "200", "-5", "'x'", "NULL", "60"),
            "RK024",
        ),
        (
            pickup(ai.clone(), "NULL", "1", "'x'", "NULL", "60"),
            "RK024",
        ),
        (pickup(ai.clone(), "200", "1", "''", "NULL", "60"), "RK024"),
        (pickup(ai.clone(), "200", "1", "'x'", "''", "60"), "RK024"),
        (pickup(ai.clone(), "200", "1", "'x'", "NULL", "0"), "RK024"),
        (
            pickup(ai.clone(), "999999", "1", "'x'", "NULL", "60"),
            "RK021",
        ),
        (
            pickup("NULL".into(), "200", "1", "'x'", "NULL", "60"),
            "RK024",
        ),
        (
            pickup(i64::MAX.to_string(), "200", "1", "'x'", "NULL", "60"),
            "RK001",
        ),
        (
            pickup(ai.clone(), "200", "10000", "'x'", "NULL", "60"),
            "RK023",
        ),
    ];
    for (sql, want) in &cases {
        assert_eq!(&sqlstate(s, sql).await, want, "{sql}");
    }
    let buy = |c: &str, l: &str, bps: &str, max: &str, slots: &str| {
        format!("SELECT * FROM realmkeep_market_buy({c}, NULL, {l}, {bps}, {max}, {slots})")
    };
    let (bi, l) = (b.0.to_string(), listing.0.to_string());
    let max = GOLD_MAX.to_string();
    let cases = [
        (buy(&ai, &l, "-1", &max, "60"), "RK032"),
        (buy(&ai, &l, "10000", &max, "60"), "RK032"),
        (buy(&ai, &l, "500", "-1", "60"), "RK032"),
        (buy(&ai, &l, "500", &max, "NULL"), "RK032"),
        (buy("NULL", &l, "500", &max, "60"), "RK032"),
        (buy(&ai, "NULL", "500", &max, "60"), "RK032"),
        (buy(&ai, "-7", "500", &max, "60"), "RK030"),
        (buy(&bi, &l, "500", &max, "60"), "RK031"),
    ];
    for (sql, want) in &cases {
        assert_eq!(&sqlstate(s, sql).await, want, "{sql}");
    }
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "refused calls change nothing"
    );
    // The refusals found after the function took the listing off (it does so first, in the
    // statement that locks it): the listing is back, with everything else, and still sells.
    support::set_gold(s, a, 5).await;
    let before = support::economy_snapshot(s).await;
    let first_slot_only = buy(&ai, &l, "500", &max, "1");
    assert_eq!(
        support::bag_items(s, a).await.first().map(|i| i.3),
        Some(0),
        "Alice's slot 0 holds her starting kit"
    );
    for (sql, want) in [
        (first_slot_only, "RK007"),
        (buy(&ai, &l, "500", &max, "60"), "RK004"),
        (buy(&ai, &l, "500", "0", "60"), "RK004"),
    ] {
        assert_eq!(sqlstate(s, &sql).await, want, "{sql}");
    }
    support::set_gold(s, a, 100).await;
    assert_eq!(sqlstate(s, &buy(&ai, &l, "500", "0", "60")).await, "RK005");
    support::set_gold(s, a, 5).await;
    assert_eq!(
        support::economy_snapshot(s).await,
        before,
        "refused purchases change nothing"
    );
    support::set_gold(s, a, 100).await;
    let bought = s
        .buy_listing(realmkeep_domain::Actor::Offline(a), listing)
        .await
        .unwrap();
    assert_eq!(bought.item, pelt);
    for code in [
        "RK004", "RK005", "RK007", "RK021", "RK022", "RK023", "RK024", "RK030", "RK031", "RK032",
    ] {
        assert!(refusal_of_sqlstate(code).is_some(), "{code} is mapped");
    }
}

/// Items that arrive in a bag (a trade, a pickup, a market buy: the three functions that search
/// for free slots) take its lowest free slots, the gaps first.
#[tokio::test]
async fn arriving_items_take_the_lowest_free_slots() {
    use realmkeep_domain::{CharacterId, Gold, ItemDefId, ItemId, Quantity};
    use realmkeep_store::trade::TradeSide;
    let db = fresh_db().await;
    let s = &db.store;
    let carol = support::character(s, "Carol").await;
    let dave = support::character(s, "Dave").await;
    let side = |c: CharacterId, items: Vec<ItemId>| TradeSide {
        actor: support::off(c),
        items,
        gold: Gold::ZERO,
    };
    // Both bags emptied of their starting items.
    sqlx::query(
        "WITH gone AS (DELETE FROM inventories WHERE character_id = ANY ($1) RETURNING item_id)
         DELETE FROM item_instances WHERE id IN (SELECT item_id FROM gone)",
    )
    .bind(vec![carol.0, dave.0])
    .execute(s.pool())
    .await
    .unwrap();
    // Dave's bag: swords in slots 0 to 3; two of them (slots 1 and 3) go to Carol: they arrive
    // in her slots 0 and 1.
    let slots = |bag: Vec<(i64, i32, i32, i16)>| bag.iter().map(|i| i.3).collect::<Vec<_>>();
    let mut swords = Vec::new();
    for _ in 0..4 {
        swords.push(support::grant_bag_item(s, dave, 1, 1).await);
    }
    let r = s
        .trade(
            &side(dave, vec![swords[1], swords[3]]),
            &side(carol, vec![]),
        )
        .await
        .unwrap();
    let mut got: Vec<i16> = r.b_received.iter().map(|(_, slot)| *slot).collect();
    got.sort();
    assert_eq!(got, vec![0, 1]);
    assert_eq!(slots(support::bag_items(s, dave).await), vec![0, 2]);

    // Back to Dave: the first gap (slot 1).
    let r = s
        .trade(&side(carol, vec![swords[1]]), &side(dave, vec![]))
        .await
        .unwrap();
    assert_eq!(r.b_received, vec![(swords[1], 1)]);
    assert_eq!(slots(support::bag_items(s, dave).await), vec![0, 1, 2]);
    // A pickup (a sword does not stack) after Dave's slot 0 was traded away: slot 0, below
    // the ones still held.
    s.trade(&side(dave, vec![swords[0]]), &side(carol, vec![]))
        .await
        .unwrap();
    let one = Quantity::new(1).unwrap();
    let picked = s
        .pickup_loot(support::off(dave), ItemDefId(1), one, None, "test")
        .await
        .unwrap();
    assert_eq!(picked.created.map(|i| i.slot), Some(0));
    // A market buy after slot 1 was traded away: slot 1.
    s.trade(&side(dave, vec![swords[1]]), &side(carol, vec![]))
        .await
        .unwrap();
    let listing = s
        .list_item(support::off(carol), swords[3], Gold::new(10).unwrap(), 24)
        .await
        .unwrap();
    support::set_gold(s, dave, 100).await;
    let bought = s.buy_listing(support::off(dave), listing).await.unwrap();
    assert_eq!(bought.slot, 1);
    assert_eq!(slots(support::bag_items(s, dave).await), vec![0, 1, 2]);
    support::assert_items_placed(s).await;
}

/// Two full bags swap one item for one: neither has a free slot beside what it gives, so each
/// item goes out first and arrives in the slot the other's item left (the trade's second path).
#[tokio::test]
async fn full_bags_swap_one_for_one_through_the_slots_they_free() {
    use realmkeep_domain::{Gold, ItemId};
    use realmkeep_store::trade::TradeSide;
    let db = fresh_db().await;
    let s = &db.store;
    let erin = support::character(s, "Erin").await;
    let finn = support::character(s, "Finn").await;
    support::fill_bag(s, erin).await;
    support::fill_bag(s, finn).await;
    let erin_bag = support::bag_items(s, erin).await;
    let finn_bag = support::bag_items(s, finn).await;
    assert_eq!((erin_bag.len(), finn_bag.len()), (60, 60));
    // Erin gives the item in her slot 7, Finn the one in his slot 42.
    let (from_erin, from_finn) = (ItemId(erin_bag[7].0), ItemId(finn_bag[42].0));
    let (gold_before, items_before) = (
        support::total_gold(s).await,
        support::economy_snapshot(s).await.items,
    );
    let r = s
        .trade(
            &TradeSide {
                actor: support::off(erin),
                items: vec![from_erin],
                gold: Gold::new(3).unwrap(),
            },
            &TradeSide {
                actor: support::off(finn),
                items: vec![from_finn],
                gold: Gold::ZERO,
            },
        )
        .await
        .unwrap();
    assert_eq!(r.a_received, vec![(from_finn, 7)]);
    assert_eq!(r.b_received, vec![(from_erin, 42)]);
    let erin_after = support::bag_items(s, erin).await;
    let finn_after = support::bag_items(s, finn).await;
    assert_eq!((erin_after[7].0, erin_after[7].3), (from_finn.0, 7));
    assert_eq!((finn_after[42].0, finn_after[42].3), (from_erin.0, 42));
    assert_eq!((erin_after.len(), finn_after.len()), (60, 60));
    assert_eq!(support::total_gold(s).await, gold_before);
    assert_eq!(support::economy_snapshot(s).await.items, items_before);
    support::assert_items_placed(s).await;
}

/// An item that changes bags with room to spare is moved in place: its bag row is updated, so
/// the deferred placement check and the foreign-key check (which locks the item's row with
/// `FOR KEY SHARE`, a write to `item_instances` and to the WAL for every traded item) do not run.
/// The row's `xmax` is the witness: a lock taken by the trade would put the trade's xid in it.
#[tokio::test]
async fn an_item_that_changes_bags_with_room_is_moved_without_locking_its_row() {
    use realmkeep_domain::{Gold, ItemId};
    use realmkeep_store::trade::TradeSide;
    let db = fresh_db().await;
    let s = &db.store;
    let gus = support::character(s, "Gus").await;
    let hana = support::character(s, "Hana").await;
    let sword = support::grant_bag_item(s, gus, 1, 1).await;
    let pelt = support::grant_bag_item(s, hana, 200, 1).await;
    let xmax = |item: ItemId| {
        sqlx::query_scalar::<_, String>("SELECT xmax::text FROM item_instances WHERE id = $1")
            .bind(item.0)
            .fetch_one(s.pool())
    };
    // The grant's own foreign-key check left its lock's xid; the trade must leave it as it is.
    let before = (xmax(sword).await.unwrap(), xmax(pelt).await.unwrap());
    let side = |actor, items: Vec<ItemId>| TradeSide {
        actor: support::off(actor),
        items,
        gold: Gold::ZERO,
    };
    let r = s
        .trade(&side(gus, vec![sword]), &side(hana, vec![pelt]))
        .await
        .unwrap();
    assert_eq!(r.a_received.len() + r.b_received.len(), 2);
    assert_eq!(
        (xmax(sword).await.unwrap(), xmax(pelt).await.unwrap()),
        before
    );
    let owner = |item: ItemId| {
        sqlx::query_scalar::<_, i64>("SELECT character_id FROM inventories WHERE item_id = $1")
            .bind(item.0)
            .fetch_one(s.pool())
    };
    assert_eq!(
        (owner(sword).await.unwrap(), owner(pelt).await.unwrap()),
        (hana.0, gus.0)
    );
    support::assert_items_placed(s).await;
}

/// `realmkeep_free_slots` (`bag.sql`), the trade's search: the lowest gaps of the bag, read from
/// a bit mask of its occupied slots.
#[tokio::test]
async fn free_slots_are_the_lowest_gaps_of_the_bag() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = support::character(s, "Gaps").await;
    let free = |slots: i32, wanted: i32| {
        sqlx::query_scalar::<_, Vec<i16>>("SELECT realmkeep_free_slots($1, $2, $3)")
            .bind(c.0)
            .bind(slots)
            .bind(wanted)
            .fetch_one(s.pool())
    };
    // The new character's bag fills its lowest slots, whatever it starts with.
    let start = support::bag_items(s, c).await.len() as i16;
    assert!(start < 7, "{start}");
    assert_eq!(free(60, 3).await.unwrap(), [start, start + 1, start + 2]);
    assert_eq!(free(60, 0).await.unwrap(), Vec::<i16>::new());
    // Slots 0 to 6 taken, then the item of slot 3 moved to 59.
    for _ in start..7 {
        support::grant_bag_item(s, c, 2, 1).await;
    }
    let item_in_3: i64 =
        sqlx::query_scalar("SELECT item_id FROM inventories WHERE character_id = $1 AND slot = 3")
            .bind(c.0)
            .fetch_one(s.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE inventories SET slot = 59 WHERE item_id = $1")
        .bind(item_in_3)
        .execute(s.pool())
        .await
        .unwrap();
    assert_eq!(free(60, 1).await.unwrap(), [3]);
    assert_eq!(free(60, 3).await.unwrap(), [3, 7, 8]);
    assert_eq!(
        free(9, 5).await.unwrap(),
        [3, 7, 8],
        "fewer gaps than wanted"
    );
    assert_eq!(free(3, 1).await.unwrap(), Vec::<i16>::new(), "a full bag");
    // The high bits of the mask: every gap of the 60-slot bag, slot 59 taken.
    let all: Vec<i16> = std::iter::once(3).chain(7..59).collect();
    assert_eq!(free(60, 60).await.unwrap(), all);
    assert_eq!(
        free(64, 64).await.unwrap().last(),
        Some(&63),
        "64 slots fit the mask"
    );
    assert_eq!(free(60, -1).await.unwrap(), Vec::<i16>::new());
    // A bag the mask cannot hold is refused with its own code.
    for slots in [0, 65] {
        let err = free(slots, 1).await.unwrap_err();
        assert_eq!(
            err.as_database_error().and_then(|d| d.code()).as_deref(),
            Some("RK018"),
            "{slots}"
        );
    }
}
