//! The marketplace against the real private PostgreSQL: listing, cancelling, buying, fencing and
//! searching; every refusal changes nothing. Expiry and races are in `market_jobs.rs`.

mod support;

use realmkeep_domain::limits::{GOLD_MAX, MARKET_LISTINGS_PER_SELLER_MAX, MARKET_PAGE_ROWS_MAX};
use realmkeep_domain::*;
use realmkeep_store::market::MarketQuery;
use realmkeep_store::{Refusal, Store};
use realmkeep_testkit::fresh_db;
use std::time::Duration;
use support::*;

fn gold(v: i64) -> Gold {
    Gold::new(v).unwrap()
}

async fn expire_listing(s: &Store, l: ListingId) {
    sqlx::query(
        "UPDATE marketplace_listings SET expires_at = now() - interval '1 minute' WHERE id = $1",
    )
    .bind(l.0)
    .execute(s.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn list_then_buy_moves_item_and_gold_less_the_fee() {
    let db = fresh_db().await;
    let s = &db.store;
    let seller = character(s, "Sella").await;
    let buyer = character(s, "Bouy").await;
    set_gold(s, buyer, 5_000).await;
    let sword = grant_bag_item(s, seller, 5, 1).await;
    let before_gold = total_gold(s).await;
    let before_items = item_totals(s).await;

    let listing = s
        .list_item(off(seller), sword, gold(1_000), 24)
        .await
        .unwrap();
    assert!(bag_items(s, seller).await.iter().all(|r| r.0 != sword.0));
    let loc: String = sqlx::query_scalar("SELECT location FROM item_instances WHERE id = $1")
        .bind(sword.0)
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(loc, "market");
    assert_items_placed(s).await;

    let p = s.buy_listing(off(buyer), listing).await.unwrap();
    assert_eq!(p.item, sword);
    assert_eq!(p.price, gold(1_000));
    assert_eq!(p.fee, gold(rules::market_fee(1_000)));
    assert_eq!(p.fee, gold(50));
    assert_eq!(p.seller, seller);
    assert_eq!(p.item_def, ItemDefId(5));
    assert_eq!(support::gold(s, buyer).await, 4_000);
    assert_eq!(support::gold(s, seller).await, 100 + 950);
    assert!(bag_items(s, buyer).await.iter().any(|r| r.0 == sword.0));
    assert_eq!(row_count(s, "marketplace_listings").await, 0);
    assert_eq!(total_gold(s).await, before_gold - 50, "only the fee left");
    assert_eq!(item_totals(s).await, before_items);
    assert_eq!(log_count(s, "market_list").await, 1);
    assert_eq!(log_count(s, "market_buy").await, 1);
    let (fee, price): (i64, i64) = sqlx::query_as(
        "SELECT (details->>'fee')::int8, gold FROM game_logs WHERE event_type = 'market_buy'",
    )
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert_eq!((fee, price), (50, 1_000));

    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.buy_listing(off(buyer), listing).await),
        Refusal::ListingGone
    );
    assert_eq!(economy_snapshot(s).await, w);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn listing_refusals_change_nothing() {
    let db = fresh_db().await;
    let s = &db.store;
    let seller = character(s, "Sella").await;
    let other = character(s, "Otto").await;
    let pelt = grant_bag_item(s, seller, 200, 10).await;
    let insignia = grant_bag_item(s, seller, 300, 1).await;
    let others = grant_bag_item(s, other, 201, 1).await;
    let equipped: i64 =
        sqlx::query_scalar("SELECT item_id FROM equipment WHERE character_id = $1 LIMIT 1")
            .bind(seller.0)
            .fetch_one(s.pool())
            .await
            .unwrap();
    let w = economy_snapshot(s).await;

    assert!(matches!(
        refusal(s.list_item(off(seller), pelt, Gold::ZERO, 24).await),
        Refusal::Invalid(_)
    ));
    for hours in [0, -1, 169, i64::MAX] {
        assert!(matches!(
            refusal(s.list_item(off(seller), pelt, gold(5), hours).await),
            Refusal::Invalid(_)
        ));
    }
    assert_eq!(
        refusal(s.list_item(off(seller), insignia, gold(5), 24).await),
        Refusal::NotAllowed("quest items cannot be sold")
    );
    assert_eq!(
        refusal(s.list_item(off(seller), others, gold(5), 24).await),
        Refusal::ItemNotOwned
    );
    assert_eq!(
        refusal(
            s.list_item(off(seller), ItemId(equipped), gold(5), 24)
                .await
        ),
        Refusal::ItemNotOwned,
        "equipped items are not in the bag"
    );
    assert_eq!(
        refusal(
            s.list_item(off(CharacterId(999_999)), pelt, gold(5), 24)
                .await
        ),
        Refusal::NotFound("character")
    );
    assert_eq!(economy_snapshot(s).await, w);

    // The per-seller limit.
    for _ in 0..MARKET_LISTINGS_PER_SELLER_MAX {
        let it = grant_bag_item(s, seller, 201, 1).await;
        s.list_item(off(seller), it, gold(7), 1).await.unwrap();
    }
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.list_item(off(seller), pelt, gold(5), 24).await),
        Refusal::LimitReached("market listings per seller")
    );
    assert_eq!(economy_snapshot(s).await, w);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn cancel_returns_the_item_to_the_seller_only() {
    let db = fresh_db().await;
    let s = &db.store;
    let seller = character(s, "Sella").await;
    let other = character(s, "Otto").await;
    let ore = grant_bag_item(s, seller, 203, 25).await;
    let listing = s.list_item(off(seller), ore, gold(300), 48).await.unwrap();

    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.cancel_listing(off(other), listing).await),
        Refusal::NotAllowed("only the seller may cancel a listing")
    );
    assert_eq!(economy_snapshot(s).await, w);
    fill_bag(s, seller).await;
    let w_full = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.cancel_listing(off(seller), listing).await),
        Refusal::InventoryFull
    );
    assert_eq!(economy_snapshot(s).await, w_full);
    // Make room again: take one filler pelt away (test setup).
    let filler = bag_items(s, seller).await.last().unwrap().0;
    sqlx::query("WITH d AS (DELETE FROM inventories WHERE item_id = $1) DELETE FROM item_instances WHERE id = $1")
        .bind(filler)
        .execute(s.pool())
        .await
        .unwrap();

    let back = s.cancel_listing(off(seller), listing).await.unwrap();
    assert_eq!(back, ore);
    let bag = bag_items(s, seller).await;
    assert!(bag.iter().any(|r| r.0 == ore.0 && r.2 == 25));
    assert_eq!(row_count(s, "marketplace_listings").await, 0);
    assert_eq!(log_count(s, "market_cancel").await, 1);
    assert_eq!(
        refusal(s.cancel_listing(off(seller), listing).await),
        Refusal::ListingGone
    );
    assert_items_placed(s).await;
}

