//! A contract migration changes the type of columns the store's statements return, while a node
//! still serves on the schema before it (a rolling deploy: migration 20261204000009, the column
//! domains, applied by another process's `migrate` with the migrations after it). Every
//! connection of the store holds its statements prepared against the old schema, and PostgreSQL
//! refuses to run such a statement again ("cached plan must not change result type"), or a
//! PL/pgSQL function whose session planned a record field of such a column (42804), for as long
//! as the session lasts. What must hold (`conns.rs`, `error.rs`): no join, trade, purchase,
//! character creation or other transaction fails for it (each is rolled back whole and run again
//! on a connection opened after the change); a single read fails at most once per connection
//! open at the change; then nothing fails, and what is read (the purse, the bag slots) is right
//! under the new types.

mod support;

use realmkeep_domain::{
    Actor, CharacterId, CharacterName, Class, Fence, Gold, ItemDefId, ItemId, Kingdom, Quantity,
};
use realmkeep_store::sql_sources::SQL_SOURCES;
use realmkeep_store::trade::TradeSide;
use realmkeep_store::{Store, StoreError, StoreOptions, MIGRATOR};
use realmkeep_testkit::{character, empty_db};
use sqlx::Connection;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(30);
/// The migration that changes the columns' types (it moves their CHECKs onto domains).
const TYPE_CHANGE: i64 = 20261204000009;
/// Calls made at once: enough for several connections to hold each statement.
const AT_ONCE: usize = 4;

/// A database as the release before the type change left it (every migration before
/// [`TYPE_CHANGE`], the SQL sources, the content), and a store serving on it: its URL and store.
async fn db_before_the_change(opts: StoreOptions) -> (String, Store) {
    let (url, _name) = empty_db().await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    MIGRATOR.run_to(TYPE_CHANGE - 1, &mut conn).await.unwrap();
    conn.close().await.unwrap();
    let store = Store::connect(&url, &opts).await.unwrap();
    store.apply_sql_sources(SQL_SOURCES).await.unwrap();
    let content = realmkeep_store::seed::bundled_content().unwrap();
    store.seed_content(&content).await.unwrap();
    assert_eq!(gold_type(&store).await, "bigint", "before the change");
    (url, store)
}

