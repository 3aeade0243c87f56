//! Database commands: migrate, seed, check migrations, game log archival.

use crate::cli::DbArgs;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use realmkeep_store::{Store, StoreOptions};
use std::path::{Path, PathBuf};

pub async fn connect(db: &DbArgs) -> Result<Store> {
    Store::connect(&db.database_url, &StoreOptions::default())
        .await
        .context("connecting to PostgreSQL")
}

pub async fn migrate(db: &DbArgs) -> Result<()> {
    let store = connect(db).await?;
    store.migrate().await.context("applying migrations")?;
    store.ensure_log_partitions(1, 3).await?;
    println!("migrations applied");
    Ok(())
}

pub async fn seed(db: &DbArgs, dir: Option<&Path>) -> Result<()> {
    let content = match dir {
        Some(d) => realmkeep_store::seed::read_content_dir(d)?,
        None => realmkeep_store::seed::bundled_content()?,
    };
    let store = connect(db).await?;
    store
        .seed_content(&content)
        .await
        .context("seeding content")?;
    println!(
        "seeded {} items, {} skills, {} quests, {} monsters, {} zones",
        content.items.len(),
        content.skills.len(),
        content.quests.len(),
        content.monsters.len(),
        content.zones.len()
    );
    Ok(())
}

pub fn check_migrations() -> Result<()> {
    let violations = realmkeep_store::migration_lint::check_shipped();
    if violations.is_empty() {
        println!("migrations are backward-compatible (expand only, or marked contract steps)");
        return Ok(());
    }
    for v in &violations {
        eprintln!("{v}");
    }
    bail!("{} migration rule(s) broken", violations.len())
}

#[derive(Subcommand)]
pub enum LogsCommand {
    /// Export month partitions older than N months to zstd files with a manifest, then drop them.
    Archive {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value_t = 3)]
        older_than_months: u32,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the rows of an archive file as JSON lines.
    Read { file: PathBuf },
    /// Check archive files against their manifest.
    Verify { dir: PathBuf },
}

pub async fn logs(cmd: LogsCommand) -> Result<()> {
    match cmd {
        LogsCommand::Archive {
            db,
            older_than_months,
            out,
        } => {
            let store = connect(&db).await?;
            let done = store.archive_logs(older_than_months, &out).await?;
            for p in &done {
                println!("{}", serde_json::to_string(p)?);
            }
            eprintln!(
                "archived {} partition(s) into {}",
                done.len(),
                out.display()
            );
        }
        LogsCommand::Read { file } => {
            for row in realmkeep_store::archive::read_archive(&file)? {
                println!("{}", serde_json::to_string(&row)?);
            }
        }
        LogsCommand::Verify { dir } => {
            let reports = realmkeep_store::archive::verify_archive(&dir)?;
            for r in &reports {
                println!("{r:?}");
            }
        }
    }
    Ok(())
}
