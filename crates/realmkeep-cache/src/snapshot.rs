//! An RDB snapshot on demand, for the backup set: `BGSAVE`, wait until `LASTSAVE` moves, and
//! answer where Redis wrote the file (`CONFIG GET dir` and `dbfilename`). The caller copies it.
//! Redis holds nothing that cannot be rebuilt (ADR-005), so the snapshot is a convenience that
//! shortens the rebuild, not a guarantee.

use crate::CacheError;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long one command may take (connecting included).
const SNAPSHOT_COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// How often `LASTSAVE` is read while the background save runs.
const SNAPSHOT_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A finished snapshot: the file Redis wrote and the Unix time of the save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbSnapshot {
    pub path: PathBuf,
    pub saved_at_unix: i64,
}

async fn timed<T>(
    f: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, CacheError> {
    match tokio::time::timeout(SNAPSHOT_COMMAND_TIMEOUT, f).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(CacheError::Timeout(SNAPSHOT_COMMAND_TIMEOUT)),
    }
}

/// Makes Redis at `url` write a fresh RDB file, waiting up to `within` for the save to finish.
pub async fn save_rdb(url: &str, within: Duration) -> Result<RdbSnapshot, CacheError> {
    let client = redis::Client::open(url).map_err(|e| CacheError::Invalid {
        what: "Redis URL",
        detail: e.to_string(),
    })?;
    let mut c = timed(client.get_multiplexed_async_connection()).await?;
    let before: i64 = timed(redis::cmd("LASTSAVE").query_async(&mut c)).await?;
    // A save already running (Redis's own schedule) answers an error: wait for that one then.
    let started: redis::RedisResult<String> =
        timed(redis::cmd("BGSAVE").query_async(&mut c)).await?;
    if let Err(e) = started {
        if !e.to_string().contains("in progress") {
            return Err(e.into());
        }
    }
    let begun = Instant::now();
    let saved_at_unix = loop {
        // The save forked before BGSAVE answered, so "no save in progress" means it finished.
        // (LASTSAVE has a one-second resolution: it need not move for a save in the same second.)
        let info: String = timed(redis::cmd("INFO").arg("persistence").query_async(&mut c)).await?;
        let busy = info.contains("rdb_bgsave_in_progress:1");
        let ok = info.contains("rdb_last_bgsave_status:ok");
        if !busy {
            let last: i64 = timed(redis::cmd("LASTSAVE").query_async(&mut c)).await?;
            if !ok {
                return Err(CacheError::Invalid {
                    what: "RDB snapshot",
                    detail: "the background save failed; see Redis's log".into(),
                });
            }
            break last.max(before);
        }
        if begun.elapsed() > within {
            return Err(CacheError::Timeout(within));
        }
        tokio::time::sleep(SNAPSHOT_POLL_INTERVAL).await;
    };
    let dir: Vec<String> = timed(
        redis::cmd("CONFIG")
            .arg("GET")
            .arg("dir")
            .query_async(&mut c),
    )
    .await?;
    let file: Vec<String> = timed(
        redis::cmd("CONFIG")
            .arg("GET")
            .arg("dbfilename")
            .query_async(&mut c),
    )
    .await?;
    match (dir.get(1), file.get(1)) {
        (Some(d), Some(f)) => Ok(RdbSnapshot {
            path: PathBuf::from(d).join(f),
            saved_at_unix,
        }),
        _ => Err(CacheError::Invalid {
            what: "CONFIG GET dir/dbfilename",
            detail: format!("{dir:?} {file:?}"),
        }),
    }
}
