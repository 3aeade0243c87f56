//! A private PostgreSQL server: initdb into a data directory, `postgres` on a loopback port with
//! its socket in the data directory, trust authentication for the one local superuser.

use crate::binaries::{find_binary, Binary};
use crate::spawn::{spawn_owned, stop_child};
use crate::*;
use nix::sys::signal::Signal;
use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The superuser initdb creates; trust authentication, loopback only.
pub const SUPERUSER: &str = "realmkeep";
/// The system user that runs PostgreSQL when this process is root (PostgreSQL refuses root).
pub const SYSTEM_USER: &str = "postgres";

#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Keep data here across runs (the demo); `None` makes a scratch directory removed on drop.
    pub data_dir: Option<PathBuf>,
    /// Port to listen on; `None` picks a free one.
    pub port: Option<u16>,
    /// `false` turns off fsync and synchronous commit: for tests, where the machine never crashes
    /// underneath the data. Benchmarks and the demo keep PostgreSQL's durable defaults.
    pub durable: bool,
    /// `max_connections` of the server.
    pub max_connections: u32,
    /// `shared_buffers`, in megabytes.
    pub shared_buffers_mb: u32,
    /// Continuous WAL archiving (`archive_mode=on` with this command); `None` leaves the
    /// cluster's own setting (off unless its configuration says otherwise).
    pub archive: Option<WalArchiving>,
    /// Listen on this private network too, trusting its hosts (`None`: loopback only).
    pub also_on: Option<PrivateNet>,
}

/// How a server archives its WAL: the command PostgreSQL runs for each finished segment (`%p` is
/// the segment's path) and how often a segment is finished even when it is not full, which bounds
/// what a lost machine can lose.
#[derive(Debug, Clone)]
pub struct WalArchiving {
    pub command: String,
    pub timeout_s: u32,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            data_dir: None,
            port: None,
            durable: true,
            max_connections: 300,
            shared_buffers_mb: 256,
            archive: None,
            also_on: None,
        }
    }
}

impl PostgresOptions {
    /// Settings for tests: scratch data, no fsync.
    pub fn for_tests() -> Self {
        Self {
            durable: false,
            ..Self::default()
        }
    }
}

pub struct PostgresServer {
    opts: PostgresOptions,
    data_dir: PathBuf,
    scratch: bool,
    port: u16,
    run_as: Option<(nix::unistd::Uid, nix::unistd::Gid)>,
    child: Option<Child>,
}

impl PostgresServer {
    /// Initialises the data directory if it is new, starts the server and waits until it answers.
    pub fn start(opts: PostgresOptions) -> Result<Self, LaunchError> {
        let postgres = find_binary(Binary::Postgres)?;
        find_binary(Binary::Initdb)?;
        find_binary(Binary::PgIsReady)?;
        let (data_dir, scratch) = data_dir(opts.data_dir.as_deref(), "realmkeep-pg")?;
        let run_as = system_user_if_root()?;
        let mut server = Self {
            opts: opts.clone(),
            data_dir,
            scratch,
            port: 0,
            run_as,
            child: None,
        };
        let _ = postgres;
        server.init_if_new()?;
        crate::spawn::start_on_port(opts.port, |port| {
            server.port = port;
            server.start_again()
        })?;
        Ok(server)
    }

    fn cluster_dir(&self) -> PathBuf {
        self.data_dir.join("cluster")
    }

    fn log_path(&self) -> PathBuf {
        self.data_dir.join("postgres.log")
    }

    fn command(&self, path: &Path) -> Command {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(path);
        c.current_dir(&self.data_dir).stdin(Stdio::null());
        if let Some((uid, gid)) = self.run_as {
            c.uid(uid.as_raw()).gid(gid.as_raw());
            c.env("HOME", &self.data_dir);
        }
        c
    }

    fn chown(&self, path: &Path) -> Result<(), LaunchError> {
        if let Some((uid, gid)) = self.run_as {
            nix::unistd::chown(path, Some(uid), Some(gid)).map_err(|e| LaunchError::Io {
                what: format!("handing {} to the postgres user", path.display()),
                source: e.into(),
            })?;
        }
        Ok(())
    }

    fn init_if_new(&self) -> Result<(), LaunchError> {
        self.chown(&self.data_dir)?;
        if let Some(parent) = self.data_dir.parent() {
            // The postgres user must be able to reach its data directory.
            allow_traverse(parent);
        }
        if self.cluster_dir().join("PG_VERSION").exists() {
            return Ok(());
        }
        let log = self.data_dir.join("initdb.log");
        let out = File::create(&log).map_err(io_err("creating initdb.log"))?;
        let err = out.try_clone().map_err(io_err("cloning initdb.log"))?;
        let status = self
            .command(&find_binary(Binary::Initdb)?)
            .arg("-D")
            .arg(self.cluster_dir())
            .args([
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ])
            .stdout(out)
            .stderr(err)
            .status()
            .map_err(io_err("running initdb"))?;
        if !status.success() {
            return Err(LaunchError::Failed {
                what: "initdb".into(),
                status: status.to_string(),
                log: log_tail(&log),
            });
        }
        Ok(())
    }

