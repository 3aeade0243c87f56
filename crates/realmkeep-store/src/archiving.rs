//! What backups need from the server itself: where its data lives, turning WAL archiving on,
//! named restore points, finishing the current WAL segment and waiting until it is archived, how
//! much WAL it has written, and whether a restored server has finished its recovery. The
//! `realmkeep backup` commands and the restore call these (and `bench store` the WAL written);
//! the tools that copy files (pgBackRest, pg_dump) run outside this crate.

use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::{Store, StoreError};
use std::time::{Duration, Instant};

/// Longest restore point name PostgreSQL keeps (MAXFNAMELEN - 1).
pub const RESTORE_POINT_NAME_BYTES_MAX: usize = 63;
/// How often `switch_wal_and_wait` looks at `pg_stat_archiver`.
const ARCHIVED_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The server as a backup tool must know it: its data directory, port, socket directories and
/// archiving settings, and whether we are a superuser (archiving settings need one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLayout {
    pub data_directory: String,
    pub port: u16,
    /// `unix_socket_directories`, first entry (pgBackRest connects through it).
    pub socket_directory: Option<String>,
    pub user: String,
    pub superuser: bool,
    pub archive_mode: String,
    pub archive_command: String,
    pub wal_level: String,
}

/// A restore point as PostgreSQL wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestorePoint {
    pub name: String,
    /// Its log sequence number (`0/3000090`).
    pub lsn: String,
    /// The WAL segment holding it, archived when `Store::create_restore_point` returned.
    pub segment: String,
}

/// A name an operator can give a restore point: plain ASCII, no quotes, at most
/// [`RESTORE_POINT_NAME_BYTES_MAX`] bytes (pgBackRest passes it into a configuration file).
pub fn check_restore_point_name(name: &str) -> StoreResult<()> {
    let plain = !name.is_empty()
        && name.len() <= RESTORE_POINT_NAME_BYTES_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c));
    if !plain {
        refuse!(Refusal::Invalid(format!(
            "a restore point name is 1 to {RESTORE_POINT_NAME_BYTES_MAX} letters, digits or `_-.:`"
        )));
    }
    Ok(())
}

impl Store {
    /// Where this server keeps its data and how it archives.
    pub async fn server_layout(&self) -> StoreResult<ServerLayout> {
        let row: (String, String, String, String, bool, String, String, String) =
            on_conn!(self.conns(), |conn| sqlx::query_as(
                "SELECT current_setting('data_directory'), current_setting('port'),
                    current_setting('unix_socket_directories'), current_user::text,
                    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                    current_setting('archive_mode'), current_setting('archive_command'),
                    current_setting('wal_level')",
            )
            .fetch_one(conn))
            .map_err(db("server layout"))?;
        let port = row
            .1
            .parse()
            .map_err(|_| StoreError::Io(format!("the server's port {:?} is not a port", row.1)))?;
        let socket_directory = row
            .2
            .split(',')
            .map(str::trim)
            .find(|d| !d.is_empty())
            .map(str::to_owned);
        Ok(ServerLayout {
            data_directory: row.0,
            port,
            socket_directory,
            user: row.3,
            superuser: row.4,
            archive_mode: row.5,
            archive_command: row.6,
            wal_level: row.7,
        })
    }

    /// `ALTER SYSTEM`: archive every finished WAL segment with `command`, and finish one at least
    /// every `timeout_s` seconds; then reloads the configuration. `archive_mode` and `wal_level`
    /// take effect only when the server restarts; `archive_command` at once.
    pub async fn set_archiving(&self, command: &str, timeout_s: u32) -> StoreResult<()> {
        // ALTER SYSTEM takes no parameters: quote the values as literals.
        let literal = |v: &str| format!("'{}'", v.replace('\'', "''"));
        let statements = [
            "ALTER SYSTEM SET wal_level = 'replica'".to_owned(),
            "ALTER SYSTEM SET archive_mode = 'on'".to_owned(),
            format!("ALTER SYSTEM SET archive_command = {}", literal(command)),
            format!("ALTER SYSTEM SET archive_timeout = '{timeout_s}s'"),
            "SELECT pg_reload_conf()".to_owned(),
        ];
        for s in statements {
            on_conn!(self.conns(), |conn| sqlx::query(sqlx::AssertSqlSafe(s))
                .execute(conn))
            .map_err(db("set archiving"))?;
        }
        Ok(())
    }

