//! Loot pickups and market buys for `realmkeep bench store`, measured like trades: 8 clients on
//! disjoint characters, each figure next to pgbench -N in the same run.
//!
//! Both operations change the bag they work on, so each client undoes the change after every
//! measured operation (destroys the looted item; relists the bought item for the other side of
//! its pair). Only the measured operation is timed: the figure is operations per second of 8
//! clients doing nothing else (8 / mean latency), comparable with pgbench's TPS.

use anyhow::{Context, Result};
use realmkeep_domain::*;
use realmkeep_store::Store;
use std::time::{Duration, Instant};

/// Characters each client owns (disjoint between clients and from the trading pairs, which use
/// the first `2 * CLIENTS * PAIRS_PER_CLIENT` ids).
pub const CHARACTERS_PER_CLIENT: i64 = 20;
/// A definition that never stacks (the seeded main-hand weapon): every pickup creates an item,
/// the whole path of a pickup (lock, definition, free slot, new item, placement, log).
const LOOT_DEF: ItemDefId = ItemDefId(1);
/// Price of the bench's listings, and how long they last.
const LISTING_PRICE: i64 = 10;
const LISTING_HOURS: i64 = 24;

/// Loot pickups per second of `clients` clients, from characters starting at `first`.
pub async fn loot_bench(store: &Store, clients: usize, first: i64, d: Duration) -> Result<f64> {
    let deadline = Instant::now() + d;
    let mut tasks = Vec::new();
    for client in 0..clients as i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let base = first + client * CHARACTERS_PER_CLIENT;
            let (mut done, mut busy, mut j) = (0u64, Duration::ZERO, 0i64);
            while Instant::now() < deadline {
                let actor = Actor::Offline(CharacterId(base + j));
                let t0 = Instant::now();
                // As the node picks up: once, under the loot's key.
                let key = format!("bench:loot:{client}:{done}");
                let got = store
                    .pickup_loot_once(actor, LOOT_DEF, Quantity::ONE, None, "bench", &key)
                    .await
                    .context("a benchmark loot pickup")?;
                busy += t0.elapsed();
                done += 1;
                let item = got.created.context("a pickup that created nothing")?;
                store.destroy_item(actor, item.item).await?;
                j = (j + 1) % CHARACTERS_PER_CLIENT;
            }
            Ok::<_, anyhow::Error>((done, busy))
        }));
    }
    rate(tasks).await
}

/// Market buys per second of `clients` clients, from characters starting at `first`: in each
/// pair, one lists a bag item and the other buys it, then lists it back.
pub async fn market_bench(store: &Store, clients: usize, first: i64, d: Duration) -> Result<f64> {
    let price = Gold::new(LISTING_PRICE)?;
    let mut tasks = Vec::new();
    // The listings are made before the clock starts.
    let mut starts = Vec::new();
    for client in 0..clients as i64 {
        let mut pairs = Vec::new();
        for j in 0..CHARACTERS_PER_CLIENT / 2 {
            let a = first + client * CHARACTERS_PER_CLIENT + 2 * j;
            // The seed's first bag item of `a`.
            let listing = store
                .list_item(
                    Actor::Offline(CharacterId(a)),
                    ItemId(a * 64 + 2),
                    price,
                    LISTING_HOURS,
                )
                .await
                .context("listing for the market bench")?;
            pairs.push((CharacterId(a), CharacterId(a + 1), listing, true));
        }
        starts.push(pairs);
    }
    let deadline = Instant::now() + d;
    for mut pairs in starts {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let (mut done, mut busy, mut j) = (0u64, Duration::ZERO, 0usize);
            while Instant::now() < deadline {
                let (a, b, listing, a_sells) = pairs[j];
                let buyer = Actor::Offline(if a_sells { b } else { a });
                // As the node buys: under an idempotency key, kept with the receipt.
                let key = format!("bench:buy:{}:{done}", a.0);
                let t0 = Instant::now();
                let bought = store
                    .buy_listing_keyed(buyer, listing, &key)
                    .await
                    .context("a benchmark market buy")?;
                busy += t0.elapsed();
                done += 1;
                let again = store
                    .list_item(buyer, bought.item, price, LISTING_HOURS)
                    .await?;
                pairs[j] = (a, b, again, !a_sells);
                j = (j + 1) % pairs.len();
            }
            Ok::<_, anyhow::Error>((done, busy))
        }));
    }
    rate(tasks).await
}

/// Operations per second of all clients together, from each client's count and time spent in
/// the measured operation.
async fn rate(tasks: Vec<tokio::task::JoinHandle<Result<(u64, Duration)>>>) -> Result<f64> {
    let (mut done, mut busy) = (0u64, Duration::ZERO);
    let clients = tasks.len() as f64;
    for t in tasks {
        let (n, b) = t.await??;
        done += n;
        busy += b;
    }
    anyhow::ensure!(done > 0, "no operation finished");
    Ok(clients * done as f64 / busy.as_secs_f64())
}
