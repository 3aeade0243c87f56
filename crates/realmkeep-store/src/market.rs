//! The marketplace (auction house): listing an item puts it in escrow in its listing row
//! (location 'market'); a purchase moves the buyer's gold to the seller less the house's fee, which
//! leaves the economy, and the item to the buyer; a cancelled listing returns the item to its
//! seller; an expired one goes back to the seller by mail. Searches are keyset-paged by price.
//!
//! Lock order, as everywhere: character rows first (one `lock_characters` call), then the listing
//! row. The expiry job never waits on a lock: it skips listings and sellers that are busy.

use crate::action_keys::{check_key, keep_in};
use crate::common::{
    free_slots, item_def, lock_actor, place_in_inventory, relocate, take_from_inventory,
};
use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreError, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::mail::{attach_item, insert_mail, MailKind, NewMail};
use crate::tx::in_tx;
use crate::Store;
use chrono::{DateTime, Utc};
use realmkeep_domain::limits::{
    MARKET_LISTINGS_PER_SELLER_MAX, MARKET_LISTING_HOURS_MAX, MARKET_LISTING_HOURS_MIN,
    MARKET_PAGE_ROWS_MAX,
};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{Actor, CharacterId, Gold, ItemDefId, ItemId, ListingId};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, PgConnection, Postgres, QueryBuilder};
use std::time::SystemTime;

/// Expired listings handled in one transaction of the expiry job.
pub const MARKET_EXPIRE_BATCH_ROWS_MAX: i64 = 100;
/// Subject of the mail that brings an expired listing's item back.
pub const MARKET_EXPIRED_SUBJECT: &str = "Your auction expired";

/// What a buyer got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub listing: ListingId,
    pub item: ItemId,
    pub item_def: ItemDefId,
    pub quantity: i32,
    /// What the buyer paid.
    pub price: Gold,
    /// The house's share, gone from the economy; the seller got `price - fee`.
    pub fee: Gold,
    pub seller: CharacterId,
    /// The buyer's bag slot the item went to.
    pub slot: i16,
    /// The buyer's purse after paying.
    pub gold_after: i64,
}

/// A marketplace search. Every filter is optional; results come by price, then listing id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketQuery {
    pub item_def: Option<ItemDefId>,
    pub min_price: Option<Gold>,
    pub max_price: Option<Gold>,
    pub seller: Option<CharacterId>,
    /// The `next` cursor of the previous page: rows strictly after (price, listing id).
    pub after: Option<(i64, ListingId)>,
    /// Rows per page, 1 to `MARKET_PAGE_ROWS_MAX`.
    pub page_rows: i64,
}

impl Default for MarketQuery {
    fn default() -> Self {
        Self {
            item_def: None,
            min_price: None,
            max_price: None,
            seller: None,
            after: None,
            page_rows: MARKET_PAGE_ROWS_MAX,
        }
    }
}

/// One listing as a search shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct MarketRow {
    pub listing_id: i64,
    pub item_id: i64,
    pub item_def_id: i32,
    pub item_name: String,
    pub quantity: i32,
    pub price: i64,
    pub seller_id: i64,
    pub seller_name: String,
    pub expires_at: DateTime<Utc>,
}

/// One page of a search; `next` is the cursor of the following page, `None` on the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketPage {
    pub rows: Vec<MarketRow>,
    pub next: Option<(i64, ListingId)>,
}

/// A listing row as locked for a change.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ListingRow {
    id: i64,
    seller_character_id: i64,
    item_id: i64,
    item_def_id: i32,
    quantity: i32,
    price: i64,
}

const LISTING_COLUMNS: &str = "l.id, l.seller_character_id, l.item_id, l.item_def_id, l.quantity,
    l.price";

async fn lock_listing(
    tx: &mut PgConnection,
    listing: ListingId,
) -> StoreResult<Option<ListingRow>> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {LISTING_COLUMNS} FROM marketplace_listings l WHERE l.id = $1 FOR UPDATE"
    )))
    .bind(listing.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("lock listing"))
}

/// A gold amount read back from a column whose CHECK keeps it in range.
fn stored_gold(v: i64) -> StoreResult<Gold> {
    Gold::new(v).map_err(|e| StoreError::Io(format!("stored gold out of range: {e}")))
}