#[tokio::test]
async fn buy_refusals_change_nothing() {
    let db = fresh_db().await;
    let s = &db.store;
    let seller = character(s, "Sella").await;
    let buyer = character(s, "Bouy").await;
    let sword = grant_bag_item(s, seller, 5, 1).await;
    let listing = s
        .list_item(off(seller), sword, gold(500), 24)
        .await
        .unwrap();
    let w = economy_snapshot(s).await;

    assert_eq!(
        refusal(s.buy_listing(off(seller), listing).await),
        Refusal::NotAllowed("a seller cannot buy their own listing")
    );
    assert_eq!(
        refusal(s.buy_listing(off(buyer), ListingId(424_242)).await),
        Refusal::ListingGone
    );
    assert_eq!(
        refusal(s.buy_listing(off(buyer), listing).await),
        Refusal::NotEnoughGold,
        "100 gold does not buy a 500 gold sword"
    );
    assert_eq!(
        refusal(s.buy_listing(off(CharacterId(999_999)), listing).await),
        Refusal::NotFound("character")
    );
    assert_eq!(economy_snapshot(s).await, w);

    set_gold(s, buyer, 10_000).await;
    set_gold(s, seller, GOLD_MAX - 10).await;
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.buy_listing(off(buyer), listing).await),
        Refusal::TooMuchGold,
        "the seller's purse cannot take the proceeds"
    );
    assert_eq!(economy_snapshot(s).await, w);

    set_gold(s, seller, 0).await;
    fill_bag(s, buyer).await;
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.buy_listing(off(buyer), listing).await),
        Refusal::InventoryFull
    );
    assert_eq!(economy_snapshot(s).await, w);

    let buyer2 = character(s, "Bouyer").await;
    set_gold(s, buyer2, 10_000).await;
    expire_listing(s, listing).await;
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.buy_listing(off(buyer2), listing).await),
        Refusal::ListingGone,
        "an expired listing is not for sale even before the expiry job ran"
    );
    assert_eq!(economy_snapshot(s).await, w);
    assert_eq!(log_count(s, "market_buy").await, 0);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn a_purchase_may_fill_the_sellers_purse_to_the_limit_and_not_one_coin_past_it() {
    let db = fresh_db().await;
    let s = &db.store;
    let seller = character(s, "Sella").await;
    let buyer = character(s, "Bouy").await;
    let price = 500;
    let fee = price * realmkeep_domain::limits::MARKET_FEE_BPS / 10_000;
    let sword = grant_bag_item(s, seller, 5, 1).await;
    let listing = s
        .list_item(off(seller), sword, gold(price), 24)
        .await
        .unwrap();
    set_gold(s, buyer, 10_000).await;
    // One coin too many for the seller's purse: refused, nothing moves.
    set_gold(s, seller, GOLD_MAX - (price - fee) + 1).await;
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.buy_listing(off(buyer), listing).await),
        Refusal::TooMuchGold
    );
    assert_eq!(economy_snapshot(s).await, w);
    // Exactly full: both purses move, in the one update of the purchase.
    set_gold(s, seller, GOLD_MAX - (price - fee)).await;
    let bought = s.buy_listing(off(buyer), listing).await.unwrap();
    assert_eq!(bought.gold_after, 10_000 - price);
    assert_eq!(support::gold(s, buyer).await, 10_000 - price);
    assert_eq!(support::gold(s, seller).await, GOLD_MAX);
    assert_eq!(bought.fee, gold(fee));
    assert_items_placed(s).await;
}

