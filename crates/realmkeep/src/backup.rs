//! `realmkeep backup ...` and `realmkeep restore`: the spec's backups with the field's tools.
//! pgBackRest takes base backups, archives WAL, enforces their retention, verifies the repository
//! and restores to a point in time; `pg_dump -Fc` makes the daily logical dump; Redis's RDB file
//! is copied beside them. One repository directory holds it all (`backup/repo.rs`).
//!
//! - `repo.rs`: the repository's layout, settings and pgBackRest configuration;
//! - `pgbackrest.rs`: running pgBackRest as PostgreSQL's operating-system user;
//! - `dump.rs`: pg_dump, its retention and check, pg_restore;
//! - `rdb.rs`: the Redis snapshot copy;
//! - `retention.rs`: which dated files a retention keeps (pure);
//! - `restore.rs`: `realmkeep restore`.

pub mod dump;
mod pgbackrest;
mod rdb;
pub mod repo;
pub mod restore;
mod retention;

pub use restore::{run as restore, RestoreArgs};

use crate::cli::{DbArgs, RedisArgs};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use pgbackrest::{BackupKind, PgBackRest};
use realmkeep_domain::redact_url;
use realmkeep_store::Store;
use repo::{Repo, Retention, Settings};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Default of `--archive-timeout-s`: a quiet server still archives a segment a minute, so a lost
/// machine loses at most about a minute of commits.
pub const ARCHIVE_TIMEOUT_S: u32 = 60;
/// How long `backup restore-point` (and setup's check) waits for a segment to be archived.
pub const ARCHIVED_WITHIN: Duration = Duration::from_secs(60);

/// The backup repository (a directory on this machine).
#[derive(Args, Clone, Debug)]
pub struct RepoArgs {
    /// The backup repository: pgBackRest's repository, dumps and RDB copies.
    #[arg(long, env = "REALMKEEP_BACKUP_REPO")]
    pub repo: PathBuf,
}

#[derive(Args, Clone, Copy, Debug)]
#[group(multiple = false)]
pub struct KindArgs {
    /// A full base backup.
    #[arg(long)]
    pub full: bool,
    /// A differential backup (changes since the last full one).
    #[arg(long)]
    pub diff: bool,
    /// An incremental backup (changes since the last backup; pgBackRest's default, full when
    /// there is none yet).
    #[arg(long)]
    pub incr: bool,
}

