//! Loot pickups and market buys for `realmkeep bench store`, measured like trades: 8 clients on
//! disjoint characters, each figure next to pgbench -N in the same run, each operation as the
//! node runs it (under its key).
//!
//! Both operations fill the bags they work on, so the run goes in rounds: in a timed round every
//! client does its operations as fast as it can, nothing else running; then, untimed and with the
//! clock stopped, the bags are emptied again (the looted items destroyed; the bought items listed
//! again, for the other side of their pair to buy in the next round). The figure is the
//! operations of the timed rounds over their wall-clock time: like pgbench's TPS, the throughput
//! of 8 clients doing only that.
//!
//! The clients live in a [`Clients`] between calls of [`Clients::run`], so `bench store` can
//! measure each operation in several short turns interleaved with its reference (`store.rs`).

use anyhow::{Context, Result};
use realmkeep_domain::*;
use realmkeep_store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

/// Characters each client owns (disjoint between clients and from the trading pairs, which use
/// the first `2 * CLIENTS * PAIRS_PER_CLIENT` ids).
pub const CHARACTERS_PER_CLIENT: i64 = 20;
/// A definition that never stacks (the seeded main-hand weapon): every pickup creates an item,
/// the whole path of a pickup (lock, key, definition, free slot, new item, placement, log).
const LOOT_DEF: ItemDefId = ItemDefId(1);
/// Price of the bench's listings, and how long they last.
const LISTING_PRICE: i64 = 10;
const LISTING_HOURS: i64 = 24;
/// Free bag slots of a seeded character (60 slots, 48 filled): pickups per character per round.
const FREE_SLOTS: i64 = 12;
/// Listings each seller puts up per round (within its buyer's free slots).
const LISTINGS_PER_SELLER: i64 = 10;
/// Rounds run at most, whatever the time (a bound on the loop if operations were very fast).
const ROUNDS_MAX: u32 = 10_000;

/// One client's state between rounds, and the two halves of a round.
pub(super) trait Client: Send + Sized + 'static {
    /// Does this round's operations; returns how many.
    fn timed(&mut self, store: &Store) -> impl std::future::Future<Output = Result<u64>> + Send;
    /// Empties the bags again for the next round.
    fn untimed(&mut self, store: &Store) -> impl std::future::Future<Output = Result<()>> + Send;
}

/// The clients of one operation, kept from one turn of the bench to the next.
pub(super) struct Clients<C>(Vec<C>);

impl<C: Client> Clients<C> {
    /// Runs timed rounds (every client at once, timed from the common start to the last
    /// client's end) each followed by an untimed one, until the timed rounds add up to `d`.
    /// Returns the operations per second of the timed rounds' wall-clock time; the clients are
    /// kept, their bags emptied, for the next call.
    pub(super) async fn run(&mut self, store: &Store, d: Duration) -> Result<f64> {
        let (rate, clients) = run_rounds(store, std::mem::take(&mut self.0), d).await?;
        self.0 = clients;
        Ok(rate)
    }
}

async fn run_rounds<C: Client>(
    store: &Store,
    clients: Vec<C>,
    d: Duration,
) -> Result<(f64, Vec<C>)> {
    let n = clients.len();
    let start = Arc::new(Barrier::new(n + 1));
    let end = Arc::new(Barrier::new(n + 1));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for mut c in clients {
        let (store, start, end, stop) = (store.clone(), start.clone(), end.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            // A client that failed keeps meeting the others at the barriers (doing nothing), so
            // the run ends; its error is the answer.
            let (mut ops, mut failed) = (0u64, None);
            loop {
                start.wait().await;
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return match failed {
                        None => Ok::<_, anyhow::Error>((ops, c)),
                        Some(e) => Err(e),
                    };
                }
                let r = match failed {
                    None => c.timed(&store).await,
                    Some(_) => Ok(0),
                };
                end.wait().await;
                match r {
                    Ok(n) => ops += n,
                    Err(e) => failed = Some(e),
                }
                if failed.is_none() {
                    if let Err(e) = c.untimed(&store).await {
                        failed = Some(e);
                    }
                }
            }
        }));
    }
    let mut timed = Duration::ZERO;
    let mut round = 0;
    while timed < d && round < ROUNDS_MAX {
        round += 1;
        start.wait().await;
        let t0 = Instant::now();
        end.wait().await;
        timed += t0.elapsed();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    start.wait().await;
    let mut ops = 0;
    let mut clients = Vec::with_capacity(n);
    for t in tasks {
        let (done, c) = t.await??;
        ops += done;
        clients.push(c);
    }
    anyhow::ensure!(ops > 0, "no operation finished");
    Ok((ops as f64 / timed.as_secs_f64(), clients))
}

