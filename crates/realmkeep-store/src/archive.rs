//! Monthly archiving of `game_logs`: old month partitions are written to compressed files, read
//! back and verified, recorded in a manifest, and only then detached and dropped.
//!
//! For each month partition that ends before (start of this month − `older_than_months`, at least
//! 1: last month still receives late rows), oldest first, `Store::archive_logs`:
//! 1. streams the rows from one REPEATABLE READ snapshot in pages of `ARCHIVE_FETCH_ROWS_MAX`
//!    (keyset on the primary key `(occurred_at, id)`, so memory stays bounded) into
//!    `game_logs_yYYYYmMM.jsonl.zst` under a temporary name, fsyncs it and renames it;
//! 2. reads the file back (decompress, count, checksums) and compares with what was written;
//! 3. adds the month to `manifest.json` (atomically: temporary file and rename);
//! 4. in one transaction, locks the partition, checks that its row count is still the archived
//!    one, detaches and drops it. If rows arrived meanwhile, nothing is dropped: the month's file
//!    and manifest entry are withdrawn and the run stops with an error; the next run redoes it.
//!
//! An archive file is never overwritten. A partition that exists again for a month already in the
//! manifest (rows inserted with old timestamps after archiving) stops the run with an error for an
//! operator, unless it holds exactly the archived rows (a run interrupted before its drop), which
//! is then dropped. One run at a time: a PostgreSQL advisory lock guards the whole run.

mod file;

pub use file::{
    read_archive, verify_archive, ArchiveReader, ArchivedPartition, VerifyReport,
    ARCHIVE_LINE_BYTES_MAX, MANIFEST_FILE, READ_ARCHIVE_ROWS_MAX,
};

use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreError, StoreResult};
use crate::logs::StoredLog;
use crate::tx::in_tx;
use crate::Store;
use chrono::{DateTime, Utc};
use file::{ArchiveWriter, FileSummary, Manifest, Month};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqlSafeStr};
use std::path::{Path, PathBuf};

/// Rows fetched from PostgreSQL per page while writing an archive file.
pub const ARCHIVE_FETCH_ROWS_MAX: i64 = 1_000;
/// Partitions one run archives at most; the rest wait for the next run.
pub const ARCHIVE_PARTITIONS_PER_RUN_MAX: usize = 120;
/// The smallest `older_than_months` accepted: servers keep creating last month's partition
/// (`ensure_log_partitions(1, _)`) and late batches still land in it, so it is never archived.
pub const ARCHIVE_AGE_MONTHS_MIN: u32 = 1;
/// The largest `older_than_months` accepted.
pub const ARCHIVE_AGE_MONTHS_MAX: u32 = 1_200;
/// Advisory lock key held for a whole run ("rk-arch" in ASCII).
const ARCHIVE_LOCK_KEY: i64 = 0x0072_6b2d_6172_6368;

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Io(format!("log archive: file task failed: {e}")))?
}

fn archive_error(msg: String) -> StoreError {
    StoreError::Io(format!("log archive: {msg}"))
}

/// What the lock-protected check before the drop found.
enum DropOutcome {
    Dropped,
    /// The partition's row count changed since it was archived; nothing was dropped.
    Changed(i64),
}

const COLUMNS: &str = "id, occurred_at, event_type, actor_character_id, target_character_id, \
    item_id, item_def_id, quantity, gold, zone_id, details";

impl Store {
    /// Archives and drops every month partition of `game_logs` that ended before the start of
    /// the current month (UTC, database clock) minus `older_than_months`. Returns the months
    /// archived by this run, oldest first.
    pub async fn archive_logs(
        &self,
        older_than_months: u32,
        out_dir: &Path,
    ) -> StoreResult<Vec<ArchivedPartition>> {
        if !(ARCHIVE_AGE_MONTHS_MIN..=ARCHIVE_AGE_MONTHS_MAX).contains(&older_than_months) {
            refuse!(Refusal::Invalid(format!(
                "older_than_months must be {ARCHIVE_AGE_MONTHS_MIN} to {ARCHIVE_AGE_MONTHS_MAX}"
            )));
        }
        let dir = out_dir.to_path_buf();
        let d = dir.clone();
        blocking(move || std::fs::create_dir_all(&d).map_err(file::io_err("creating", &d))).await?;
        // The lock lives as long as this session; the connection is detached from the pool so
        // that no pooled session can keep it after the run.
        let mut lock = self
            .conns()
            .acquire()
            .await
            .map_err(db("acquire"))?
            .detach();
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(ARCHIVE_LOCK_KEY)
            .fetch_one(&mut lock)
            .await
            .map_err(db("archive lock"))?;
        if !locked {
            return Err(archive_error("another archive run is in progress".into()));
        }
        let result = self.archive_locked(older_than_months, dir).await;
        // Unlocked before the session closes: the server ends a closed session a moment later,
        // and a run started right after must not find the lock still held.
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(ARCHIVE_LOCK_KEY)
            .execute(&mut lock)
            .await;
        let _ = lock.close().await;
        result
    }

