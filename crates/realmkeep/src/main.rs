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

/// The fewest malloc arenas the process uses; otherwise one per core.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_ARENAS_MIN: usize = 2;

/// The most malloc arenas the process uses, however many cores it has.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_ARENAS_MAX: usize = 64;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
const _: () = assert!(MALLOC_ARENAS_MIN >= 1 && MALLOC_ARENAS_MIN <= MALLOC_ARENAS_MAX);

/// Two settings of glibc's malloc, made before any thread exists:
///
/// - **A fixed mmap threshold.** glibc raises its threshold after the first large block is freed,
///   and then serves the next ones from per-thread arenas that keep their pages: every login's
///   19 MiB of Argon2id working memory left about 530 KB resident per connection. A fixed
///   threshold (which also turns the adjustment off) gives every block from 128 KiB up back to
///   the system when it is freed.
/// - **One arena per core** (`MALLOC_ARENAS_MIN`..`MALLOC_ARENAS_MAX`) instead of glibc's eight:
///   a connection's small blocks are allocated on one thread and freed on another (the tokio
///   workers, the zones' tick threads, the blocking pool of the logins), and each arena keeps
///   the free space it was given back. At 3,000 idle players this was 1.9 KB resident per
///   connection, at no cost in CPU or latency at 1,000 active players (`docs/BENCHMARKS.md`).
///   An operator's `MALLOC_ARENA_MAX` in the environment is left as it is.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    /// `M_MMAP_THRESHOLD` and `M_ARENA_MAX` of glibc's malloc.h.
    const M_MMAP_THRESHOLD: i32 = -3;
    const M_ARENA_MAX: i32 = -8;
    // SAFETY: mallopt only sets a parameter of the allocator; called first thing in main, before
    // any other thread exists.
    if unsafe { mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD_BYTES) } != 1 {
        eprintln!(
            "realmkeep: mallopt(M_MMAP_THRESHOLD) refused; memory per login may stay resident"
        );
    }
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(MALLOC_ARENAS_MIN, |n| n.get());
        let arenas = cores.clamp(MALLOC_ARENAS_MIN, MALLOC_ARENAS_MAX) as i32;
        // SAFETY: as above.
        if unsafe { mallopt(M_ARENA_MAX, arenas) } != 1 {
            eprintln!("realmkeep: mallopt(M_ARENA_MAX) refused; malloc keeps its own arena count");
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

fn main() -> anyhow::Result<()> {
    tune_malloc();
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
