//! The store's SQL functions as source files: called directly with bad arguments they refuse with
//! their own SQLSTATE and change nothing; `Store::migrate` applies each source once per change
//! (hash recorded); the lint accepts only function definitions in them.

mod support;

use realmkeep_domain::limits::GOLD_MAX;
use realmkeep_domain::CharacterId;
use realmkeep_store::error::refusal_of_sqlstate;
use realmkeep_store::migration_lint::{check_source, check_sources, Rule};
use realmkeep_store::sql_sources::{SqlSource, SQL_SOURCES};
use realmkeep_store::{Refusal, Store};
use realmkeep_testkit::{empty_db, fresh_db};

/// One call of `realmkeep_trade`, its arguments as SQL literals, in the function's order
/// after the two characters.
struct Call<'a> {
    a_items: &'a str,
    a_gold: &'a str,
    b_items: &'a str,
    b_gold: &'a str,
    trade_ref: &'a str,
    gold_max: String,
    slots: &'a str,
}

impl Default for Call<'_> {
    fn default() -> Self {
        Self {
            a_items: "'{}'",
            a_gold: "0",
            b_items: "'{}'",
            b_gold: "0",
            trade_ref: "'test'",
            gold_max: GOLD_MAX.to_string(),
            slots: "60",
        }
    }
}

/// The SQLSTATE `realmkeep_trade` answers to `call` between `a` and `b` (offline actors).
async fn trade_sqlstate(store: &Store, a: &str, b: &str, call: Call<'_>) -> String {
    let sql = format!(
        "SELECT * FROM realmkeep_trade({a}, NULL, {}::int8[], {}, {b}, NULL, {}::int8[], {}, {}, {}, {})",
        call.a_items, call.a_gold, call.b_items, call.b_gold, call.trade_ref, call.gold_max,
        call.slots
    );
    let err = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .execute(store.pool())
        .await
        .expect_err(&sql);
    err.as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string())
        .unwrap_or_else(|| panic!("{sql}: not a database error: {err}"))
}

