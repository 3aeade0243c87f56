//! A player's own items over a real socket: move, split, merge, equip, unequip and destroy.
//! Each is answered `ok` only once committed (checked in PostgreSQL at the answer), followed by
//! an `items` event with the whole bag and equipment; the zone's and the store's refusals change
//! nothing, and no item is ever in two places.

mod support;

use realmkeep_domain::records::Refusal;
use realmkeep_domain::{Actor, CharacterId, ItemDefId, Quantity};
use realmkeep_protocol::ws::{Answer, BagItem, Command, EquippedItem, GameEvent};
use realmkeep_protocol::Reason;
use support::*;

fn refused(a: &Answer) -> Reason {
    match a {
        Answer::Refused { reason, .. } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The `items` event that follows an operation's answer.
async fn items(
    ws: &mut realmkeep_protocol::client::PlainSocket,
) -> (Vec<BagItem>, Vec<EquippedItem>) {
    next_event(ws, |e| match e {
        GameEvent::Items { bag, equipment } => Some((bag.clone(), equipment.clone())),
        _ => None,
    })
    .await
}

/// `(slot, def, quantity)` of each item in the bag, by slot, in PostgreSQL.
async fn bag_in_db(env: &Env, c: i64) -> Vec<(i16, i32, i32)> {
    sqlx::query_as(
        "SELECT inv.slot, i.def_id, i.quantity FROM inventories inv
         JOIN item_instances i ON i.id = inv.item_id WHERE inv.character_id = $1 ORDER BY inv.slot",
    )
    .bind(c)
    .fetch_all(env.db.store.pool())
    .await
    .unwrap()
}

async fn worn_in_db(env: &Env, c: i64) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT slot, item_id FROM equipment WHERE character_id = $1 ORDER BY slot")
        .bind(c)
        .fetch_all(env.db.store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_move_split_merge_equip_unequip_and_destroy_once_committed() {
    let env = Env::new().await;
    // Before joining: a level-5 sword in the bag, which a level-1 warrior may not wear.
    let (token, id) = env.player("alice").await;
    let long_sword = ItemDefId(5);
    env.db
        .store
        .pickup_loot(
            Actor::Offline(CharacterId(id)),
            long_sword,
            Quantity::ONE,
            None,
            "test",
        )
        .await
        .unwrap();
    let (mut ws, welcome) = env.join(&token, id).await;
    let stack = welcome
        .bag
        .iter()
        .find(|i| i.quantity > 2)
        .expect("the starting kit has a stack")
        .clone();
    let sword = welcome
        .equipment
        .iter()
        .find(|e| e.slot == "main_hand")
        .expect("the starting kit wields a weapon")
        .clone();
    let big = welcome
        .bag
        .iter()
        .find(|i| i.def == long_sword.0)
        .expect("the long sword")
        .clone();

    // Split two off the stack into slot 10.
    let split = Command::SplitStack {
        item: stack.item,
        quantity: 2,
        slot: 10,
    };
    assert_eq!(ask(&mut ws, split).await.0, Answer::Ok);
    let db = bag_in_db(&env, id).await;
    assert!(
        db.contains(&(10, stack.def, 2)),
        "committed at the answer: {db:?}"
    );
    assert!(db.contains(&(stack.slot, stack.def, stack.quantity - 2)));
    let (bag, _) = items(&mut ws).await;
    let half = bag
        .iter()
        .find(|i| i.slot == 10)
        .expect("the new stack")
        .clone();
    assert_eq!((half.def, half.quantity), (stack.def, 2));

    // Merge it back: one stack again, the split one gone.
    let merge = Command::MergeStacks {
        from: half.item,
        onto: stack.item,
    };
    assert_eq!(ask(&mut ws, merge).await.0, Answer::Ok);
    let (bag, _) = items(&mut ws).await;
    assert!(bag.iter().all(|i| i.item != half.item));
    assert!(bag_in_db(&env, id)
        .await
        .contains(&(stack.slot, stack.def, stack.quantity)));

    // Move the stack to slot 7.
    let mv = Command::MoveItem {
        item: stack.item,
        slot: 7,
    };
    assert_eq!(ask(&mut ws, mv).await.0, Answer::Ok);
    assert!(bag_in_db(&env, id)
        .await
        .contains(&(7, stack.def, stack.quantity)));
    items(&mut ws).await;

    // Unequip the weapon into the first free slot, then wield it again.
    let off = Command::Unequip {
        slot: "main_hand".into(),
        to: None,
    };
    assert_eq!(ask(&mut ws, off).await.0, Answer::Ok);
    assert!(worn_in_db(&env, id)
        .await
        .iter()
        .all(|(s, _)| s != "main_hand"));
    let (bag, equipment) = items(&mut ws).await;
    assert!(bag.iter().any(|i| i.item == sword.item));
    assert!(equipment.iter().all(|e| e.slot != "main_hand"));
    // A connection that resumes the character is welcomed with what it wears now (the zone's),
    // not what it wore when it joined.
    ws.close().await;
    drop(ws);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (mut ws, again) = env.join(&token, id).await;
    assert!(again.resumed);
    assert!(again.equipment.iter().all(|e| e.slot != "main_hand"));
    assert!(again.bag.iter().any(|i| i.item == sword.item));
    assert_eq!(
        ask(&mut ws, Command::Equip { item: sword.item }).await.0,
        Answer::Ok
    );
    assert!(worn_in_db(&env, id)
        .await
        .contains(&("main_hand".to_string(), sword.item)));
    let (_, equipment) = items(&mut ws).await;
    assert!(equipment
        .iter()
        .any(|e| e.item == sword.item && e.slot == "main_hand"));

    // The rules: a potion is not worn, a level-5 sword not by a level-1 warrior, a split takes
    // less than the stack, and nobody else's item is touched; nothing changes.
    let before = (bag_in_db(&env, id).await, worn_in_db(&env, id).await);
    let (r, _) = ask(&mut ws, Command::Equip { item: stack.item }).await;
    assert_eq!(refused(&r), Reason::NotAllowed);
    let (r, _) = ask(&mut ws, Command::Equip { item: big.item }).await;
    assert_eq!(refused(&r), Reason::NotAllowed, "level requirement");
    let all = Command::SplitStack {
        item: stack.item,
        quantity: stack.quantity,
        slot: 12,
    };
    assert_eq!(refused(&ask(&mut ws, all).await.0), Reason::Invalid);
    let bob = env.joined("bobby", "aldor").await;
    let theirs = bob.welcome.bag[0].item;
    let (r, _) = ask(&mut ws, Command::DestroyItem { item: theirs }).await;
    assert_eq!(refused(&r), Reason::NoSuchTarget);
    let (r, _) = ask(
        &mut ws,
        Command::MoveItem {
            item: stack.item,
            slot: 9_999,
        },
    )
    .await;
    assert_eq!(refused(&r), Reason::BadFields);
    let (r, _) = ask(
        &mut ws,
        Command::Unequip {
            slot: "tail".into(),
            to: None,
        },
    )
    .await;
    assert_eq!(refused(&r), Reason::BadFields);
    assert_eq!(
        before,
        (bag_in_db(&env, id).await, worn_in_db(&env, id).await)
    );

    // Destroy: gone from PostgreSQL at the answer, and logged.
    let (r, _) = ask(&mut ws, Command::DestroyItem { item: stack.item }).await;
    assert_eq!(r, Answer::Ok);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM item_instances WHERE id = $1")
        .bind(stack.item)
        .fetch_one(env.db.store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM game_logs WHERE event_type = 'destroy' AND item_id = $1 AND actor_character_id = $2",
    )
    .bind(stack.item)
    .bind(id)
    .fetch_one(env.db.store.pool())
    .await
    .unwrap();
    assert_eq!(logged, 1);
    let (bag, _) = items(&mut ws).await;
    assert!(bag.iter().all(|i| i.item != stack.item));
    assert_eq!(realmkeep_testkit::misplaced_items(&env.db.store).await, 0);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_item_operations_change_nothing() {
    // A split onto a taken slot and a merge of a stack onto itself: the zone refuses both;
    // the store refuses any actor but the claim holder. The database stays as it was.
    let env = Env::new().await;
    let mut a = env.joined("alice", "aldor").await;
    let stack = a.welcome.bag[0].clone();
    let before = bag_in_db(&env, a.id).await;
    let (r, _) = ask(
        &mut a.ws,
        Command::SplitStack {
            item: stack.item,
            quantity: 1,
            slot: stack.slot,
        },
    )
    .await;
    assert_eq!(refused(&r), Reason::Invalid);
    let (r, _) = ask(
        &mut a.ws,
        Command::MergeStacks {
            from: stack.item,
            onto: stack.item,
        },
    )
    .await;
    assert_eq!(refused(&r), Reason::Invalid);
    assert_eq!(before, bag_in_db(&env, a.id).await);
    // The store's own refusal, straight: the zone's fence is the only actor it accepts.
    let r = env
        .db
        .store
        .item_op_keyed(
            Actor::Offline(CharacterId(a.id)),
            realmkeep_domain::records::ItemOp::Destroy {
                item: realmkeep_domain::ItemId(stack.item),
            },
            "test:offline-destroy",
        )
        .await;
    assert!(
        matches!(
            r,
            Err(realmkeep_store::StoreError::Refused(Refusal::ClaimHeld))
        ),
        "{r:?}"
    );
    assert_eq!(before, bag_in_db(&env, a.id).await);
    env.stop().await;
}