    /// Writes a named restore point, then finishes its WAL segment and waits (up to
    /// `archived_within`) until the archive holds it: when this returns, a restore can reach it.
    pub async fn create_restore_point(
        &self,
        name: &str,
        archived_within: Duration,
    ) -> StoreResult<RestorePoint> {
        check_restore_point_name(name)?;
        let lsn: String = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT pg_create_restore_point($1)::text"
        )
        .bind(name)
        .fetch_one(conn))
        .map_err(db("restore point"))?;
        let segment = self.switch_wal_and_wait(archived_within).await?;
        Ok(RestorePoint {
            name: name.to_owned(),
            lsn,
            segment,
        })
    }

    /// Finishes the current WAL segment (`pg_switch_wal`) and waits up to `within` until
    /// `pg_stat_archiver` reports it archived. Returns the segment's name.
    pub async fn switch_wal_and_wait(&self, within: Duration) -> StoreResult<String> {
        let segment: String = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT pg_walfile_name(pg_switch_wal())"
        )
        .fetch_one(conn))
        .map_err(db("switch wal"))?;
        let started = Instant::now();
        loop {
            let (archived, failed): (Option<String>, Option<String>) =
                on_conn!(self.conns(), |conn| sqlx::query_as(
                    "SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver"
                )
                .fetch_one(conn))
                .map_err(db("archiver status"))?;
            // Segment names of one timeline sort in WAL order.
            if archived.as_deref().is_some_and(|a| a >= segment.as_str()) {
                return Ok(segment);
            }
            if started.elapsed() > within {
                return Err(StoreError::Io(format!(
                    "WAL segment {segment} was not archived within {within:?} (last archived: \
                     {archived:?}, last failed: {failed:?}); see the server's log"
                )));
            }
            tokio::time::sleep(ARCHIVED_POLL_INTERVAL).await;
        }
    }

    /// True while the server replays WAL (a restore that has not reached its target yet).
    pub async fn in_recovery(&self) -> StoreResult<bool> {
        on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT pg_is_in_recovery()"
        )
        .fetch_one(conn))
        .map_err(db("in recovery"))
    }

    /// The server's WAL insert position, in bytes from the log's start: over a stretch where one
    /// kind of write runs alone, the difference divided by the writes is what each costs the log
    /// (and the archive, and a replica). Read from the position, not from `pg_stat_wal`: a
    /// backend that stays connected reports its WAL there at most once a second, so a short
    /// stretch of pooled writes could read nothing at all.
    pub async fn wal_bytes_written(&self) -> StoreResult<f64> {
        on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8"
        )
        .fetch_one(conn))
        .map_err(db("wal bytes written"))
    }

    /// The server's clock, as `recovery_target_time` reads it (UTC, microseconds).
    pub async fn server_time(&self) -> StoreResult<chrono::DateTime<chrono::Utc>> {
        on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT clock_timestamp()"
        )
        .fetch_one(conn))
        .map_err(db("server time"))
    }

    /// Characters and total gold (purses and mail): what a restore check compares.
    pub async fn world_totals(&self) -> StoreResult<WorldTotals> {
        let (characters, gold, items): (i64, i64, i64) =
            on_conn!(self.conns(), |conn| sqlx::query_as(
                "SELECT (SELECT count(*) FROM characters),
                    ((SELECT coalesce(sum(gold), 0) FROM characters)
                      + (SELECT coalesce(sum(gold), 0) FROM mail))::int8,
                    (SELECT count(*) FROM item_instances)",
            )
            .fetch_one(conn))
            .map_err(db("world totals"))?;
        Ok(WorldTotals {
            characters,
            gold,
            items,
        })
    }
}

/// What a restored database is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorldTotals {
    pub characters: i64,
    pub gold: i64,
    pub items: i64,
}
