//! Operators' accounts (`admin_accounts`): created with an Argon2id hash like players' (the
//! store's `PasswordHashing`, the same bound on hashes in flight), logged in by name and
//! password, never deleted (disabled instead, so every log row naming one still names someone).
//!
//! An [`Operator`] is an account read back from the database, not disabled; only this module
//! makes one, so an operator's role cannot be forged by a caller. Every admin action takes one
//! (inside an `AdminNote`) and checks its role (`AdminRole::allows`).

use crate::admin::AdminNote;
use crate::conns::on_conn;
use crate::error::{db, refuse, unique_violation, Refusal, StoreError, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::Store;
use chrono::{DateTime, Utc};
use realmkeep_domain::{AdminId, AdminPower, AdminRole, Password};
use serde::Serialize;

/// Shortest and longest operator name (the table's CHECK says the same).
pub const ADMIN_NAME_CHARS_MIN: usize = 3;
pub const ADMIN_NAME_CHARS_MAX: usize = 32;
/// Operators' accounts listed at once.
pub const ADMIN_ACCOUNTS_LIST_MAX: i64 = 1_000;

/// An operator, as the database knows it now: enabled, with this role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    id: AdminId,
    name: String,
    role: AdminRole,
}

impl Operator {
    pub fn id(&self) -> AdminId {
        self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn role(&self) -> AdminRole {
        self.role
    }

    /// Refuses (`NotAllowed`, naming the role needed) when the operator's role lacks `power`.
    pub fn require(&self, power: AdminPower) -> StoreResult<()> {
        if self.role.allows(power) {
            return Ok(());
        }
        refuse!(Refusal::NotAllowed(match power.role() {
            AdminRole::Moderator => "this needs the moderator role",
            AdminRole::GameMaster => "this needs the game_master role",
            AdminRole::Administrator => "this needs the administrator role",
        }))
    }
}

/// A row of `admin_accounts` (no hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminAccount {
    pub id: AdminId,
    pub name: String,
    pub role: AdminRole,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<AdminId>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

type AccountRow = (
    i64,
    String,
    String,
    DateTime<Utc>,
    Option<i64>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn account(r: AccountRow) -> StoreResult<AdminAccount> {
    Ok(AdminAccount {
        id: AdminId(r.0),
        name: r.1,
        role: role(&r.2)?,
        created_at: r.3,
        created_by: r.4.map(AdminId),
        disabled_at: r.5,
        last_login_at: r.6,
    })
}

fn role(s: &str) -> StoreResult<AdminRole> {
    s.parse()
        .map_err(|e| StoreError::Io(format!("admin_accounts.role: {e}")))
}

/// An operator name: 3 to 32 ASCII letters, digits, '-', '_' or '.'.
pub fn check_admin_name(name: &str) -> StoreResult<&str> {
    let n = name.trim();
    let ok = (ADMIN_NAME_CHARS_MIN..=ADMIN_NAME_CHARS_MAX).contains(&n.chars().count())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        refuse!(Refusal::Invalid(format!(
            "an operator name is {ADMIN_NAME_CHARS_MIN} to {ADMIN_NAME_CHARS_MAX} ASCII letters, \
             digits, '-', '_' or '.'"
        )));
    }
    Ok(n)
}

const ACCOUNT_COLUMNS: &str = "id, name, role, created_at, created_by, disabled_at, last_login_at";

impl Store {
    /// Creates an operator's account. `by` is the administrator who does it (its role is
    /// checked); `None` is the command line run with the database's credentials (the first
    /// administrator), logged as such with `reason`.
    pub async fn create_admin_account(
        &self,
        name: &str,
        role: AdminRole,
        password: &Password,
        by: Option<&AdminNote>,
        reason: &str,
    ) -> StoreResult<AdminId> {
        let name = check_admin_name(name)?;
        if let Some(note) = by {
            note.operator().require(AdminPower::AdminAccounts)?;
        }
        crate::admin::check_text("reason", reason)?;
        let hash = self.hash_password(password).await?;
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        let r = sqlx::query_scalar(
            "INSERT INTO admin_accounts (name, role, password_hash, created_by)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(&hash)
        .bind(by.map(|n| n.operator().id().0))
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match r {
            Ok(id) => id,
            Err(e) if unique_violation(&e).is_some() => refuse!(Refusal::NameTaken),
            Err(e) => return Err(db("create admin account")(e)),
        };
        let mut details = match by {
            Some(note) => note.json(),
            None => {
                serde_json::json!({ "operator": null, "via": "command line", "reason": reason.trim() })
            }
        };
        details["admin_account"] = serde_json::json!({ "id": id, "name": name, "role": role });
        write_in_tx(
            &mut tx,
            &[LogEvent::new("admin_account_created").details(details)],
        )
        .await?;
        tx.commit().await.map_err(db("commit admin account"))?;
        held.settle(true);
        Ok(AdminId(id))
    }

    /// Checks an operator's name and password: the operator, or `BadCredentials` (the same for
    /// an unknown name, a wrong password and a disabled account, after the same hashing work).
    pub async fn admin_login(&self, name: &str, password: &Password) -> StoreResult<Operator> {
        let row: Option<(i64, String, String, String, bool)> =
            on_conn!(self.conns(), |conn| sqlx::query_as(
                "SELECT id, name, role, password_hash, disabled_at IS NOT NULL
             FROM admin_accounts WHERE lower(name) = lower($1)",
            )
            .bind(name.trim())
            .fetch_optional(conn))
            .map_err(db("admin login lookup"))?;
        let Some((id, name, r, hash, disabled)) = row else {
            // The same effort as a real check, so timing does not tell which names exist.
            let _ = self.hash_password(password).await;
            refuse!(Refusal::BadCredentials);
        };
        if !self.verify_password(hash, password).await? || disabled {
            refuse!(Refusal::BadCredentials);
        }
        on_conn!(self.conns(), |conn| sqlx::query(
            "UPDATE admin_accounts SET last_login_at = now() WHERE id = $1"
        )
        .bind(id)
        .execute(conn))
        .map_err(db("admin login update"))?;
        Ok(Operator {
            id: AdminId(id),
            name,
            role: role(&r)?,
        })
    }

    /// The operator with this id, unless it is unknown or disabled.
    pub async fn operator(&self, id: AdminId) -> StoreResult<Option<Operator>> {
        let row: Option<(i64, String, String)> = on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT id, name, role FROM admin_accounts WHERE id = $1 AND disabled_at IS NULL",
        )
        .bind(id.0)
        .fetch_optional(conn))
        .map_err(db("operator"))?;
        row.map(|(id, name, r)| {
            Ok(Operator {
                id: AdminId(id),
                name,
                role: role(&r)?,
            })
        })
        .transpose()
    }

