//! A private Redis server on a loopback port, started with the project's `config/redis.conf`.

use crate::binaries::{find_binary, Binary};
use crate::spawn::{spawn_owned, stop_child};
use crate::*;
use nix::sys::signal::Signal;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The configuration Realmkeep runs Redis with: RDB every 15 minutes, a memory cap and policy.
pub const REDIS_CONF: &str = include_str!("../../../config/redis.conf");

#[derive(Debug, Clone, Default)]
pub struct RedisOptions {
    /// Keep data (the RDB file) here across runs; `None` makes a scratch directory.
    pub data_dir: Option<PathBuf>,
    pub port: Option<u16>,
    /// Turn off RDB snapshots (tests: nothing to keep).
    pub no_snapshots: bool,
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
    child: Option<Child>,
}

impl RedisServer {
    pub fn start(opts: RedisOptions) -> Result<Self, LaunchError> {
        find_binary(Binary::RedisServer)?;
        let (dir, scratch) = data_dir(opts.data_dir.as_deref(), "realmkeep-redis")?;
        std::fs::write(dir.join("redis.conf"), REDIS_CONF).map_err(io_err("writing redis.conf"))?;
        let mut server = Self {
            opts: opts.clone(),
            dir,
            scratch,
            port: 0,
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
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "no",
            ])
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

    fn wait_ready(&mut self) -> Result<(), LaunchError> {
        use std::io::{Read, Write};
        let port = self.port;
        let log = self.log_path();
        crate::spawn::wait_ready(&mut self.child, "redis-server", &log, || {
            let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                return false;
            };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(1)));
            let mut buf = [0u8; 64];
            s.write_all(b"PING\r\n").is_ok()
                && s.read(&mut buf)
                    .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
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

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if self.scratch {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
