//! The calls a simulated player makes outside its zone, as a real client would through the
//! services that are not zones: the zone protocol (`io.rs`) forwards trades but not the
//! marketplace or mail, so those go to the store; matchmaking goes to the cache. Market and mail
//! act as `Actor::Zone(fence)`, the claim of the zone that holds the character (an offline actor
//! is refused while a zone holds it).

use crate::limits::{LISTING_HOURS, MARKET_SEARCH_ROWS};
use realmkeep_cache::{Cache, QueueJoin, QueueKind};
use realmkeep_domain::{Actor, CharacterId, ClaimEpoch, Fence, Gold, ItemId, ListingId};
use realmkeep_store::market::MarketQuery;
use realmkeep_store::{Store, StoreError};

/// A call to make.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    List {
        fence: Fence,
        item: ItemId,
        price: i64,
    },
    Buy {
        fence: Fence,
        budget: i64,
    },
    Mail {
        fence: Fence,
        to: CharacterId,
        gold: i64,
        item: Option<ItemId>,
    },
    Claim {
        fence: Fence,
    },
    Queue {
        character: CharacterId,
    },
    /// The claim a zone holds the character under (after a zone change, where the public API
    /// hands out no fence).
    Fence {
        character: CharacterId,
    },
}

/// How a call went.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Done {
    Listed {
        item: ItemId,
    },
    Bought {
        price: i64,
    },
    Mailed {
        item: Option<ItemId>,
        gold: i64,
    },
    Claimed {
        gold: i64,
    },
    /// Nothing to do (no listing in budget, no mail to claim, already queued).
    Nothing,
    Queued,
    Fence(Option<Fence>),
    Refused,
    /// PostgreSQL or Redis could not answer.
    Failed,
}

fn outcome<T>(r: Result<T, StoreError>, ok: impl FnOnce(T) -> Done) -> Done {
    match r {
        Ok(v) => ok(v),
        Err(StoreError::Refused(why)) => {
            tracing::debug!(%why, "simulated call refused");
            Done::Refused
        }
        Err(e) => {
            tracing::debug!(error = %e, "simulated call failed");
            Done::Failed
        }
    }
}

pub(crate) async fn call(store: &Store, cache: &Cache, call: Call) -> Done {
    match call {
        Call::List { fence, item, price } => {
            let Ok(price) = Gold::new(price) else {
                return Done::Refused;
            };
            let r = store
                .list_item(Actor::Zone(fence), item, price, LISTING_HOURS)
                .await;
            outcome(r, |_| Done::Listed { item })
        }
        Call::Buy { fence, budget } => buy(store, fence, budget).await,
        Call::Mail {
            fence,
            to,
            gold,
            item,
        } => {
            let Ok(g) = Gold::new(gold) else {
                return Done::Refused;
            };
            let items: Vec<ItemId> = item.into_iter().collect();
            let r = store
                .send_mail(
                    Actor::Zone(fence),
                    to,
                    "A gift",
                    "From a fellow adventurer.",
                    g,
                    &items,
                )
                .await;
            outcome(r, |_| Done::Mailed { item, gold })
        }
        Call::Claim { fence } => claim(store, fence).await,
        Call::Queue { character } => {
            match cache
                .matchmaking()
                .join(QueueKind::Dungeon, character)
                .await
            {
                Ok(QueueJoin::Joined) => Done::Queued,
                Ok(QueueJoin::AlreadyQueued(_)) => Done::Nothing,
                Err(e) => {
                    tracing::debug!(error = %e, "dungeon queue refused");
                    Done::Refused
                }
            }
        }
        Call::Fence { character } => {
            let r = store.claim_info(character).await;
            outcome(r, |info| {
                Done::Fence(info.live.then_some(Fence {
                    character,
                    epoch: ClaimEpoch(info.epoch),
                }))
            })
        }
    }
}

/// Buys the cheapest listing of someone else's within the budget.
async fn buy(store: &Store, fence: Fence, budget: i64) -> Done {
    let Ok(max) = Gold::new(budget) else {
        return Done::Nothing;
    };
    let query = MarketQuery {
        max_price: Some(max),
        page_rows: MARKET_SEARCH_ROWS,
        ..MarketQuery::default()
    };
    let page = match store.search_market(&query).await {
        Ok(p) => p,
        Err(e) => return outcome::<()>(Err(e), |_| Done::Nothing),
    };
    let me = fence.character.0;
    let Some(row) = page.rows.iter().find(|r| r.seller_id != me) else {
        return Done::Nothing;
    };
    let r = store
        .buy_listing(Actor::Zone(fence), ListingId(row.listing_id))
        .await;
    outcome(r, |p| Done::Bought {
        price: p.price.get(),
    })
}

/// Claims the newest mail that still carries gold or items.
async fn claim(store: &Store, fence: Fence) -> Done {
    let mails = match store.list_mail(fence.character).await {
        Ok(m) => m,
        Err(e) => return outcome::<()>(Err(e), |_| Done::Nothing),
    };
    let Some(m) = mails
        .iter()
        .find(|m| !m.claimed && (m.gold > 0 || m.items > 0))
    else {
        return Done::Nothing;
    };
    let r = store.claim_attachments(Actor::Zone(fence), m.id).await;
    outcome(r, |c| Done::Claimed { gold: c.gold.get() })
}
