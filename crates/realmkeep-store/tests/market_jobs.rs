//! The marketplace's jobs and races against the real private PostgreSQL: expiry by mail (also on
//! several nodes at once, while buyers buy) and 200 buyers racing for one listing.

mod support;

use realmkeep_domain::*;
use realmkeep_store::market::MARKET_EXPIRED_SUBJECT;
use realmkeep_store::{Refusal, Store};
use realmkeep_testkit::fresh_db;
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
async fn expired_listings_go_back_by_mail() {
    let db = fresh_db().await;
    let s = &db.store;
    let seller = character(s, "Sella").await;
    let a = grant_bag_item(s, seller, 5, 1).await;
    let b = grant_bag_item(s, seller, 202, 7).await;
    let c = grant_bag_item(s, seller, 100, 3).await;
    let la = s.list_item(off(seller), a, gold(100), 24).await.unwrap();
    let lb = s.list_item(off(seller), b, gold(100), 24).await.unwrap();
    let lc = s.list_item(off(seller), c, gold(100), 24).await.unwrap();
    let totals = item_totals(s).await;
    let gold_before = total_gold(s).await;

    assert_eq!(s.expire_listings(100).await.unwrap(), 0, "nothing due yet");
    assert!(matches!(
        refusal(s.expire_listings(-1).await),
        Refusal::Invalid(_)
    ));
    expire_listing(s, la).await;
    expire_listing(s, lb).await;
    assert_eq!(s.expire_listings(1).await.unwrap(), 1, "the limit holds");
    assert_eq!(s.expire_listings(100).await.unwrap(), 1);
    assert_eq!(s.expire_listings(100).await.unwrap(), 0);
    let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM marketplace_listings")
        .fetch_all(s.pool())
        .await
        .unwrap();
    assert_eq!(left, vec![lc.0]);
    assert_eq!(log_count(s, "market_expire").await, 2);
    assert_items_placed(s).await;
    assert_eq!(item_totals(s).await, totals);
    assert_eq!(total_gold(s).await, gold_before);

    let inbox = s.list_mail(seller).await.unwrap();
    assert_eq!(inbox.len(), 2);
    let mut got = Vec::new();
    for m in &inbox {
        assert_eq!(m.subject, MARKET_EXPIRED_SUBJECT);
        assert_eq!(m.kind, realmkeep_store::mail::MailKind::Market);
        assert_eq!(m.sender, None);
        assert_eq!(m.items, 1);
        got.extend(s.claim_attachments(off(seller), m.id).await.unwrap().items);
    }
    got.sort();
    assert_eq!(got, vec![a, b], "the same item instances come back");
    assert!(bag_items(s, seller)
        .await
        .iter()
        .any(|r| r.0 == b.0 && r.2 == 7));
    assert_eq!(item_totals(s).await, totals);
    assert_items_placed(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_buyers_one_listing_exactly_one_wins() {
    const BUYERS: usize = 200;
    let db = fresh_db().await;
    let s = db.store.clone();
    let seller = character(&s, "Sella").await;
    let sword = grant_bag_item(&s, seller, 6, 1).await;
    let listing = s
        .list_item(off(seller), sword, gold(777), 24)
        .await
        .unwrap();
    let mut buyers = Vec::with_capacity(BUYERS);
    for i in 0..BUYERS {
        buyers.push(character(&s, &format!("Buyer{i}")).await);
    }
    sqlx::query("UPDATE characters SET gold = 1000 WHERE id <> $1")
        .bind(seller.0)
        .execute(s.pool())
        .await
        .unwrap();
    let gold_before = total_gold(&s).await;
    let totals = item_totals(&s).await;

    let mut tasks = Vec::with_capacity(BUYERS);
    for b in buyers.iter().copied() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            (b, s.buy_listing(off(b), listing).await)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let (b, r) = t.await.unwrap();
        match r {
            Ok(p) => winners.push((b, p)),
            Err(e) => assert!(
                matches!(
                    e.refusal(),
                    Some(Refusal::ListingGone) | Some(Refusal::NotEnoughGold)
                ),
                "a loser is refused, not failed: {e}"
            ),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one buyer gets the sword");
    let (winner, p) = &winners[0];
    assert_eq!(p.item, sword);
    assert_eq!(support::gold(&s, *winner).await, 1000 - 777);
    assert_eq!(
        support::gold(&s, seller).await,
        100 + 777 - rules::market_fee(777)
    );
    assert!(bag_items(&s, *winner).await.iter().any(|r| r.0 == sword.0));
    for b in buyers.iter().filter(|b| *b != winner) {
        assert_eq!(support::gold(&s, *b).await, 1000);
    }
    assert_eq!(
        total_gold(&s).await,
        gold_before - rules::market_fee(777),
        "gold is conserved but for the fee"
    );
    assert_eq!(item_totals(&s).await, totals);
    assert_eq!(log_count(&s, "market_buy").await, 1);
    assert_eq!(row_count(&s, "marketplace_listings").await, 0);
    assert_items_placed(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_on_several_nodes_while_buyers_buy() {
    const LISTINGS: usize = 40;
    const NODES: usize = 4;
    let db = fresh_db().await;
    let s = db.store.clone();
    let seller = character(&s, "Sella").await;
    let buyer = character(&s, "Bouy").await;
    set_gold(&s, buyer, 100_000).await;
    let mut listings = Vec::new();
    for _ in 0..LISTINGS {
        let it = grant_bag_item(&s, seller, 204, 1).await;
        listings.push(s.list_item(off(seller), it, gold(10), 24).await.unwrap());
    }
    // Every other listing is due; the buyer races for the rest.
    let (due, live): (Vec<_>, Vec<_>) = listings.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    for (_, l) in &due {
        expire_listing(&s, **l).await;
    }
    let gold_before = total_gold(&s).await;
    let totals = item_totals(&s).await;
    let mut jobs = Vec::new();
    for _ in 0..NODES {
        let s = s.clone();
        jobs.push(tokio::spawn(async move { s.expire_listings(1_000).await }));
    }
    let mut buys = Vec::new();
    for (_, l) in live.iter().copied() {
        let s = s.clone();
        let l = *l;
        buys.push(tokio::spawn(
            async move { s.buy_listing(off(buyer), l).await },
        ));
    }
    let mut expired: u64 = 0;
    for j in jobs {
        expired += j
            .await
            .unwrap()
            .expect("the expiry job never fails, it skips");
    }
    for b in buys {
        b.await.unwrap().expect("every live listing is bought");
    }
    // Listings skipped because their seller was busy are picked up by a later run.
    expired += s.expire_listings(1_000).await.unwrap();
    assert_eq!(
        expired,
        due.len() as u64,
        "each expired listing was handled once"
    );
    assert_eq!(row_count(&s, "marketplace_listings").await, 0);
    assert_eq!(s.list_mail(seller).await.unwrap().len(), due.len());
    assert_eq!(log_count(&s, "market_expire").await, due.len() as i64);
    assert_eq!(
        total_gold(&s).await,
        gold_before - live.len() as i64 * rules::market_fee(10)
    );
    assert_eq!(item_totals(&s).await, totals);
    assert_items_placed(&s).await;
}