#[tokio::test]
async fn the_trade_function_refuses_bad_arguments_each_with_its_own_sqlstate_and_changes_nothing() {
    let db = fresh_db().await;
    let s = &db.store;
    let a = support::character(s, "Alice").await;
    let b = support::character(s, "Bob").await;
    let pelt = support::grant_bag_item(s, a, 200, 5).await;
    let before = support::economy_snapshot(s).await;
    let (ai, bi) = (a.0.to_string(), b.0.to_string());
    let pelt_arr = format!("'{{{}}}'", pelt.0);
    let too_many = format!(
        "'{{{}}}'",
        (1..=61)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let over_max = (GOLD_MAX + 1).to_string();
    let cases: Vec<(&str, &str, &str, Call, &str)> = vec![
        // a_gold = -500 once took 500 from Bob, who offered nothing.
        (
            "negative gold",
            &ai,
            &bi,
            Call {
                a_gold: "-500",
                ..Call::default()
            },
            "RK011",
        ),
        (
            "negative gold of b",
            &ai,
            &bi,
            Call {
                a_gold: "1",
                b_gold: "-1",
                ..Call::default()
            },
            "RK011",
        ),
        (
            "NULL gold",
            &ai,
            &bi,
            Call {
                a_gold: "NULL",
                ..Call::default()
            },
            "RK011",
        ),
        (
            "gold above the purse limit",
            &ai,
            &bi,
            Call {
                a_gold: &over_max,
                ..Call::default()
            },
            "RK011",
        ),
        (
            "NULL items of a",
            &ai,
            &bi,
            Call {
                a_items: "NULL",
                a_gold: "1",
                ..Call::default()
            },
            "RK012",
        ),
        (
            "NULL items of b",
            &ai,
            &bi,
            Call {
                b_items: "NULL",
                a_gold: "1",
                ..Call::default()
            },
            "RK012",
        ),
        (
            "a NULL item",
            &ai,
            &bi,
            Call {
                a_items: "'{NULL}'",
                ..Call::default()
            },
            "RK012",
        ),
        (
            "a nested item array",
            &ai,
            &bi,
            Call {
                a_items: "'{{1},{2}}'",
                ..Call::default()
            },
            "RK012",
        ),
        (
            "the same item twice",
            &ai,
            &bi,
            Call {
                a_items: &pelt_arr,
                b_items: &pelt_arr,
                ..Call::default()
            },
            "RK013",
        ),
        (
            "more items than a bag holds",
            &ai,
            &bi,
            Call {
                a_items: &too_many,
                ..Call::default()
            },
            "RK014",
        ),
        (
            "no bag slots",
            &ai,
            &bi,
            Call {
                a_gold: "1",
                slots: "0",
                ..Call::default()
            },
            "RK015",
        ),
        (
            "more bag slots than a bag has",
            &ai,
            &bi,
            Call {
                a_gold: "1",
                slots: "61",
                ..Call::default()
            },
            "RK015",
        ),
        (
            "a negative purse limit",
            &ai,
            &bi,
            Call {
                a_gold: "1",
                gold_max: "-1".into(),
                ..Call::default()
            },
            "RK015",
        ),
        (
            "NULL purse limit",
            &ai,
            &bi,
            Call {
                a_gold: "1",
                gold_max: "NULL".into(),
                ..Call::default()
            },
            "RK015",
        ),
        (
            "no trade reference",
            &ai,
            &bi,
            Call {
                a_gold: "1",
                trade_ref: "NULL",
                ..Call::default()
            },
            "RK016",
        ),
        (
            "an empty trade reference",
            &ai,
            &bi,
            Call {
                a_gold: "1",
                trade_ref: "''",
                ..Call::default()
            },
            "RK016",
        ),
        ("nothing offered", &ai, &bi, Call::default(), "RK017"),
        (
            "a trade with oneself",
            &ai,
            &ai,
            Call {
                a_gold: "1",
                ..Call::default()
            },
            "RK010",
        ),
        (
            "a NULL character",
            "NULL",
            &bi,
            Call {
                a_gold: "1",
                ..Call::default()
            },
            "RK010",
        ),
        (
            "a character that does not exist",
            "999999",
            &bi,
            Call {
                a_gold: "1",
                ..Call::default()
            },
            "RK001",
        ),
        (
            "more gold than the purse",
            &ai,
            &bi,
            Call {
                a_gold: "1000000",
                ..Call::default()
            },
            "RK004",
        ),
        (
            "an item not in the bag",
            &bi,
            &ai,
            Call {
                a_items: &pelt_arr,
                ..Call::default()
            },
            "RK006",
        ),
    ];
    for (what, x, y, call, code) in cases {
        assert_eq!(trade_sqlstate(s, x, y, call).await, code, "{what}");
        assert_eq!(
            support::economy_snapshot(s).await,
            before,
            "{what}: nothing changed"
        );
    }
}

#[tokio::test]
async fn the_partition_function_refuses_a_month_it_should_not_create() {
    let db = fresh_db().await;
    let s = &db.store;
    let before: i64 =
        support::row_count(s, "pg_inherits WHERE inhparent = 'game_logs'::regclass").await;
    for at in [
        "NULL",
        "now() + interval '11 years'",
        "now() - interval '11 years'",
    ] {
        let err = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT ensure_game_logs_partition({at})"
        )))
        .execute(s.pool())
        .await
        .expect_err(at);
        assert_eq!(
            err.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("RK020"),
            "{at}"
        );
    }
    let far = chrono::Utc::now() + chrono::Duration::days(365 * 11);
    assert_eq!(
        support::refusal(s.ensure_log_partition_for(far).await),
        Refusal::Invalid("log partition month out of range".into()),
        "the store maps the SQLSTATE to a refusal"
    );
    let after: i64 =
        support::row_count(s, "pg_inherits WHERE inhparent = 'game_logs'::regclass").await;
    assert_eq!(after, before, "no partition made");
}

#[tokio::test]
async fn the_store_maps_each_trade_refusal_by_its_sqlstate() {
    use realmkeep_domain::{Actor, Gold, ItemId};
    use realmkeep_store::trade::TradeSide;
    let db = fresh_db().await;
    let s = &db.store;
    let a = support::character(s, "Carol").await;
    let b = support::character(s, "Dave").await;
    let side = |c: CharacterId, items: Vec<ItemId>, gold: i64| TradeSide {
        actor: Actor::Offline(c),
        items,
        gold: Gold::new(gold).unwrap(),
    };
    let before = support::economy_snapshot(s).await;
    assert_eq!(
        support::refusal(
            s.trade(&side(a, vec![], 1_000_000), &side(b, vec![], 0))
                .await
        ),
        Refusal::NotEnoughGold
    );
    assert_eq!(
        support::refusal(
            s.trade(&side(a, vec![ItemId(424242)], 0), &side(b, vec![], 1))
                .await
        ),
        Refusal::ItemNotOwned
    );
    assert_eq!(
        support::refusal(
            s.trade(&side(a, vec![], 1), &side(CharacterId(999_999), vec![], 0))
                .await
        ),
        Refusal::NotFound("character")
    );
    s.claim(b, "zone-x", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        support::refusal(s.trade(&side(a, vec![], 1), &side(b, vec![], 0)).await),
        Refusal::ClaimHeld
    );
    assert_eq!(support::economy_snapshot(s).await, before);
}

