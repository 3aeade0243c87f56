//! `game_logs` rows of a month without a partition land in DEFAULT instead of failing their
//! transaction; `log_partition_upkeep` reports them, moves them into their month's partition as it
//! creates it, keeps the months ahead created, and the archive leaves DEFAULT alone.

use chrono::{TimeZone, Utc};
use realmkeep_store::logs::{LogEvent, LOG_DEFAULT_PARTITION};
use realmkeep_store::Store;
use realmkeep_testkit::fresh_db;
use std::time::SystemTime;

async fn table_of(store: &Store, event_type: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tableoid::regclass::text FROM game_logs WHERE event_type = $1 ORDER BY id",
    )
    .bind(event_type)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn rows_without_a_partition_wait_in_default_until_upkeep_moves_them() {
    let db = fresh_db().await;
    let s = &db.store;
    let far = Utc.with_ymd_and_hms(2031, 3, 15, 12, 0, 0).unwrap();
    s.append_logs(&[
        LogEvent::new("far_event").actor(7).at(far),
        LogEvent::new("far_event").actor(8).at(far),
    ])
    .await
    .expect("a row of a month without a partition is accepted");
    assert_eq!(
        table_of(s, "far_event").await,
        vec![LOG_DEFAULT_PARTITION; 2]
    );
    // DEFAULT is append-only like every partition.
    let delete = sqlx::query("DELETE FROM game_logs_default")
        .execute(s.pool())
        .await;
    assert!(delete.is_err(), "{delete:?}");

    // The archive lists month partitions only: DEFAULT is neither archived nor in its way.
    let dir = tempfile::tempdir().unwrap();
    let archived = s.archive_logs(2, dir.path()).await.unwrap();
    assert!(archived.is_empty(), "{archived:?}");
    assert_eq!(table_of(s, "far_event").await.len(), 2);

    let up = s
        .log_partition_upkeep(SystemTime::now(), 1, 3)
        .await
        .unwrap();
    assert_eq!((up.default_rows, up.moved_rows), (2, 2), "{up:?}");
    assert!(
        up.created.contains(&"game_logs_y2031m03".to_string()),
        "{up:?}"
    );
    assert_eq!(
        table_of(s, "far_event").await,
        vec!["game_logs_y2031m03"; 2]
    );
    let partitions = s.log_partitions().await.unwrap();
    assert!(!partitions.iter().any(|p| p == LOG_DEFAULT_PARTITION));
    // Three months ahead of now exist.
    let ahead: bool = sqlx::query_scalar(
        "SELECT to_regclass('game_logs_y' || to_char((now() + interval '3 months')
                                                     AT TIME ZONE 'UTC', 'YYYY\"m\"MM')) IS NOT NULL",
    )
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert!(ahead);
    // The new partition takes rows as any other.
    s.append_logs(&[LogEvent::new("far_event").actor(9).at(far)])
        .await
        .unwrap();
    assert_eq!(
        table_of(s, "far_event").await,
        vec!["game_logs_y2031m03"; 3]
    );
    // Nothing left to do: a second run changes nothing.
    let again = s
        .log_partition_upkeep(SystemTime::now(), 1, 3)
        .await
        .unwrap();
    assert_eq!(again, Default::default());
    assert!(s
        .log_partition_upkeep(SystemTime::now(), -1, 3)
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upkeep_on_several_nodes_at_once_moves_each_row_once() {
    let db = fresh_db().await;
    let s = &db.store;
    let months = [(2032, 1), (2032, 2), (2032, 5)];
    for (y, m) in months {
        let at = Utc.with_ymd_and_hms(y, m, 10, 0, 0, 0).unwrap();
        let events: Vec<LogEvent> = (0..50)
            .map(|i| LogEvent::new("racing").actor(i).at(at))
            .collect();
        s.append_logs(&events).await.unwrap();
    }
    let runs = (0..4).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.log_partition_upkeep(SystemTime::now(), 1, 3).await })
    });
    for r in futures::future::join_all(runs).await {
        r.unwrap().expect("every node's upkeep succeeds");
    }
    let tables = table_of(s, "racing").await;
    assert_eq!(tables.len(), 150, "each row once");
    for (y, m) in months {
        let name = format!("game_logs_y{y:04}m{m:02}");
        assert_eq!(tables.iter().filter(|t| **t == name).count(), 50, "{name}");
    }
    let in_default: i64 = sqlx::query_scalar("SELECT count(*) FROM game_logs_default")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(in_default, 0);
}
