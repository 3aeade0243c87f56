//! Monthly archiving of `game_logs` against the real private PostgreSQL: old partitions become
//! verified compressed files and are dropped; current rows stay; nothing is ever overwritten.

use chrono::{DateTime, Datelike, Duration, Months, TimeZone, Utc};
use realmkeep_store::archive::{
    read_archive, verify_archive, ArchiveReader, ArchivedPartition, ARCHIVE_AGE_MONTHS_MAX,
    ARCHIVE_FETCH_ROWS_MAX, MANIFEST_FILE,
};
use realmkeep_store::logs::{LogEvent, StoredLog};
use realmkeep_store::{Refusal, Store};
use realmkeep_testkit::fresh_db;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The first instant of the month `months_ago` months before this one (UTC).
fn month_start(months_ago: u32) -> DateTime<Utc> {
    let now = Utc::now();
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap()
        .checked_sub_months(Months::new(months_ago))
        .unwrap()
}

fn partition(months_ago: u32) -> String {
    let m = month_start(months_ago);
    format!("game_logs_y{:04}m{:02}", m.year(), m.month())
}

async fn rows_of(store: &Store, table: &str) -> Vec<StoredLog> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, occurred_at, event_type, actor_character_id, target_character_id, item_id,
                item_def_id, quantity, gold, zone_id, details
         FROM {table} ORDER BY occurred_at, id"
    )))
    .fetch_all(store.pool())
    .await
    .unwrap()
}

