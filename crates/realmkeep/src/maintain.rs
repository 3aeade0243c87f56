//! `realmkeep maintain`: the schedule of the shipped systemd timers (`deploy/systemd/`), run in
//! the foreground where systemd is absent. Each job has a named interval; when a job last ran is
//! kept in `REPO/maintain.json`, so a restart neither repeats nor skips work. Jobs run one at a
//! time in a fixed order; a failed job is reported and tried again at its next turn.

use crate::backup::RepoArgs;
use crate::cli::DbArgs;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The systemd timers' schedule (deploy/systemd/*.timer say the same).
pub const FULL_EVERY: &str = "7d";
pub const BASE_EVERY: &str = "1d";
pub const DUMP_EVERY: &str = "1d";
pub const VERIFY_EVERY: &str = "1d";
pub const REDIS_EVERY: &str = "15m";
pub const LOGS_EVERY: &str = "30d";
/// Longest sleep between two looks at the schedule (a signal ends a sleep at once).
const SLEEP_MAX: Duration = Duration::from_secs(60);
const STATE_FILE: &str = "maintain.json";

/// An interval: a number and a unit (s, m, h, d, w), e.g. `15m`, `1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Every(pub Duration);

impl std::str::FromStr for Every {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (n, unit) = s.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("{s:?}: a number then s, m, h, d or w"))?;
        let secs = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => return Err(format!("{s:?}: the unit is s, m, h, d or w")),
        };
        if n == 0 {
            return Err(format!("{s:?}: an interval is above zero"));
        }
        Ok(Every(Duration::from_secs(n * secs)))
    }
}

/// No `Debug`: the URLs may hold passwords.
#[derive(Args, Clone)]
pub struct MaintainArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Redis to snapshot into the repository (the job is off without it).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Where monthly game-log archives go (`realmkeep logs archive --out`; off without it).
    #[arg(long)]
    pub logs_out: Option<PathBuf>,
    #[arg(long, default_value_t = 3)]
    pub logs_older_than_months: u32,
    #[arg(long, default_value = FULL_EVERY)]
    pub full_every: Every,
    /// Incremental base backups between the full ones.
    #[arg(long, default_value = BASE_EVERY)]
    pub base_every: Every,
    #[arg(long, default_value = DUMP_EVERY)]
    pub dump_every: Every,
    #[arg(long, default_value = VERIFY_EVERY)]
    pub verify_every: Every,
    #[arg(long, default_value = REDIS_EVERY)]
    pub redis_every: Every,
    #[arg(long, default_value = LOGS_EVERY)]
    pub logs_every: Every,
    /// Stop after this many job runs (default: until Ctrl-C or SIGTERM).
    #[arg(long)]
    pub runs: Option<u64>,
}

/// The jobs, in the order they run when several are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    Full,
    Base,
    Dump,
    Redis,
    Logs,
    Verify,
}

impl Job {
    fn name(self) -> &'static str {
        match self {
            Job::Full => "full base backup",
            Job::Base => "incremental base backup",
            Job::Dump => "dump",
            Job::Redis => "redis snapshot",
            Job::Logs => "game-log archive",
            Job::Verify => "verify",
        }
    }
}

fn schedule(a: &MaintainArgs) -> Vec<(Job, Duration)> {
    let mut jobs = vec![
        (Job::Full, a.full_every.0),
        (Job::Base, a.base_every.0),
        (Job::Dump, a.dump_every.0),
        (Job::Verify, a.verify_every.0),
    ];
    if a.redis_url.is_some() {
        jobs.push((Job::Redis, a.redis_every.0));
    }
    if a.logs_out.is_some() {
        jobs.push((Job::Logs, a.logs_every.0));
    }
    jobs.sort();
    jobs
}

fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// When each job last ran (Unix seconds), by name.
fn load_state(path: &Path) -> BTreeMap<String, i64> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn save_state(path: &Path, state: &BTreeMap<String, i64>) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(state)?)
        .with_context(|| format!("writing {}", path.display()))
}

