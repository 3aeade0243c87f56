//! Trades, concurrency and conservation: the economy's rules under load and under random use.

mod support;

use proptest::prelude::*;
use realmkeep_domain::*;
use realmkeep_store::trade::TradeSide;
use realmkeep_store::{Refusal, Store, StoreError};
use realmkeep_testkit::fresh_db;
use support::*;

fn side(c: CharacterId, items: Vec<ItemId>, gold: i64) -> TradeSide {
    TradeSide {
        actor: Actor::Offline(c),
        items,
        gold: Gold::new(gold).unwrap(),
    }
}

#[tokio::test]
async fn a_trade_swaps_items_and_gold_or_nothing() {
    let db = fresh_db().await;
    let s = &db.store;
    let a = character(s, "Trader").await;
    let b = character(s, "Buyer").await;
    let a_item = s.inventory(a).await.unwrap()[0].item;
    let b_item = s.inventory(b).await.unwrap()[0].item;
    let r = s
        .trade(&side(a, vec![a_item], 30), &side(b, vec![b_item], 0))
        .await
        .unwrap();
    assert_eq!((r.a_gold, r.b_gold), (70, 130));
    assert_eq!(r.a_received[0].0, b_item);
    assert!(s
        .inventory(b)
        .await
        .unwrap()
        .iter()
        .any(|i| i.item == a_item));

    let before = (gold(s, a).await, gold(s, b).await, item_totals(s).await);
    // Overdraft, items not owned, twice offered, self trade, empty: all refused, nothing changed.
    assert_eq!(
        refusal(s.trade(&side(a, vec![], 71), &side(b, vec![], 0)).await),
        Refusal::NotEnoughGold
    );
    assert_eq!(
        refusal(
            s.trade(&side(a, vec![a_item], 0), &side(b, vec![], 1))
                .await
        ),
        Refusal::ItemNotOwned
    );
    assert!(matches!(
        refusal(
            s.trade(&side(a, vec![b_item, b_item], 0), &side(b, vec![], 1))
                .await
        ),
        Refusal::Invalid(_)
    ));
    assert!(matches!(
        refusal(s.trade(&side(a, vec![], 1), &side(a, vec![], 0)).await),
        Refusal::Invalid(_)
    ));
    assert!(matches!(
        refusal(s.trade(&side(a, vec![], 0), &side(b, vec![], 0)).await),
        Refusal::Invalid(_)
    ));
    // The receiving bag is full: refused, the giver keeps the item.
    for _ in 0..limits::INVENTORY_SLOTS {
        let _ = s
            .pickup_loot(
                Actor::Offline(b),
                ItemDefId(12),
                Quantity::ONE,
                None,
                "fill",
            )
            .await;
    }
    let before_full = (gold(s, a).await, gold(s, b).await, item_totals(s).await);
    assert_eq!(
        refusal(
            s.trade(&side(a, vec![b_item], 0), &side(b, vec![], 5))
                .await
        ),
        Refusal::InventoryFull
    );
    assert_eq!(
        (gold(s, a).await, gold(s, b).await, item_totals(s).await),
        before_full
    );
    assert_ne!(before, before_full);
    assert_items_placed(s).await;
}

