//! Running pgBackRest with the repository's configuration, as the operating-system user that owns
//! PostgreSQL's data directory (pgBackRest refuses to work on a cluster owned by someone else).

use super::repo::{running_as, Repo, Settings, STANZA};
use anyhow::{bail, Context, Result};
use realmkeep_launcher::{find_binary, Binary};
use std::process::Stdio;
use std::time::Duration;

/// Longest a base backup or a restore may run before it is stopped.
pub const LONG_COMMAND_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// Longest any other pgBackRest command (info, check, stanza-create, verify) may run.
pub const SHORT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Lines of pgBackRest's error output kept in an error message.
const ERROR_LINES_MAX: usize = 20;

/// The kinds of base backup pgBackRest takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupKind {
    Full,
    Diff,
    Incr,
}

impl BackupKind {
    fn arg(self) -> &'static str {
        match self {
            BackupKind::Full => "--type=full",
            BackupKind::Diff => "--type=diff",
            BackupKind::Incr => "--type=incr",
        }
    }
}

/// pgBackRest bound to one repository.
pub struct PgBackRest {
    repo: Repo,
    settings: Settings,
}

impl PgBackRest {
    pub fn new(repo: &Repo) -> Result<Self> {
        Ok(Self {
            repo: repo.clone(),
            settings: repo.settings()?,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs `pgbackrest --config=... --stanza=realmkeep COMMAND ARGS` and returns its standard
    /// output; a failure carries the tail of its error output.
    pub async fn run(&self, command: &str, args: &[&str], timeout: Duration) -> Result<String> {
        let s = &self.settings;
        if !running_as(s.os_uid) && !running_as(0) {
            bail!(
                "pgBackRest must run as the owner of PostgreSQL's data directory (uid {}): run \
                 this command as that user (or as root)",
                s.os_uid
            );
        }
        let mut cmd = tokio::process::Command::new(find_binary(Binary::PgBackRest)?);
        cmd.arg(format!("--config={}", self.repo.conf_path().display()))
            .arg(format!("--stanza={STANZA}"))
            .arg(command)
            .args(args)
            .current_dir(self.repo.pgbackrest_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if !running_as(s.os_uid) {
            cmd.uid(s.os_uid).gid(s.os_gid);
            cmd.env("HOME", self.repo.pgbackrest_dir());
        }
        let out = tokio::time::timeout(timeout, cmd.output())
            .await
            .map_err(|_| anyhow::anyhow!("pgbackrest {command} did not finish within {timeout:?}"))?
            .with_context(|| format!("running pgbackrest {command}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = err.lines().chain(stdout.lines()).collect();
            bail!(
                "pgbackrest {command} failed ({}):\n{}",
                out.status,
                lines[..lines.len().min(ERROR_LINES_MAX)].join("\n")
            );
        }
        Ok(stdout)
    }

    /// Creates the stanza (safe to repeat) and checks that a WAL segment reaches the archive.
    pub async fn create_stanza_and_check(&self) -> Result<()> {
        self.run("stanza-create", &[], SHORT_COMMAND_TIMEOUT)
            .await?;
        self.run("check", &[], SHORT_COMMAND_TIMEOUT).await?;
        Ok(())
    }

    /// Takes a base backup (`None`: pgBackRest's default, incremental, or full when there is no
    /// full backup yet); pgBackRest then expires what the retention no longer keeps.
    pub async fn backup(&self, kind: Option<BackupKind>) -> Result<()> {
        let args: Vec<&str> = kind.map(BackupKind::arg).into_iter().collect();
        self.run("backup", &args, LONG_COMMAND_TIMEOUT).await?;
        Ok(())
    }

    /// pgBackRest's `info`, as JSON.
    pub async fn info(&self) -> Result<Vec<StanzaInfo>> {
        let out = self
            .run("info", &["--output=json"], SHORT_COMMAND_TIMEOUT)
            .await?;
        serde_json::from_str(&out).context("parsing pgbackrest info")
    }

    /// The backups in the repository, oldest first.
    pub async fn backups(&self) -> Result<Vec<BackupInfo>> {
        Ok(self
            .info()
            .await?
            .into_iter()
            .flat_map(|s| s.backup)
            .collect())
    }
}

/// One stanza of `pgbackrest info --output=json` (the fields this project reads).
#[derive(Debug, serde::Deserialize)]
pub struct StanzaInfo {
    #[serde(default)]
    pub backup: Vec<BackupInfo>,
    #[serde(default)]
    pub archive: Vec<ArchiveInfo>,
    pub status: Status,
}

#[derive(Debug, serde::Deserialize)]
pub struct Status {
    pub code: i64,
    pub message: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct ArchiveInfo {
    pub min: Option<String>,
    pub max: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct BackupInfo {
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: Timestamps,
    pub info: Sizes,
    #[serde(default)]
    pub error: bool,
}

#[derive(Debug, serde::Deserialize)]
pub struct Timestamps {
    pub start: i64,
    pub stop: i64,
}

#[derive(Debug, serde::Deserialize)]
pub struct Sizes {
    /// The database's size.
    pub size: u64,
    pub repository: RepoSize,
}

#[derive(Debug, serde::Deserialize)]
pub struct RepoSize {
    /// What this backup added to the repository, compressed.
    pub delta: u64,
}
