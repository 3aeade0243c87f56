//! The demo's backups: its PostgreSQL archives WAL into `.realmkeep/backups/` (a pgBackRest
//! repository like `realmkeep backup setup` makes), with a full base backup taken on the first
//! run, so a newcomer can try `realmkeep restore` on the world they watched. Without pgBackRest
//! installed the demo runs without archiving and says so.

use crate::backup::repo::Retention;
use anyhow::Result;
use realmkeep_launcher::{find_binary, Binary, WalArchiving};
use realmkeep_store::Store;
use std::path::{Path, PathBuf};

/// The repository inside the demo's directory.
pub fn repo_dir(demo_dir: &Path) -> PathBuf {
    demo_dir.join("backups")
}

/// The archiving the demo's PostgreSQL starts with, if pgBackRest is installed.
pub fn archiving(demo_dir: &Path) -> Result<Option<WalArchiving>> {
    if find_binary(Binary::PgBackRest).is_err() {
        return Ok(None);
    }
    let dir = repo_dir(demo_dir);
    std::fs::create_dir_all(&dir)?;
    Ok(Some(WalArchiving {
        command: crate::backup::repo::archive_command(&dir.canonicalize()?),
        timeout_s: crate::backup::ARCHIVE_TIMEOUT_S,
    }))
}

/// Writes the repository's configuration for this run's server (its port changes between runs),
/// checks archiving, and takes the first full backup if there is none. Returns a line to print.
pub async fn prepare(store: &Store, demo_dir: &Path, archiving: bool) -> Result<String> {
    if !archiving {
        return Ok(
            "pgBackRest is not installed (cargo xtask setup installs it): no WAL archive this run"
                .into(),
        );
    }
    let dir = repo_dir(demo_dir);
    crate::backup::setup(
        store,
        &dir,
        Retention::default(),
        crate::backup::ARCHIVE_TIMEOUT_S,
    )
    .await?;
    let first = !crate::backup::has_backup(&dir).await?;
    if first {
        crate::backup::base_backup(&dir, true).await?;
    }
    Ok(format!(
        "WAL archived into {}{}; try: realmkeep restore --repo {} --latest --into /tmp/restored",
        dir.display(),
        if first {
            " (first full backup taken)"
        } else {
            ""
        },
        dir.display()
    ))
}