/// The type of `characters.gold`.
async fn gold_type(store: &Store) -> String {
    sqlx::query_scalar(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = 'characters'::regclass AND attname = 'gold'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

/// The new release's `realmkeep migrate` runs from another process, as a deploy does, while the
/// store serves; returns that process's store.
async fn migrate_next(url: &str) -> Store {
    let other = Store::connect(url, &StoreOptions::default()).await.unwrap();
    other.migrate().await.unwrap();
    assert_eq!(
        gold_type(&other).await,
        "rk_gold",
        "the migration changed the column's type"
    );
    other
}

/// Connections the pool has open.
fn open(store: &Store) -> u32 {
    store.pool_gauges().0
}

/// Joins each character (claim and load: one transaction) at once.
async fn join_all(store: &Store, cs: &[CharacterId]) -> Vec<Fence> {
    let joins = cs
        .iter()
        .map(|&c| store.claim_and_load(c, "zone-deploy", LEASE));
    futures::future::join_all(joins)
        .await
        .into_iter()
        .zip(cs)
        .map(|(r, c)| {
            let (fence, loaded) = r.unwrap_or_else(|e| panic!("the join of {c:?} failed: {e}"));
            assert_eq!(loaded.id, *c);
            fence
        })
        .collect()
}

/// Loads each character at once (a read: one statement, not retried); the errors.
async fn load_all(store: &Store, cs: &[CharacterId]) -> Vec<StoreError> {
    futures::future::join_all(cs.iter().map(|&c| store.load_character(c)))
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect()
}

fn side(f: Fence, items: Vec<ItemId>, gold: i64) -> TradeSide {
    TradeSide {
        actor: Actor::Zone(f),
        items,
        gold: Gold::new(gold).unwrap(),
    }
}

#[tokio::test]
async fn the_column_domains_migrated_under_a_live_store_fail_no_join_and_no_trade() {
    let (url, store) = db_before_the_change(StoreOptions::default()).await;
    let mut before = Vec::new();
    let mut after = Vec::new();
    for i in 0..AT_ONCE {
        before.push(character(&store, &format!("Before{i}")).await);
        after.push(character(&store, &format!("After{i}")).await);
    }
    // Today's schema: joins, loads and trades on several connections at once, so each statement
    // is prepared on each of them.
    let fences = join_all(&store, &before).await;
    assert!(load_all(&store, &before).await.is_empty());
    let trades = fences.chunks(2).map(|p| {
        let store = store.clone();
        let (a, b) = (side(p[0], vec![], 3), side(p[1], vec![], 0));
        async move { store.trade(&a, &b).await }
    });
    for r in futures::future::join_all(trades).await {
        r.unwrap();
    }
    let open_at_change = open(&store);
    assert!(
        open_at_change >= 2,
        "several connections hold prepared statements: {:?}",
        store.pool_gauges()
    );

    // The deploy migrates (`realmkeep migrate` of the new release, another process).
    let other = migrate_next(&url).await;

    // Joins first: each meets a stale plan on a connection of before, and is run again.
    let fences = join_all(&store, &after).await;
    // Reads: at most one failure per connection open at the change, as an operating error.
    let failed = load_all(&store, &before).await;
    assert!(
        failed.len() <= open_at_change as usize,
        "{} reads failed with {open_at_change} connections open at the change: {failed:?}",
        failed.len()
    );
    for e in &failed {
        assert!(e.refusal().is_none() && !e.is_unavailable(), "{e}");
    }
    // From then on nothing fails.
    for _ in 0..3 {
        assert!(load_all(&store, &before).await.is_empty());
        assert!(load_all(&store, &after).await.is_empty());
    }

    // A trade of items and gold under the new types; the receiver's bag slots are read back
    // (an array of a domain column, which the load casts).
    let (a, b) = (fences[0], fences[1]);
    let a_loaded = store.load_character(a.character).await.unwrap();
    let b_before = store.load_character(b.character).await.unwrap();
    let item = a_loaded.inventory[0].item;
    let receipt = store
        .trade(&side(a, vec![item], 5), &side(b, vec![], 0))
        .await
        .unwrap();
    assert_eq!(receipt.b_received.len(), 1);
    let b_after = store.load_character(b.character).await.unwrap();
    assert_eq!(b_after.gold, b_before.gold + 5);
    let placed = b_after
        .inventory
        .iter()
        .find(|i| i.item == item)
        .expect("the item is in the receiver's bag");
    assert_eq!(placed.slot, receipt.b_received[0].1);
    assert_eq!(
        store.load_character(a.character).await.unwrap().gold,
        a_loaded.gold - 5
    );
    // A pickup, a listing and its purchase under the new types.
    let looted = store
        .pickup_loot(
            Actor::Zone(fences[2]),
            ItemDefId(200),
            Quantity::new(2).unwrap(),
            None,
            "schema-change",
        )
        .await
        .unwrap();
    assert!(looted.created.is_some() || !looted.merged.is_empty());
    let c_item = store
        .load_character(fences[2].character)
        .await
        .unwrap()
        .inventory[0]
        .item;
    let listing = store
        .list_item(Actor::Zone(fences[2]), c_item, Gold::new(7).unwrap(), 24)
        .await
        .unwrap();
    let d_before = store.load_character(fences[3].character).await.unwrap();
    let bought = store
        .buy_listing(Actor::Zone(fences[3]), listing)
        .await
        .unwrap();
    let d_after = store.load_character(fences[3].character).await.unwrap();
    assert_eq!(d_after.gold, d_before.gold - 7);
    assert!(d_after.inventory.iter().any(|i| i.item == c_item));
    assert_eq!(bought.item, c_item);
    assert_eq!(realmkeep_testkit::misplaced_items(&store).await, 0);
    // The domains refuse what the table's CHECKs refused, under the same name.
    let e = sqlx::query("UPDATE characters SET gold = -1 WHERE id = $1")
        .bind(a.character.0)
        .execute(other.pool())
        .await
        .unwrap_err();
    let e = e.into_database_error().unwrap();
    assert_eq!(
        (e.code().as_deref(), e.constraint()),
        (Some("23514"), Some("characters_gold_check"))
    );
}

#[tokio::test]
async fn with_one_connection_each_join_after_the_change_succeeds_and_no_read_fails() {
    let (url, store) = db_before_the_change(StoreOptions {
        pool_connections_max: 1,
        ..StoreOptions::default()
    })
    .await;
    let cs = [
        character(&store, "Solo").await,
        character(&store, "Second").await,
        character(&store, "Third").await,
    ];
    join_all(&store, &cs[..1]).await;
    assert!(load_all(&store, &cs[..1]).await.is_empty());
    assert_eq!(open(&store), 1);
    migrate_next(&url).await;
    // One join after another: the first meets the stale plan and runs again on a new
    // connection; the second finds that one.
    join_all(&store, &cs[1..2]).await;
    join_all(&store, &cs[2..]).await;
    for _ in 0..3 {
        assert!(load_all(&store, &cs).await.is_empty());
    }
    assert_eq!(open(&store), 1, "{:?}", store.pool_gauges());
}

/// A PL/pgSQL function keeps, per session, the type of each record field it planned an
/// expression over: a session that ran a trade or a purchase before the change would fail every
/// later call ("type of parameter ... does not match that when preparing the plan", 42804)
/// unless the field is cast (`trade.sql`, `market.sql`) or the session replaced (`error.rs`).
/// Here a round of trades or purchases is the first thing after the change, each call on a
/// connection that ran one before; `trades_first` says which comes first.
async fn economy_first_after_the_change(trades_first: bool) {
    let (url, store) = db_before_the_change(StoreOptions::default()).await;
    let mut cs = Vec::new();
    for i in 0..AT_ONCE {
        cs.push(character(&store, &format!("Trader{i}")).await);
    }
    let fences = join_all(&store, &cs).await;
    // Two listings per seller: its starting bag stack and a looted item; `listings[2 * s + r]`
    // is seller `s`'s listing for round `r`.
    let mut listings = Vec::new();
    for f in &fences {
        store
            .pickup_loot(
                Actor::Zone(*f),
                ItemDefId(200),
                Quantity::new(1).unwrap(),
                None,
                "schema-change",
            )
            .await
            .unwrap();
        for item in store.load_character(f.character).await.unwrap().inventory {
            let l = store
                .list_item(Actor::Zone(*f), item.item, Gold::new(7).unwrap(), 24)
                .await
                .unwrap();
            listings.push(l);
        }
    }
    assert_eq!(listings.len(), 2 * AT_ONCE);
    // Each round runs AT_ONCE calls at once, so each runs on a connection of its own; buyer and
    // receiver are the next character.
    let next = |i: usize| fences[(i + 1) % AT_ONCE];
    let buys = |round: usize| {
        futures::future::join_all((0..AT_ONCE).map(|s| {
            let (store, listing) = (store.clone(), listings[2 * s + round]);
            async move { store.buy_listing(Actor::Zone(next(s)), listing).await }
        }))
    };
    let trades = || {
        futures::future::join_all((0..AT_ONCE).map(|i| {
            let store = store.clone();
            let (a, b) = (side(fences[i], vec![], 1), side(next(i), vec![], 0));
            async move { store.trade(&a, &b).await }
        }))
    };
    let gold_before = support::total_gold(&store).await;
    for r in buys(0).await {
        r.unwrap();
    }
    for r in trades().await {
        r.unwrap();
    }
    let open_at_change = open(&store);
    assert!(
        open_at_change >= 2,
        "several connections ran both functions: {:?}",
        store.pool_gauges()
    );

    migrate_next(&url).await;

    let mut failed = Vec::new();
    for round in 0..2 {
        let errors: Vec<StoreError> = if (round == 0) == trades_first {
            trades().await.into_iter().filter_map(Result::err).collect()
        } else {
            buys(1).await.into_iter().filter_map(Result::err).collect()
        };
        failed.extend(errors.iter().map(ToString::to_string));
    }
    assert!(failed.is_empty(), "after the change: {failed:?}");
    // Every listing sold once, the house took its fees, no item is out of place.
    let sold: i64 = sqlx::query_scalar("SELECT count(*) FROM marketplace_listings")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sold, 0, "no listing is left");
    assert!(support::total_gold(&store).await <= gold_before);
    assert_eq!(realmkeep_testkit::misplaced_items(&store).await, 0);
}

#[tokio::test]
async fn trades_first_after_the_change_succeed_on_connections_that_ran_them() {
    economy_first_after_the_change(true).await;
}

#[tokio::test]
async fn purchases_first_after_the_change_succeed_on_connections_that_ran_them() {
    economy_first_after_the_change(false).await;
}

/// Creating a character reads the bag's slots (a changed column) in its transaction: after the
/// change, creations at once on connections that created before all succeed (each that meets
/// the stale plan is run again whole), and each character is there once.
#[tokio::test]
async fn character_creation_after_the_change_succeeds_on_connections_that_created_before() {
    let (url, store) = db_before_the_change(StoreOptions::default()).await;
    let create_round = |prefix: &'static str| {
        futures::future::join_all((0..AT_ONCE).map(|i| {
            let store = store.clone();
            async move {
                let acc = realmkeep_testkit::account(&store, &format!("acc_{prefix}{i}")).await;
                let name = CharacterName::parse(&format!("{prefix}{i}")).unwrap();
                store
                    .create_character(acc, &name, Class::Mage, Kingdom::Veyra)
                    .await
            }
        }))
    };
    for r in create_round("Early").await {
        r.unwrap();
    }
    assert!(open(&store) >= 2, "{:?}", store.pool_gauges());
    migrate_next(&url).await;
    for r in create_round("Late").await {
        r.unwrap();
    }
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM characters ORDER BY name")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(names.len(), 2 * AT_ONCE, "{names:?}");
    assert_eq!(realmkeep_testkit::misplaced_items(&store).await, 0);
}
