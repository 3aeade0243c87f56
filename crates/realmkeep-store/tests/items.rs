//! Loot pickup, equip, unequip, move, split, stack and destroy against the real PostgreSQL.

mod support;

use realmkeep_domain::*;
use realmkeep_store::Refusal;
use realmkeep_testkit::fresh_db;
use std::time::Duration;
use support::*;

const PELT: ItemDefId = ItemDefId(200); // max_stack 50
const SWORD: ItemDefId = ItemDefId(5); // level 5 main hand
const CAP: ItemDefId = ItemDefId(12); // head, level 1

#[tokio::test]
async fn pickup_fills_stacks_then_a_new_slot_and_refuses_when_full() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Looter").await;
    let me = Actor::Offline(c);
    let first = s
        .pickup_loot(
            me,
            PELT,
            Quantity::new(30).unwrap(),
            Some(ZoneId(1)),
            "monster:1",
        )
        .await
        .unwrap();
    let stack = first.created.expect("a new stack");
    let second = s
        .pickup_loot(me, PELT, Quantity::new(30).unwrap(), None, "monster:1")
        .await
        .unwrap();
    assert_eq!(second.merged, vec![(stack.item, 50)]);
    assert_eq!(second.created.unwrap().quantity, 10);
    let before = item_totals(s).await;
    assert_eq!(
        refusal(
            s.pickup_loot(me, PELT, Quantity::new(200).unwrap(), None, "x")
                .await
        ),
        Refusal::Invalid("the loot does not fit one stack".into())
    );
    assert_eq!(
        item_totals(s).await,
        before,
        "a refused pickup grew no stack"
    );

    // Fill the bag with single items, then a pickup that needs a slot is refused and changes nothing.
    let used = s.inventory(c).await.unwrap().len();
    for _ in used..(limits::INVENTORY_SLOTS as usize) {
        s.pickup_loot(me, CAP, Quantity::ONE, None, "chest")
            .await
            .unwrap();
    }
    let before = item_totals(s).await;
    assert_eq!(
        refusal(s.pickup_loot(me, CAP, Quantity::ONE, None, "chest").await),
        Refusal::InventoryFull
    );
    assert_eq!(item_totals(s).await, before);
    // A stackable pickup still fits into the stack with room.
    s.pickup_loot(me, PELT, Quantity::new(5).unwrap(), None, "m")
        .await
        .unwrap();
    let logs: i64 = sqlx::query_scalar("SELECT count(*) FROM game_logs WHERE event_type = 'loot_pickup' AND actor_character_id = $1")
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert!(logs >= 3, "pickups are logged in their own transaction");
    assert_items_placed(s).await;
    assert_eq!(
        refusal(
            s.pickup_loot(me, ItemDefId(9999), Quantity::ONE, None, "m")
                .await
        ),
        Refusal::NotFound("item definition")
    );
}

#[tokio::test]
async fn equip_swaps_and_unequip_returns_to_the_bag() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Knight").await;
    let me = Actor::Offline(c);
    let cap = s
        .pickup_loot(me, CAP, Quantity::ONE, None, "m")
        .await
        .unwrap()
        .created
        .unwrap();
    let eq = s.equip(me, cap.item).await.unwrap();
    assert_eq!((eq.slot, eq.swapped_out), (EquipSlot::Head, None));
    let cap2 = s
        .pickup_loot(me, CAP, Quantity::ONE, None, "m")
        .await
        .unwrap()
        .created
        .unwrap();
    let eq2 = s.equip(me, cap2.item).await.unwrap();
    assert_eq!(eq2.swapped_out, Some(cap.item));
    let bag = s.inventory(c).await.unwrap();
    assert!(
        bag.iter()
            .any(|i| i.item == cap.item && i.slot == cap2.slot),
        "the old cap took the new one's slot"
    );
    // Level requirement and non-equippables.
    let sword = s
        .pickup_loot(me, SWORD, Quantity::ONE, None, "m")
        .await
        .unwrap()
        .created
        .unwrap();
    assert_eq!(
        refusal(s.equip(me, sword.item).await),
        Refusal::NotAllowed("level too low for that item")
    );
    let pelt = s
        .pickup_loot(me, PELT, Quantity::ONE, None, "m")
        .await
        .unwrap()
        .created
        .unwrap();
    assert_eq!(
        refusal(s.equip(me, pelt.item).await),
        Refusal::NotAllowed("that item cannot be equipped")
    );
    let un = s.unequip(me, EquipSlot::Head, None).await.unwrap();
    assert_eq!(un.item, cap2.item);
    assert_eq!(
        refusal(s.unequip(me, EquipSlot::Head, None).await),
        Refusal::NotFound("equipped item")
    );
    // Someone else's item is not yours.
    let other = character(s, "Thief").await;
    assert_eq!(
        refusal(s.equip(Actor::Offline(other), cap.item).await),
        Refusal::ItemNotOwned
    );
    assert_items_placed(s).await;
}

