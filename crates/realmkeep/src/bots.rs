//! `realmkeep bots`: players over real sockets against a running gateway (`realmkeep-bots`):
//! a line each second on stderr, the JSON report on stdout at the end (also after SIGTERM or
//! Ctrl-C, which end the run early: every bot logs out first).
//!
//! `--stats-on-stdin` is for the gateway benchmark, which runs bots as child processes: each
//! line read on stdin prints one JSON line on stdout (what the bots did since the previous
//! line: `realmkeep_bots::Window`), and the end of stdin ends the run (the bots log out).

use anyhow::Result;
use clap::Args;
use realmkeep_bots::{BotsConfig, Play, Stats, BOTS_MAX, ECHO_FRAME_BYTES_MAX};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// `realmkeep_sim::Pace` on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PaceArg {
    Lively,
    Calm,
}

impl From<PaceArg> for realmkeep_sim::Pace {
    fn from(p: PaceArg) -> Self {
        match p {
            PaceArg::Lively => Self::Lively,
            PaceArg::Calm => Self::Calm,
        }
    }
}

#[derive(Args, Clone, Debug)]
pub struct BotsArgs {
    /// The gateway's HTTP address (with --echo-bytes: the echo's WebSocket URL).
    #[arg(long, default_value = "http://127.0.0.1:7400")]
    pub url: String,
    #[arg(long, default_value_t = 50)]
    pub players: usize,
    /// The first bot's number: bots are PREFIX{FIRST}, PREFIX{FIRST+1}... (several processes
    /// share a crowd).
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Account and character names are PREFIX0, PREFIX1... (letters and digits).
    #[arg(long, default_value = "bot")]
    pub prefix: String,
    /// The accounts exist (seeded): log in without trying to register.
    #[arg(long)]
    pub registered: bool,
    /// The accounts' password (at least 10 characters).
    #[arg(long, default_value = "bot-password-0123")]
    pub password: String,
    /// Milliseconds between two decisions of a bot (a human acts about once a second).
    #[arg(long, default_value_t = 1_000)]
    pub think_ms: u64,
    /// Put every acknowledged critical action's durable id in the report (`acknowledged`).
    #[arg(long)]
    pub ledger: bool,
    /// Milliseconds between starting two bots.
    #[arg(long, default_value_t = 20)]
    pub spawn_ms: u64,
    /// Zones the bots may walk to, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub zones: Vec<i32>,
    /// How often a bot trades and chats: `lively`, one decision in ten an economy action (trade,
    /// listing, purchase, mail) and one in fifty a chat line, so tests see every command soon;
    /// `calm`, one in ninety and one in 250, a crowd at a human rate.
    #[arg(long, value_enum, default_value_t = PaceArg::Lively)]
    pub pace: PaceArg,
    /// Join and send nothing (idle players).
    #[arg(long, conflicts_with = "echo_bytes")]
    pub idle: bool,
    /// Not the game: send frames of this many bytes to a WebSocket echo at --url and time them.
    #[arg(long)]
    pub echo_bytes: Option<usize>,
    /// See above (for the gateway benchmark).
    #[arg(long, hide = true)]
    pub stats_on_stdin: bool,
}

pub async fn run(args: BotsArgs) -> Result<()> {
    if args.players > BOTS_MAX {
        anyhow::bail!("at most {BOTS_MAX} bots per process");
    }
    if args.zones.is_empty() {
        anyhow::bail!("--zones names no zone");
    }
    let mut config = BotsConfig::new(&args.url, args.players, args.seed, args.seconds);
    config.first = args.first;
    config.prefix = args.prefix;
    config.registered = args.registered;
    config.password = args.password;
    config.think_every = Duration::from_millis(args.think_ms.max(10));
    config.ledger = args.ledger;
    config.spawn_spacing = Duration::from_millis(args.spawn_ms);
    config.zones = args.zones;
    config.pace = args.pace.into();
    config.play = match (args.idle, args.echo_bytes) {
        (_, Some(b)) if b == 0 || b > ECHO_FRAME_BYTES_MAX => {
            anyhow::bail!("--echo-bytes: 1 to {ECHO_FRAME_BYTES_MAX}")
        }
        (_, Some(frame_bytes)) => Play::Echo { frame_bytes },
        (true, None) => Play::Idle,
        (false, None) => Play::Mind,
    };
    let stats = Arc::new(Stats::default());
    // The end of stdin (with --stats-on-stdin) stops the run, as SIGTERM or Ctrl-C does.
    let (stdin_end, stdin_ended) = oneshot::channel::<()>();
    if args.stats_on_stdin {
        let stats = stats.clone();
        tokio::spawn(async move {
            let mut lines = crate::stdin::lines();
            while lines.recv().await.is_some() {
                match serde_json::to_string(&stats.take_window()) {
                    Ok(line) => println!("{line}"),
                    Err(e) => tracing::warn!(error = %e, "window not printed"),
                }
            }
            let _ = stdin_end.send(());
        });
    } else {
        // Never stopped by stdin: the seconds or a signal decide.
        drop(stdin_end);
    }
    let stop = async {
        tokio::select! {
            why = realmkeep_server::shutdown_signal() => eprintln!("{why}: the bots log out"),
            Ok(()) = stdin_ended => {}
        }
    };
    let report = realmkeep_bots::run_with(config, !args.stats_on_stdin, stats, stop).await;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
