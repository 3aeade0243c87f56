//! The backup repository: one directory holding pgBackRest's repository and the configuration
//! file this project writes for it, the daily logical dumps, the Redis RDB copies, and
//! `realmkeep-backup.json` (what `backup setup` learned about the server and the retention).
//!
//! ```text
//! REPO/
//!   realmkeep-backup.json   settings (no secrets)
//!   pgbackrest.conf         written by `backup setup`, read by every pgBackRest call
//!   pgbackrest/             pgBackRest's repository (base backups, WAL archive), log, lock, spool
//!   dumps/                  pg_dump -Fc files, retention: daily and weekly
//!   redis/                  RDB copies, retention: the newest N
//! ```
//!
//! pgBackRest must run as the operating-system user that owns PostgreSQL's data directory; its
//! part of the repository is owned by that user, and its lock and log paths are inside it.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The pgBackRest stanza (one per repository: the one PostgreSQL cluster it backs up).
pub const STANZA: &str = "realmkeep";
const SETTINGS_FILE: &str = "realmkeep-backup.json";
const CONF_FILE: &str = "pgbackrest.conf";

/// Defaults of the retention (the spec's "7 daily, 4 weekly" for dumps; a day of RDB copies).
pub const KEEP_FULL: u32 = 2;
pub const KEEP_DIFF: u32 = 7;
pub const KEEP_DAILY: u32 = 7;
pub const KEEP_WEEKLY: u32 = 4;
pub const KEEP_RDB: u32 = 96;

/// How many backups of each kind are kept. pgBackRest expires base backups (and the WAL only
/// they need) after each backup; `backup dump` and `backup redis` prune their own files.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::Args)]
pub struct Retention {
    /// Full base backups kept (pgBackRest `repo1-retention-full`).
    #[arg(long, default_value_t = KEEP_FULL)]
    pub keep_full: u32,
    /// Differential backups kept (pgBackRest `repo1-retention-diff`).
    #[arg(long, default_value_t = KEEP_DIFF)]
    pub keep_diff: u32,
    /// Daily dumps kept: the newest dump of each of the last N days that have one.
    #[arg(long, default_value_t = KEEP_DAILY)]
    pub keep_daily: u32,
    /// Weekly dumps kept: the newest dump of each of the last N ISO weeks that have one.
    #[arg(long, default_value_t = KEEP_WEEKLY)]
    pub keep_weekly: u32,
    /// Redis RDB copies kept (the newest; 96 is a day at one every 15 minutes).
    #[arg(long, default_value_t = KEEP_RDB)]
    pub keep_rdb: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            keep_full: KEEP_FULL,
            keep_diff: KEEP_DIFF,
            keep_daily: KEEP_DAILY,
            keep_weekly: KEEP_WEEKLY,
            keep_rdb: KEEP_RDB,
        }
    }
}

/// What `backup setup` learned about the server. No secret: the repository may be copied.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// PostgreSQL's data directory (pgBackRest's `pg1-path`).
    pub pg_path: String,
    pub pg_port: u16,
    /// The socket directory pgBackRest connects through.
    pub pg_socket: Option<String>,
    /// The database role pgBackRest connects as (a superuser).
    pub pg_user: String,
    /// The operating-system user and group owning the data directory: pgBackRest runs as them.
    pub os_uid: u32,
    pub os_gid: u32,
    /// Longest a finished transaction waits before its WAL segment is archived.
    pub archive_timeout_s: u32,
    pub retention: Retention,
}

/// An opened repository directory.
#[derive(Debug, Clone)]
pub struct Repo {
    root: PathBuf,
}

