//! Starts private PostgreSQL 15 and Redis 7 servers from Debian's packages on loopback (and, when
//! asked, on a private network of the test's own: `PrivateNet`), waits until they answer and stops
//! them when dropped. Used by the tests, the demo and the benchmarks.
//!
//! Architecture invariant: servers this crate starts die with the process that started them
//! (`PR_SET_PDEATHSIG` from a spawner thread that lives as long as the process), so a crashed
//! test run leaves no server behind.

mod binaries;
pub mod postgres;
mod redis;
mod spawn;

pub use binaries::{find_binary, Binary};
pub use postgres::{PostgresOptions, PostgresServer, WalArchiving};
pub use redis::{RedisOptions, RedisServer, REDIS_USER};

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// A private network a launched server listens on besides loopback: this machine's address on it
/// and its subnet's prefix length. Tests whose nodes run on hosts of their own (network
/// namespaces the test made, `realmkeep_testkit::hosts`) reach the servers there. PostgreSQL
/// trusts the subnet's hosts as it trusts loopback; Redis asks them for the same password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivateNet {
    pub address: Ipv4Addr,
    pub prefix: u8,
}

/// How long a server may take to answer after it was started.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to stop before it is killed.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// How often readiness is polled while starting.
pub const READY_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Attempts to start on a fresh port when the chosen one turned out to be taken.
pub const START_ATTEMPTS_MAX: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("`{binary}` was not found on PATH or in {searched}; install Debian's `{package}` package (apt-get install -y {package})")]
    MissingBinary {
        binary: &'static str,
        package: &'static str,
        searched: String,
    },
    #[error("the system user `{0}` that runs PostgreSQL when we are root does not exist; install Debian's `postgresql` package")]
    MissingUser(String),
    #[error("{what} failed: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} exited with {status}; its log says:\n{log}")]
    Failed {
        what: String,
        status: String,
        log: String,
    },
    #[error("{what} did not answer within {timeout:?}; its log says:\n{log}")]
    Timeout {
        what: String,
        timeout: Duration,
        log: String,
    },
}

pub(crate) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LaunchError {
    let what = what.into();
    move |source| LaunchError::Io { what, source }
}

/// A free TCP port on 127.0.0.1, as the kernel hands out for port 0.
pub fn free_port() -> Result<u16, LaunchError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io_err("binding a free port"))?;
    Ok(l.local_addr()
        .map_err(io_err("reading the free port"))?
        .port())
}

/// The last lines of a log file, for error messages.
pub(crate) fn log_tail(path: &std::path::Path) -> String {
    const LOG_TAIL_LINES: usize = 30;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// The data directory: `given` (created if missing, kept across runs) or a new scratch directory
/// (removed when the server is dropped). Returns the directory and whether it is scratch.
pub(crate) fn data_dir(
    given: Option<&std::path::Path>,
    prefix: &str,
) -> Result<(PathBuf, bool), LaunchError> {
    match given {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(io_err(format!("creating {}", d.display())))?;
            Ok((
                d.canonicalize()
                    .map_err(io_err(format!("resolving {}", d.display())))?,
                false,
            ))
        }
        None => Ok((scratch_dir(prefix)?, true)),
    }
}

/// A scratch directory under the system temp dir, removed when the server is dropped.
pub(crate) fn scratch_dir(prefix: &str) -> Result<PathBuf, LaunchError> {
    let base = std::env::temp_dir();
    remove_stale_scratch(&base, prefix);
    for n in 0..1000u32 {
        let dir = base.join(format!("{prefix}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(format!("creating {}", dir.display()))(e)),
        }
    }
    Err(LaunchError::Io {
        what: "creating a scratch directory".into(),
        source: std::io::Error::other("too many scratch directories"),
    })
}

/// Removes scratch directories left by processes that no longer exist (a run that was killed).
fn remove_stale_scratch(base: &std::path::Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