#[test]
fn every_code_the_sources_raise_is_in_the_table_and_means_one_thing() {
    // code -> the exception names raised with it, across every source: one name per code (the
    // same refusal may be raised by several functions, say "stale claim", but a code never
    // stands for two refusals).
    let mut names: std::collections::HashMap<String, std::collections::HashSet<String>> =
        std::collections::HashMap::new();
    for source in SQL_SOURCES {
        for part in source.sql.split("RAISE EXCEPTION '").skip(1) {
            let name = &part[..part.find('\'').expect("a quoted name")];
            let Some(at) = part.find("ERRCODE = '") else {
                continue;
            };
            let code = &part[at + 11..at + 16];
            if !code.starts_with("RK") {
                continue;
            }
            assert!(
                refusal_of_sqlstate(code).is_some(),
                "{}: {code} is not in error::refusal_of_sqlstate",
                source.name
            );
            names
                .entry(code.to_string())
                .or_default()
                .insert(name.to_string());
        }
    }
    for (code, n) in &names {
        assert_eq!(n.len(), 1, "{code} stands for several refusals: {n:?}");
    }
    assert!(names.len() >= 23, "{names:?}");
}

/// (name, sha256, applied_at) of every recorded source.
async fn recorded(store: &Store) -> Vec<(String, String, chrono::DateTime<chrono::Utc>)> {
    sqlx::query_as("SELECT name, sha256, applied_at FROM realmkeep_sql_sources ORDER BY name")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

async fn trade_body_has(store: &Store, marker: &str) -> bool {
    sqlx::query_scalar(
        "SELECT prosrc LIKE '%' || $1 || '%' FROM pg_proc WHERE proname = 'realmkeep_trade'",
    )
    .bind(marker)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn migrate_applies_each_source_once_and_again_when_it_changed() {
    let (url, _name) = empty_db().await;
    let store = Store::connect(&url, &Default::default()).await.unwrap();
    store.migrate().await.unwrap();
    let first = recorded(&store).await;
    let mut names: Vec<&str> = SQL_SOURCES.iter().map(|s| s.name).collect();
    names.sort_unstable();
    assert_eq!(
        first.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        names
    );
    for (name, sha, _) in &first {
        let source = SQL_SOURCES.iter().find(|s| s.name == name).unwrap();
        assert_eq!(
            *sha,
            realmkeep_store::migration_lint::sha256_hex(source.sql.as_bytes())
        );
    }
    assert!(
        trade_body_has(&store, "trade_gold").await,
        "the source replaced migration 2's function"
    );

    store.migrate().await.unwrap();
    assert_eq!(
        recorded(&store).await,
        first,
        "unchanged sources are not applied again"
    );
    assert!(store
        .apply_sql_sources(SQL_SOURCES)
        .await
        .unwrap()
        .is_empty());

    let trade = SQL_SOURCES.iter().find(|s| s.name == "trade.sql").unwrap();
    let changed = trade
        .sql
        .replace("'trade_empty'", "'trade_nothing_offered'");
    assert_ne!(changed, trade.sql);
    let applied = store
        .apply_sql_sources(&[SqlSource {
            name: "trade.sql",
            sql: &changed,
        }])
        .await
        .unwrap();
    assert_eq!(applied, vec!["trade.sql".to_string()]);
    assert!(trade_body_has(&store, "trade_nothing_offered").await);
    let after_change = recorded(&store).await;
    assert_ne!(after_change, first);

    // The release's own text differs from what the database ran: migrate puts it back.
    store.migrate().await.unwrap();
    assert!(!trade_body_has(&store, "trade_nothing_offered").await);
    let again = recorded(&store).await;
    for ((before, after), now) in first.iter().zip(&after_change).zip(&again) {
        assert_eq!(before.1, now.1, "{}: the release's hash", now.0);
        if now.0 == "trade.sql" {
            assert!(now.2 > after.2, "trade.sql applied again");
        } else {
            assert_eq!(before.2, now.2, "{} not applied again", now.0);
        }
    }
    store.close().await;
}

#[test]
fn the_lint_accepts_only_function_definitions_in_sources() {
    let clean = check_sources();
    assert!(clean.is_empty(), "{clean:?}");
    let good =
        "-- a comment\nCREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;";
    assert!(check_source("good.sql", good).is_empty());
    for bad in [
        "DROP TABLE bans;",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\nALTER TABLE bans DROP COLUMN reason;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        "CREATE TABLE t (id int);",
        "TRUNCATE game_logs;",
        "SELECT 1;",
        "-- realmkeep:contract\nDROP TABLE bans;",
        "-- only a comment",
    ] {
        let found = check_source("bad.sql", bad);
        assert!(
            found.iter().any(|v| v.rule == Rule::SourceStatement),
            "{bad}: {found:?}"
        );
    }
}
