//! `realmkeep admin account create|list|disable`: operators' accounts. `create` without
//! `--operator` is how the first administrator is made: whoever holds the database's credentials
//! may. The password comes from `REALMKEEP_ADMIN_PASSWORD` or the first line of stdin, never from
//! the command line (where `ps` and shell histories would show it).

use crate::cli::DbArgs;
use crate::db::connect;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use realmkeep_domain::{AdminRole, Password};
use realmkeep_store::admin::AdminNote;
use std::io::{BufRead, Read};

/// The environment variable a new operator's password may come from.
const PASSWORD_ENV: &str = "REALMKEEP_ADMIN_PASSWORD";
/// Bytes read from stdin for a password at the most (a password is far shorter; this bounds a
/// wrong pipe).
const PASSWORD_LINE_BYTES_MAX: u64 = 4 * 1024;

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an operator's account. The password: `REALMKEEP_ADMIN_PASSWORD`, or the first line
    /// of stdin.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        /// moderator, game_master or administrator.
        #[arg(long)]
        role: AdminRole,
        /// The administrator who creates it (none: the command line, for the first one).
        #[arg(long, env = "REALMKEEP_OPERATOR")]
        operator: Option<String>,
        #[arg(long, default_value = "created from the command line")]
        reason: String,
    },
    /// Every operator's account, as JSON.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an operator's account: no more logins nor actions.
    Disable {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        note: super::Note,
    },
}

fn password() -> Result<Password> {
    let raw = match std::env::var(PASSWORD_ENV) {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .take(PASSWORD_LINE_BYTES_MAX)
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if raw.is_empty() {
        bail!("no password: set {PASSWORD_ENV} or write it on stdin");
    }
    Ok(Password::parse(&raw)?)
}

pub async fn run(cmd: AccountCommand) -> Result<()> {
    match cmd {
        AccountCommand::Create {
            db,
            name,
            role,
            operator,
            reason,
        } => {
            let password = password()?;
            let s = connect(&db).await?;
            let by = match operator {
                Some(o) => {
                    let op = s
                        .operator_by_name(&o)
                        .await
                        .with_context(|| format!("operator {o:?}"))?;
                    Some(AdminNote::new(op, &reason)?)
                }
                None => None,
            };
            let id = s
                .create_admin_account(&name, role, &password, by.as_ref(), &reason)
                .await?;
            println!("admin account {id} {name:?} created ({role})");
            Ok(())
        }
        AccountCommand::List { db } => {
            let s = connect(&db).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&s.admin_accounts().await?)?
            );
            Ok(())
        }
        AccountCommand::Disable { db, name, note } => {
            let s = connect(&db).await?;
            let admin = note.admin(&s).await?;
            let target = s
                .admin_accounts()
                .await?
                .into_iter()
                .find(|a| a.name.eq_ignore_ascii_case(name.trim()))
                .with_context(|| format!("no admin account named {name:?}"))?;
            s.disable_admin_account(target.id, &admin).await?;
            println!("admin account {name:?} disabled");
            Ok(())
        }
    }
}
