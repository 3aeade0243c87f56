//! A join loads one state of the character: when the claim waits for a transaction that holds the
//! character (an offline trade), the load that follows sees everything that transaction
//! committed, the purse and the bag alike.

mod support;

use realmkeep_testkit::fresh_db;
use std::time::Duration;

/// Polls (each 20 ms) for the join to be seen waiting on the trade's row lock.
const LOCK_WAIT_POLLS_MAX: usize = 500;

#[tokio::test]
async fn a_join_that_waits_for_a_trade_loads_the_trades_purse_and_bag_together() {
    let db = fresh_db().await;
    let store = db.store.clone();
    let joiner = support::character(&store, "Joiner").await;
    let giver = support::character(&store, "Giver").await;
    support::set_gold(&store, joiner, 100).await;
    let pelt = support::grant_bag_item(&store, giver, 200, 1).await;
    let bag_before = support::bag_items(&store, joiner).await;
    assert!(bag_before.iter().all(|r| r.0 != pelt.0));

    // An offline trade, held open: the giver's pelt and 1,000 gold go to the joiner. It locks
    // both characters like the trade function does, in ascending id order.
    let mut trade = store.pool().begin().await.unwrap();
    sqlx::query("SELECT id FROM characters WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(vec![joiner.0, giver.0])
        .fetch_all(&mut *trade)
        .await
        .unwrap();
    sqlx::query("UPDATE characters SET gold = gold + 1000 WHERE id = $1")
        .bind(joiner.0)
        .execute(&mut *trade)
        .await
        .unwrap();
    sqlx::query("DELETE FROM inventories WHERE item_id = $1")
        .bind(pelt.0)
        .execute(&mut *trade)
        .await
        .unwrap();
    sqlx::query("INSERT INTO inventories (character_id, slot, item_id) VALUES ($1, 59, $2)")
        .bind(joiner.0)
        .bind(pelt.0)
        .execute(&mut *trade)
        .await
        .unwrap();

    let join = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .claim_and_load(joiner, "zone-join", Duration::from_secs(30))
                .await
        })
    };
    let mut waiting = false;
    for _ in 0..LOCK_WAIT_POLLS_MAX {
        waiting = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE datname = current_database() AND wait_event_type = 'Lock')",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        if waiting {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(waiting, "the join waits for the trade's lock");
    trade.commit().await.unwrap();

    let (_, loaded) = join.await.unwrap().unwrap();
    assert_eq!(loaded.gold, 1100, "the purse after the trade");
    let bag: Vec<i64> = loaded.inventory.iter().map(|i| i.item.0).collect();
    assert!(
        bag.contains(&pelt.0),
        "the bag after the trade too, not the bag before it: {bag:?}"
    );
    assert_eq!(bag.len(), bag_before.len() + 1);
    assert!(store.claim_info(joiner).await.unwrap().live);
}
