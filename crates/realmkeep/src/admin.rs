//! Admin tools: inspect and modify player data in PostgreSQL. Every change goes through the
//! store's transactions and is written to game_logs with the operator and the reason. The
//! operator (`--operator`) is an account of `admin_accounts` (`realmkeep admin account create`
//! makes the first administrator), whose role must allow the action, as in the admin API.
//!
//! A ban on an account also reaches the world through Redis (`admin/world.rs`): the account's sessions
//! are revoked and its characters in a zone are kicked. The ban commits first; if Redis cannot be
//! reached the command says so and exits with an error, the ban stays in force (it refuses logins
//! and claims), and `admin kick` delivers the rest once Redis answers.

mod accounts;
mod world;

pub use accounts::AccountCommand;

use crate::cli::{DbArgs, MaybeRedis, RedisArgs};
use crate::db::connect;
use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use realmkeep_domain::*;
use realmkeep_store::admin::AdminNote;
use realmkeep_store::bans::BanTarget;
use realmkeep_store::Store;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Everything about a character (as a zone would load it) and who holds it.
    Show {
        #[command(flatten)]
        db: DbArgs,
        name: String,
    },
    /// The latest game log rows of a character.
    Logs {
        #[command(flatten)]
        db: DbArgs,
        name: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Add or take gold (negative) from a character (in the world: through its zone, with Redis).
    Gold {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        redis: MaybeRedis,
        name: String,
        #[arg(allow_hyphen_values = true)]
        delta: i64,
        #[command(flatten)]
        note: Note,
    },
    /// Create an item in a character's bag (in the world: through its zone, with Redis).
    GrantItem {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        redis: MaybeRedis,
        name: String,
        def: i32,
        #[arg(default_value_t = 1)]
        quantity: i32,
        #[command(flatten)]
        note: Note,
    },
    /// Destroy an item in a character's bag (in the world: through its zone, with Redis).
    RemoveItem {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        redis: MaybeRedis,
        name: String,
        item: i64,
        #[command(flatten)]
        note: Note,
    },
    /// Move a character that is not in the world.
    Teleport {
        #[command(flatten)]
        db: DbArgs,
        name: String,
        zone: i32,
        x: f32,
        y: f32,
        #[command(flatten)]
        note: Note,
    },
    /// Ban an account (by name) or an IP address. An account's sessions are revoked and its
    /// characters in the world kicked through Redis; exits with an error (the ban still in force)
    /// if Redis cannot be reached.
    Ban {
        #[command(flatten)]
        db: DbArgs,
        /// Redis URL with the ACL user and its password (redis://USER:PASSWORD@HOST:PORT/), for
        /// the sessions and kicks of an account ban (not needed for --ip).
        #[arg(
            long,
            env = "REDIS_URL",
            hide_env_values = true,
            required_unless_present = "ip"
        )]
        redis_url: Option<String>,
        #[arg(long, conflicts_with = "ip", required_unless_present = "ip")]
        account: Option<String>,
        #[arg(long)]
        ip: Option<std::net::IpAddr>,
        /// Hours until it ends; permanent without.
        #[arg(long)]
        hours: Option<i64>,
        #[command(flatten)]
        note: Note,
    },
    /// Revoke every session of an account and kick its characters in the world (what `ban` does
    /// through Redis; run it when `ban` said Redis could not be reached).
    Kick {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        redis: RedisArgs,
        #[arg(long)]
        account: String,
        /// Who does it, and why (what the kicked players are told).
        #[command(flatten)]
        note: Note,
    },
    /// Tell every connected player something, on every node (`server_events`); with
    /// `--maintenance-in-minutes`, a maintenance countdown that clients show. The operator is
    /// logged with the text as its reason.
    Announce {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        redis: RedisArgs,
        /// Who does it: an admin account's name.
        #[arg(long, env = "REALMKEEP_OPERATOR")]
        operator: String,
        #[arg(long)]
        text: String,
        #[arg(long)]
        maintenance_in_minutes: Option<u64>,
    },
    /// Operators' accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Revoke the bans in force on an account or IP address.
    Unban {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, conflicts_with = "ip", required_unless_present = "ip")]
        account: Option<String>,
        #[arg(long)]
        ip: Option<std::net::IpAddr>,
        #[command(flatten)]
        note: Note,
    },
    /// Every ban of an account or IP address.
    Bans {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, conflicts_with = "ip", required_unless_present = "ip")]
        account: Option<String>,
        #[arg(long)]
        ip: Option<std::net::IpAddr>,
    },
}

#[derive(clap::Args)]
pub struct Note {
    /// Who does it: the name of an admin account (`realmkeep admin account create`) whose role
    /// allows the action.
    #[arg(long, env = "REALMKEEP_OPERATOR")]
    pub operator: String,
    /// Why (mandatory; written to game_logs).
    #[arg(long)]
    pub reason: String,
}

impl Note {
    /// The operator read from `admin_accounts` (it must exist and be enabled) with the reason.
    async fn admin(&self, store: &Store) -> Result<AdminNote> {
        let op = store
            .operator_by_name(&self.operator)
            .await
            .with_context(|| format!("operator {:?}", self.operator))?;
        Ok(AdminNote::new(op, &self.reason)?)
    }
}

async fn character(store: &Store, name: &str) -> Result<CharacterId> {
    store
        .character_id_by_name(name)
        .await?
        .ok_or_else(|| anyhow!("no character named {name:?}"))
}

async fn account_id(store: &Store, name: &str) -> Result<AccountId> {
    store
        .account_id_by_name(name)
        .await?
        .ok_or_else(|| anyhow!("no account named {name:?}"))
}

