//! A private Redis server on a loopback port, started with the project's `config/redis.conf`.
//!
//! Nobody connects without a password: the shipped configuration gives the `default` user no
//! access, and each server started here gets its own ACL user [`REDIS_USER`] with a fresh random
//! password. The configuration file holds only the password's SHA-256 (Redis's `#<hash>` form),
//! the command line none of it; the password lives in this process, in [`RedisServer::url`]. The
//! file is written once per [`RedisServer::start`], so `start_again` keeps the same ACL.

use crate::binaries::{find_binary, Binary};
use crate::spawn::{spawn_owned, stop_child};
use crate::*;
use nix::sys::signal::Signal;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The configuration Realmkeep runs Redis with: RDB every 15 minutes, a memory cap and policy.
pub const REDIS_CONF: &str = include_str!("../../../config/redis.conf");
/// The ACL user a launched Redis gives its password to.
pub const REDIS_USER: &str = "realmkeep";
/// Random bytes in a launched Redis's password (hex-encoded: twice as many characters).
const REDIS_PASSWORD_BYTES: usize = 16;
/// How long the readiness probe waits for an answer on one connection.
const READY_PROBE_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Clone, Default)]
pub struct RedisOptions {
    /// Keep data (the RDB file) here across runs; `None` makes a scratch directory.
    pub data_dir: Option<PathBuf>,
    pub port: Option<u16>,
    /// Turn off RDB snapshots (tests: nothing to keep).
    pub no_snapshots: bool,
    /// Listen on this private network too (`None`: loopback only); its hosts need the password
    /// like any client.
    pub also_on: Option<PrivateNet>,
}

impl RedisOptions {
    pub fn for_tests() -> Self {
        Self {
            no_snapshots: true,
            ..Self::default()
        }
    }
}

pub struct RedisServer {
    opts: RedisOptions,
    dir: PathBuf,
    scratch: bool,
    port: u16,
    password: String,
    child: Option<Child>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The shipped configuration plus the ACL user of this server, by its password's SHA-256.
fn config_with_user(password: &str) -> String {
    let hash = hex(&Sha256::digest(password.as_bytes()));
    format!(
        "{REDIS_CONF}\n# Added by realmkeep-launcher: this server's user (the password is in the \
         URL the launcher hands out; only its SHA-256 is here).\n\
         user {REDIS_USER} on #{hash} ~* &* +@all\n"
    )
}

/// Writes `text` to `path` readable by its owner alone.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies only to a new file: one left by an older run may be readable by others.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(text.as_bytes())
}

impl RedisServer {
    pub fn start(opts: RedisOptions) -> Result<Self, LaunchError> {
        find_binary(Binary::RedisServer)?;
        let (dir, scratch) = data_dir(opts.data_dir.as_deref(), "realmkeep-redis")?;
        let password = hex(&rand::random::<[u8; REDIS_PASSWORD_BYTES]>());
        write_private(&dir.join("redis.conf"), &config_with_user(&password))
            .map_err(io_err("writing redis.conf"))?;
        let mut server = Self {
            opts: opts.clone(),
            dir,
            scratch,
            port: 0,
            password,
            child: None,
        };
        crate::spawn::start_on_port(opts.port, |port| {
            server.port = port;
            server.start_again()
        })?;
        Ok(server)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("redis.log")
    }

    /// Starts Redis again on the same port and directory (after `stop` or `kill`).
    pub fn start_again(&mut self) -> Result<(), LaunchError> {
        if self.child.is_some() {
            return Ok(());
        }
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(io_err("opening redis.log"))?;
        let err = log.try_clone().map_err(io_err("cloning redis.log"))?;
        let mut cmd = Command::new(find_binary(Binary::RedisServer)?);
        cmd.arg(self.dir.join("redis.conf"))
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(self.opts.also_on.map(|n| n.address.to_string()))
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        if self.opts.no_snapshots {
            cmd.args(["--save", ""]);
        }
        self.child =
            Some(spawn_owned(cmd, Signal::SIGTERM).map_err(io_err("starting redis-server"))?);
        self.wait_ready()
    }

    /// Ready when `AUTH` as [`REDIS_USER`] and `PING` both succeed: the ACL is in force too.
    fn wait_ready(&mut self) -> Result<(), LaunchError> {
        let port = self.port;
        let log = self.log_path();
        let hello = format!("AUTH {REDIS_USER} {}\r\nPING\r\n", self.password);
        crate::spawn::wait_ready(&mut self.child, "redis-server", &log, || {
            probe(port, hello.as_bytes())
        })
    }

    /// Clean shutdown (SIGTERM: Redis saves its RDB if snapshots are on).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_child(&mut c, Signal::SIGTERM, SHUTDOWN_TIMEOUT);
        }
    }

    /// SIGKILL, as in a crash or a lost machine.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_child(&mut c, Signal::SIGKILL, SHUTDOWN_TIMEOUT);
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id while this handle holds it (`None` once stopped; a server that
    /// died on its own keeps its id until then).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The URL to connect with, credentials included: `redis://realmkeep:PASSWORD@127.0.0.1:PORT/`.
    /// It holds a secret: print it through `realmkeep_domain::redact_url`.
    pub fn url(&self) -> String {
        self.url_at(std::net::Ipv4Addr::LOCALHOST)
    }

    /// `url` through `host`: loopback, or this machine's address on the private network the
    /// server also listens on (`RedisOptions::also_on`), for a host of that network.
    pub fn url_at(&self, host: std::net::Ipv4Addr) -> String {
        format!(
            "redis://{REDIS_USER}:{}@{host}:{}/",
            self.password, self.port
        )
    }

    /// The password of [`REDIS_USER`] (tools that take it apart from the URL, such as
    /// `redis-cli`).
    pub fn password(&self) -> &str {
        &self.password
    }
}

/// Sends `hello` (`AUTH` then `PING`) and reads until `+OK` and `+PONG` came back.
fn probe(port: u16, hello: &[u8]) -> bool {
    use std::io::Read;
    const EXPECTED: &[u8] = b"+OK\r\n+PONG\r\n";
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(READY_PROBE_READ_TIMEOUT));
    if s.write_all(hello).is_err() {
        return false;
    }
    let mut got = Vec::with_capacity(EXPECTED.len());
    let mut buf = [0u8; 64];
    while got.len() < EXPECTED.len() {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if !EXPECTED.starts_with(&got[..got.len().min(EXPECTED.len())]) {
            return false;
        }
    }
    got == EXPECTED
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if self.scratch {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
