//! `realmkeep restore`: a point-in-time restore from the repository into a new data directory,
//! the restored PostgreSQL brought up (through the launcher) and checked, and what to tell the
//! nodes printed; or a logical dump loaded into a fresh database.
//!
//! The restored server does not archive (`archive_mode=off`): it is a copy until an operator
//! makes it the primary and runs `realmkeep backup setup` against it.

use super::pgbackrest::{PgBackRest, LONG_COMMAND_TIMEOUT};
use super::repo::{allow_traverse, chown, Repo};
use anyhow::{bail, Context, Result};
use clap::Args;
use realmkeep_domain::redact_url;
use realmkeep_launcher::{PostgresOptions, PostgresServer};
use realmkeep_store::{Store, StoreOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest the restored server may replay WAL before it reaches its target.
pub const RECOVERY_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// How often the restored server is asked whether it finished its recovery.
const RECOVERY_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Characters in a WAL segment's file name (timeline, log, segment: 3 × 8 hex digits).
const WAL_NAME_CHARS: usize = 24;

#[derive(Args, Clone)]
#[group(id = "target", required = true, multiple = false)]
pub struct Target {
    /// Restore up to this time (RFC 3339, e.g. 2026-12-01T13:45:00Z, or PostgreSQL's form
    /// 2026-12-01 13:45:00+00): every transaction committed at or before it, none after.
    #[arg(long, group = "target")]
    pub to_time: Option<String>,
    /// Restore up to a named restore point (`realmkeep backup restore-point NAME`).
    #[arg(long, group = "target")]
    pub to_name: Option<String>,
    /// Restore everything the archive (and --wal-from) holds.
    #[arg(long, group = "target")]
    pub latest: bool,
    /// Load this logical dump (`realmkeep backup dump`) into the empty database of
    /// --database-url instead.
    #[arg(long, group = "target")]
    pub dump: Option<PathBuf>,
}

/// No `Debug`: the database URL may hold a password.
#[derive(Args, Clone)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub target: Target,
    /// The backup repository (`realmkeep backup setup --repo`).
    #[arg(long, env = "REALMKEEP_BACKUP_REPO")]
    pub repo: Option<PathBuf>,
    /// A new (or empty) directory for the restored server's data.
    #[arg(long)]
    pub into: Option<PathBuf>,
    /// The old data directory (or its pg_wal) after a crash: WAL not archived yet is copied from
    /// there, so `--latest` also finds what committed after the last archived segment.
    #[arg(long, requires = "latest")]
    pub wal_from: Option<PathBuf>,
    /// Port of the restored server (default: a free one).
    #[arg(long)]
    pub port: Option<u16>,
    /// The database to check and to point nodes at.
    #[arg(long, default_value = "realmkeep")]
    pub database: String,
    /// Stop the restored server once it is checked (its data directory stays).
    #[arg(long)]
    pub stop_after_check: bool,
    /// With --dump: the empty database to load it into.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

pub async fn run(args: RestoreArgs) -> Result<()> {
    if let Some(dump) = &args.target.dump {
        let Some(url) = &args.database_url else {
            bail!("--dump needs --database-url (an empty database to load it into)");
        };
        return restore_dump(dump, url).await;
    }
    let Some(repo) = &args.repo else {
        bail!("--repo (or REALMKEEP_BACKUP_REPO) names the backup repository");
    };
    let Some(into) = &args.into else {
        bail!("--into names a new directory for the restored server");
    };
    let repo = Repo::open(repo)?;
    let (kind, target) = recovery_target(&args.target)?;
    let up = bring_up(
        &repo,
        into,
        &kind,
        target.as_deref(),
        args.wal_from.as_deref(),
        args.port,
        &args.database,
    )
    .await?;
    let store = Store::connect(&up.url, &StoreOptions::default()).await?;
    let report = check(&store).await;
    store.close().await;
    println!(
        "restored to {} in {:.1} s (files {:.1} s, WAL replay {:.1} s); data in {}",
        target.as_deref().unwrap_or(if args.wal_from.is_some() {
            "the latest state (archive, then the old directory's WAL)"
        } else {
            "the latest archived state"
        }),
        up.files_s + up.replay_s,
        up.files_s,
        up.replay_s,
        up.cluster.display()
    );
    println!("{}", report?);
    println!("point nodes at it (realmkeep serve, migrate, admin ...):");
    println!("DATABASE_URL={}", up.url);
    finish(up.pg, &up.cluster, args.stop_after_check).await
}

/// A restored server, up and out of recovery.
pub struct BroughtUp {
    pub pg: PostgresServer,
    /// The URL of the database to point nodes at (no password: the restored server trusts
    /// loopback connections of its administrator).
    pub url: String,
    pub cluster: PathBuf,
    /// Seconds pgBackRest took to put the files in place (and `--wal-from` to copy WAL).
    pub files_s: f64,
    /// Seconds from starting the server to the end of its recovery.
    pub replay_s: f64,
}

/// Restores into `into` (pgBackRest `--type=kind`, `--target`), copies unarchived WAL from
/// `wal_from`, starts the server through the launcher and waits until its recovery is over.
pub async fn bring_up(
    repo: &Repo,
    into: &Path,
    kind: &str,
    target: Option<&str>,
    wal_from: Option<&Path>,
    port: Option<u16>,
    database: &str,
) -> Result<BroughtUp> {
    let started = Instant::now();
    let cluster = pgbackrest_restore(repo, into, kind, target).await?;
    if let Some(old) = wal_from {
        let n = copy_unarchived_wal(old, &cluster, repo)?;
        println!("copied {n} WAL file(s) from {}", old.display());
    }
    let files_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let pg = crate::private::postgres(PostgresOptions {
        data_dir: Some(into.to_path_buf()),
        port,
        durable: true,
        ..PostgresOptions::default()
    })
    .await?;
    let user = repo.settings()?.pg_user;
    let url = format!("postgres://{user}@127.0.0.1:{}/{database}", pg.port());
    wait_recovered(&url).await?.close().await;
    Ok(BroughtUp {
        pg,
        url,
        cluster,
        files_s,
        replay_s: started.elapsed().as_secs_f64(),
    })
}

/// Keeps the restored server up until a signal, or stops it now.
async fn finish(mut pg: PostgresServer, cluster: &Path, stop_now: bool) -> Result<()> {
    if stop_now {
        pg.stop();
        println!(
            "stopped; {} is a PostgreSQL data directory: start it as its owner with pg_ctl -D {} start",
            cluster.display(),
            cluster.display()
        );
        return Ok(());
    }
    println!("the restored PostgreSQL runs until Ctrl-C or SIGTERM");
    let why = realmkeep_server::shutdown_signal().await;
    tokio::task::spawn_blocking(move || drop(pg)).await?;
    println!("stopped ({why})");
    Ok(())
}

/// pgBackRest's `--type` and `--target` for what was asked.
fn recovery_target(t: &Target) -> Result<(String, Option<String>)> {
    if let Some(time) = &t.to_time {
        return Ok(("time".into(), Some(parse_time(time)?)));
    }
    if let Some(name) = &t.to_name {
        realmkeep_store::archiving::check_restore_point_name(name)?;
        return Ok(("name".into(), Some(name.clone())));
    }
    Ok(("default".into(), None))
}

/// A time as `recovery_target_time` reads it, in UTC with microseconds.
pub fn parse_time(s: &str) -> Result<String> {
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z"))
        .with_context(|| format!("{s:?} is not a time with its offset (2026-12-01T13:45:00Z)"))?;
    Ok(t.with_timezone(&chrono::Utc)
        .format("%Y-%m-%d %H:%M:%S%.6f+00")
        .to_string())
}

/// Restores the files into `into/cluster` (the launcher's layout) as PostgreSQL's user.
async fn pgbackrest_restore(
    repo: &Repo,
    into: &Path,
    kind: &str,
    target: Option<&str>,
) -> Result<PathBuf> {
    let tool = PgBackRest::new(repo)?;
    let s = tool.settings().clone();
    let server_user = realmkeep_launcher::postgres::system_user_if_root()?
        .map(|(u, _)| u.as_raw())
        .unwrap_or_else(|| nix::unistd::geteuid().as_raw());
    if server_user != s.os_uid {
        bail!(
            "the restored server would run as uid {server_user}, but the backups belong to uid {}: \
             run the restore as that user",
            s.os_uid
        );
    }
    if into.exists() && std::fs::read_dir(into)?.next().is_some() {
        bail!(
            "{} is not empty: restore into a new directory",
            into.display()
        );
    }
    std::fs::create_dir_all(into).with_context(|| format!("creating {}", into.display()))?;
    let into = into.canonicalize()?;
    chown(&into, s.os_uid, s.os_gid)?;
    if let Some(parent) = into.parent() {
        allow_traverse(parent);
    }
    let cluster = into.join("cluster");
    let pg1 = format!("--pg1-path={}", cluster.display());
    let type_arg = format!("--type={kind}");
    let mut args = vec![pg1.as_str(), type_arg.as_str(), "--archive-mode=off"];
    let target_arg;
    if let Some(t) = target {
        target_arg = format!("--target={t}");
        args.extend([target_arg.as_str(), "--target-action=promote"]);
    }
    tool.run("restore", &args, LONG_COMMAND_TIMEOUT).await?;
    write_missing_config(&cluster, s.os_uid, s.os_gid)?;
    Ok(cluster)
}

/// A cluster whose configuration lived outside its data directory (Debian's /etc/postgresql)
/// comes back without it: an empty postgresql.conf (the launcher passes what it needs) and
/// loopback-only trust authentication for the one local administrator.
fn write_missing_config(cluster: &Path, uid: u32, gid: u32) -> Result<()> {
    let files = [
        ("postgresql.conf", "# Written by realmkeep restore.\n"),
        (
            "pg_hba.conf",
            "# Written by realmkeep restore: loopback only.\n\
             local all all trust\nhost all all 127.0.0.1/32 trust\n",
        ),
    ];
    for (name, text) in files {
        let p = cluster.join(name);
        if !p.exists() {
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
            chown(&p, uid, gid)?;
            println!("wrote {} (the backup had none)", p.display());
        }
    }
    Ok(())
}

/// Copies WAL segments (and timeline history files) that the archive may not hold from a
/// crashed cluster into the restored one; recovery reads the archive first, then these.
fn copy_unarchived_wal(old: &Path, cluster: &Path, repo: &Repo) -> Result<usize> {
    let s = repo.settings()?;
    let src = if old.join("pg_wal").is_dir() {
        old.join("pg_wal")
    } else {
        old.to_path_buf()
    };
    let dst = cluster.join("pg_wal");
    let mut n = 0;
    for e in std::fs::read_dir(&src).with_context(|| format!("listing {}", src.display()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let stem = name.split('.').next().unwrap_or("");
        let is_wal = stem.len() == WAL_NAME_CHARS && stem.chars().all(|c| c.is_ascii_hexdigit());
        if !(is_wal || name.ends_with(".history")) || !e.file_type()?.is_file() {
            continue;
        }
        let to = dst.join(&name);
        if !to.exists() {
            std::fs::copy(e.path(), &to).with_context(|| format!("copying {name}"))?;
            chown(&to, s.os_uid, s.os_gid)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Connects to the restored server and waits until it left recovery (reached its target).
async fn wait_recovered(url: &str) -> Result<Store> {
    let store = Store::connect(url, &StoreOptions::default())
        .await
        .with_context(|| format!("connecting to the restored server at {}", redact_url(url)))?;
    let started = Instant::now();
    while store.in_recovery().await? {
        if started.elapsed() > RECOVERY_TIMEOUT {
            bail!("the restored server still replays WAL after {RECOVERY_TIMEOUT:?}");
        }
        tokio::time::sleep(RECOVERY_POLL_INTERVAL).await;
    }
    Ok(store)
}

/// What the restored database holds, and whether every item is in exactly one place.
async fn check(store: &Store) -> Result<String> {
    let totals = store.world_totals().await?;
    let misplaced = store.misplaced_items().await?;
    if misplaced != 0 {
        bail!("{misplaced} item(s) of the restored database are not in exactly one place");
    }
    Ok(format!(
        "checked: {} characters, {} gold, {} items, every item in exactly one place",
        totals.characters, totals.gold, totals.items
    ))
}

/// What a restored database holds, checked; for the benchmark.
pub async fn checked_totals(url: &str) -> Result<realmkeep_store::archiving::WorldTotals> {
    let store = Store::connect(url, &StoreOptions::default()).await?;
    let r = check(&store).await;
    let totals = store.world_totals().await;
    store.close().await;
    r?;
    Ok(totals?)
}

/// Loads a dump into the empty database of `url` and checks it.
async fn restore_dump(dump: &Path, url: &str) -> Result<()> {
    let started = Instant::now();
    let entries = super::dump::check(dump).await?;
    super::dump::restore(dump, url).await?;
    let store = Store::connect(url, &StoreOptions::default())
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    let report = check(&store).await;
    store.close().await;
    println!(
        "loaded {} ({entries} entries) into {} in {:.1} s",
        dump.display(),
        redact_url(url),
        started.elapsed().as_secs_f64()
    );
    println!("{}", report?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_become_utc_with_microseconds() {
        assert_eq!(
            parse_time("2026-12-01T13:45:00.5+01:00").unwrap(),
            "2026-12-01 12:45:00.500000+00"
        );
        assert_eq!(
            parse_time("2026-12-01 13:45:00.123456+00").unwrap(),
            "2026-12-01 13:45:00.123456+00"
        );
        assert!(parse_time("2026-12-01 13:45").is_err());
        assert!(parse_time("yesterday").is_err());
    }
}
