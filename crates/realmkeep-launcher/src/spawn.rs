//! Spawning servers that die with this process.
//!
//! `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits, not the process. Test
//! harnesses run each test on its own short-lived thread, so every server is forked from one
//! spawner thread that lives until the process ends.

use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

type Request = (Command, mpsc::Sender<std::io::Result<Child>>);

static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();

fn spawner() -> &'static Mutex<mpsc::Sender<Request>> {
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("realmkeep-spawner".into())
            .spawn(move || {
                // Lives as long as the process: the sender sits in a static and is never dropped.
                while let Ok((mut cmd, reply)) = rx.recv() {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("the spawner thread starts");
        Mutex::new(tx)
    })
}

/// Spawns `cmd` so that it receives `signal` when this process dies. The child gets a process
/// group of its own, so a Ctrl-C at the terminal reaches only this process, which then stops its
/// servers in order (the demo saves every character before PostgreSQL goes).
pub(crate) fn spawn_owned(
    mut cmd: Command,
    signal: nix::sys::signal::Signal,
) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    // SAFETY: the closure runs between fork and exec and only calls the async-signal-safe prctl.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(signal).map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    spawner()
        .lock()
        .map_err(|_| std::io::Error::other("spawner lock poisoned"))?
        .send((cmd, tx))
        .map_err(|_| std::io::Error::other("spawner thread is gone"))?;
    rx.recv()
        .map_err(|_| std::io::Error::other("spawner thread is gone"))?
}

/// Sends `signal` to `child` and waits up to `timeout` for it to exit, then kills it.
pub(crate) fn stop_child(
    child: &mut Child,
    signal: nix::sys::signal::Signal,
    timeout: std::time::Duration,
) {
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = kill(Pid::from_raw(child.id() as i32), signal);
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Polls `ready` until it answers true, the child exits (an error with the log's tail) or
/// `STARTUP_TIMEOUT` passes.
pub(crate) fn wait_ready(
    child: &mut Option<Child>,
    what: &str,
    log: &std::path::Path,
    mut ready: impl FnMut() -> bool,
) -> Result<(), crate::LaunchError> {
    use crate::{log_tail, LaunchError, READY_POLL_INTERVAL, STARTUP_TIMEOUT};
    let started = std::time::Instant::now();
    loop {
        if let Some(c) = child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                *child = None;
                return Err(LaunchError::Failed {
                    what: what.into(),
                    status: status.to_string(),
                    log: log_tail(log),
                });
            }
        }
        if ready() {
            return Ok(());
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            return Err(LaunchError::Timeout {
                what: what.into(),
                timeout: STARTUP_TIMEOUT,
                log: log_tail(log),
            });
        }
        std::thread::sleep(READY_POLL_INTERVAL);
    }
}

/// Starts a server on `fixed` or, when `None`, on a fresh free port, trying again on another port
/// (up to `START_ATTEMPTS_MAX`) when the chosen one turned out to be taken.
pub(crate) fn start_on_port(
    fixed: Option<u16>,
    mut start: impl FnMut(u16) -> Result<(), crate::LaunchError>,
) -> Result<(), crate::LaunchError> {
    let mut last = None;
    for _ in 0..crate::START_ATTEMPTS_MAX {
        let port = match fixed {
            Some(p) => p,
            None => crate::free_port()?,
        };
        match start(port) {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
        if fixed.is_some() {
            break;
        }
    }
    Err(last.expect("at least one attempt ran"))
}
