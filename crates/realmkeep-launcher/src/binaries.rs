//! Finding the servers' binaries: PATH first, then Debian's versioned PostgreSQL directory.

use crate::LaunchError;
use std::path::{Path, PathBuf};

/// A program the launcher needs, with the Debian package that provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Initdb,
    Postgres,
    PgIsReady,
    Pgbench,
    Psql,
    PgDump,
    PgRestore,
    PgBackRest,
    RedisServer,
    RedisBenchmark,
    RedisCli,
}

impl Binary {
    pub fn name(self) -> &'static str {
        match self {
            Binary::Initdb => "initdb",
            Binary::Postgres => "postgres",
            Binary::PgIsReady => "pg_isready",
            Binary::Pgbench => "pgbench",
            Binary::Psql => "psql",
            Binary::PgDump => "pg_dump",
            Binary::PgRestore => "pg_restore",
            Binary::PgBackRest => "pgbackrest",
            Binary::RedisServer => "redis-server",
            Binary::RedisBenchmark => "redis-benchmark",
            Binary::RedisCli => "redis-cli",
        }
    }

    pub fn package(self) -> &'static str {
        match self {
            Binary::RedisServer | Binary::RedisBenchmark | Binary::RedisCli => "redis-server",
            Binary::PgBackRest => "pgbackrest",
            _ => "postgresql",
        }
    }

    fn is_postgres(self) -> bool {
        self.package() == "postgresql"
    }
}

/// PostgreSQL major versions we accept, newest first. The project targets 15 (Debian 12).
const POSTGRES_VERSIONS: &[&str] = &["15", "16", "17"];

/// Where `binary` lives. PostgreSQL's server programs are looked up in Debian's
/// `/usr/lib/postgresql/<N>/bin` first, because PATH may hold only client wrappers.
pub fn find_binary(binary: Binary) -> Result<PathBuf, LaunchError> {
    let mut searched = Vec::new();
    if binary.is_postgres() {
        for v in POSTGRES_VERSIONS {
            let dir = PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"));
            let p = dir.join(binary.name());
            if is_executable(&p) {
                return Ok(p);
            }
            searched.push(dir.display().to_string());
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(binary.name());
            if is_executable(&p) {
                return Ok(p);
            }
        }
    }
    searched.push("PATH".into());
    Err(LaunchError::MissingBinary {
        binary: binary.name(),
        package: binary.package(),
        searched: searched.join(", "),
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
