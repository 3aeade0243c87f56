//! `realmkeep bench cache`: the cache API's throughput next to `redis-benchmark`'s, against
//! the same Redis in one run.
//!
//! Measured: session validations and rate-limit checks per second through [`crate::Cache`]
//! with [`BENCH_TASKS`] concurrent tasks, next to `redis-benchmark` GET and INCR with as many
//! clients; pipelined leaderboard updates per second (pipelines of
//! [`LEADERBOARD_PIPELINE_DEPTH`] ZADDs), next to `redis-benchmark` ZADD with `-P 16`.
//! Targets: at least [`UNPIPELINED_TARGET_RATIO`] of redis-benchmark on the unpipelined paths,
//! at least [`PIPELINED_TARGET_RATIO`] on pipelined leaderboard updates.

use crate::{
    Cache, CacheError, CacheOptions, LeaderboardKind, NodeId, RateAction, SessionCheck,
    SessionSecret, LEADERBOARD_PIPELINE_DEPTH,
};
use realmkeep_domain::{AccountId, CharacterId};
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Concurrent tasks on the API side, clients on the redis-benchmark side.
pub const BENCH_TASKS: usize = 50;
/// Operations per unpipelined measurement (each side).
pub const BENCH_OPS: usize = 100_000;
/// Leaderboard updates per pipelined measurement (each side).
pub const BENCH_PIPELINED_OPS: usize = 400_000;
/// Characters the leaderboard updates spread over (redis-benchmark's `-r`).
pub const BENCH_KEYSPACE: usize = 100_000;
pub const UNPIPELINED_TARGET_RATIO: f64 = 0.5;
pub const PIPELINED_TARGET_RATIO: f64 = 0.4;
/// Longest one redis-benchmark run may take before it is killed.
pub const BENCH_TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the benchmark waits for Redis to answer before giving up.
const BENCH_CONNECT_WAIT: Duration = Duration::from_secs(5);
/// The API side may wait this long per command: this measures throughput, not the outage path.
const BENCH_COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("Redis is not reachable at {0}")]
    NotReachable(String),
    #[error("running redis-benchmark failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("redis-benchmark did not finish within {0:?}")]
    ToolTimeout(Duration),
    #[error("redis-benchmark exited with {status}: {stderr}")]
    Tool { status: String, stderr: String },
    #[error("redis-benchmark printed nothing usable for {test}: {output}")]
    Parse { test: String, output: String },
    #[error("{0} answers were degraded: Redis went away during the benchmark")]
    Degraded(u64),
}

/// One line of the report: the API next to its redis-benchmark baseline.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub name: String,
    pub ops_per_s: f64,
    pub baseline: String,
    pub baseline_ops_per_s: f64,
    pub ratio: f64,
    pub target_ratio: f64,
    pub passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CacheBenchReport {
    pub port: u16,
    pub tasks: usize,
    pub ops: usize,
    pub pipelined_ops: usize,
    pub rows: Vec<BenchRow>,
    pub passed: bool,
}

impl CacheBenchReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// A table for people.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<34} {:>12}   {:<30} {:>12} {:>7} {:>7}  {}\n",
            "cache API", "ops/s", "redis-benchmark", "ops/s", "ratio", "target", "result"
        );
        for r in &self.rows {
            s.push_str(&format!(
                "{:<34} {:>12.0}   {:<30} {:>12.0} {:>6.0}% {:>6.0}%  {}\n",
                r.name,
                r.ops_per_s,
                r.baseline,
                r.baseline_ops_per_s,
                r.ratio * 100.0,
                r.target_ratio * 100.0,
                if r.passed { "pass" } else { "FAIL" }
            ));
        }
        s.push_str(if self.passed {
            "all targets met\n"
        } else {
            "some targets missed\n"
        });
        s
    }
}

fn row(
    name: &str,
    ops_per_s: f64,
    baseline: &str,
    baseline_ops_per_s: f64,
    target_ratio: f64,
) -> BenchRow {
    let ratio = if baseline_ops_per_s > 0.0 {
        ops_per_s / baseline_ops_per_s
    } else {
        0.0
    };
    BenchRow {
        name: name.into(),
        ops_per_s,
        baseline: baseline.into(),
        baseline_ops_per_s,
        ratio,
        target_ratio,
        passed: ratio >= target_ratio,
    }
}