impl Repo {
    /// The repository at `dir`, created if missing (`backup setup`).
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let root = dir
            .canonicalize()
            .with_context(|| format!("resolving {}", dir.display()))?;
        for d in ["dumps", "redis"] {
            std::fs::create_dir_all(root.join(d))
                .with_context(|| format!("creating {}", root.join(d).display()))?;
        }
        Ok(Self { root })
    }

    /// The repository at `dir`, which `backup setup` made.
    pub fn open(dir: &Path) -> Result<Self> {
        let root = dir.canonicalize().with_context(|| {
            format!(
                "no backup repository at {} (run `realmkeep backup setup` first)",
                dir.display()
            )
        })?;
        let repo = Self { root };
        if !repo.settings_path().exists() {
            bail!(
                "{} is not a backup repository: {SETTINGS_FILE} is missing (run `realmkeep backup setup`)",
                repo.root.display()
            );
        }
        Ok(repo)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn settings_path(&self) -> PathBuf {
        self.root.join(SETTINGS_FILE)
    }

    pub fn conf_path(&self) -> PathBuf {
        self.root.join(CONF_FILE)
    }

    /// pgBackRest's own directory (owned by the PostgreSQL user).
    pub fn pgbackrest_dir(&self) -> PathBuf {
        self.root.join("pgbackrest")
    }

    pub fn dumps_dir(&self) -> PathBuf {
        self.root.join("dumps")
    }

    pub fn redis_dir(&self) -> PathBuf {
        self.root.join("redis")
    }

    /// What PostgreSQL runs for every finished WAL segment.
    pub fn archive_command(&self) -> String {
        archive_command(&self.root)
    }

    pub fn settings(&self) -> Result<Settings> {
        let text = std::fs::read_to_string(self.settings_path())
            .with_context(|| format!("reading {}", self.settings_path().display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("parsing {}", self.settings_path().display()))
    }

    /// Writes the settings and pgBackRest's configuration, and makes pgBackRest's directories
    /// (log, lock, spool) owned by the PostgreSQL user.
    pub fn write(&self, s: &Settings) -> Result<()> {
        for v in [&s.pg_path, &s.pg_user]
            .into_iter()
            .chain(s.pg_socket.as_ref())
        {
            if v.contains(['\n', '\r']) {
                bail!("a server setting holds a line break: {v:?}");
            }
        }
        let text = serde_json::to_string_pretty(s)?;
        std::fs::write(self.settings_path(), text + "\n")
            .with_context(|| format!("writing {}", self.settings_path().display()))?;
        let conf = pgbackrest_conf(&self.pgbackrest_dir(), s);
        std::fs::write(self.conf_path(), conf)
            .with_context(|| format!("writing {}", self.conf_path().display()))?;
        set_mode(&self.conf_path(), 0o644)?;
        for d in ["", "log", "lock", "spool"] {
            let p = self.pgbackrest_dir().join(d);
            std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
            chown(&p, s.os_uid, s.os_gid)?;
            set_mode(&p, 0o750)?;
        }
        // The PostgreSQL user reads the configuration and reaches its directory through here.
        allow_traverse(&self.root);
        if let Some(parent) = self.root.parent() {
            allow_traverse(parent);
        }
        Ok(())
    }
}

/// The archive command for a repository at `root` (the demo passes it to the launcher before
/// the repository's configuration exists; PostgreSQL retries a segment until it succeeds).
pub fn archive_command(root: &Path) -> String {
    format!(
        "pgbackrest --config={} --stanza={STANZA} archive-push %p",
        root.join(CONF_FILE).display()
    )
}

/// pgBackRest's configuration: the repository, its retention, and the one cluster.
fn pgbackrest_conf(dir: &Path, s: &Settings) -> String {
    let d = dir.display();
    let mut c = format!(
        "# Written by `realmkeep backup setup`; it is rewritten when setup runs again.\n\
         [global]\n\
         repo1-path={d}\n\
         repo1-retention-full={}\n\
         repo1-retention-diff={}\n\
         log-path={d}/log\n\
         lock-path={d}/lock\n\
         spool-path={d}/spool\n\
         log-level-console=warn\n\
         log-level-stderr=warn\n\
         log-level-file=info\n\
         start-fast=y\n\
         compress-type=zst\n\
         \n\
         [{STANZA}]\n\
         pg1-path={}\n\
         pg1-port={}\n\
         pg1-user={}\n",
        s.retention.keep_full, s.retention.keep_diff, s.pg_path, s.pg_port, s.pg_user
    );
    if let Some(sock) = &s.pg_socket {
        c.push_str(&format!("pg1-socket-path={sock}\n"));
    }
    c
}

pub fn chown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    if running_as(uid) {
        return Ok(());
    }
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .with_context(|| format!("handing {} to uid {uid}", path.display()))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", path.display()))
}

/// True if this process runs as `uid`.
pub fn running_as(uid: u32) -> bool {
    nix::unistd::geteuid().as_raw() == uid
}

/// Adds o+x to a directory so the PostgreSQL user can reach what is below it (best effort).
pub fn allow_traverse(dir: &Path) {
    if let Ok(meta) = std::fs::metadata(dir) {
        let mut perm = meta.permissions();
        if perm.mode() & 0o001 == 0 {
            perm.set_mode(perm.mode() | 0o001);
            let _ = std::fs::set_permissions(dir, perm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_names_the_cluster_and_keeps_locks_and_logs_in_the_repository() {
        let s = Settings {
            pg_path: "/data/cluster".into(),
            pg_port: 5433,
            pg_socket: Some("/data".into()),
            pg_user: "realmkeep".into(),
            os_uid: 1,
            os_gid: 1,
            archive_timeout_s: 60,
            retention: Retention {
                keep_full: 2,
                keep_diff: 7,
                keep_daily: 7,
                keep_weekly: 4,
                keep_rdb: 96,
            },
        };
        let c = pgbackrest_conf(Path::new("/repo/pgbackrest"), &s);
        for line in [
            "repo1-path=/repo/pgbackrest",
            "repo1-retention-full=2",
            "lock-path=/repo/pgbackrest/lock",
            "log-path=/repo/pgbackrest/log",
            "[realmkeep]",
            "pg1-path=/data/cluster",
            "pg1-port=5433",
            "pg1-socket-path=/data",
        ] {
            assert!(c.lines().any(|l| l == line), "{line} missing from:\n{c}");
        }
        assert_eq!(
            archive_command(Path::new("/repo")),
            "pgbackrest --config=/repo/pgbackrest.conf --stanza=realmkeep archive-push %p"
        );
    }
}