async fn list_item_in(
    tx: &mut PgConnection,
    actor: Actor,
    item: ItemId,
    price: Gold,
    duration_hours: i64,
) -> StoreResult<ListingId> {
    let seller = actor.character();
    lock_actor(tx, &actor).await?;
    let active: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM marketplace_listings WHERE seller_character_id = $1",
    )
    .bind(seller.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("count listings"))?;
    if active >= MARKET_LISTINGS_PER_SELLER_MAX {
        refuse!(Refusal::LimitReached("market listings per seller"));
    }
    let taken = take_from_inventory(tx, seller, item).await?;
    let def = item_def(tx, ItemDefId(taken.def_id)).await?;
    if def.kind == "quest" {
        refuse!(Refusal::NotAllowed("quest items cannot be sold"));
    }
    relocate(tx, item, "market").await?;
    let (id, expires_at): (i64, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO marketplace_listings
             (seller_character_id, item_id, item_def_id, quantity, price, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))
         RETURNING id, expires_at",
    )
    .bind(seller.0)
    .bind(item.0)
    .bind(taken.def_id)
    .bind(taken.quantity)
    .bind(price.get())
    .bind(duration_hours as i32)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("insert listing"))?;
    write_in_tx(
        tx,
        &[LogEvent::new("market_list")
            .actor(seller.0)
            .item(item.0, taken.def_id, taken.quantity)
            .gold(price.get())
            .details(serde_json::json!({
                "listing_id": id, "price": price.get(), "from_slot": taken.slot,
                "expires_at": expires_at,
            }))],
    )
    .await?;
    Ok(ListingId(id))
}

async fn cancel_listing_in(
    tx: &mut PgConnection,
    actor: Actor,
    listing: ListingId,
) -> StoreResult<InventoryItem> {
    let seller = actor.character();
    lock_actor(tx, &actor).await?;
    let Some(row) = lock_listing(tx, listing).await? else {
        refuse!(Refusal::ListingGone)
    };
    if row.seller_character_id != seller.0 {
        refuse!(Refusal::NotAllowed("only the seller may cancel a listing"));
    }
    let slot = free_slots(tx, seller, 1).await?[0];
    sqlx::query("DELETE FROM marketplace_listings WHERE id = $1")
        .bind(row.id)
        .execute(&mut *tx)
        .await
        .map_err(db("delete listing"))?;
    let item = ItemId(row.item_id);
    place_in_inventory(tx, seller, slot, item).await?;
    write_in_tx(
        tx,
        &[LogEvent::new("market_cancel")
            .actor(seller.0)
            .item(row.item_id, row.item_def_id, row.quantity)
            .details(serde_json::json!({
                "listing_id": row.id, "price": row.price, "to_slot": slot,
            }))],
    )
    .await?;
    Ok(InventoryItem {
        item,
        def: ItemDefId(row.item_def_id),
        quantity: row.quantity,
        slot,
    })
}

type BuyRow = (i64, i32, i32, i64, i64, i64, i16, i64);

const BUY_SQL: &str = "SELECT * FROM realmkeep_market_buy($1, $2, $3, $4, $5, $6)";

/// The purchase and its idempotency key with its receipt (a `Purchase` as JSON), in one
/// statement, so one transaction.
const BUY_KEYED_SQL: &str = "
    WITH t AS MATERIALIZED (SELECT * FROM realmkeep_market_buy($1, $2, $3, $4, $5, $6)),
    k AS (INSERT INTO action_keys (action_key, receipt)
          SELECT $7, jsonb_build_object('listing', $3::int8, 'item', o_item, 'item_def', o_def,
                 'quantity', o_qty, 'price', o_price, 'fee', o_fee, 'seller', o_seller,
                 'slot', o_slot, 'gold_after', o_gold_after) FROM t)
    SELECT * FROM t";

/// A purchase as one statement (the server-side function `realmkeep_market_buy` in
/// `market.sql`, its own transaction), run again after a serialization failure or deadlock.
async fn buy_call(
    conns: &crate::conns::Conns,
    actor: Actor,
    listing: ListingId,
    key: Option<&str>,
) -> StoreResult<Purchase> {
    let epoch = match actor {
        Actor::Zone(f) => Some(f.epoch.0),
        Actor::Offline(_) => None,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sql = if key.is_some() {
            BUY_KEYED_SQL
        } else {
            BUY_SQL
        };
        let r: Result<BuyRow, sqlx::Error> = on_conn!(conns, |conn| sqlx::query_as(sql)
            .bind(actor.character().0)
            .bind(epoch)
            .bind(listing.0)
            .bind(realmkeep_domain::limits::MARKET_FEE_BPS)
            .bind(realmkeep_domain::limits::GOLD_MAX)
            .bind(realmkeep_domain::limits::INVENTORY_SLOTS as i32)
            .bind(key)
            .fetch_one(conn));
        match r {
            Ok((item, def, quantity, price, fee, seller, slot, gold_after)) => {
                return Ok(Purchase {
                    listing,
                    item: ItemId(item),
                    item_def: ItemDefId(def),
                    quantity,
                    price: stored_gold(price)?,
                    fee: stored_gold(fee)?,
                    seller: CharacterId(seller),
                    slot,
                    gold_after,
                })
            }
            Err(e) => {
                if key.is_some() && crate::action_keys::is_key_taken(&e) {
                    return Err(StoreError::KeyUsed);
                }
                // A refusal (its own SQLSTATE) becomes `Refused` in `db`; it is not retryable.
                if crate::error::is_retryable_sqlx(&e)
                    && attempt < realmkeep_domain::limits::TX_RETRIES_MAX
                {
                    tokio::time::sleep(crate::tx::retry_backoff(attempt)).await;
                    continue;
                }
                return Err(db("buy listing")(e));
            }
        }
    }
}