pub async fn run(args: MaintainArgs) -> Result<()> {
    // Fails early if setup never ran.
    crate::backup::has_backup(&args.repo.repo)
        .await
        .map(|_| ())?;
    let state_path = args.repo.repo.join(STATE_FILE);
    let mut state = load_state(&state_path);
    let jobs = schedule(&args);
    println!(
        "maintaining {}: {}",
        args.repo.repo.display(),
        jobs.iter()
            .map(|(j, every)| format!("{} every {}", j.name(), human(*every)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let signal = realmkeep_server::shutdown_signal();
    tokio::pin!(signal);
    let mut runs = 0u64;
    let mut failures = 0u64;
    loop {
        let due: Vec<Job> = jobs
            .iter()
            .filter(|(j, every)| {
                state
                    .get(j.name())
                    .is_none_or(|last| now_s() - last >= every.as_secs() as i64)
            })
            .map(|(j, _)| *j)
            .collect();
        for job in &due {
            if *job == Job::Base && due.contains(&Job::Full) {
                // The full backup that just ran counts as this turn's base backup.
                state.insert(job.name().into(), now_s());
                continue;
            }
            let started = std::time::Instant::now();
            match run_job(*job, &args).await {
                Ok(()) => println!(
                    "{} done in {:.1} s",
                    job.name(),
                    started.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    failures += 1;
                    eprintln!("{} failed: {e:#}", job.name());
                }
            }
            state.insert(job.name().into(), now_s());
            save_state(&state_path, &state)?;
            runs += 1;
            if args.runs.is_some_and(|max| runs >= max) {
                return finish(runs, failures);
            }
        }
        let next = jobs
            .iter()
            .map(|(j, every)| state.get(j.name()).copied().unwrap_or(0) + every.as_secs() as i64)
            .min()
            .unwrap_or(i64::MAX);
        let wait =
            Duration::from_secs((next - now_s()).clamp(0, SLEEP_MAX.as_secs() as i64) as u64);
        tokio::select! {
            why = &mut signal => {
                println!("stopping ({why})");
                return finish(runs, failures);
            }
            _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => {}
        }
    }
}

fn finish(runs: u64, failures: u64) -> Result<()> {
    println!("{runs} job run(s), {failures} failed");
    if failures > 0 {
        bail!("{failures} job run(s) failed");
    }
    Ok(())
}

async fn run_job(job: Job, a: &MaintainArgs) -> Result<()> {
    let repo = &a.repo.repo;
    match job {
        Job::Full => crate::backup::base_backup(repo, true).await,
        Job::Base => crate::backup::base_backup(repo, false).await,
        Job::Dump => crate::backup::dump_now(repo, &a.db.database_url).await,
        Job::Verify => crate::backup::verify_now(repo).await,
        Job::Redis => match &a.redis_url {
            Some(url) => crate::backup::redis_now(repo, url).await,
            None => Ok(()),
        },
        Job::Logs => match &a.logs_out {
            Some(out) => {
                let store = crate::db::connect(&a.db).await?;
                let r = store.archive_logs(a.logs_older_than_months, out).await;
                store.close().await;
                r.map(|_| ()).map_err(Into::into)
            }
            None => Ok(()),
        },
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, n) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if s >= n && s.is_multiple_of(n) {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_with_their_unit() {
        assert_eq!("15m".parse::<Every>().unwrap().0, Duration::from_secs(900));
        assert_eq!(
            "1d".parse::<Every>().unwrap().0,
            Duration::from_secs(86_400)
        );
        assert_eq!("2s".parse::<Every>().unwrap().0, Duration::from_secs(2));
        for bad in ["", "m", "0s", "5y", "-1d", "1.5h"] {
            assert!(bad.parse::<Every>().is_err(), "{bad}");
        }
        assert_eq!(human(Duration::from_secs(900)), "15m");
        assert_eq!(human(Duration::from_secs(7 * 86_400)), "1w");
        assert_eq!(human(Duration::from_secs(90)), "90s");
    }
}
