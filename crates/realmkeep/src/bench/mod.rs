//! `realmkeep bench`: speed targets measured against a reference taken in the same run (these
//! machines are noisy, so ratios, not absolute numbers, carry the targets). JSON goes to stdout
//! or `--json FILE`; a readable table goes to stderr.

mod cache;
mod gateway;
mod gateway_echo;
mod gateway_figures;
mod gateway_procs;
mod report;
mod restore;
mod store;
mod store_economy;
mod store_save;
mod zone;
mod zone_store;
mod zone_tick;

use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

pub use report::Report;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Suite {
    Store,
    Cache,
    Zone,
    /// Not part of `all`: a restore of N characters (`--characters`).
    Restore,
    /// Not part of `all`: a node and bots processes over loopback sockets (`--crowds`, `--idle`).
    Gateway,
    /// The gateway benchmark's reference, run by it as a process of its own (`--listen`).
    #[value(hide = true)]
    EchoServer,
    All,
}

#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// Which benchmark.
    #[arg(value_enum)]
    pub suite: Suite,
    /// Write the JSON report here instead of stdout.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Characters to seed for `store` and `restore` (the issues' figure is 100,000).
    #[arg(long, default_value_t = 100_000)]
    pub characters: u32,
    /// Seconds each timed phase runs (for `zone`, each measured window: the figure is 60).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Players of `zone` (the figure is 2,000).
    #[arg(long, default_value_t = 2_000)]
    pub players: u32,
    /// Monsters of `zone` (the figure is 10,000).
    #[arg(long, default_value_t = 10_000)]
    pub monsters: u32,
    /// In `zone`, every player watches as a socket's player does (`ZoneInput::Watch`): each
    /// gets its view deltas, so the views' cost is in the ticks (not in the memory per player,
    /// read before the first view).
    #[arg(long)]
    pub watching: bool,
    /// Active players of `gateway`, one phase each (the figures).
    #[arg(long, value_delimiter = ',', default_value = "1000,2000,5000")]
    pub crowds: Vec<u32>,
    /// Idle authenticated connections of `gateway` (the figure; 0: no idle phase).
    #[arg(long, default_value_t = 15_000)]
    pub idle: u32,
    /// Milliseconds between two bots' logins in `gateway` (a login is an Argon2id hash).
    #[arg(long, default_value_t = 20)]
    pub spawn_ms: u64,
    /// How the bots of `gateway`'s active crowds play (`realmkeep bots --pace`): `calm`, the
    /// issue's human rate, or `lively`, the tests' busy players.
    #[arg(long, value_enum, default_value_t = crate::bots::PaceArg::Calm)]
    pub pace: crate::bots::PaceArg,
    /// Where `echo-server` listens.
    #[arg(long, hide = true)]
    pub listen: Option<std::net::SocketAddr>,
}

pub async fn run(args: BenchArgs) -> Result<()> {
    if args.suite == Suite::EchoServer {
        return gateway_echo::echo_server(args.listen).await;
    }
    let mut reports = Vec::new();
    if matches!(args.suite, Suite::Store | Suite::All) {
        reports.push(store::run(&args).await?);
    }
    if matches!(args.suite, Suite::Cache | Suite::All) {
        reports.push(cache::run().await?);
    }
    if args.suite == Suite::Restore {
        reports.push(restore::run(&args).await?);
    }
    if matches!(args.suite, Suite::Zone | Suite::All) {
        reports.push(zone::run(&args).await?);
    }
    if args.suite == Suite::Gateway {
        reports.push(gateway::run(&args).await?);
    }
    for r in &reports {
        eprintln!("{}", r.table());
    }
    let json = if reports.len() == 1 {
        serde_json::to_string_pretty(&reports[0])?
    } else {
        serde_json::to_string_pretty(&reports)?
    };
    match &args.json {
        Some(path) => std::fs::write(path, json + "\n")?,
        None => println!("{json}"),
    }
    Ok(())
}

/// The process's peak resident memory (VmHWM), in megabytes.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU time this process has used so far (user + system), in seconds.
pub fn process_cpu_seconds() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second on Linux).
    const TICKS_PER_SECOND: f64 = 100.0;
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(
                (f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
                    / TICKS_PER_SECOND,
            )
        })
        .unwrap_or(0.0)
}