/// One batch of the expiry job: each expired listing's item goes into a new 'market' mail to its
/// seller. Listings another transaction holds, and sellers locked by an economy action, are
/// skipped (`SKIP LOCKED`) and picked up by a later run; holding the seller's row `FOR KEY SHARE`
/// is what the mail's foreign key needs, so this transaction never waits and cannot deadlock.
async fn expire_batch_in(
    tx: &mut PgConnection,
    now: Option<DateTime<Utc>>,
    batch_rows: i64,
) -> StoreResult<u64> {
    let rows: Vec<ListingRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {LISTING_COLUMNS}
         FROM marketplace_listings l JOIN characters c ON c.id = l.seller_character_id
         WHERE l.expires_at <= coalesce($2, now())
         ORDER BY l.expires_at, l.id
         LIMIT $1
         FOR UPDATE OF l SKIP LOCKED
         FOR KEY SHARE OF c SKIP LOCKED"
    )))
    .bind(batch_rows)
    .bind(now)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("lock expired listings"))?;
    let mut logs = Vec::with_capacity(rows.len());
    for row in &rows {
        let seller = CharacterId(row.seller_character_id);
        let name: String = sqlx::query_scalar("SELECT name FROM item_definitions WHERE id = $1")
            .bind(row.item_def_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("item name"))?;
        let body = format!(
            "Nobody bought your {name} (x{}) at {} gold. It is attached.",
            row.quantity, row.price
        );
        let mail = insert_mail(
            tx,
            &NewMail {
                sender: None,
                recipient: seller,
                kind: MailKind::Market,
                subject: MARKET_EXPIRED_SUBJECT,
                body: &body,
                gold: 0,
            },
        )
        .await?;
        sqlx::query("DELETE FROM marketplace_listings WHERE id = $1")
            .bind(row.id)
            .execute(&mut *tx)
            .await
            .map_err(db("delete listing"))?;
        attach_item(tx, mail, 0, ItemId(row.item_id)).await?;
        logs.push(
            LogEvent::new("market_expire")
                .target(seller.0)
                .item(row.item_id, row.item_def_id, row.quantity)
                .details(serde_json::json!({
                    "listing_id": row.id, "price": row.price, "mail_id": mail.0,
                })),
        );
    }
    write_in_tx(tx, &logs).await?;
    Ok(rows.len() as u64)
}

fn check_listing(price: Gold, duration_hours: i64) -> StoreResult<()> {
    if price.get() <= 0 {
        refuse!(Refusal::Invalid("a price must be above zero".into()));
    }
    if !(MARKET_LISTING_HOURS_MIN..=MARKET_LISTING_HOURS_MAX).contains(&duration_hours) {
        refuse!(Refusal::Invalid(format!(
            "a listing lasts {MARKET_LISTING_HOURS_MIN} to {MARKET_LISTING_HOURS_MAX} hours"
        )));
    }
    Ok(())
}

impl Store {
    /// Puts an item of the actor's inventory up for sale at `price` for `duration_hours`.
    pub async fn list_item(
        &self,
        actor: Actor,
        item: ItemId,
        price: Gold,
        duration_hours: i64,
    ) -> StoreResult<ListingId> {
        check_listing(price, duration_hours)?;
        in_tx!(self.conns(), |tx| list_item_in(
            tx,
            actor,
            item,
            price,
            duration_hours
        ))
    }

    /// Takes a listing off the market; the item returns to a free slot of the seller's bag.
    pub async fn cancel_listing(&self, actor: Actor, listing: ListingId) -> StoreResult<ItemId> {
        let back = in_tx!(self.conns(), |tx| cancel_listing_in(tx, actor, listing))?;
        Ok(back.item)
    }

    /// `cancel_listing` under an idempotency key (`action_keys`): answers the item as placed.
    pub async fn cancel_listing_keyed(
        &self,
        actor: Actor,
        listing: ListingId,
        key: &str,
    ) -> StoreResult<InventoryItem> {
        check_key(key)?;
        in_tx!(self.conns(), |tx| async move {
            let back = cancel_listing_in(tx, actor, listing).await?;
            keep_in(tx, key, &back).await?;
            Ok(back)
        })
    }

    /// Buys a listing: `ListingGone` if it was bought, cancelled or expired meanwhile.
    pub async fn buy_listing(&self, actor: Actor, listing: ListingId) -> StoreResult<Purchase> {
        buy_call(self.conns(), actor, listing, None).await
    }

