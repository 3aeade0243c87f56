//! The operator chores callers outside the store use instead of the pool, against the real
//! private PostgreSQL.

mod support;

use realmkeep_store::Refusal;
use realmkeep_testkit::fresh_db;

#[tokio::test]
async fn an_account_is_found_by_name_in_any_case() {
    let db = fresh_db().await;
    let s = &db.store;
    let acc = support::account(s, "Morgana").await;
    assert_eq!(s.account_id_by_name("morgana").await.unwrap(), Some(acc));
    assert_eq!(s.account_id_by_name(" MORGANA ").await.unwrap(), Some(acc));
    assert_eq!(s.account_id_by_name("nobody").await.unwrap(), None);
}

#[tokio::test]
async fn a_database_is_created_once_and_a_hostile_name_is_refused() {
    let db = fresh_db().await;
    let s = &db.store;
    let name = format!("maint_{}", std::process::id());
    s.create_database_if_missing(&name).await.unwrap();
    s.create_database_if_missing(&name).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    for bad in [
        "",
        "x\"; DROP DATABASE postgres; --",
        "9lives",
        &"a".repeat(64),
    ] {
        let e = s.create_database_if_missing(bad).await.unwrap_err();
        assert!(
            matches!(e.refusal(), Some(Refusal::Invalid(_))),
            "{bad:?} gave {e}"
        );
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE \"{name}\"")))
        .execute(s.pool())
        .await
        .unwrap();
    s.settle().await.unwrap();
}