/// Runs `per_task` calls of `op` in each of [`BENCH_TASKS`] tasks; returns calls per second.
async fn measure<F, Fut>(per_task: usize, op: F) -> f64
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = usize> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let tasks: Vec<_> = (0..BENCH_TASKS)
        .map(|t| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut done = 0;
                for i in 0..per_task {
                    done += op(t, i).await;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// How much work each measurement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchSize {
    /// Operations per unpipelined measurement (each side).
    pub ops: usize,
    /// Leaderboard updates per pipelined measurement (each side).
    pub pipelined_ops: usize,
}

impl Default for BenchSize {
    fn default() -> Self {
        Self {
            ops: BENCH_OPS,
            pipelined_ops: BENCH_PIPELINED_OPS,
        }
    }
}

/// Runs the whole benchmark against the Redis at `url` (listening on `port` of 127.0.0.1).
/// It writes `session:*`, `rate_limit:*`, `leaderboard:pvp`, and redis-benchmark's own keys:
/// point it at a private Redis.
pub async fn run(
    url: &str,
    redis_benchmark: &Path,
    port: u16,
) -> Result<CacheBenchReport, BenchError> {
    run_sized(url, redis_benchmark, port, BenchSize::default()).await
}

/// [`run`] with another amount of work (tests use a small one).
pub async fn run_sized(
    url: &str,
    redis_benchmark: &Path,
    port: u16,
    size: BenchSize,
) -> Result<CacheBenchReport, BenchError> {
    let min_pipelined = BENCH_TASKS * LEADERBOARD_PIPELINE_DEPTH;
    if size.ops < BENCH_TASKS || size.pipelined_ops < min_pipelined {
        return Err(BenchError::Cache(CacheError::Invalid {
            what: "benchmark size",
            detail: format!("at least {BENCH_TASKS} ops and {min_pipelined} pipelined ops"),
        }));
    }
    let node = NodeId::parse("bench")?;
    let secret = SessionSecret::new(&rand::random::<[u8; 32]>())?;
    let mut opts = CacheOptions::new(node, secret);
    opts.command_timeout = BENCH_COMMAND_TIMEOUT;
    let cache = Cache::connect(url, opts).await?;
    if !cache.wait_until_up(BENCH_CONNECT_WAIT).await {
        return Err(BenchError::NotReachable(realmkeep_domain::redact_url(url)));
    }
    let per_task = size.ops / BENCH_TASKS;

    let mut tokens = Vec::with_capacity(BENCH_TASKS);
    for t in 0..BENCH_TASKS {
        tokens.push(cache.sessions().issue(AccountId(t as i64 + 1)).await.token);
    }
    let tokens = Arc::new(tokens);
    let c = cache.clone();
    let sessions = measure(per_task, move |t, _| {
        let (c, tokens) = (c.clone(), tokens.clone());
        async move {
            match c.sessions().validate(tokens[t].as_str()).await {
                SessionCheck::Valid {
                    degraded: false, ..
                } => 1,
                _ => 0,
            }
        }
    })
    .await;

    let c = cache.clone();
    let rate_limits = measure(per_task, move |t, _| {
        let c = c.clone();
        async move {
            let ip = IpAddr::V4(Ipv4Addr::new(10, 77, 0, t as u8));
            usize::from(
                !c.rate_limits()
                    .check(ip, RateAction::Chat)
                    .await
                    .is_degraded(),
            )
        }
    })
    .await;

    let batches_per_task = size.pipelined_ops / BENCH_TASKS / LEADERBOARD_PIPELINE_DEPTH;
    let c = cache.clone();
    let boards = measure(batches_per_task, move |t, i| {
        let c = c.clone();
        async move {
            let batch: Vec<_> = (0..LEADERBOARD_PIPELINE_DEPTH)
                .map(|k| {
                    let n = (t * 7_919 + i * LEADERBOARD_PIPELINE_DEPTH + k) % BENCH_KEYSPACE;
                    (CharacterId(n as i64), (n * 31 % 3_000) as f64)
                })
                .collect();
            match c
                .leaderboards()
                .set_scores(LeaderboardKind::Pvp, &batch)
                .await
            {
                Ok(crate::Served::Redis) => LEADERBOARD_PIPELINE_DEPTH,
                _ => 0,
            }
        }
    })
    .await;

    let degraded = cache.metrics().degraded_answers;
    if degraded > 0 {
        return Err(BenchError::Degraded(degraded));
    }

    let port_s = port.to_string();
    let ops_s = size.ops.to_string();
    let clients = BENCH_TASKS.to_string();
    let auth = auth_args(url)?;
    let auth: Vec<&str> = auth.iter().map(String::as_str).collect();
    let base = [
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &port_s,
            "-c",
            &clients,
            "-q",
            "--csv",
        ][..],
        &auth[..],
    ]
    .concat();
    let out = tool(
        redis_benchmark,
        &[&base[..], &["-n", &ops_s, "-t", "get,incr"]].concat(),
    )
    .await?;
    let get = csv_rps(&out, "GET")?;
    let incr = csv_rps(&out, "INCR")?;
    let pipelined_s = size.pipelined_ops.to_string();
    let depth_s = LEADERBOARD_PIPELINE_DEPTH.to_string();
    let keyspace_s = BENCH_KEYSPACE.to_string();
    let zadd_args = [
        "-n",
        &pipelined_s,
        "-P",
        &depth_s,
        "-r",
        &keyspace_s,
        "ZADD",
        "bench:zset",
        "__rand_int__",
        "__rand_int__",
    ];
    let out = tool(redis_benchmark, &[&base[..], &zadd_args[..]].concat()).await?;
    let zadd = csv_rps(&out, "ZADD")?;

    let rows = vec![
        row(
            "session validations (50 tasks)",
            sessions,
            "GET (-c 50)",
            get,
            UNPIPELINED_TARGET_RATIO,
        ),
        row(
            "rate-limit checks (50 tasks)",
            rate_limits,
            "INCR (-c 50)",
            incr,
            UNPIPELINED_TARGET_RATIO,
        ),
        row(
            "leaderboard updates (pipelined 16)",
            boards,
            "ZADD (-c 50 -P 16)",
            zadd,
            PIPELINED_TARGET_RATIO,
        ),
    ];
    let passed = rows.iter().all(|r| r.passed);
    Ok(CacheBenchReport {
        port,
        tasks: BENCH_TASKS,
        ops: size.ops,
        pipelined_ops: size.pipelined_ops,
        rows,
        passed,
    })
}