#[tokio::test]
async fn market_actions_are_fenced() {
    let db = fresh_db().await;
    let s = &db.store;
    let seller = character(s, "Sella").await;
    let buyer = character(s, "Bouy").await;
    set_gold(s, buyer, 1_000).await;
    let pelt = grant_bag_item(s, seller, 200, 3).await;
    let fence = s
        .claim(seller, "zone-1/node-a", Duration::from_secs(60))
        .await
        .unwrap();
    let stale = Actor::Zone(Fence {
        character: seller,
        epoch: ClaimEpoch(fence.epoch.0 - 1),
    });
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.list_item(stale, pelt, gold(10), 24).await),
        Refusal::StaleClaim
    );
    assert_eq!(
        refusal(s.list_item(off(seller), pelt, gold(10), 24).await),
        Refusal::ClaimHeld,
        "an offline actor may not act behind the zone's back"
    );
    assert_eq!(economy_snapshot(s).await, w);
    let listing = s
        .list_item(Actor::Zone(fence), pelt, gold(10), 24)
        .await
        .unwrap();
    assert_eq!(
        refusal(s.cancel_listing(stale, listing).await),
        Refusal::StaleClaim
    );

    // The buyer is fenced too; the seller, online in its zone, is credited all the same.
    let bfence = s
        .claim(buyer, "zone-2/node-b", Duration::from_secs(60))
        .await
        .unwrap();
    let w = economy_snapshot(s).await;
    assert_eq!(
        refusal(s.buy_listing(off(buyer), listing).await),
        Refusal::ClaimHeld
    );
    assert_eq!(
        refusal(
            s.buy_listing(
                Actor::Zone(Fence {
                    character: buyer,
                    epoch: ClaimEpoch(bfence.epoch.0 + 1)
                }),
                listing
            )
            .await
        ),
        Refusal::StaleClaim
    );
    assert_eq!(economy_snapshot(s).await, w);
    s.buy_listing(Actor::Zone(bfence), listing).await.unwrap();
    assert_eq!(support::gold(s, seller).await, 110);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn search_filters_orders_and_pages() {
    let db = fresh_db().await;
    let s = &db.store;
    let ann = character(s, "Annie").await;
    let ben = character(s, "Benny").await;
    // (seller, def, price)
    let plan = [
        (ann, 200, 30),
        (ann, 201, 10),
        (ben, 200, 20),
        (ben, 200, 30),
        (ann, 200, 50),
        (ben, 201, 40),
        (ann, 202, 20),
    ];
    let mut ids = Vec::new();
    for (who, def, price) in plan {
        let it = grant_bag_item(s, who, def, 2).await;
        ids.push(s.list_item(off(who), it, gold(price), 24).await.unwrap());
    }
    // An expired listing is never shown.
    let it = grant_bag_item(s, ann, 200, 1).await;
    let gone = s.list_item(off(ann), it, gold(1), 24).await.unwrap();
    expire_listing(s, gone).await;

    let all = s.search_market(&MarketQuery::default()).await.unwrap();
    assert_eq!(all.rows.len(), 7);
    assert_eq!(all.next, None);
    let keys: Vec<(i64, i64)> = all.rows.iter().map(|r| (r.price, r.listing_id)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "by price, then id");
    assert!(all.rows.iter().all(|r| r.listing_id != gone.0));
    let first = &all.rows[0];
    assert_eq!((first.item_def_id, first.price), (201, 10));
    assert_eq!(first.item_name, "Boar Tusk");
    assert_eq!(
        (first.seller_id, first.seller_name.as_str()),
        (ann.0, "Annie")
    );
    assert_eq!(first.quantity, 2);

    let pelts = s
        .search_market(&MarketQuery {
            item_def: Some(ItemDefId(200)),
            ..MarketQuery::default()
        })
        .await
        .unwrap();
    let prices: Vec<i64> = pelts.rows.iter().map(|r| r.price).collect();
    assert_eq!(prices, vec![20, 30, 30, 50]);

    let ranged = s
        .search_market(&MarketQuery {
            item_def: Some(ItemDefId(200)),
            min_price: Some(gold(25)),
            max_price: Some(gold(40)),
            ..MarketQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ranged.rows.len(), 2);
    assert!(ranged.rows.iter().all(|r| r.price == 30));

    let bens = s
        .search_market(&MarketQuery {
            seller: Some(ben),
            ..MarketQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(bens.rows.len(), 3);
    assert!(bens.rows.iter().all(|r| r.seller_id == ben.0));

    // Paging two at a time walks every row once, in order.
    let mut walked = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = s
            .search_market(&MarketQuery {
                after,
                page_rows: 2,
                ..MarketQuery::default()
            })
            .await
            .unwrap();
        pages += 1;
        walked.extend(page.rows.iter().map(|r| (r.price, r.listing_id)));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(pages, 4);
    assert_eq!(walked, keys);

    for bad in [0, -1, MARKET_PAGE_ROWS_MAX + 1] {
        assert!(matches!(
            refusal(
                s.search_market(&MarketQuery {
                    page_rows: bad,
                    ..MarketQuery::default()
                })
                .await
            ),
            Refusal::Invalid(_)
        ));
    }
    assert!(matches!(
        refusal(
            s.search_market(&MarketQuery {
                min_price: Some(gold(50)),
                max_price: Some(gold(10)),
                ..MarketQuery::default()
            })
            .await
        ),
        Refusal::Invalid(_)
    ));
}