    /// The operator named `name` (any case): `NotFound` if there is none, `NotAllowed` if it is
    /// disabled. The command line acts as it.
    pub async fn operator_by_name(&self, name: &str) -> StoreResult<Operator> {
        let row: Option<(i64, String, String, bool)> =
            on_conn!(self.conns(), |conn| sqlx::query_as(
                "SELECT id, name, role, disabled_at IS NOT NULL FROM admin_accounts
             WHERE lower(name) = lower($1)",
            )
            .bind(name.trim())
            .fetch_optional(conn))
            .map_err(db("operator by name"))?;
        match row {
            None => refuse!(Refusal::NotFound("admin account")),
            Some((.., true)) => refuse!(Refusal::NotAllowed("that admin account is disabled")),
            Some((id, name, r, false)) => Ok(Operator {
                id: AdminId(id),
                name,
                role: role(&r)?,
            }),
        }
    }

    /// Every operator's account, oldest first (at most `ADMIN_ACCOUNTS_LIST_MAX`).
    pub async fn admin_accounts(&self) -> StoreResult<Vec<AdminAccount>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM admin_accounts ORDER BY id LIMIT $1");
        let rows: Vec<AccountRow> = on_conn!(self.conns(), |conn| sqlx::query_as(
            sqlx::AssertSqlSafe(sql)
        )
        .bind(ADMIN_ACCOUNTS_LIST_MAX)
        .fetch_all(conn))
        .map_err(db("admin accounts"))?;
        rows.into_iter().map(account).collect()
    }

    /// Disables an operator's account (it can no longer log in nor act; its sessions fail at
    /// their next request). An administrator may not disable itself: the last one would lock
    /// everyone out.
    pub async fn disable_admin_account(&self, id: AdminId, note: &AdminNote) -> StoreResult<()> {
        note.operator().require(AdminPower::AdminAccounts)?;
        if note.operator().id() == id {
            refuse!(Refusal::NotAllowed(
                "an operator cannot disable its own account"
            ));
        }
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        let name: Option<String> = sqlx::query_scalar(
            "UPDATE admin_accounts SET disabled_at = now()
             WHERE id = $1 AND disabled_at IS NULL RETURNING name",
        )
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("disable admin account"))?;
        let Some(name) = name else {
            refuse!(Refusal::NotFound("enabled admin account"));
        };
        let mut details = note.json();
        details["admin_account"] = serde_json::json!({ "id": id, "name": name });
        write_in_tx(
            &mut tx,
            &[LogEvent::new("admin_account_disabled").details(details)],
        )
        .await?;
        tx.commit().await.map_err(db("commit disable"))?;
        held.settle(true);
        Ok(())
    }
}
