//! `realmkeep bench`: speed targets measured against a reference taken in the same run (these
//! machines are noisy, so ratios, not absolute numbers, carry the targets). JSON goes to stdout
//! or `--json FILE`; a readable table goes to stderr.

mod cache;
mod report;
mod store;

use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

pub use report::Report;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Suite {
    Store,
    Cache,
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
    /// Characters to seed for `store` (the figure is 100,000).
    #[arg(long, default_value_t = 100_000)]
    pub characters: u32,
    /// Seconds each timed phase runs.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

pub async fn run(args: BenchArgs) -> Result<()> {
    let mut reports = Vec::new();
    if matches!(args.suite, Suite::Store | Suite::All) {
        reports.push(store::run(&args).await?);
    }
    if matches!(args.suite, Suite::Cache | Suite::All) {
        reports.push(cache::run().await?);
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
