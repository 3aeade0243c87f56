//! `realmkeep bench restore`: how long a restore takes for N seeded characters (the issue's
//! figure is 100,000). A private PostgreSQL archiving into a scratch repository, the store
//! benchmark's bulk seed, a full base backup and the daily dump; then a restore of the latest
//! state into a new data directory (pgBackRest's files, then WAL replay until the server is
//! out of recovery) and the dump loaded into a fresh database, each checked (every item in one
//! place, every character there).

use super::{peak_rss_mb, BenchArgs, Report};
use crate::backup::repo::{archive_command, Repo, Retention};
use crate::backup::{restore, ARCHIVE_TIMEOUT_S};
use anyhow::{bail, Context, Result};
use realmkeep_domain::Password;
use realmkeep_launcher::{PostgresOptions, WalArchiving};
use realmkeep_store::{Store, StoreOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How long a restore of the latest state may take (an operator's recovery-time budget for
/// the figure's 100,000 characters on our 2-core reference machine).
const RESTORE_BUDGET_S: f64 = 300.0;
const DATABASE: &str = "realmkeep";

/// A scratch directory for the run, removed at the end (also when the run fails).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn run(args: &BenchArgs) -> Result<Report> {
    let n = args.characters.max(1);
    let scratch = Scratch(
        std::env::temp_dir().join(format!("realmkeep-bench-restore-{}", std::process::id())),
    );
    let repo_dir = scratch.0.join("repo");
    std::fs::create_dir_all(&repo_dir)?;
    let repo_dir = repo_dir.canonicalize()?;
    eprintln!("bench restore: starting an archiving PostgreSQL");
    let pg = crate::private::postgres(PostgresOptions {
        data_dir: Some(scratch.0.join("source")),
        durable: true,
        archive: Some(WalArchiving {
            command: archive_command(&repo_dir),
            timeout_s: ARCHIVE_TIMEOUT_S,
        }),
        ..PostgresOptions::default()
    })
    .await?;
    crate::private::create_database(&pg, DATABASE).await?;
    let url = pg.url(DATABASE);
    let store = Store::connect(&url, &StoreOptions::default()).await?;
    store.migrate().await?;
    store
        .seed_content(&realmkeep_store::seed::bundled_content()?)
        .await?;
    // Archiving from the start, as in production: the seed's WAL goes to the archive too.
    crate::backup::setup(&store, &repo_dir, Retention::default(), ARCHIVE_TIMEOUT_S).await?;
    let t = Instant::now();
    let hash = store
        .hash_password(&Password::parse("bench-password")?)
        .await?;
    store
        .bench_seed(n as i64, &hash, &mut |_| {})
        .await
        .context("seeding the bench characters")?;
    store.settle().await?;
    eprintln!(
        "bench restore: seeded {n} characters in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let source = store.world_totals().await?;
    let t = Instant::now();
    crate::backup::base_backup(&repo_dir, true).await?;
    let backup_s = t.elapsed().as_secs_f64();
    let repo = Repo::open(&repo_dir)?;
    let t = Instant::now();
    let (dump, _) = crate::backup::dump::dump(&repo, &url).await?;
    let dump_s = t.elapsed().as_secs_f64();
    store.close().await;

    eprintln!("bench restore: restoring the latest state");
    let up = restore::bring_up(
        &repo,
        &scratch.0.join("restored"),
        "default",
        None,
        None,
        None,
        DATABASE,
    )
    .await?;
    let restored = restore::checked_totals(&up.url).await?;
    drop(up.pg);
    if restored != source {
        bail!("the restore holds {restored:?}, the source {source:?}");
    }
    crate::private::create_database(&pg, "from_dump").await?;
    let t = Instant::now();
    crate::backup::dump::restore(&dump.path, &pg.url("from_dump")).await?;
    let dump_restore_s = t.elapsed().as_secs_f64();
    let loaded = restore::checked_totals(&pg.url("from_dump")).await?;
    if loaded != source {
        bail!("the dump holds {loaded:?}, the source {source:?}");
    }

    let mut report = Report::new("restore");
    report.param("characters", n);
    report.figure("base_backup_s", backup_s);
    report.figure("repository_mb", dir_mb(&repo.pgbackrest_dir()));
    report.figure("restore_files_s", up.files_s);
    report.figure("restore_replay_s", up.replay_s);
    report.figure("dump_s", dump_s);
    report.figure("dump_mb", dump.bytes as f64 / 1e6);
    report.figure("dump_restore_s", dump_restore_s);
    report.at_most(
        "restore to the latest state",
        up.files_s + up.replay_s,
        "s",
        RESTORE_BUDGET_S,
    );
    report.figure("peak_rss_mb", peak_rss_mb());
    drop(pg);
    Ok(report)
}

/// Megabytes of files under `dir`.
fn dir_mb(dir: &Path) -> f64 {
    fn walk(d: &Path) -> u64 {
        std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path()),
                _ => e.metadata().map(|m| m.len()).unwrap_or(0),
            })
            .sum()
    }
    walk(dir) as f64 / 1e6
}
