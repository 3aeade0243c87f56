//! The processes of `bench gateway`: this binary run again as a node (`serve`), as bots
//! (`bots`) and as the echo (`bench echo-server`), each answering one JSON line on stdout for
//! each line the benchmark writes on its stdin; and what `/proc` says about them (CPU, memory).

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How long a child may take to answer a stats line (a loaded 2-core machine).
const ANSWER_WAIT: Duration = Duration::from_secs(30);
/// How long a child may take to stop after its stdin closed or SIGTERM (a node saves everyone).
const STOP_WAIT: Duration = Duration::from_secs(120);
/// Clock ticks per second of `/proc/PID/stat` (100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// A child process of the benchmark, spoken to through its stdin and stdout.
pub struct Proc {
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    pid: u32,
}

impl Proc {
    /// Starts this binary with `args`; its stderr goes to `log`.
    pub fn start(name: &str, args: &[String], envs: &[(&str, &str)], log: &Path) -> Result<Proc> {
        let exe = std::env::current_exe().context("finding this binary")?;
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).with_context(|| format!("creating {log:?}"))?)
            .kill_on_drop(true);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        let pid = child.id().context("a started child has a pid")?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().context("piped stdout")?).lines();
        Ok(Proc {
            name: name.into(),
            child,
            stdin,
            stdout,
            pid,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The next JSON line on its stdout whose `event` is `event` (or any JSON line if `None`),
    /// skipping others.
    pub async fn line(&mut self, event: Option<&str>) -> Result<Value> {
        loop {
            let line = tokio::time::timeout(ANSWER_WAIT, self.stdout.next_line())
                .await
                .with_context(|| format!("{} did not answer in time", self.name))??;
            let Some(line) = line else {
                bail!("{} ended (see its log)", self.name);
            };
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if event.is_none_or(|e| v["event"] == e) {
                return Ok(v);
            }
        }
    }

    /// Asks for its stats line and reads it.
    pub async fn stats(&mut self, event: Option<&str>) -> Result<Value> {
        let stdin = self.stdin.as_mut().context("stdin already closed")?;
        stdin.write_all(b"stats\n").await?;
        stdin.flush().await?;
        self.line(event).await
    }

    /// Closes its stdin (bots log out, the echo stops) and waits for it to end; the last JSON
    /// line it printed, if any.
    pub async fn finish(mut self) -> Result<Option<Value>> {
        drop(self.stdin.take());
        let mut last = None;
        let read = async {
            while let Ok(Some(line)) = self.stdout.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    last = Some(v);
                }
            }
        };
        if tokio::time::timeout(STOP_WAIT, read).await.is_err() {
            bail!("{} did not stop in time", self.name);
        }
        let _ = tokio::time::timeout(STOP_WAIT, self.child.wait()).await;
        Ok(last)
    }

    /// SIGTERM (a node saves everyone and stops) and waits for the end.
    pub async fn terminate(mut self) -> Result<()> {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        drop(self.stdin.take());
        let _ = kill(Pid::from_raw(self.pid as i32), Signal::SIGTERM);
        match tokio::time::timeout(STOP_WAIT, self.child.wait()).await {
            Ok(_) => Ok(()),
            Err(_) => {
                let _ = self.child.kill().await;
                bail!("{} did not stop in time after SIGTERM", self.name)
            }
        }
    }
}

/// How long each thread of a process has waited in the kernel's run queue so far (runnable, not
/// on a core: `/proc/PID/task/TID/schedstat`, its second field), nanoseconds by thread id.
pub fn run_queue_waits(pid: u32) -> std::collections::HashMap<u32, u64> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Default::default();
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let tid = t.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(t.path().join("schedstat")).ok()?;
            Some((tid, stat.split_whitespace().nth(1)?.parse().ok()?))
        })
        .collect()
}

/// The seconds threads of a process waited for a core between two readings of
/// `run_queue_waits`, of the threads in both (a thread that came or went meanwhile is left out).
pub fn run_queue_waited_s(
    before: &std::collections::HashMap<u32, u64>,
    after: &std::collections::HashMap<u32, u64>,
) -> f64 {
    let ns: u64 = after
        .iter()
        .filter_map(|(tid, a)| Some(a.saturating_sub(*before.get(tid)?)))
        .sum();
    ns as f64 / 1e9
}

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    stat_fields(pid, &[STAT_UTIME, STAT_STIME]).map_or(0.0, |f| f.iter().sum::<f64>())
        / TICKS_PER_SECOND
}