async fn target(
    store: &Store,
    account: Option<String>,
    ip: Option<std::net::IpAddr>,
) -> Result<BanTarget> {
    match (account, ip) {
        (Some(a), _) => Ok(BanTarget::Account(account_id(store, &a).await?)),
        (None, Some(ip)) => Ok(BanTarget::Ip(ip)),
        (None, None) => Err(anyhow!("name an --account or an --ip")),
    }
}

fn print_kicked(k: realmkeep_server::admin::Kicked) {
    println!(
        "every session of the account revoked; {} character(s) in the world kicked \
         ({} live deliveries; each kick also waits in its character's inbox)",
        k.characters, k.live
    );
}

fn print<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub async fn run(cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::Show { db, name } => {
            let s = connect(&db).await?;
            let c = character(&s, &name).await?;
            print(
                &serde_json::json!({ "character": s.load_character(c).await?, "claim": s.claim_info(c).await? }),
            )
        }
        AdminCommand::Logs { db, name, limit } => {
            let s = connect(&db).await?;
            let c = character(&s, &name).await?;
            print(&s.logs_of_character(c.0, limit).await?)
        }
        AdminCommand::Gold {
            db,
            redis,
            name,
            delta,
            note,
        } => {
            let s = connect(&db).await?;
            let c = character(&s, &name).await?;
            let note = note.admin(&s).await?;
            let r = world::change(&s, &redis, c, AdminChange::Gold { delta }, &note).await?;
            println!("{name} now has {} gold", r.gold);
            Ok(())
        }
        AdminCommand::GrantItem {
            db,
            redis,
            name,
            def,
            quantity,
            note,
        } => {
            let s = connect(&db).await?;
            let c = character(&s, &name).await?;
            let change = AdminChange::Grant {
                def: ItemDefId(def),
                quantity: Quantity::new(quantity)?,
            };
            let note = note.admin(&s).await?;
            let r = world::change(&s, &redis, c, change, &note).await?;
            let id = r.item.map(|i| i.0).unwrap_or_default();
            println!("created item {id} in {name}'s bag");
            Ok(())
        }
        AdminCommand::RemoveItem {
            db,
            redis,
            name,
            item,
            note,
        } => {
            let s = connect(&db).await?;
            let c = character(&s, &name).await?;
            let change = AdminChange::Remove { item: ItemId(item) };
            let note = note.admin(&s).await?;
            world::change(&s, &redis, c, change, &note).await?;
            println!("destroyed item {item}");
            Ok(())
        }
        AdminCommand::Teleport {
            db,
            name,
            zone,
            x,
            y,
            note,
        } => {
            let s = connect(&db).await?;
            let c = character(&s, &name).await?;
            let p = Position {
                zone: ZoneId(zone),
                x,
                y,
                z: 0.0,
                rotation: 0.0,
            };
            s.admin_teleport(c, p, &note.admin(&s).await?).await?;
            println!("{name} moved to zone {zone} at ({x}, {y})");
            Ok(())
        }
        AdminCommand::Ban {
            db,
            redis_url,
            account,
            ip,
            hours,
            note,
        } => {
            let s = connect(&db).await?;
            let admin = note.admin(&s).await?;
            let t = target(&s, account, ip).await?;
            let expires = hours.map(|h| chrono::Utc::now() + chrono::Duration::hours(h));
            let id = s.admin_ban(t, &admin, expires).await?;
            println!("ban {id} issued");
            let (BanTarget::Account(account), Some(redis_url)) = (t, redis_url) else {
                return Ok(());
            };
            let redis = RedisArgs { redis_url };
            let reason = format!("banned: {}", admin.reason());
            match world::kick_account(&s, &redis, account, &reason).await {
                Ok(k) => {
                    print_kicked(k);
                    Ok(())
                }
                Err(e) => Err(e.context(format!(
                    "ban {id} is in force in PostgreSQL (it refuses logins and zone entry), but \
                     the account's sessions were not revoked nor its characters in the world \
                     kicked; run `realmkeep admin kick` for the account once Redis answers"
                ))),
            }
        }
        AdminCommand::Kick {
            db,
            redis,
            account,
            note,
        } => {
            let s = connect(&db).await?;
            let admin = note.admin(&s).await?;
            let id = account_id(&s, &account).await?;
            let extra = serde_json::json!({ "account_id": id });
            s.admin_record(&admin, AdminPower::Kick, "admin_kick", None, extra)
                .await?;
            print_kicked(world::kick_account(&s, &redis, id, admin.reason()).await?);
            Ok(())
        }
        AdminCommand::Announce {
            db,
            redis,
            operator,
            text,
            maintenance_in_minutes,
        } => {
            let s = connect(&db).await?;
            let admin = Note {
                operator,
                reason: text.clone(),
            }
            .admin(&s)
            .await?;
            let a = realmkeep_server::admin::Announcement {
                text,
                maintenance_in_minutes,
            };
            let extra = serde_json::json!({ "maintenance_in_minutes": maintenance_in_minutes });
            s.admin_record(&admin, AdminPower::Broadcast, "admin_announce", None, extra)
                .await?;
            let nodes = world::announce(&redis, &a).await?;
            println!("announced to {nodes} node(s) listening");
            Ok(())
        }
        AdminCommand::Account(cmd) => accounts::run(cmd).await,
        AdminCommand::Unban {
            db,
            account,
            ip,
            note,
        } => {
            let s = connect(&db).await?;
            let admin = note.admin(&s).await?;
            let t = target(&s, account, ip).await?;
            let n = s.admin_unban(t, &admin).await?;
            println!("{n} ban(s) revoked");
            Ok(())
        }
        AdminCommand::Bans { db, account, ip } => {
            let s = connect(&db).await?;
            let t = target(&s, account, ip).await?;
            print(&s.ban_history(t).await?)
        }
    }
}
