//! Redis's RDB file in the backup set: a fresh snapshot (`BGSAVE`, through the cache crate),
//! copied into `REPO/redis/`, the newest N kept. Redis holds nothing that cannot be rebuilt from
//! PostgreSQL and the zones (ADR-005); the copy makes a lost Redis come back warm.

use super::repo::Repo;
use super::retention::{keep_newest, parse_stamp, stamp};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::time::Duration;

/// Longest the background save may take.
pub const RDB_SAVE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const PREFIX: &str = "dump-";
const SUFFIX: &str = ".rdb";
/// Every RDB file starts with these bytes.
const RDB_MAGIC: &[u8] = b"REDIS";

/// Snapshots Redis at `url` and copies the file into the repository; prunes old copies.
/// Returns the copy and the files removed.
pub async fn copy_snapshot(repo: &Repo, url: &str) -> Result<(PathBuf, Vec<PathBuf>)> {
    let snap = realmkeep_cache::snapshot::save_rdb(url, RDB_SAVE_TIMEOUT)
        .await
        .with_context(|| {
            format!(
                "snapshotting Redis at {}",
                realmkeep_domain::redact_url(url)
            )
        })?;
    let name = format!("{PREFIX}{}{SUFFIX}", stamp(chrono::Utc::now()));
    let partial = repo.redis_dir().join(format!(".partial-{name}"));
    let done = repo.redis_dir().join(name);
    std::fs::copy(&snap.path, &partial).with_context(|| {
        format!(
            "copying {} (the RDB file must be on this machine)",
            snap.path.display()
        )
    })?;
    check(&partial)?;
    std::fs::rename(&partial, &done)?;
    let removed = prune(repo)?;
    Ok((done, removed))
}

/// The RDB copies, oldest first.
pub fn list(repo: &Repo) -> Result<Vec<(PathBuf, chrono::DateTime<chrono::Utc>)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(repo.redis_dir())? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(SUFFIX) {
            continue;
        }
        if let Some(t) = parse_stamp(&name, PREFIX) {
            out.push((e.path(), t));
        }
    }
    out.sort_by_key(|f| f.1);
    Ok(out)
}

/// An RDB file starts with its magic bytes (`redis-check-rdb` does more; this catches a copy of
/// the wrong file or an empty one).
pub fn check(path: &std::path::Path) -> Result<()> {
    use std::io::Read;
    let mut head = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .with_context(|| format!("reading {}", path.display()))?;
    if head != RDB_MAGIC {
        bail!("{} is not an RDB file", path.display());
    }
    Ok(())
}

fn prune(repo: &Repo) -> Result<Vec<PathBuf>> {
    let n = repo.settings()?.retention.keep_rdb;
    let files = list(repo)?;
    let named: Vec<(String, chrono::DateTime<chrono::Utc>)> = files
        .iter()
        .map(|(p, t)| (p.display().to_string(), *t))
        .collect();
    let keep = keep_newest(&named, n);
    let mut removed = Vec::new();
    for (p, _) in files {
        if !keep.contains(&p.display().to_string()) {
            std::fs::remove_file(&p)?;
            removed.push(p);
        }
    }
    Ok(removed)
}
