//! `realmkeep bots`: players over real sockets against a running gateway (`realmkeep-bots`):
//! a line each second on stderr, the JSON report on stdout at the end (also after SIGTERM or
//! Ctrl-C, which end the run early: every bot logs out first).

use anyhow::Result;
use clap::Args;
use realmkeep_bots::{BotsConfig, BOTS_MAX};
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct BotsArgs {
    /// The gateway's HTTP address.
    #[arg(long, default_value = "http://127.0.0.1:7400")]
    pub url: String,
    #[arg(long, default_value_t = 50)]
    pub players: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Account and character names are PREFIX0, PREFIX1... (letters and digits).
    #[arg(long, default_value = "bot")]
    pub prefix: String,
    /// Milliseconds between two decisions of a bot (a human acts about once a second).
    #[arg(long, default_value_t = 1_000)]
    pub think_ms: u64,
    /// Put every acknowledged critical action's durable id in the report (`acknowledged`).
    #[arg(long)]
    pub ledger: bool,
}

pub async fn run(args: BotsArgs) -> Result<()> {
    if args.players > BOTS_MAX {
        anyhow::bail!("at most {BOTS_MAX} bots per process");
    }
    let mut config = BotsConfig::new(&args.url, args.players, args.seed, args.seconds);
    config.prefix = args.prefix;
    config.think_every = Duration::from_millis(args.think_ms.max(10));
    config.ledger = args.ledger;
    let stop = async {
        let why = realmkeep_server::shutdown_signal().await;
        eprintln!("{why}: the bots log out");
    };
    let report = realmkeep_bots::run_until(config, true, stop).await;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