impl KindArgs {
    fn kind(self) -> Option<BackupKind> {
        match (self.full, self.diff, self.incr) {
            (true, _, _) => Some(BackupKind::Full),
            (_, true, _) => Some(BackupKind::Diff),
            (_, _, true) => Some(BackupKind::Incr),
            _ => None,
        }
    }
}

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Configure WAL archiving on the PostgreSQL of --database-url (run on its machine, as root
    /// or as its user) into a repository directory, and write pgBackRest's configuration.
    Setup {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        retention: Retention,
        /// Archive a WAL segment at least this often, even when it is not full (seconds).
        #[arg(long, default_value_t = ARCHIVE_TIMEOUT_S)]
        archive_timeout_s: u32,
    },
    /// Take a base backup; pgBackRest then expires what the retention no longer keeps.
    Run {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        kind: KindArgs,
    },
    /// The daily logical dump (pg_dump -Fc) into the repository; old dumps pruned (daily/weekly).
    Dump {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Snapshot Redis (BGSAVE) and copy its RDB file into the repository.
    Redis {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        redis: RedisArgs,
    },
    /// Base backups, the WAL archive's range, dumps and RDB copies.
    List {
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Check the repository: pgBackRest's checksums of every backup and WAL file, that archiving
    /// works now (unless --offline), every dump's table of contents, every RDB copy's header.
    Verify {
        #[command(flatten)]
        repo: RepoArgs,
        /// Skip the live archiving check (PostgreSQL is down).
        #[arg(long)]
        offline: bool,
    },
    /// Write a named restore point (before a migration, a big event) and wait until it is
    /// archived: `realmkeep restore --to-name NAME` can then reach it.
    RestorePoint {
        #[command(flatten)]
        db: DbArgs,
        name: String,
    },
}

pub async fn run(cmd: BackupCommand) -> Result<()> {
    match cmd {
        BackupCommand::Setup {
            repo,
            db,
            retention,
            archive_timeout_s,
        } => {
            let store = crate::db::connect(&db).await?;
            let r = setup(&store, &repo.repo, retention, archive_timeout_s).await;
            store.close().await;
            println!("{}", r?);
            Ok(())
        }
        BackupCommand::Run { repo, kind } => {
            let repo = Repo::open(&repo.repo)?;
            let started = Instant::now();
            let tool = PgBackRest::new(&repo)?;
            tool.backup(kind.kind()).await?;
            let newest = tool
                .backups()
                .await?
                .pop()
                .context("no backup after backing up")?;
            println!(
                "{} backup {} in {:.1} s ({} MB of data, {} MB added to the repository)",
                newest.kind,
                newest.label,
                started.elapsed().as_secs_f64(),
                newest.info.size / 1_000_000,
                newest.info.repository.delta / 1_000_000
            );
            Ok(())
        }
        BackupCommand::Dump { repo, db } => {
            let repo = Repo::open(&repo.repo)?;
            let started = Instant::now();
            let (d, removed) = dump::dump(&repo, &db.database_url).await?;
            println!(
                "dumped {} to {} ({} kB) in {:.1} s",
                redact_url(&db.database_url),
                d.path.display(),
                d.bytes / 1000,
                started.elapsed().as_secs_f64()
            );
            for p in removed {
                println!("removed {} (retention)", p.display());
            }
            Ok(())
        }
        BackupCommand::Redis { repo, redis } => {
            let repo = Repo::open(&repo.repo)?;
            let (copy, removed) = rdb::copy_snapshot(&repo, &redis.redis_url).await?;
            println!("copied Redis's snapshot to {}", copy.display());
            for p in removed {
                println!("removed {} (retention)", p.display());
            }
            Ok(())
        }
        BackupCommand::List { repo } => list(&Repo::open(&repo.repo)?).await,
        BackupCommand::Verify { repo, offline } => verify(&Repo::open(&repo.repo)?, offline).await,
        BackupCommand::RestorePoint { db, name } => {
            let store = crate::db::connect(&db).await?;
            let p = store.create_restore_point(&name, ARCHIVED_WITHIN).await;
            store.close().await;
            let p = p?;
            println!(
                "restore point {} at {} (WAL segment {} archived); restore with: realmkeep restore --to-name {} --into DIR",
                p.name, p.lsn, p.segment, p.name
            );
            Ok(())
        }
    }
}

/// Points the server behind `store` at the repository in `dir`: settings and pgBackRest's
/// configuration written, archiving configured (`ALTER SYSTEM`) unless it already archives
/// there, the stanza created and archiving checked once it runs. Safe to repeat. Returns what an
/// operator should read.
pub async fn setup(
    store: &Store,
    dir: &Path,
    retention: Retention,
    archive_timeout_s: u32,
) -> Result<String> {
    let layout = store.server_layout().await?;
    if !layout.superuser {
        bail!(
            "backup setup needs a superuser connection (archiving settings and pgBackRest's \
             checks); {} is not one",
            layout.user
        );
    }
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(&layout.data_directory).with_context(|| {
        format!(
            "reading PostgreSQL's data directory {}: backup setup runs on the database's machine",
            layout.data_directory
        )
    })?;
    let repo = Repo::create(dir)?;
    let settings = Settings {
        pg_path: layout.data_directory.clone(),
        pg_port: layout.port,
        pg_socket: layout.socket_directory.clone(),
        pg_user: layout.user.clone(),
        os_uid: owner.uid(),
        os_gid: owner.gid(),
        archive_timeout_s,
        retention,
    };
    repo.write(&settings)?;
    let command = repo.archive_command();
    if layout.archive_command != command {
        store.set_archiving(&command, archive_timeout_s).await?;
    }
    if layout.archive_mode == "off" {
        return Ok(format!(
            "archiving configured into {}; archive_mode takes effect when PostgreSQL restarts: \
             restart it, then run `realmkeep backup setup` again to create the repository",
            repo.root().display()
        ));
    }
    PgBackRest::new(&repo)?.create_stanza_and_check().await?;
    Ok(format!(
        "WAL archiving into {} works; take a base backup with `realmkeep backup run --full`",
        repo.root().display()
    ))
}

/// Whether the repository holds a base backup yet.
pub async fn has_backup(dir: &Path) -> Result<bool> {
    let repo = Repo::open(dir)?;
    Ok(!PgBackRest::new(&repo)?.backups().await?.is_empty())
}

/// A base backup of the given kind (`None`: pgBackRest's default).
pub async fn base_backup(dir: &Path, full: bool) -> Result<()> {
    let repo = Repo::open(dir)?;
    PgBackRest::new(&repo)?
        .backup(full.then_some(BackupKind::Full))
        .await
}

/// The daily dump, for the scheduler.
pub async fn dump_now(dir: &Path, url: &str) -> Result<()> {
    dump::dump(&Repo::open(dir)?, url).await.map(|_| ())
}

/// The Redis snapshot copy, for the scheduler.
pub async fn redis_now(dir: &Path, url: &str) -> Result<()> {
    rdb::copy_snapshot(&Repo::open(dir)?, url).await.map(|_| ())
}

/// The whole verification, for the scheduler.
pub async fn verify_now(dir: &Path) -> Result<()> {
    verify(&Repo::open(dir)?, false).await
}

async fn list(repo: &Repo) -> Result<()> {
    let tool = PgBackRest::new(repo)?;
    for stanza in tool.info().await? {
        println!(
            "repository {}: {}",
            repo.root().display(),
            stanza.status.message
        );
        for a in &stanza.archive {
            println!(
                "WAL archive: {} .. {}",
                a.min.as_deref().unwrap_or("-"),
                a.max.as_deref().unwrap_or("-")
            );
        }
        for b in &stanza.backup {
            let at = chrono::DateTime::from_timestamp(b.timestamp.stop, 0).unwrap_or_default();
            println!(
                "base backup {} ({}) finished {} in {} s, {} MB{}",
                b.label,
                b.kind,
                at.format("%Y-%m-%d %H:%M:%SZ"),
                b.timestamp.stop - b.timestamp.start,
                b.info.size / 1_000_000,
                if b.error { ", with errors" } else { "" }
            );
        }
    }
    for d in dump::list(repo)? {
        println!("dump {} ({} kB)", d.path.display(), d.bytes / 1000);
    }
    for (p, _) in rdb::list(repo)? {
        println!("redis {}", p.display());
    }
    Ok(())
}

async fn verify(repo: &Repo, offline: bool) -> Result<()> {
    let tool = PgBackRest::new(repo)?;
    let started = Instant::now();
    tool.run("verify", &[], pgbackrest::LONG_COMMAND_TIMEOUT)
        .await?;
    let info = tool.info().await?;
    if let Some(bad) = info.iter().find(|s| s.status.code != 0) {
        bail!("pgBackRest reports the repository {}", bad.status.message);
    }
    let backups: Vec<_> = info.into_iter().flat_map(|s| s.backup).collect();
    if backups.is_empty() {
        bail!("the repository holds no base backup: run `realmkeep backup run --full`");
    }
    println!(
        "pgBackRest verified {} base backup(s) and the WAL archive",
        backups.len()
    );
    if !offline {
        tool.run("check", &[], pgbackrest::SHORT_COMMAND_TIMEOUT)
            .await?;
        println!("archiving works: a WAL segment just reached the repository");
    }
    for d in dump::list(repo)? {
        let entries = dump::check(&d.path).await?;
        println!("dump {} reads back ({entries} entries)", d.path.display());
    }
    for (p, _) in rdb::list(repo)? {
        rdb::check(&p)?;
    }
    println!("verified in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