/// A client of the loot bench: its characters, and the items it looted this round.
pub(super) struct Looter {
    client: i64,
    characters: Vec<CharacterId>,
    looted: Vec<(CharacterId, ItemId)>,
    keys: u64,
}

impl Client for Looter {
    async fn timed(&mut self, store: &Store) -> Result<u64> {
        let mut n = 0;
        for _ in 0..FREE_SLOTS {
            for c in &self.characters {
                // As the node picks up: once, under the loot's key.
                self.keys += 1;
                let key = format!("bench:loot:{}:{}", self.client, self.keys);
                let got = store
                    .pickup_loot_once(
                        Actor::Offline(*c),
                        LOOT_DEF,
                        Quantity::ONE,
                        None,
                        "bench",
                        &key,
                    )
                    .await
                    .context("a benchmark loot pickup")?;
                let item = got.created.context("a pickup that created nothing")?;
                self.looted.push((*c, item.item));
                n += 1;
            }
        }
        Ok(n)
    }

    async fn untimed(&mut self, store: &Store) -> Result<()> {
        for (c, item) in self.looted.drain(..) {
            store.destroy_item(Actor::Offline(c), item).await?;
        }
        Ok(())
    }
}

/// `clients` looters, on characters starting at `first`.
pub(super) fn looters(clients: usize, first: i64) -> Clients<Looter> {
    let looters = (0..clients as i64)
        .map(|client| Looter {
            client,
            characters: (0..CHARACTERS_PER_CLIENT)
                .map(|j| CharacterId(first + client * CHARACTERS_PER_CLIENT + j))
                .collect(),
            looted: Vec::new(),
            keys: 0,
        })
        .collect();
    Clients(looters)
}

/// A client of the market bench: pairs of characters; in each, the seller's listings are bought
/// by the other, who lists them again for the next round (the roles swap).
pub(super) struct Trader {
    /// (seller, buyer, the seller's listings)
    pairs: Vec<(CharacterId, CharacterId, Vec<ListingId>)>,
    bought: Vec<(CharacterId, ItemId)>,
    keys: u64,
}

impl Client for Trader {
    async fn timed(&mut self, store: &Store) -> Result<u64> {
        let mut n = 0;
        for (_, buyer, listings) in &mut self.pairs {
            for listing in listings.drain(..) {
                // As the node buys: under an idempotency key, kept with the receipt.
                self.keys += 1;
                let key = format!("bench:buy:{}:{}", buyer.0, self.keys);
                let bought = store
                    .buy_listing_keyed(Actor::Offline(*buyer), listing, &key)
                    .await
                    .context("a benchmark market buy")?;
                self.bought.push((*buyer, bought.item));
                n += 1;
            }
        }
        Ok(n)
    }

    async fn untimed(&mut self, store: &Store) -> Result<()> {
        let price = Gold::new(LISTING_PRICE)?;
        for (seller, buyer, listings) in &mut self.pairs {
            std::mem::swap(seller, buyer);
            for (owner, item) in self.bought.iter().filter(|(o, _)| o == seller) {
                let l = store
                    .list_item(Actor::Offline(*owner), *item, price, LISTING_HOURS)
                    .await?;
                listings.push(l);
            }
        }
        self.bought.clear();
        Ok(())
    }
}

/// `clients` market traders, on characters starting at `first`, their first listings up.
pub(super) async fn traders(store: &Store, clients: usize, first: i64) -> Result<Clients<Trader>> {
    let price = Gold::new(LISTING_PRICE)?;
    let mut traders = Vec::new();
    for client in 0..clients as i64 {
        let mut pairs = Vec::new();
        for j in 0..CHARACTERS_PER_CLIENT / 2 {
            let a = first + client * CHARACTERS_PER_CLIENT + 2 * j;
            let mut listings = Vec::new();
            // The seed's bag items of `a` (slots 0.., ids a * 64 + 2..).
            for k in 0..LISTINGS_PER_SELLER {
                let l = store
                    .list_item(
                        Actor::Offline(CharacterId(a)),
                        ItemId(a * 64 + 2 + k),
                        price,
                        LISTING_HOURS,
                    )
                    .await
                    .context("listing for the market bench")?;
                listings.push(l);
            }
            pairs.push((CharacterId(a), CharacterId(a + 1), listings));
        }
        traders.push(Trader {
            pairs,
            bought: Vec::new(),
            keys: 0,
        });
    }
    Ok(Clients(traders))
}
