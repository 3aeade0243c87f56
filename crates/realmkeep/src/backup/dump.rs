//! The daily logical dump (`pg_dump -Fc`) into the repository, its retention, its check
//! (`pg_restore --list` reads the whole table of contents), and loading one into a fresh database
//! (`pg_restore`). The password never reaches a command line: it goes to the tools in
//! `PGPASSWORD`, and the URL they get has none.

use super::repo::Repo;
use super::retention::{keep_daily_weekly, parse_stamp, stamp};
use anyhow::{bail, Context, Result};
use realmkeep_domain::redact_url;
use realmkeep_launcher::{find_binary, Binary};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Longest a dump or a dump's restore may run.
pub const DUMP_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// Parallel jobs of `pg_restore` (the 2-core machines we target).
const RESTORE_JOBS: &str = "2";
const DUMP_SUFFIX: &str = ".dump";
/// A dump being written; renamed to its final name only once complete.
const PARTIAL_PREFIX: &str = ".partial-";
/// Lines of a tool's error output kept in an error message.
const ERROR_LINES_MAX: usize = 20;

/// `url` without its password, and the password (percent-decoded), if it had one.
pub fn split_password(url: &str) -> (String, Option<String>) {
    let Some(s) = url.find("://") else {
        return (url.to_owned(), None);
    };
    let (scheme, rest) = url.split_at(s + 3);
    let Some(at) = rest.rfind('@') else {
        return (url.to_owned(), None);
    };
    let (user_part, host_part) = rest.split_at(at);
    match user_part.split_once(':') {
        Some((user, password)) => (
            format!("{scheme}{user}{host_part}"),
            Some(percent_decode(password)),
        ),
        None => (url.to_owned(), None),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The database name in a URL (the path), for the dump's file name.
fn database_name(url: &str) -> Result<String> {
    let (plain, _) = split_password(url);
    let after_host = plain
        .split_once("://")
        .and_then(|(_, r)| r.split_once('/'))
        .map(|(_, path)| path.split(['?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    let ok = !after_host.is_empty()
        && after_host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        bail!(
            "the database URL must name a plain database: {}",
            redact_url(url)
        );
    }
    Ok(after_host.to_owned())
}

/// Runs a PostgreSQL client tool against `url`, the password in the environment.
async fn client_tool(binary: Binary, url: &str, args: &[&str]) -> Result<String> {
    let (plain, password) = split_password(url);
    let mut cmd = tokio::process::Command::new(find_binary(binary)?);
    cmd.args(args)
        .arg(format!("--dbname={plain}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out = tokio::time::timeout(DUMP_TIMEOUT, cmd.output())
        .await
        .map_err(|_| anyhow::anyhow!("{} did not finish within {DUMP_TIMEOUT:?}", binary.name()))?
        .with_context(|| format!("running {}", binary.name()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().take(ERROR_LINES_MAX).collect();
        bail!(
            "{} on {} failed ({}):\n{}",
            binary.name(),
            redact_url(url),
            out.status,
            lines.join("\n")
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A dump in the repository.
#[derive(Debug, Clone)]
pub struct DumpFile {
    pub path: PathBuf,
    pub taken_at: chrono::DateTime<chrono::Utc>,
    pub bytes: u64,
}

/// Dumps the database of `url` into the repository, then prunes by the retention. Returns the
/// new dump and the files removed.
pub async fn dump(repo: &Repo, url: &str) -> Result<(DumpFile, Vec<PathBuf>)> {
    let db = database_name(url)?;
    let now = chrono::Utc::now();
    let name = format!("{db}-{}{DUMP_SUFFIX}", stamp(now));
    let partial = repo.dumps_dir().join(format!("{PARTIAL_PREFIX}{name}"));
    let done = repo.dumps_dir().join(&name);
    let file_arg = format!("--file={}", partial.display());
    let r = client_tool(Binary::PgDump, url, &["--format=custom", &file_arg]).await;
    if let Err(e) = r {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &done).with_context(|| format!("naming {}", done.display()))?;
    let bytes = std::fs::metadata(&done)?.len();
    let removed = prune(repo, &db)?;
    Ok((
        DumpFile {
            path: done,
            taken_at: now,
            bytes,
        },
        removed,
    ))
}

/// The dumps of the repository, oldest first (every database).
pub fn list(repo: &Repo) -> Result<Vec<DumpFile>> {
    let mut out = Vec::new();
    let dir = repo.dumps_dir();
    for e in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(PARTIAL_PREFIX) || !name.ends_with(DUMP_SUFFIX) {
            continue;
        }
        let Some(dash) = name[..name.len() - DUMP_SUFFIX.len()].rfind('-') else {
            continue;
        };
        if let Some(taken_at) = parse_stamp(&name[dash + 1..], "") {
            out.push(DumpFile {
                path: e.path(),
                taken_at,
                bytes: e.metadata()?.len(),
            });
        }
    }
    out.sort_by_key(|d| d.taken_at);
    Ok(out)
}

/// Removes the dumps of `db` that the daily and weekly retention does not keep.
fn prune(repo: &Repo, db: &str) -> Result<Vec<PathBuf>> {
    let r = repo.settings()?.retention;
    let prefix = format!("{db}-");
    let mine: Vec<DumpFile> = list(repo)?
        .into_iter()
        .filter(|d| {
            d.path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix(&prefix))
                .is_some_and(|rest| parse_stamp(rest, "").is_some())
        })
        .collect();
    let named: Vec<(String, chrono::DateTime<chrono::Utc>)> = mine
        .iter()
        .map(|d| (d.path.display().to_string(), d.taken_at))
        .collect();
    let keep = keep_daily_weekly(&named, r.keep_daily, r.keep_weekly);
    let mut removed = Vec::new();
    for d in mine {
        if !keep.contains(&d.path.display().to_string()) {
            std::fs::remove_file(&d.path)
                .with_context(|| format!("removing {}", d.path.display()))?;
            removed.push(d.path);
        }
    }
    Ok(removed)
}

/// Reads a dump's whole table of contents: a truncated or corrupt file fails. Returns how many
/// entries it holds.
pub async fn check(path: &Path) -> Result<usize> {
    let out = tokio::process::Command::new(find_binary(Binary::PgRestore)?)
        .arg("--list")
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running pg_restore --list {}", path.display()))?;
    if !out.status.success() {
        bail!(
            "{} is not a readable dump: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .count())
}

/// Loads `path` into the (empty) database of `url`.
pub async fn restore(path: &Path, url: &str) -> Result<()> {
    let jobs = format!("--jobs={RESTORE_JOBS}");
    let file = path.display().to_string();
    client_tool(
        Binary::PgRestore,
        url,
        &["--exit-on-error", "--no-owner", &jobs, &file],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_and_is_decoded() {
        let (plain, pw) = split_password("postgres://rk:s%40cr%3At@db.example:5432/realmkeep");
        assert_eq!(plain, "postgres://rk@db.example:5432/realmkeep");
        assert_eq!(pw.as_deref(), Some("s@cr:t"));
        let (plain, pw) = split_password("postgres://rk@127.0.0.1:5432/realmkeep");
        assert_eq!(plain, "postgres://rk@127.0.0.1:5432/realmkeep");
        assert_eq!(pw, None);
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn the_dump_is_named_after_the_database() {
        assert_eq!(
            database_name("postgres://rk:pw@h:1/realmkeep?sslmode=require").unwrap(),
            "realmkeep"
        );
        assert!(database_name("postgres://rk:pw@h:1/").is_err());
        assert!(database_name("postgres://rk:pw@h:1/a;b").is_err());
    }
}