#[tokio::test]
async fn move_split_stack_and_destroy() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Packer").await;
    let me = Actor::Offline(c);
    let a = s
        .pickup_loot(me, PELT, Quantity::new(40).unwrap(), None, "m")
        .await
        .unwrap()
        .created
        .unwrap();
    let slot = |n| InventorySlot::new(n).unwrap();
    // Split 15 into slot 10, move it to slot 11, swap back with a move onto an occupied slot.
    let b = s
        .split_stack(me, a.item, Quantity::new(15).unwrap(), slot(10))
        .await
        .unwrap();
    assert_eq!(s.move_item(me, b, slot(11)).await.unwrap(), None);
    assert_eq!(
        s.move_item(me, b, slot(a.slot)).await.unwrap(),
        Some(a.item),
        "moving onto a taken slot swaps"
    );
    let bag = s.inventory(c).await.unwrap();
    let q = |id: ItemId| bag.iter().find(|i| i.item == id).unwrap().quantity;
    assert_eq!((q(a.item), q(b)), (25, 15));
    assert_eq!(
        refusal(
            s.split_stack(me, a.item, Quantity::new(25).unwrap(), slot(20))
                .await
        ),
        Refusal::Invalid("cannot split 25 off a stack of 25".into())
    );
    assert_eq!(
        refusal(
            s.split_stack(me, a.item, Quantity::new(5).unwrap(), slot(0))
                .await
        ),
        Refusal::SlotTaken
    );
    // Stack b onto a: all 15 fit (25 + 15 = 40), b disappears.
    assert_eq!(s.stack_items(me, b, a.item).await.unwrap(), 40);
    assert!(s.inventory(c).await.unwrap().iter().all(|i| i.item != b));
    assert_eq!(
        refusal(s.stack_items(me, a.item, a.item).await),
        Refusal::Invalid("cannot stack an item onto itself".into())
    );
    let potion = s
        .inventory(c)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.def == ItemDefId(100))
        .unwrap();
    assert_eq!(
        refusal(s.stack_items(me, potion.item, a.item).await),
        Refusal::Invalid("only items of one kind stack".into())
    );
    s.destroy_item(me, a.item).await.unwrap();
    assert_eq!(
        refusal(s.destroy_item(me, a.item).await),
        Refusal::ItemNotOwned
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM item_instances WHERE id = $1")
        .bind(a.item.0)
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn actors_are_fenced() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Fenced").await;
    let fence = s.claim(c, "zone-1", Duration::from_secs(30)).await.unwrap();
    assert_eq!(
        refusal(s.loot_gold(Actor::Offline(c), 5, None).await),
        Refusal::ClaimHeld,
        "no action behind the zone's back"
    );
    assert_eq!(
        s.loot_gold(Actor::Zone(fence), 5, None).await.unwrap(),
        rules::STARTING_GOLD + 5
    );
    let stale = Fence {
        character: c,
        epoch: ClaimEpoch(fence.epoch.0 - 1),
    };
    assert_eq!(
        refusal(s.loot_gold(Actor::Zone(stale), 5, None).await),
        Refusal::StaleClaim
    );
    assert_eq!(
        refusal(
            s.pickup_loot(Actor::Zone(stale), PELT, Quantity::ONE, None, "m")
                .await
        ),
        Refusal::StaleClaim
    );
    assert_eq!(gold(s, c).await, rules::STARTING_GOLD + 5);
}

#[tokio::test]
async fn the_database_itself_refuses_an_item_in_two_places() {
    let db = fresh_db().await;
    let s = &db.store;
    let a = character(s, "Dupe").await;
    let b = character(s, "Dupe2").await;
    let item = s.inventory(a).await.unwrap()[0].item;
    // Bypassing the code: the same item in a second bag, in equipment, in a mail, or nowhere.
    let second_bag =
        sqlx::query("INSERT INTO inventories (character_id, slot, item_id) VALUES ($1, 30, $2)")
            .bind(b.0)
            .bind(item.0)
            .execute(s.pool())
            .await;
    assert!(second_bag.is_err(), "UNIQUE(item_id) refuses a second bag");
    let as_equipment =
        sqlx::query("INSERT INTO equipment (character_id, slot, item_id) VALUES ($1, 'ring', $2)")
            .bind(b.0)
            .bind(item.0)
            .execute(s.pool())
            .await;
    assert!(
        as_equipment.is_err(),
        "the (item, location) key refuses equipment while it is in a bag"
    );
    let nowhere = sqlx::query("DELETE FROM inventories WHERE item_id = $1")
        .bind(item.0)
        .execute(s.pool())
        .await;
    assert!(
        nowhere.is_err(),
        "the deferred trigger refuses an item that is nowhere"
    );
    let negative = sqlx::query("UPDATE item_instances SET quantity = 0 WHERE id = $1")
        .bind(item.0)
        .execute(s.pool())
        .await;
    assert!(negative.is_err(), "quantity > 0");
    let broke = sqlx::query("UPDATE characters SET gold = -1 WHERE id = $1")
        .bind(a.0)
        .execute(s.pool())
        .await;
    assert!(broke.is_err(), "gold >= 0");
    assert_items_placed(s).await;
}

#[tokio::test]
async fn a_keyed_pickup_happens_once_even_when_tried_again() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Twice").await;
    let other = character(s, "Thrice").await;
    let me = Actor::Offline(c);
    let key = "zone-1/node1/abc:42";
    let first = s
        .pickup_loot_once(me, CAP, Quantity::ONE, None, "monster:1", key)
        .await
        .unwrap();
    assert!(first.created.is_some());
    let before = item_totals(s).await;
    // The answer was lost and the zone tries again: done, and nothing is created twice.
    let again = s
        .pickup_loot_once(me, CAP, Quantity::ONE, None, "monster:1", key)
        .await
        .unwrap();
    assert_eq!((again.merged.len(), again.created), (0, None));
    assert_eq!(item_totals(s).await, before);
    // Someone else cannot take loot that is already in a bag.
    assert_eq!(
        refusal(
            s.pickup_loot_once(
                Actor::Offline(other),
                CAP,
                Quantity::ONE,
                None,
                "monster:1",
                key
            )
            .await
        ),
        Refusal::NotFound("loot")
    );
    assert_eq!(item_totals(s).await, before);
    // Another loot on the ground is another key.
    s.pickup_loot_once(
        me,
        CAP,
        Quantity::ONE,
        None,
        "monster:1",
        "zone-1/node1/abc:43",
    )
    .await
    .unwrap();
    assert_items_placed(s).await;
}