    /// `buy_listing` under an idempotency key (`action_keys`).
    pub async fn buy_listing_keyed(
        &self,
        actor: Actor,
        listing: ListingId,
        key: &str,
    ) -> StoreResult<Purchase> {
        check_key(key)?;
        buy_call(self.conns(), actor, listing, Some(key)).await
    }

    /// `list_item` under an idempotency key (`action_keys`).
    pub async fn list_item_keyed(
        &self,
        actor: Actor,
        item: ItemId,
        price: Gold,
        duration_hours: i64,
        key: &str,
    ) -> StoreResult<ListingId> {
        check_key(key)?;
        check_listing(price, duration_hours)?;
        in_tx!(self.conns(), |tx| async move {
            let listing = list_item_in(tx, actor, item, price, duration_hours).await?;
            keep_in(tx, key, &listing).await?;
            Ok(listing)
        })
    }

    /// Sends up to `limit` expired listings back to their sellers by mail, in transactions of at
    /// most `MARKET_EXPIRE_BATCH_ROWS_MAX` listings. Safe to run on several nodes at once.
    /// Returns how many listings expired. Expired means by the database's clock.
    pub async fn expire_listings(&self, limit: i64) -> StoreResult<u64> {
        self.expire_listings_by(None, limit).await
    }

    /// `expire_listings` with the caller's clock: listings whose `expires_at` is at or before
    /// `now` expire (the node's job scheduler passes its clock, which a test can set ahead).
    pub async fn expire_listings_at(&self, now: SystemTime, limit: i64) -> StoreResult<u64> {
        self.expire_listings_by(Some(DateTime::<Utc>::from(now)), limit)
            .await
    }

    async fn expire_listings_by(&self, now: Option<DateTime<Utc>>, limit: i64) -> StoreResult<u64> {
        if limit < 0 {
            refuse!(Refusal::Invalid("limit must not be negative".into()));
        }
        let mut done: u64 = 0;
        while (done as i64) < limit {
            let batch_rows = (limit - done as i64).min(MARKET_EXPIRE_BATCH_ROWS_MAX);
            let n = in_tx!(self.conns(), |tx| expire_batch_in(tx, now, batch_rows))?;
            done += n;
            if (n as i64) < batch_rows {
                break;
            }
        }
        Ok(done)
    }

    /// Searches listings that have not expired, cheapest first, one page at a time.
    pub async fn search_market(&self, query: &MarketQuery) -> StoreResult<MarketPage> {
        if !(1..=MARKET_PAGE_ROWS_MAX).contains(&query.page_rows) {
            refuse!(Refusal::Invalid(format!(
                "a page holds 1 to {MARKET_PAGE_ROWS_MAX} rows"
            )));
        }
        if let (Some(lo), Some(hi)) = (query.min_price, query.max_price) {
            if lo > hi {
                refuse!(Refusal::Invalid(
                    "the lowest price is above the highest".into()
                ));
            }
        }
        // Only the filters asked for go into the statement, so each shape of search gets a plan
        // that can use the (item_def_id, price, id) or (price, id) index.
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT l.id AS listing_id, l.item_id, l.item_def_id, d.name AS item_name, l.quantity,
                    l.price, l.seller_character_id AS seller_id, c.name AS seller_name, l.expires_at
             FROM marketplace_listings l
             JOIN item_definitions d ON d.id = l.item_def_id
             JOIN characters c ON c.id = l.seller_character_id
             WHERE l.expires_at > now()",
        );
        if let Some(def) = query.item_def {
            q.push(" AND l.item_def_id = ").push_bind(def.0);
        }
        if let Some(lo) = query.min_price {
            q.push(" AND l.price >= ").push_bind(lo.get());
        }
        if let Some(hi) = query.max_price {
            q.push(" AND l.price <= ").push_bind(hi.get());
        }
        if let Some(seller) = query.seller {
            q.push(" AND l.seller_character_id = ").push_bind(seller.0);
        }
        if let Some((price, id)) = query.after {
            q.push(" AND (l.price, l.id) > (")
                .push_bind(price)
                .push(", ")
                .push_bind(id.0)
                .push(")");
        }
        // One row more than the page tells whether another page follows.
        q.push(" ORDER BY l.price, l.id LIMIT ")
            .push_bind(query.page_rows + 1);
        let mut rows: Vec<MarketRow> =
            on_conn!(self.conns(), |conn| q.build_query_as().fetch_all(conn))
                .map_err(db("search market"))?;
        let next = if rows.len() as i64 > query.page_rows {
            rows.truncate(query.page_rows as usize);
            rows.last().map(|r| (r.price, ListingId(r.listing_id)))
        } else {
            None
        };
        Ok(MarketPage { rows, next })
    }
}
