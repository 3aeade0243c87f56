//! The command line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "realmkeep",
    version,
    about = "Persistence and zone-server backbone of an MMORPG"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// A TOML file of options (`config/realmkeep.example.toml`): every option of `serve`, and
    /// the database, Redis and backup repository of the other commands. The environment and
    /// the command line override it.
    #[arg(long, global = true, env = "REALMKEEP_CONFIG")]
    pub config: Option<PathBuf>,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// `text` for people, `json` (one object per line, with the current span) for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "REALMKEEP_LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// How log lines are written (on stderr).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The database to work on. No `Debug`: the URL may hold a password (print it through
/// `realmkeep_domain::redact_url`).
#[derive(Args, Clone)]
pub struct DbArgs {
    /// PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
}

/// The Redis to reach the players through. No `Debug`, like [`DbArgs`].
#[derive(Args, Clone)]
pub struct RedisArgs {
    /// Redis URL with the ACL user and its password (redis://USER:PASSWORD@HOST:PORT/).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: String,
}

/// Redis, when a command can do more with it (reach a character in the world).
#[derive(clap::Args, Clone, Debug)]
pub struct MaybeRedis {
    /// Redis URL (redis://USER:PASSWORD@HOST:PORT/): with it, a character in the world is
    /// changed through the zone that holds it; without it, such a change is refused.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply the shipped migrations.
    Migrate(DbArgs),
    /// Load game content (items, skills, quests, monsters, zones) into the definition tables.
    Seed {
        #[command(flatten)]
        db: DbArgs,
        /// A directory laid out like the repository's content/ (default: the bundled content).
        #[arg(long)]
        content: Option<PathBuf>,
    },
    /// Check the shipped migrations for changes that would break the previous release.
    CheckMigrations,
    /// Game log archival.
    #[command(subcommand)]
    Logs(crate::db::LogsCommand),
    /// Inspect and modify player data.
    #[command(subcommand)]
    Admin(crate::admin::AdminCommand),
    /// Benchmarks: JSON on stdout (or --json FILE), a table on stderr.
    Bench(crate::bench::BenchArgs),
    /// The living-world demo: private PostgreSQL and Redis under .realmkeep/, two zones, the
    /// gateway, and a few hundred players as socket bots through it; a live status; Ctrl-C
    /// saves everyone.
    Demo(crate::demo::DemoArgs),
    /// Run zones against a configured PostgreSQL and Redis until SIGTERM or Ctrl-C.
    Serve(crate::serve::ServeArgs),
    /// Players over real sockets against a running gateway: a line each second, a JSON report.
    Bots(crate::bots::BotsArgs),
    /// Backups: WAL archiving and base backups (pgBackRest), daily dumps, Redis snapshots.
    #[command(subcommand)]
    Backup(crate::backup::BackupCommand),
    /// Restore into a new data directory up to a time, a named point or the latest state, bring
    /// the restored PostgreSQL up and check it; or load a dump into a fresh database.
    Restore(crate::backup::RestoreArgs),
    /// The backup schedule of deploy/systemd/ in the foreground (where systemd is absent).
    Maintain(crate::maintain::MaintainArgs),
}

impl Cli {
    pub fn log_filter(&self) -> &'static str {
        if matches!(self.command, Command::Demo(_)) && self.verbose == 0 {
            // The demo prints its own progress and status lines.
            return "warn";
        }
        match self.verbose {
            0 => "warn,realmkeep=info",
            1 => "info",
            _ => "debug",
        }
    }

    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Migrate(db) => crate::db::migrate(&db).await,
            Command::Seed { db, content } => crate::db::seed(&db, content.as_deref()).await,
            Command::CheckMigrations => crate::db::check_migrations(),
            Command::Logs(cmd) => crate::db::logs(cmd).await,
            Command::Admin(cmd) => crate::admin::run(cmd).await,
            Command::Bench(args) => crate::bench::run(args).await,
            Command::Demo(args) => crate::demo::run(args).await,
            Command::Serve(args) => crate::serve::run(args).await,
            Command::Bots(args) => crate::bots::run(args).await,
            Command::Backup(cmd) => crate::backup::run(cmd).await,
            Command::Restore(args) => crate::backup::restore(args).await,
            Command::Maintain(args) => crate::maintain::run(args).await,
        }
    }
}