async fn exists(store: &Store, table: &str) -> bool {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn count(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM game_logs")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Appends `events` to the month `months_ago` months back, creating its partition.
async fn fill_month(store: &Store, months_ago: u32, events: Vec<LogEvent>) {
    store
        .ensure_log_partition_for(month_start(months_ago) + Duration::days(1))
        .await
        .unwrap();
    store.append_logs(&events).await.unwrap();
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn manifest(dir: &Path) -> Vec<ArchivedPartition> {
    let text = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
    serde_json::from_value(v["partitions"].clone()).unwrap()
}

#[tokio::test]
async fn old_months_become_verified_files_and_their_partitions_are_dropped() {
    let db = fresh_db().await;
    let s = &db.store;
    let m4 = month_start(4);
    let m3 = month_start(3);
    fill_month(
        s,
        4,
        vec![
            // The first and the last microsecond of the month belong to it.
            LogEvent::new("trade")
                .at(m4)
                .actor(1i64)
                .target(2i64)
                .gold(50),
            LogEvent::new("loot")
                .at(m4 + Duration::hours(5))
                .item(7, 100, 3)
                .zone(1)
                .details(serde_json::json!({"monster": 4, "note": "a \"quoted\"\nline"})),
            LogEvent::new("pvp_kill")
                .at(m4 + Duration::days(10))
                .actor(3i64),
            LogEvent::new("last").at(month_start(3) - Duration::microseconds(1)),
        ],
    )
    .await;
    fill_month(
        s,
        3,
        (0..4)
            .map(|i| LogEvent::new(format!("m3_{i}")).at(m3 + Duration::minutes(i)))
            .collect(),
    )
    .await;
    s.append_logs(&[LogEvent::new("current"), LogEvent::new("current")])
        .await
        .unwrap();
    let before4 = rows_of(s, &partition(4)).await;
    let before3 = rows_of(s, &partition(3)).await;
    assert_eq!((before4.len(), before3.len()), (4, 4));

    let dir = tempfile::tempdir().unwrap();
    let archived = s.archive_logs(1, dir.path()).await.unwrap();
    let months: Vec<_> = archived.iter().map(|a| a.partition.clone()).collect();
    assert_eq!(months, vec![partition(4), partition(3)], "oldest first");
    assert_eq!(archived[0].rows, 4);
    assert_eq!(archived[0].min_occurred_at, Some(m4));
    assert_eq!(
        archived[0].max_occurred_at,
        Some(m3 - Duration::microseconds(1))
    );

    for months_ago in [4, 3] {
        assert!(!exists(s, &partition(months_ago)).await, "dropped");
    }
    assert!(exists(s, &partition(1)).await, "last month is kept");
    assert_eq!(count(s).await, 2, "current rows stay");

    let file4 = dir.path().join(&archived[0].file);
    assert_eq!(
        read_archive(&file4).unwrap(),
        before4,
        "the same rows, exactly"
    );
    assert_eq!(
        read_archive(&dir.path().join(&archived[1].file)).unwrap(),
        before3
    );
    let streamed: Vec<StoredLog> = ArchiveReader::open(&file4)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(streamed, before4);

    // The manifest matches the files, checked independently of the store's own reader.
    let listed = manifest(dir.path());
    assert_eq!(listed, archived);
    for entry in &listed {
        let raw = std::fs::read(dir.path().join(&entry.file)).unwrap();
        assert_eq!(sha256_hex(&raw), entry.file_sha256);
        assert_eq!(raw.len() as u64, entry.file_bytes);
        let content = zstd::decode_all(&raw[..]).unwrap();
        assert_eq!(sha256_hex(&content), entry.content_sha256);
        assert_eq!(
            content
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count() as u64,
            entry.rows
        );
    }
    assert!(verify_archive(dir.path()).unwrap().iter().all(|r| r.ok()));

    // A second run finds nothing more to do and leaves the manifest alone.
    assert!(s.archive_logs(1, dir.path()).await.unwrap().is_empty());
    assert_eq!(manifest(dir.path()), listed);

    // A flipped byte is found; so is a cut-short file, which no longer reads.
    let mut raw = std::fs::read(&file4).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 0x55;
    std::fs::write(&file4, &raw).unwrap();
    let file3 = dir.path().join(&archived[1].file);
    let raw3 = std::fs::read(&file3).unwrap();
    std::fs::write(&file3, &raw3[..raw3.len() - 8]).unwrap();
    std::fs::write(dir.path().join("game_logs_y2001m01.jsonl.zst"), b"stray").unwrap();
    let reports = verify_archive(dir.path()).unwrap();
    assert_eq!(reports.len(), 3);
    assert!(reports.iter().all(|r| !r.ok()), "{reports:#?}");
    assert!(read_archive(&file3).is_err());
}

#[tokio::test]
async fn pages_of_rows_sharing_one_timestamp_are_archived_whole() {
    let db = fresh_db().await;
    let s = &db.store;
    let at = month_start(5) + Duration::days(2);
    let n = ARCHIVE_FETCH_ROWS_MAX as usize * 2 + 345;
    // Most rows share one instant: paging must continue by id within it.
    let events: Vec<_> = (0..n)
        .map(|i| {
            let t = if i % 7 == 0 {
                at + Duration::seconds(i as i64)
            } else {
                at
            };
            LogEvent::new("bulk")
                .at(t)
                .details(serde_json::json!({ "i": i }))
        })
        .collect();
    fill_month(s, 5, events).await;
    let before = rows_of(s, &partition(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let archived = s.archive_logs(2, dir.path()).await.unwrap();
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].rows, n as u64);
    assert_eq!(
        read_archive(&dir.path().join(&archived[0].file)).unwrap(),
        before
    );
    assert!(!exists(s, &partition(5)).await);
}

#[tokio::test]
async fn an_archived_month_that_comes_back_is_reported_not_overwritten() {
    let db = fresh_db().await;
    let s = &db.store;
    let m3 = month_start(3);
    fill_month(
        s,
        3,
        vec![LogEvent::new("first").at(m3 + Duration::hours(1))],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let archived = s.archive_logs(1, dir.path()).await.unwrap();
    let file = dir.path().join(&archived[0].file);
    let kept = std::fs::read(&file).unwrap();

    // A late batch with an old timestamp re-creates the month.
    fill_month(
        s,
        3,
        vec![LogEvent::new("late").at(m3 + Duration::hours(2))],
    )
    .await;
    let err = s.archive_logs(1, dir.path()).await.unwrap_err();
    assert!(err.refusal().is_none(), "an operating error: {err}");
    assert!(err.to_string().contains(&partition(3)), "{err}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        kept,
        "the archive file is untouched"
    );
    assert_eq!(manifest(dir.path()), archived, "the manifest is untouched");
    assert_eq!(
        rows_of(s, &partition(3)).await.len(),
        1,
        "the new row stays"
    );
    assert!(verify_archive(dir.path()).unwrap().iter().all(|r| r.ok()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_arriving_during_the_archive_abort_that_month_and_the_next_run_takes_them() {
    let db = fresh_db().await;
    let s = &db.store;
    let m4 = month_start(4);
    fill_month(
        s,
        4,
        vec![LogEvent::new("early").at(m4 + Duration::hours(1))],
    )
    .await;
    let table = partition(4);
    // An insert not yet committed: invisible to the archive's snapshot, and it holds a lock that
    // makes the archive's drop wait.
    let mut late = s.pool().begin().await.unwrap();
    sqlx::query("INSERT INTO game_logs (occurred_at, event_type) VALUES ($1, 'late')")
        .bind(m4 + Duration::hours(2))
        .execute(&mut *late)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = {
        let (store, path) = (s.clone(), dir.path().to_path_buf());
        tokio::spawn(async move { store.archive_logs(1, &path).await })
    };
    // Wait until the archive waits for the partition's lock, then commit the late row.
    let mut waiting = false;
    for _ in 0..3_000 {
        waiting = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = to_regclass($1) AND NOT granted)",
        )
        .bind(&table)
        .fetch_one(s.pool())
        .await
        .unwrap();
        if waiting || run.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        waiting,
        "the archive reached its drop and waits for the lock"
    );
    late.commit().await.unwrap();

    let err = run.await.unwrap().unwrap_err();
    assert!(err.to_string().contains("gained rows"), "{err}");
    assert_eq!(rows_of(s, &table).await.len(), 2, "nothing dropped");
    assert!(
        manifest(dir.path()).is_empty(),
        "the month's entry is withdrawn"
    );
    assert!(!dir.path().join(format!("{table}.jsonl.zst")).exists());

    let archived = s.archive_logs(1, dir.path()).await.unwrap();
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].rows, 2, "the next run takes every row");
    assert!(!exists(s, &table).await);
}

#[tokio::test]
async fn an_unknown_file_in_the_way_is_never_overwritten() {
    let db = fresh_db().await;
    let s = &db.store;
    fill_month(
        s,
        4,
        vec![LogEvent::new("x").at(month_start(4) + Duration::hours(1))],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let in_the_way = dir.path().join(format!("{}.jsonl.zst", partition(4)));
    std::fs::write(&in_the_way, b"someone else's file").unwrap();

    assert!(s.archive_logs(1, dir.path()).await.is_err());
    assert_eq!(std::fs::read(&in_the_way).unwrap(), b"someone else's file");
    assert!(exists(s, &partition(4)).await, "nothing dropped");
    assert_eq!(rows_of(s, &partition(4)).await.len(), 1);
    assert!(!dir.path().join(MANIFEST_FILE).exists());
}

#[tokio::test]
async fn archiving_refuses_an_absurd_age_and_changes_nothing() {
    let db = fresh_db().await;
    let s = &db.store;
    fill_month(
        s,
        4,
        vec![LogEvent::new("x").at(month_start(4) + Duration::hours(1))],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    for age in [0, ARCHIVE_AGE_MONTHS_MAX + 1] {
        let err = s.archive_logs(age, dir.path()).await.unwrap_err();
        assert!(matches!(err.refusal(), Some(Refusal::Invalid(_))), "{age}");
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no file written"
    );
    // An age beyond every partition archives nothing.
    assert!(s.archive_logs(100, dir.path()).await.unwrap().is_empty());
    assert!(exists(s, &partition(4)).await);
    assert_eq!(count(s).await, 1);
}

#[tokio::test]
async fn game_logs_refuse_update_delete_and_truncate() {
    let db = fresh_db().await;
    let s = &db.store;
    s.append_logs(&[LogEvent::new("kept").gold(7)])
        .await
        .unwrap();
    let before = rows_of(s, "game_logs").await;
    for sql in [
        "UPDATE game_logs SET gold = 0",
        "DELETE FROM game_logs",
        "UPDATE game_logs SET event_type = 'changed' WHERE event_type = 'kept'",
        "TRUNCATE game_logs",
    ] {
        let err = sqlx::query(sql).execute(s.pool()).await.unwrap_err();
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("42501"), "{sql}: {err}");
    }
    assert_eq!(rows_of(s, "game_logs").await, before, "nothing changed");
}