    async fn archive_locked(
        &self,
        older_than_months: u32,
        dir: PathBuf,
    ) -> StoreResult<Vec<ArchivedPartition>> {
        let cutoff: DateTime<Utc> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT (date_trunc('month', now() AT TIME ZONE 'UTC')
                     - make_interval(months => $1)) AT TIME ZONE 'UTC'",
        )
        .bind(older_than_months as i32)
        .fetch_one(conn))
        .map_err(db("archive cutoff"))?;
        let names: Vec<String> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'game_logs'::regclass
               AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'",
        )
        .fetch_all(conn))
        .map_err(db("list log partitions"))?;
        let mut months: Vec<Month> = Vec::new();
        for name in names {
            match Month::from_partition(&name) {
                Some(m) => months.push(m),
                None => {
                    tracing::warn!(partition = %name, "game_logs partition not named by month; not archived")
                }
            }
        }
        months.retain(|m| m.end() <= cutoff);
        months.sort();
        months.truncate(ARCHIVE_PARTITIONS_PER_RUN_MAX);

        let d = dir.clone();
        let mut manifest = blocking(move || file::read_manifest(&d))
            .await?
            .unwrap_or_default();
        let mut archived = Vec::new();
        for month in months {
            let entry = self.archive_month(month, &dir, &mut manifest).await?;
            tracing::info!(month = %entry.month, rows = entry.rows, file = %entry.file, "game logs archived");
            archived.push(entry);
        }
        Ok(archived)
    }

    async fn archive_month(
        &self,
        month: Month,
        dir: &Path,
        manifest: &mut Manifest,
    ) -> StoreResult<ArchivedPartition> {
        let final_path = dir.join(month.file_name());
        let tmp_path = dir.join(format!(".{}.tmp", month.file_name()));
        let written = self.write_partition(month, &tmp_path).await?;
        let known = manifest
            .partitions
            .iter()
            .find(|p| p.month == month.label())
            .cloned();

        let (tmp, fin, w) = (tmp_path.clone(), final_path.clone(), written.clone());
        let publish = blocking(move || {
            let same = |s: &FileSummary| s.rows == w.rows && s.content_sha256 == w.content_sha256;
            if let Some(entry) = &known {
                let _ = std::fs::remove_file(&tmp);
                if !(entry.rows == w.rows && entry.content_sha256 == w.content_sha256) {
                    return Err(archive_error(format!(
                        "{} exists again with {} rows, but {} was already archived ({} rows, {}); \
                         the archive file is kept: move or remove the new rows by hand",
                        month.partition(),
                        w.rows,
                        entry.month,
                        entry.rows,
                        entry.file
                    )));
                }
                // A run stopped between its manifest and its drop: the file must still verify.
                let problems = file::verify_entry(fin.parent().unwrap_or(Path::new(".")), entry);
                if !problems.is_empty() {
                    return Err(archive_error(format!(
                        "{}: {}",
                        entry.file,
                        problems.join("; ")
                    )));
                }
            } else if fin.exists() {
                // A run stopped between its rename and its manifest: keep the file if it is the same.
                let _ = std::fs::remove_file(&tmp);
                match file::summarize_file(&fin, month) {
                    Ok(s) if same(&s) => {}
                    _ => {
                        return Err(archive_error(format!(
                            "{} exists, is not in the manifest and differs from {}; left untouched",
                            fin.display(),
                            month.partition()
                        )))
                    }
                }
            } else {
                std::fs::rename(&tmp, &fin).map_err(file::io_err("renaming", &tmp))?;
                file::sync_dir(fin.parent().unwrap_or(Path::new(".")))?;
            }
            // Read back what is now on disk before the database is touched.
            let found = file::summarize_file(&fin, month)
                .map_err(|p| archive_error(format!("{} fails verification: {p}", fin.display())))?;
            if !same(&found)
                || found.min_occurred_at != w.min_occurred_at
                || found.max_occurred_at != w.max_occurred_at
            {
                return Err(archive_error(format!(
                    "{} does not read back as written",
                    fin.display()
                )));
            }
            Ok((found, known))
        });
        let (found, known) = publish.await?;
        let entry = match known {
            Some(entry) => entry,
            None => {
                let entry = ArchivedPartition {
                    month: month.label(),
                    partition: month.partition(),
                    file: month.file_name(),
                    rows: found.rows,
                    min_occurred_at: found.min_occurred_at,
                    max_occurred_at: found.max_occurred_at,
                    content_sha256: found.content_sha256,
                    file_sha256: found.file_sha256,
                    file_bytes: found.file_bytes,
                    archived_at: Utc::now(),
                };
                manifest.partitions.push(entry.clone());
                save_manifest(dir, manifest).await?;
                entry
            }
        };

        let table = month.partition();
        let rows = entry.rows as i64;
        match in_tx!(self.conns(), |tx| drop_partition_in(tx, &table, rows))? {
            DropOutcome::Dropped => Ok(entry),
            DropOutcome::Changed(now) if now > rows => {
                // The table is append-only, so it still holds every archived row: withdraw the
                // file and its entry, and let the next run archive the month whole.
                manifest.partitions.retain(|p| p.month != entry.month);
                save_manifest(dir, manifest).await?;
                let fin = final_path.clone();
                blocking(move || {
                    std::fs::remove_file(&fin).map_err(file::io_err("removing", &fin))
                })
                .await?;
                Err(archive_error(format!(
                    "{table} gained rows while it was archived ({rows} archived, {now} now); \
                     nothing dropped, run again"
                )))
            }
            DropOutcome::Changed(now) => Err(archive_error(format!(
                "{table} has fewer rows than archived ({rows} archived, {now} now): rows were \
                 removed behind the append-only trigger; nothing dropped, the archive is kept"
            ))),
        }
    }

    /// Streams one partition into `path` from one snapshot, a page at a time.
    async fn write_partition(&self, month: Month, path: &Path) -> StoreResult<FileSummary> {
        let table = month.partition();
        // Safe to format: the table name is built from a `Month`, never from input.
        let first = AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM \"{table}\" ORDER BY occurred_at, id LIMIT $1"
        ))
        .into_sql_str();
        let next = AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM \"{table}\" WHERE (occurred_at, id) > ($1, $2)
             ORDER BY occurred_at, id LIMIT $3"
        ))
        .into_sql_str();
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db("archive snapshot"))?;
        let p = path.to_path_buf();
        let mut writer = blocking(move || ArchiveWriter::create(&p, month)).await?;
        let mut after: Option<(DateTime<Utc>, i64)> = None;
        loop {
            let page: Vec<StoredLog> = match after {
                None => sqlx::query_as(first.clone()),
                Some((at, id)) => sqlx::query_as(next.clone()).bind(at).bind(id),
            }
            .bind(ARCHIVE_FETCH_ROWS_MAX)
            .persistent(false)
            .fetch_all(&mut *tx)
            .await
            .map_err(db("read logs to archive"))?;
            let Some(last) = page.last() else { break };
            after = Some((last.occurred_at, last.id));
            let full = page.len() as i64 == ARCHIVE_FETCH_ROWS_MAX;
            writer = blocking(move || writer.write_rows(&page).map(|()| writer)).await?;
            if !full {
                break;
            }
        }
        tx.rollback().await.map_err(db("end archive snapshot"))?;
        held.settle(true);
        blocking(move || writer.finish()).await
    }
}