/// redis-benchmark's `--user` and `-a` for the credentials in `url` (none without a password).
/// The password is then on redis-benchmark's command line: point it at a private Redis only.
fn auth_args(url: &str) -> Result<Vec<String>, CacheError> {
    let client = redis::Client::open(url).map_err(|e| CacheError::Invalid {
        what: "Redis URL",
        detail: e.to_string(),
    })?;
    let info = client.get_connection_info().redis_settings();
    let mut args = Vec::new();
    if let Some(password) = info.password() {
        if let Some(user) = info.username() {
            args.extend(["--user".to_string(), user.to_string()]);
        }
        args.extend(["-a".to_string(), password.to_string()]);
    }
    Ok(args)
}

async fn tool(program: &Path, args: &[&str]) -> Result<String, BenchError> {
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(BENCH_TOOL_TIMEOUT, child)
        .await
        .map_err(|_| BenchError::ToolTimeout(BENCH_TOOL_TIMEOUT))??;
    if !out.status.success() {
        return Err(BenchError::Tool {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr)
                .chars()
                .take(2_000)
                .collect(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The requests per second of `test` in redis-benchmark's `--csv` output: rows like
/// `"GET","98039.22",...` (a custom command's row starts with the whole command line).
pub fn csv_rps(output: &str, test: &str) -> Result<f64, BenchError> {
    output
        .lines()
        .filter_map(|l| {
            let mut fields = l.split(',').map(|f| f.trim().trim_matches('"'));
            let name = fields.next()?;
            let rps = fields.next()?.parse::<f64>().ok()?;
            (name == test || name.starts_with(&format!("{test} "))).then_some(rps)
        })
        .next()
        .ok_or_else(|| BenchError::Parse {
            test: test.into(),
            output: output.chars().take(500).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_benchmark_csv() {
        let out = "\"test\",\"rps\",\"avg_latency_ms\"\n\"GET\",\"98039.22\",\"0.3\"\n\"INCR\",\"100000.00\",\"0.2\"\n";
        assert_eq!(csv_rps(out, "GET").unwrap(), 98039.22);
        assert_eq!(csv_rps(out, "INCR").unwrap(), 100000.0);
        let z = "\"test\",\"rps\"\n\"ZADD bench:zset __rand_int__ __rand_int__\",\"850000.50\"\n";
        assert_eq!(csv_rps(z, "ZADD").unwrap(), 850000.5);
        assert!(csv_rps(out, "SET").is_err());
    }

    #[test]
    fn rows_pass_against_their_target() {
        assert!(row("a", 60.0, "b", 100.0, 0.5).passed);
        assert!(!row("a", 39.0, "b", 100.0, 0.4).passed);
        assert!(!row("a", 1.0, "b", 0.0, 0.4).passed);
    }
}
