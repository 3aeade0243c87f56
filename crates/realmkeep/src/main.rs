//! `realmkeep`: the command-line entry point. Parses the command line, sets up logging, runs the
//! command. Everything else lives in the library crates.

mod admin;
mod backup;
mod bench;
mod bots;
mod cli;
mod db;
mod demo;
mod maintain;
mod private;
mod serve;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| cli.log_filter().into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    cli.run().await
}