async fn save_manifest(dir: &Path, manifest: &Manifest) -> StoreResult<()> {
    let (d, mut m) = (dir.to_path_buf(), manifest.clone());
    blocking(move || file::write_manifest(&d, &mut m)).await
}

/// Under an exclusive lock on the partition: if it still holds `rows` rows, detach and drop it.
async fn drop_partition_in(
    tx: &mut PgConnection,
    table: &str,
    rows: i64,
) -> StoreResult<DropOutcome> {
    sqlx::query(AssertSqlSafe(format!(
        "LOCK TABLE \"{table}\" IN ACCESS EXCLUSIVE MODE"
    )))
    .persistent(false)
    .execute(&mut *tx)
    .await
    .map_err(db("lock log partition"))?;
    let now: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM \"{table}\"")))
        .persistent(false)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("count log partition"))?;
    if now != rows {
        return Ok(DropOutcome::Changed(now));
    }
    sqlx::query(AssertSqlSafe(format!(
        "ALTER TABLE game_logs DETACH PARTITION \"{table}\""
    )))
    .persistent(false)
    .execute(&mut *tx)
    .await
    .map_err(db("detach log partition"))?;
    sqlx::query(AssertSqlSafe(format!("DROP TABLE \"{table}\"")))
        .persistent(false)
        .execute(&mut *tx)
        .await
        .map_err(db("drop log partition"))?;
    Ok(DropOutcome::Dropped)
}