/// A trade's receipt names it as its log rows do, and a key's receipt read back after a lost
/// answer (`settle_trade`) names the same trade: the reference a player is told is durable.
#[tokio::test]
async fn a_trade_receipt_carries_the_reference_its_log_rows_keep() {
    let db = fresh_db().await;
    let s = &db.store;
    let a = character(s, "Namer").await;
    let b = character(s, "Named").await;
    let a_item = s.inventory(a).await.unwrap()[0].item;
    let r = s
        .trade_keyed(&side(a, vec![a_item], 0), &side(b, vec![], 5), "ref-key-1")
        .await
        .unwrap();
    assert_eq!(r.trade.len(), 16, "{r:?}");
    let logged: Vec<String> = sqlx::query_scalar(
        "SELECT details->>'trade' FROM game_logs WHERE event_type IN ('trade', 'trade_item')",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert_eq!(logged, vec![r.trade.clone(), r.trade.clone()]);
    let settled = s
        .settle_trade("ref-key-1")
        .await
        .unwrap()
        .expect("committed");
    assert_eq!(settled, r);
    assert_eq!(s.settle_trade("ref-key-2").await.unwrap(), None);
}

/// 100 concurrent trades among 20 characters: gold and items are conserved, no item is in two
/// places, and every trade either happened whole or not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_trades_conserve_gold_and_items() {
    let db = fresh_db().await;
    let s = &db.store;
    let mut chars = Vec::new();
    for i in 0..20 {
        let c = character(s, &format!("Conc{i}")).await;
        set_gold(s, c, 1_000).await;
        for _ in 0..4 {
            s.pickup_loot(
                Actor::Offline(c),
                ItemDefId(12),
                Quantity::ONE,
                None,
                "seed",
            )
            .await
            .unwrap();
        }
        chars.push(c);
    }
    let gold_before = total_gold(s).await;
    let items_before = item_totals(s).await;
    let mut tasks = Vec::new();
    for t in 0..100usize {
        let s = s.clone();
        let a = chars[t % 20];
        let b = chars[(t * 7 + 3) % 20];
        if a == b {
            continue;
        }
        tasks.push(tokio::spawn(async move {
            let a_items: Vec<ItemId> = s
                .inventory(a)
                .await
                .unwrap()
                .into_iter()
                .rev()
                .take(1)
                .map(|i| i.item)
                .collect();
            let b_items: Vec<ItemId> = s
                .inventory(b)
                .await
                .unwrap()
                .into_iter()
                .take(1)
                .map(|i| i.item)
                .collect();
            s.trade(
                &side(a, a_items, (t as i64 * 13) % 200),
                &side(b, b_items, (t as i64 * 7) % 150),
            )
            .await
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Refused(_)) => refused += 1,
            Err(e) => panic!("operating error under concurrency: {e}"),
        }
    }
    assert!(ok > 0, "some trades went through ({refused} refused)");
    assert_eq!(total_gold(s).await, gold_before, "gold conserved");
    assert_eq!(item_totals(s).await, items_before, "items conserved");
    assert_items_placed(s).await;
    let trades: i64 =
        sqlx::query_scalar("SELECT count(*) FROM game_logs WHERE event_type = 'trade'")
            .fetch_one(s.pool())
            .await
            .unwrap();
    assert_eq!(
        trades, ok as i64,
        "one log row per committed trade, none for refused ones"
    );
}

#[derive(Debug, Clone)]
enum Op {
    Trade {
        a: usize,
        b: usize,
        a_item: bool,
        b_item: bool,
        a_gold: i64,
        b_gold: i64,
    },
    Pickup {
        c: usize,
        def: i32,
        qty: i32,
    },
    Destroy {
        c: usize,
    },
    Split {
        c: usize,
        qty: i32,
        to: i16,
    },
    Move {
        c: usize,
        to: i16,
    },
    LootGold {
        c: usize,
        amount: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0usize..4;
    prop_oneof![
        4 => (c.clone(), 0usize..4, any::<bool>(), any::<bool>(), 0i64..300, 0i64..300)
            .prop_map(|(a, b, a_item, b_item, a_gold, b_gold)| Op::Trade { a, b, a_item, b_item, a_gold, b_gold }),
        2 => (c.clone(), prop_oneof![Just(12), Just(100), Just(200)], 1i32..60).prop_map(|(c, def, qty)| Op::Pickup { c, def, qty }),
        1 => c.clone().prop_map(|c| Op::Destroy { c }),
        1 => (c.clone(), 1i32..30, 0i16..60).prop_map(|(c, qty, to)| Op::Split { c, qty, to }),
        1 => (c.clone(), 0i16..60).prop_map(|(c, to)| Op::Move { c, to }),
        1 => (c, 1i64..500).prop_map(|(c, amount)| Op::LootGold { c, amount }),
    ]
}

/// Applies one op; returns the change it made to total gold and to item totals if it succeeded.
async fn apply(s: &Store, chars: &[CharacterId], op: &Op) -> (i64, Option<(i32, i64)>, bool) {
    let first = |c: CharacterId| async move { s.inventory(c).await.unwrap().first().cloned() };
    match op {
        Op::Trade {
            a,
            b,
            a_item,
            b_item,
            a_gold,
            b_gold,
        } => {
            let (ca, cb) = (chars[*a], chars[*b]);
            let ai = if *a_item {
                first(ca).await.map(|i| i.item).into_iter().collect()
            } else {
                vec![]
            };
            let bi = if *b_item {
                first(cb).await.map(|i| i.item).into_iter().collect()
            } else {
                vec![]
            };
            let r = s
                .trade(&side(ca, ai, *a_gold), &side(cb, bi, *b_gold))
                .await;
            (0, None, r.is_ok())
        }
        Op::Pickup { c, def, qty } => {
            let q = Quantity::new(*qty).unwrap();
            let r = s
                .pickup_loot(Actor::Offline(chars[*c]), ItemDefId(*def), q, None, "prop")
                .await;
            let ok = r.is_ok();
            (0, ok.then_some((*def, *qty as i64)), ok)
        }
        Op::Destroy { c } => match first(chars[*c]).await {
            Some(i) => {
                let ok = s
                    .destroy_item(Actor::Offline(chars[*c]), i.item)
                    .await
                    .is_ok();
                (0, ok.then_some((i.def.0, -(i.quantity as i64))), ok)
            }
            None => (0, None, false),
        },
        Op::Split { c, qty, to } => match first(chars[*c]).await {
            Some(i) => {
                let r = s
                    .split_stack(
                        Actor::Offline(chars[*c]),
                        i.item,
                        Quantity::new(*qty).unwrap(),
                        InventorySlot::new(*to).unwrap(),
                    )
                    .await;
                (0, None, r.is_ok())
            }
            None => (0, None, false),
        },
        Op::Move { c, to } => match first(chars[*c]).await {
            Some(i) => (
                0,
                None,
                s.move_item(
                    Actor::Offline(chars[*c]),
                    i.item,
                    InventorySlot::new(*to).unwrap(),
                )
                .await
                .is_ok(),
            ),
            None => (0, None, false),
        },
        Op::LootGold { c, amount } => {
            let ok = s
                .loot_gold(Actor::Offline(chars[*c]), *amount, None)
                .await
                .is_ok();
            (if ok { *amount } else { 0 }, None, ok)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 20, ..ProptestConfig::default() })]

    /// Random sequences of economy operations keep every conservation rule: gold changes only by
    /// what was looted, item quantities only by what was picked up or destroyed, and every item
    /// stays in exactly one place.
    #[test]
    fn random_economy_sequences_conserve(ops in proptest::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let db = fresh_db().await;
            let s = &db.store;
            let mut chars = Vec::new();
            for i in 0..4 {
                chars.push(character(s, &format!("Prop{i}")).await);
            }
            let mut expected_gold = total_gold(s).await;
            let mut expected_items: std::collections::BTreeMap<i32, i64> = item_totals(s).await.into_iter().collect();
            for op in &ops {
                let (dgold, ditems, _ok) = apply(s, &chars, op).await;
                expected_gold += dgold;
                if let Some((def, dq)) = ditems {
                    *expected_items.entry(def).or_default() += dq;
                }
                expected_items.retain(|_, q| *q != 0);
                assert_eq!(total_gold(s).await, expected_gold, "gold after {op:?}");
                let actual: std::collections::BTreeMap<i32, i64> = item_totals(s).await.into_iter().collect();
                assert_eq!(actual, expected_items, "items after {op:?}");
            }
            assert_items_placed(s).await;
            let negative: i64 = sqlx::query_scalar("SELECT count(*) FROM characters WHERE gold < 0").fetch_one(s.pool()).await.unwrap();
            assert_eq!(negative, 0);
        });
    }
}