/// `/proc/PID/stat`'s fields counted from the state (the third field) on, after the command
/// name's closing parenthesis: the parent's id, user and system time, those of reaped children.
const STAT_PPID: usize = 1;
const STAT_UTIME: usize = 11;
const STAT_STIME: usize = 12;
const STAT_CUTIME: usize = 13;
const STAT_CSTIME: usize = 14;

/// The fields `which` of a process's stat line (`None`: gone, or not readable).
fn stat_fields(pid: u32, which: &[usize]) -> Option<Vec<f64>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = s[s.rfind(')')? + 2..].split_whitespace().collect();
    which.iter().map(|i| f.get(*i)?.parse().ok()).collect()
}

/// CPU seconds of a server process and its children (PostgreSQL's postmaster and its
/// backends): its own, its reaped children's, and each live child's, read from `/proc` without
/// starting a process (a reading that forks a tool per backend is itself a burst of load).
pub fn tree_cpu_seconds(root: u32) -> f64 {
    let own = stat_fields(root, &[STAT_UTIME, STAT_STIME, STAT_CUTIME, STAT_CSTIME])
        .map_or(0.0, |f| f.iter().sum::<f64>());
    let children: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let f = stat_fields(pid, &[STAT_PPID, STAT_UTIME, STAT_STIME])?;
            (f[0] as u32 == root).then(|| f[1] + f[2])
        })
        .sum();
    (own + children) / TICKS_PER_SECOND
}

/// Resident memory of a process now, in KiB.
pub fn rss_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

/// Seconds the hypervisor ran something else while this machine's cores had work (`steal`,
/// the eighth figure of `/proc/stat`'s first line), all cores together: a window the host took
/// time from measured slower than the machine is.
pub fn machine_steal_seconds() -> f64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let steal = s.lines().next()?.split_whitespace().nth(8)?;
            Some(steal.parse::<f64>().ok()? / TICKS_PER_SECOND)
        })
        .unwrap_or(0.0)
}

/// CPU seconds the whole machine has been busy (all cores, everything but idle and iowait).
pub fn machine_busy_seconds() -> f64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<f64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            let total: f64 = f.iter().take(8).sum();
            let idle = f.get(3)? + f.get(4)?;
            Some((total - idle) / TICKS_PER_SECOND)
        })
        .unwrap_or(0.0)
}

/// Memory the machine could still give (MemAvailable), in MiB.
pub fn memory_available_mib() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1_024.0)
        .unwrap_or(f64::INFINITY)
}

/// The machine's load average over the last minute (other work on the machine shows here).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// A free TCP port on loopback (bound and let go).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Removes the processes' logs in `dir`, unless a phase lost connections: they say why then.
pub(super) fn remove_logs_unless_lost(dir: &Path, report: &super::report::Report) {
    if report
        .checks
        .iter()
        .any(|c| !c.pass && c.name.contains("not held"))
    {
        eprintln!(
            "bench gateway: connections lost; logs kept in {}",
            dir.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_counts_the_cpu_of_its_live_and_reaped_children() {
        let me = std::process::id();
        let burn = || {
            std::process::Command::new("sh")
                .args([
                    "-c",
                    "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 30",
                ])
                .spawn()
                .expect("sh")
        };
        // A live child, once it has burnt its loop (it then sleeps): counted.
        let mut live = burn();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while cpu_seconds(live.id()) < 0.05 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let child = cpu_seconds(live.id());
        assert!(child >= 0.05, "the child burnt {child} s");
        let own = cpu_seconds(me);
        let with_live = tree_cpu_seconds(me);
        assert!(with_live >= own + child - 0.011, "{with_live} s");
        // Reaped, it counts as the parent's children's time.
        live.kill().expect("kill");
        live.wait().expect("wait");
        let reaped = tree_cpu_seconds(me);
        assert!(
            reaped >= with_live - 0.011,
            "{reaped} s against {with_live} s"
        );
        assert_eq!(tree_cpu_seconds(u32::MAX), 0.0, "no such process");
    }
}
