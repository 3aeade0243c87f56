//! `realmkeep`: the command-line entry point. Reads `--config` (if any), parses the command
//! line, sets up logging, runs the command. Everything else lives in the library crates.

mod admin;
mod backup;
mod bench;
mod bots;
mod cli;
mod config;
mod db;
mod demo;
mod maintain;
mod private;
mod serve;
mod stdin;

use clap::{CommandFactory, FromArgMatches};

/// The size from which glibc's malloc serves a block with its own mapping, given back when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_MMAP_THRESHOLD_BYTES: i32 = 128 * 1024;

/// glibc raises its mmap threshold after the first large block is freed, and then serves the
/// next ones from per-thread arenas that keep their pages: every login's 19 MiB of Argon2id
/// working memory left about 530 KB resident per connection. A fixed threshold (which also turns
/// the adjustment off) gives every block from 128 KiB up back to the system when it is freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_malloc_mmap_threshold() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    /// `M_MMAP_THRESHOLD` of glibc's malloc.h.
    const M_MMAP_THRESHOLD: i32 = -3;
    // SAFETY: mallopt only sets a parameter of the allocator; called first thing in main, before
    // any other thread exists.
    if unsafe { mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD_BYTES) } != 1 {
        eprintln!(
            "realmkeep: mallopt(M_MMAP_THRESHOLD) refused; memory per login may stay resident"
        );
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fix_malloc_mmap_threshold() {}

fn main() -> anyhow::Result<()> {
    fix_malloc_mmap_threshold();
    // Before any thread exists: the file's database, Redis, session secret and backup
    // repository become the environment variables the commands read, where the environment
    // does not set them already.
    let file = match config::path_from_args(std::env::args_os()) {
        Some(path) => {
            let file = config::load(&path)?;
            config::fill_environment(&file);
            Some(file)
        }
        None => None,
    };
    let matches = cli::Cli::command().get_matches();
    let mut cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let mut log = config::LogSettings::default();
    if let Some(file) = file {
        log = config::log_settings(&file, &matches);
        if let (cli::Command::Serve(args), Some(("serve", m))) =
            (&mut cli.command, matches.subcommand())
        {
            config::apply(file, args, m)?;
        }
    }
    let format = log.format.unwrap_or(cli.log_format);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .ok()
        .or_else(|| {
            log.filter
                .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        })
        .unwrap_or_else(|| cli.log_filter().into());
    // Spans (store and cache calls, at debug level) are logged when they close, with their
    // duration (`time.busy`).
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE);
    match format {
        cli::LogFormat::Text => fmt.init(),
        cli::LogFormat::Json => fmt.json().with_current_span(true).init(),
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(cli.run())
}