    /// Starts the server on its data directory and port (again, after `stop`).
    pub fn start_again(&mut self) -> Result<(), LaunchError> {
        if self.child.is_some() {
            return Ok(());
        }
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(io_err("opening postgres.log"))?;
        let err = log.try_clone().map_err(io_err("cloning postgres.log"))?;
        let o = &self.opts;
        let mut cmd = self.command(&find_binary(Binary::Postgres)?);
        cmd.arg("-D")
            .arg(self.cluster_dir())
            .args(["-p", &self.port.to_string()])
            .arg("-k")
            .arg(&self.data_dir)
            .args(["-c", &listen_addresses(o.also_on)])
            .args(["-c", &format!("max_connections={}", o.max_connections)])
            .args(["-c", &format!("shared_buffers={}MB", o.shared_buffers_mb)])
            .args(["-c", "max_locks_per_transaction=256"])
            .args(["-c", "log_min_messages=warning"])
            .stdout(log)
            .stderr(err);
        if let Some(net) = o.also_on {
            trust_private_net(&self.cluster_dir(), net)?;
        }
        if let Some(a) = &o.archive {
            cmd.args(["-c", "archive_mode=on", "-c", "wal_level=replica"])
                .args(["-c", &format!("archive_command={}", a.command)])
                .args(["-c", &format!("archive_timeout={}s", a.timeout_s)]);
        }
        if !o.durable {
            cmd.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit.
        let child = spawn_owned(cmd, Signal::SIGINT).map_err(io_err("starting postgres"))?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), LaunchError> {
        let isready = find_binary(Binary::PgIsReady)?;
        let port = self.port.to_string();
        let log = self.log_path();
        crate::spawn::wait_ready(&mut self.child, "postgres", &log, || {
            Command::new(&isready)
                .args([
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    SUPERUSER,
                    "-d",
                    "postgres",
                ])
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
    }

    /// Fast shutdown; the data directory stays, so `start_again` brings the same data back.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, Signal::SIGINT, SHUTDOWN_TIMEOUT);
        }
    }

    /// Immediate shutdown, as in a crash (SIGQUIT: no checkpoint; recovery runs on the next start).
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, Signal::SIGQUIT, SHUTDOWN_TIMEOUT);
        }
    }

    /// SIGKILL to the postmaster and every backend at once (its process group), as when the
    /// machine's processes are lost: nothing is flushed or checkpointed, and the data directory
    /// is left as the kill found it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(group, Signal::SIGKILL);
            let _ = child.wait();
        }
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
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

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A connection URL for `database` as the superuser over loopback TCP.
    pub fn url(&self, database: &str) -> String {
        self.url_as(SUPERUSER, database)
    }

    /// A connection URL for `database` as `role` over loopback TCP (trust authentication: no
    /// password). `role` is a plain identifier the caller made.
    pub fn url_as(&self, role: &str, database: &str) -> String {
        self.url_at(Ipv4Addr::LOCALHOST, role, database)
    }

    /// `url_as` through `host`: loopback, or this machine's address on the private network the
    /// server also listens on (`PostgresOptions::also_on`), for a host of that network.
    pub fn url_at(&self, host: Ipv4Addr, role: &str, database: &str) -> String {
        format!("postgres://{role}@{host}:{}/{database}", self.port)
    }
}

fn listen_addresses(also_on: Option<PrivateNet>) -> String {
    match also_on {
        Some(net) => format!("listen_addresses=127.0.0.1,{}", net.address),
        None => "listen_addresses=127.0.0.1".to_string(),
    }
}

/// Adds the private network's hosts to `pg_hba.conf` (trust, as loopback), once.
fn trust_private_net(cluster: &Path, net: PrivateNet) -> Result<(), LaunchError> {
    let path = cluster.join("pg_hba.conf");
    let hba = std::fs::read_to_string(&path).map_err(io_err("reading pg_hba.conf"))?;
    let line = format!("host all all {}/{} trust", net.address, net.prefix);
    if hba.lines().any(|l| l == line) {
        return Ok(());
    }
    let mut f = File::options()
        .append(true)
        .open(&path)
        .map_err(io_err("opening pg_hba.conf"))?;
    use std::io::Write;
    writeln!(
        f,
        "# Added by realmkeep-launcher: the private network's hosts.\n{line}"
    )
    .map_err(io_err("writing pg_hba.conf"))
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        if self.scratch {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// The system user PostgreSQL runs as when this process is root (`None`: as this process's own
/// user). Tools that must run as the same user as the server (pgBackRest) ask here.
pub fn system_user_if_root() -> Result<Option<(nix::unistd::Uid, nix::unistd::Gid)>, LaunchError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name(SYSTEM_USER) {
        Ok(Some(u)) => Ok(Some((u.uid, u.gid))),
        _ => Err(LaunchError::MissingUser(SYSTEM_USER.into())),
    }
}

/// Adds o+x to a directory so another user can reach what is below it. Best effort: a directory
/// we may not change is left alone, and initdb reports the real problem if there is one.
fn allow_traverse(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(dir) {
        let mut perm = meta.permissions();
        if perm.mode() & 0o001 == 0 {
            perm.set_mode(perm.mode() | 0o001);
            let _ = std::fs::set_permissions(dir, perm);
        }
    }
}
