//! Operators' accounts and roles, and the game servers' database role: operators log in with
//! their password, each action needs its role and is logged with the operator and the reason; a
//! refused one changes nothing. The game servers' role (`realmkeep_game`) reads and appends
//! `game_logs` and keeps its partitions, but cannot rewrite, empty, alter or drop it.

use chrono::{TimeZone, Utc};
use realmkeep_domain::{Actor, AdminChange, AdminId, AdminRole, Password, Quantity};
use realmkeep_store::admin::AdminNote;
use realmkeep_store::logs::LogEvent;
use realmkeep_store::{Refusal, Store, StoreError};
use realmkeep_testkit::{fresh_db, operator, OPERATOR_PASSWORD};
use std::time::SystemTime;

fn pw(s: &str) -> Password {
    Password::parse(s).unwrap()
}

async fn logs(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM game_logs")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

fn refusal(e: StoreError) -> Refusal {
    e.refusal().cloned().unwrap_or_else(|| panic!("{e}"))
}

#[tokio::test]
async fn operators_log_in_and_act_only_within_their_role() {
    let db = fresh_db().await;
    let s = &db.store;
    let admin = operator(s, "root-admin", AdminRole::Administrator).await;
    let moderator = operator(s, "mod-anna", AdminRole::Moderator).await;
    assert_eq!(
        s.admin_login("ROOT-ADMIN", &pw(OPERATOR_PASSWORD))
            .await
            .unwrap(),
        admin
    );
    for (name, p) in [
        ("root-admin", "not the password at all"),
        ("nobody-here", OPERATOR_PASSWORD),
    ] {
        let e = s.admin_login(name, &pw(p)).await.unwrap_err();
        assert_eq!(refusal(e), Refusal::BadCredentials, "{name}");
    }

    let c = realmkeep_testkit::character(s, "Purse").await;
    let gold = s.load_character(c).await.unwrap().gold;
    let before = logs(s).await;
    let by_mod = AdminNote::new(moderator.clone(), "refund").unwrap();
    let fifty = AdminChange::Gold { delta: 50 };
    let e = s
        .admin_change(Actor::Offline(c), &fifty, &by_mod, None)
        .await
        .unwrap_err();
    assert_eq!(
        refusal(e),
        Refusal::NotAllowed("this needs the game_master role")
    );
    let e = s
        .create_admin_account(
            "mod-bob",
            AdminRole::Moderator,
            &pw(OPERATOR_PASSWORD),
            Some(&by_mod),
            "hire",
        )
        .await
        .unwrap_err();
    assert_eq!(
        refusal(e),
        Refusal::NotAllowed("this needs the administrator role")
    );
    assert_eq!(s.load_character(c).await.unwrap().gold, gold);
    assert_eq!(logs(s).await, before, "a refused action logs nothing");
    assert!(
        AdminNote::new(admin.clone(), "   ").is_err(),
        "a reason is mandatory"
    );

    let by_admin = AdminNote::new(admin.clone(), "refund for ticket 17").unwrap();
    assert_eq!(
        s.admin_change(Actor::Offline(c), &fifty, &by_admin, None)
            .await
            .unwrap()
            .gold,
        gold + 50
    );
    let row = s.logs_of_character(c.0, 1).await.unwrap().remove(0);
    assert_eq!(row.event_type, "admin_gold");
    assert_eq!(row.details["operator"], "root-admin");
    assert_eq!(row.details["operator_id"], admin.id().0);
    assert_eq!(row.details["operator_role"], "administrator");
    assert_eq!(row.details["reason"], "refund for ticket 17");
    let grant = AdminChange::Grant {
        def: s.inventory(c).await.unwrap()[0].def,
        quantity: Quantity::ONE,
    };
    s.admin_change(Actor::Offline(c), &grant, &by_admin, None)
        .await
        .unwrap();

    let gm = s
        .create_admin_account(
            "gm-carl",
            AdminRole::GameMaster,
            &pw(OPERATOR_PASSWORD),
            Some(&by_admin),
            "new hire",
        )
        .await
        .unwrap();
    let e = s
        .create_admin_account(
            "GM-Carl",
            AdminRole::Moderator,
            &pw(OPERATOR_PASSWORD),
            Some(&by_admin),
            "again",
        )
        .await
        .unwrap_err();
    assert_eq!(
        refusal(e),
        Refusal::NameTaken,
        "names differ in more than case"
    );
    let e = s
        .create_admin_account(
            "x",
            AdminRole::Moderator,
            &pw(OPERATOR_PASSWORD),
            None,
            "too short",
        )
        .await
        .unwrap_err();
    assert!(matches!(refusal(e), Refusal::Invalid(_)));
    let e = s
        .disable_admin_account(admin.id(), &by_admin)
        .await
        .unwrap_err();
    assert!(matches!(refusal(e), Refusal::NotAllowed(_)), "not itself");
    s.disable_admin_account(gm, &by_admin).await.unwrap();
    assert_eq!(s.operator(gm).await.unwrap(), None, "disabled: no operator");
    let e = s
        .admin_login("gm-carl", &pw(OPERATOR_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(refusal(e), Refusal::BadCredentials);
    assert!(matches!(
        refusal(s.operator_by_name("gm-carl").await.unwrap_err()),
        Refusal::NotAllowed(_)
    ));
    assert_eq!(s.operator(AdminId(999_999)).await.unwrap(), None);
    let listed = s.admin_accounts().await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed
        .iter()
        .any(|a| a.id == gm && a.disabled_at.is_some() && a.created_by == Some(admin.id())));
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM game_logs WHERE event_type LIKE 'admin_account%' ORDER BY id",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert_eq!(
        kinds,
        [
            "admin_account_created",
            "admin_account_created",
            "admin_account_created",
            "admin_account_disabled"
        ]
    );
}

/// Runs `sql` as the game role and returns the SQLSTATE it failed with.
async fn refused_as_game(game: &Store, sql: &str) -> String {
    let e = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(game.pool())
        .await
        .expect_err(sql);
    let db = e
        .as_database_error()
        .unwrap_or_else(|| panic!("{sql}: {e}"));
    assert!(
        db.message().contains("permission denied") || db.message().contains("must be owner"),
        "{sql}: refused by privileges, not by a trigger: {}",
        db.message()
    );
    db.code().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_game_role_cannot_rewrite_empty_alter_or_drop_game_logs() {
    let db = fresh_db().await;
    let owner = &db.store;
    let game = db.game_store().await;
    assert!(owner.game_logs_rewritable().await.unwrap());
    assert!(!game.game_logs_rewritable().await.unwrap());

    game.append_logs(&[LogEvent::new("appended_by_game").actor(1)])
        .await
        .unwrap();
    let month: String = sqlx::query_scalar(
        "SELECT tableoid::regclass::text FROM game_logs WHERE event_type = 'appended_by_game'",
    )
    .fetch_one(game.pool())
    .await
    .unwrap();
    let far = Utc.with_ymd_and_hms(2032, 5, 1, 0, 0, 0).unwrap();
    let made = game.ensure_log_partition_for(far).await.unwrap();
    let upkeep = game
        .log_partition_upkeep(SystemTime::now(), 1, 3)
        .await
        .unwrap();
    assert_eq!(upkeep.default_rows, 0);
    let rows = logs(owner).await;

    for table in [
        "game_logs",
        month.as_str(),
        "game_logs_default",
        made.as_str(),
    ] {
        for sql in [
            format!("UPDATE {table} SET event_type = 'rewritten'"),
            format!("DELETE FROM {table}"),
            format!("TRUNCATE {table}"),
            format!("ALTER TABLE {table} DISABLE TRIGGER USER"),
            format!("DROP TABLE {table}"),
        ] {
            assert_eq!(refused_as_game(&game, &sql).await, "42501", "{sql}");
        }
    }
    for sql in [
        format!("ALTER TABLE game_logs DETACH PARTITION {month}"),
        "CREATE TABLE sneaky (id int)".to_string(),
        "DELETE FROM _sqlx_migrations".to_string(),
    ] {
        assert_eq!(refused_as_game(&game, &sql).await, "42501", "{sql}");
    }
    assert_eq!(logs(owner).await, rows, "every row is still there");
    game.close().await;
}
