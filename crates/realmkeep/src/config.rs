//! `realmkeep serve --config realmkeep.toml`: every option of a node in one file, layered under
//! the environment and the command line (a flag beats its environment variable, which beats
//! the file, which beats the default). Unknown keys and bad values are refused at start, with
//! the key's name. `config/realmkeep.example.toml` documents every key.

use crate::cli::LogFormat;
use crate::serve::{parse_rate_limit, ServeArgs};
use anyhow::{bail, Context, Result};
use clap::parser::ValueSource;
use clap::ArgMatches;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A configuration file larger than this is not one (a wrong path, a log file).
pub const CONFIG_FILE_BYTES_MAX: u64 = 256 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub node: NodeSection,
    #[serde(default)]
    pub database: DatabaseSection,
    #[serde(default)]
    pub redis: RedisSection,
    #[serde(default)]
    pub gateway: GatewaySection,
    #[serde(default)]
    pub passwords: PasswordSection,
    #[serde(default)]
    pub log: LogSection,
    #[serde(default)]
    pub backup: BackupSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    pub name: Option<String>,
    pub zones: Option<Vec<i32>>,
    pub lease_seconds: Option<u64>,
    pub save_interval_ms: Option<u64>,
    pub shutdown_wait_seconds: Option<u64>,
    pub drain_seconds: Option<u64>,
    pub session_secret: Option<String>,
    pub content: Option<PathBuf>,
    pub dungeon_zone: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    pub url: Option<String>,
    pub pool_connections_max: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSection {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    pub listen: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub connections_per_ip: Option<usize>,
    pub metrics_access: Option<crate::serve::MetricsAccessArg>,
    /// `ACTION=LIMIT/SECONDS`, as `--rate-limit`.
    pub rate_limits: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSection {
    pub argon2_memory_kib: Option<u32>,
    pub argon2_passes: Option<u32>,
    pub argon2_lanes: Option<u32>,
    pub hashes_at_once: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    pub format: Option<LogFormat>,
    /// A `RUST_LOG`-style filter (`info`, `warn,realmkeep=info`, ...).
    pub filter: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSection {
    /// The backup repository `realmkeep backup` and `maintain` use (`--repo`).
    pub repo: Option<PathBuf>,
}

/// The `--config` path of a command line (`--config F` or `--config=F`), or `REALMKEEP_CONFIG`:
/// read before clap parses, so the file can fill the environment first.
pub fn path_from_args(args: impl Iterator<Item = std::ffi::OsString>) -> Option<PathBuf> {
    let mut args = args.skip(1);
    while let Some(a) = args.next() {
        if a == "--" {
            break;
        }
        if a == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("REALMKEEP_CONFIG").map(PathBuf::from)
}

/// Sets `DATABASE_URL`, `REDIS_URL`, `REALMKEEP_SESSION_SECRET` and `REALMKEEP_BACKUP_REPO`
/// from the file where the environment has none, so every command reads them as it reads the
/// environment (and a flag still wins). Called before the process starts any thread.
pub fn fill_environment(file: &FileConfig) {
    let pairs = [
        ("DATABASE_URL", file.database.url.clone()),
        ("REDIS_URL", file.redis.url.clone()),
        ("REALMKEEP_SESSION_SECRET", file.node.session_secret.clone()),
        (
            "REALMKEEP_BACKUP_REPO",
            file.backup.repo.as_ref().map(|p| p.display().to_string()),
        ),
    ];
    for (key, value) in pairs {
        if let Some(v) = value {
            if std::env::var_os(key).is_none() {
                std::env::set_var(key, v);
            }
        }
    }
}

/// Reads and checks `path`: syntax, known keys, value types, and the values' own rules.
pub fn load(path: &Path) -> Result<FileConfig> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > CONFIG_FILE_BYTES_MAX {
        bail!(
            "{}: {} bytes, more than a configuration file's {CONFIG_FILE_BYTES_MAX}",
            path.display(),
            meta.len()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("{} is refused", path.display()))
}

/// Parses a configuration's text; errors name the key (`gateway.listen: ...`).
pub fn parse(text: &str) -> Result<FileConfig> {
    let de = toml::Deserializer::parse(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let config: FileConfig = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner().to_string();
        let inner = inner.trim();
        if key == "." {
            anyhow::anyhow!("{inner}")
        } else {
            anyhow::anyhow!("key `{key}`: {inner}")
        }
    })?;
    config.check()?;
    Ok(config)
}

impl FileConfig {
    fn check(&self) -> Result<()> {
        let n = &self.node;
        if n.zones.as_ref().is_some_and(|z| z.is_empty()) {
            bail!("key `node.zones`: names no zone");
        }
        if let Some(name) = &n.name {
            realmkeep_cache::NodeId::parse(name)
                .map_err(|e| anyhow::anyhow!("key `node.name`: {e}"))?;
        }
        if n.lease_seconds == Some(0) {
            bail!("key `node.lease_seconds`: must be more than 0");
        }
        if n.save_interval_ms == Some(0) {
            bail!("key `node.save_interval_ms`: must be more than 0");
        }
        if n.session_secret.as_ref().is_some_and(|s| s.len() < 32) {
            bail!("key `node.session_secret`: at least 32 bytes");
        }
        if self.database.pool_connections_max == Some(0) {
            bail!("key `database.pool_connections_max`: must be more than 0");
        }
        let g = &self.gateway;
        if g.tls_cert.is_some() != g.tls_key.is_some() {
            bail!("keys `gateway.tls_cert` and `gateway.tls_key`: give both or neither");
        }
        if g.connections_per_ip == Some(0) {
            bail!("key `gateway.connections_per_ip`: must be more than 0");
        }
        for (i, r) in g.rate_limits.iter().flatten().enumerate() {
            parse_rate_limit(r)
                .map_err(|e| anyhow::anyhow!("key `gateway.rate_limits[{i}]`: {e}"))?;
        }
        if let Some(f) = &self.log.filter {
            tracing_subscriber::EnvFilter::try_new(f)
                .map_err(|e| anyhow::anyhow!("key `log.filter`: {e}"))?;
        }
        Ok(())
    }
}

/// True when `id` was not given on the command line nor by its environment variable: the
/// file may set it.
fn unset(m: &ArgMatches, id: &str) -> bool {
    !matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// Sets from `file` every option of `args` that the command line and environment left unset.
pub fn apply(file: FileConfig, args: &mut ServeArgs, m: &ArgMatches) -> Result<()> {
    fn set<T>(m: &ArgMatches, id: &str, slot: &mut T, v: Option<T>) {
        if let Some(v) = v {
            if unset(m, id) {
                *slot = v;
            }
        }
    }
    fn set_opt<T>(m: &ArgMatches, id: &str, slot: &mut Option<T>, v: Option<T>) {
        if v.is_some() && unset(m, id) {
            *slot = v;
        }
    }
    let n = file.node;
    set(m, "node", &mut args.node, n.name);
    set(m, "zones", &mut args.zones, n.zones);
    set(m, "lease_seconds", &mut args.lease_seconds, n.lease_seconds);
    set_opt(
        m,
        "save_interval_ms",
        &mut args.save_interval_ms,
        n.save_interval_ms,
    );
    set_opt(
        m,
        "shutdown_wait_seconds",
        &mut args.shutdown_wait_seconds,
        n.shutdown_wait_seconds,
    );
    set(m, "drain_seconds", &mut args.drain_seconds, n.drain_seconds);
    set_opt(m, "content", &mut args.content, n.content);
    set_opt(m, "dungeon_zone", &mut args.dungeon_zone, n.dungeon_zone);
    set_opt(
        m,
        "pool_connections_max",
        &mut args.pool_connections_max,
        file.database.pool_connections_max,
    );
    let (g, gw) = (file.gateway, &mut args.gateway);
    set(m, "listen", &mut gw.listen, g.listen);
    set_opt(m, "public_url", &mut gw.public_url, g.public_url);
    // The certificate and key go together: from the file only if neither was given.
    if unset(m, "tls_cert") && unset(m, "tls_key") && g.tls_cert.is_some() {
        gw.tls_cert = g.tls_cert;
        gw.tls_key = g.tls_key;
    }
    set(
        m,
        "connections_per_ip",
        &mut gw.connections_per_ip,
        g.connections_per_ip,
    );
    set(
        m,
        "metrics_access",
        &mut gw.metrics_access,
        g.metrics_access,
    );
    if let Some(limits) = g.rate_limits {
        if unset(m, "rate_limits") {
            gw.rate_limits = limits
                .iter()
                .map(|r| parse_rate_limit(r).map_err(anyhow::Error::msg))
                .collect::<Result<_>>()?;
        }
    }
    let p = file.passwords;
    set(
        m,
        "argon2_memory_kib",
        &mut gw.argon2_memory_kib,
        p.argon2_memory_kib,
    );
    set(m, "argon2_passes", &mut gw.argon2_passes, p.argon2_passes);
    set(m, "argon2_lanes", &mut gw.argon2_lanes, p.argon2_lanes);
    set(
        m,
        "password_hashes_at_once",
        &mut gw.password_hashes_at_once,
        p.hashes_at_once,
    );
    Ok(())
}

/// The log settings a file gives where the command line and environment gave none.
#[derive(Default)]
pub struct LogSettings {
    pub format: Option<LogFormat>,
    pub filter: Option<String>,
}

/// The `[log]` section, for the options `top` (the whole command line's matches) left unset.
pub fn log_settings(file: &FileConfig, top: &ArgMatches) -> LogSettings {
    LogSettings {
        format: file.log.format.filter(|_| unset(top, "log_format")),
        filter: file.log.filter.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_sets_every_section() {
        let text = include_str!("../../../config/realmkeep.example.toml");
        let c = parse(text).expect("the shipped example parses");
        assert_eq!(c.node.zones.as_deref(), Some(&[1, 2][..]));
        assert!(c.gateway.listen.is_some() && c.database.pool_connections_max.is_some());
        assert!(c.log.format.is_some() && c.backup.repo.is_some());
    }

    #[test]
    fn unknown_keys_and_bad_values_name_their_key() {
        let err = |t: &str| format!("{:#}", parse(t).unwrap_err());
        assert!(err("[gateway]\nlisen = \"1.2.3.4:5\"").contains("lisen"));
        assert!(err("[gatway]\n").contains("gatway"));
        let e = err("[gateway]\nlisten = \"nowhere\"");
        assert!(e.contains("gateway.listen"), "{e}");
        let e = err("[node]\nzones = []");
        assert!(e.contains("node.zones"), "{e}");
        let e = err("[node]\nlease_seconds = -3");
        assert!(e.contains("node.lease_seconds"), "{e}");
        let e = err("[gateway]\nrate_limits = [\"login=ten/60\"]");
        assert!(e.contains("gateway.rate_limits[0]"), "{e}");
        let e = err("[gateway]\ntls_cert = \"a.pem\"");
        assert!(e.contains("tls_key"), "{e}");
        let e = err("[log]\nformat = \"xml\"");
        assert!(e.contains("log.format"), "{e}");
        let e = err("[node]\nname = \"no spaces\"");
        assert!(e.contains("node.name"), "{e}");
    }
}
