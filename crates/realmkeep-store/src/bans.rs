//! Bans of accounts and addresses: issue, revoke, check, history. A ban is never deleted; a
//! revocation is written onto it, so the history stays whole.

use crate::admin::AdminNote;
use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::Store;
use chrono::{DateTime, Utc};
use realmkeep_domain::{AccountId, AdminPower, BanId};
use serde::Serialize;
use sqlx::{AssertSqlSafe, PgConnection};
use std::net::IpAddr;

/// Longest reason text.
pub const BAN_REASON_CHARS_MAX: usize = 500;

/// What a ban applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BanTarget {
    Account(AccountId),
    Ip(IpAddr),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Ban {
    pub id: i64,
    pub account_id: Option<i64>,
    pub ip: Option<String>,
    pub reason: String,
    pub issued_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

const BAN_COLUMNS: &str = "id, account_id, host(ip) AS ip, reason, issued_by, created_at, expires_at, revoked_at, revoked_by, revoke_reason";

pub(crate) async fn active_ban(
    conn: &mut PgConnection,
    account: Option<AccountId>,
    ip: Option<IpAddr>,
) -> StoreResult<Option<Ban>> {
    if account.is_none() && ip.is_none() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {BAN_COLUMNS} FROM bans
         WHERE (account_id = $1 OR ip = $2::inet)
           AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
         ORDER BY expires_at DESC NULLS FIRST LIMIT 1"
    );
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(account.map(|a| a.0))
        .bind(ip.map(|i| i.to_string()))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("active ban"))
}

fn check_text(what: &str, s: &str) -> StoreResult<()> {
    if s.trim().is_empty() || s.chars().count() > BAN_REASON_CHARS_MAX {
        refuse!(Refusal::Invalid(format!(
            "{what} must be 1 to {BAN_REASON_CHARS_MAX} characters"
        )));
    }
    Ok(())
}

/// The operator's part of a ban's log row (name, id, role, reason), if an operator issued it.
fn with_operator(mut details: serde_json::Value, note: Option<&AdminNote>) -> serde_json::Value {
    if let Some(n) = note {
        details["operator"] = n.json();
    }
    details
}

impl Store {
    /// Issues a ban as an operator (who needs the `Ban` power); the log row names it.
    pub async fn admin_ban(
        &self,
        target: BanTarget,
        note: &AdminNote,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<BanId> {
        note.operator().require(AdminPower::Ban)?;
        self.ban_as(
            target,
            note.reason(),
            note.operator().name(),
            expires_at,
            Some(note),
        )
        .await
    }

    /// Revokes the bans in force on the target as an operator (`Ban` power).
    pub async fn admin_unban(&self, target: BanTarget, note: &AdminNote) -> StoreResult<u64> {
        note.operator().require(AdminPower::Ban)?;
        self.unban_as(target, note.operator().name(), note.reason(), Some(note))
            .await
    }

    /// Issues a ban; `expires_at` of `None` is permanent.
    pub async fn ban(
        &self,
        target: BanTarget,
        reason: &str,
        issued_by: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<BanId> {
        self.ban_as(target, reason, issued_by, expires_at, None)
            .await
    }

    async fn ban_as(
        &self,
        target: BanTarget,
        reason: &str,
        issued_by: &str,
        expires_at: Option<DateTime<Utc>>,
        note: Option<&AdminNote>,
    ) -> StoreResult<BanId> {
        check_text("reason", reason)?;
        check_text("issuer", issued_by)?;
        if expires_at.is_some_and(|e| e <= Utc::now()) {
            refuse!(Refusal::Invalid("a ban must expire in the future".into()));
        }
        let (account, ip) = match target {
            BanTarget::Account(a) => (Some(a.0), None),
            BanTarget::Ip(i) => (None, Some(i.to_string())),
        };
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        if let Some(a) = account {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)")
                    .bind(a)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db("ban account lookup"))?;
            if !exists {
                refuse!(Refusal::NotFound("account"));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bans (account_id, ip, reason, issued_by, expires_at) VALUES ($1, $2::inet, $3, $4, $5) RETURNING id",
        )
        .bind(account)
        .bind(ip.clone())
        .bind(reason.trim())
        .bind(issued_by.trim())
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("insert ban"))?;
        write_in_tx(
            &mut tx,
            &[LogEvent::new("ban").details(with_operator(
                serde_json::json!({
                    "ban_id": id, "account_id": account, "ip": ip, "reason": reason,
                    "issued_by": issued_by, "expires_at": expires_at,
                }),
                note,
            ))],
        )
        .await?;
        tx.commit().await.map_err(db("commit ban"))?;
        held.settle(true);
        Ok(BanId(id))
    }

    /// Revokes every ban in force on the target. Returns how many were revoked.
    pub async fn unban(
        &self,
        target: BanTarget,
        revoked_by: &str,
        reason: &str,
    ) -> StoreResult<u64> {
        self.unban_as(target, revoked_by, reason, None).await
    }

    async fn unban_as(
        &self,
        target: BanTarget,
        revoked_by: &str,
        reason: &str,
        note: Option<&AdminNote>,
    ) -> StoreResult<u64> {
        check_text("reason", reason)?;
        check_text("revoker", revoked_by)?;
        let (account, ip) = match target {
            BanTarget::Account(a) => (Some(a.0), None),
            BanTarget::Ip(i) => (None, Some(i.to_string())),
        };
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        let n = sqlx::query(
            "UPDATE bans SET revoked_at = now(), revoked_by = $3, revoke_reason = $4
             WHERE (account_id = $1 OR ip = $2::inet) AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > now())",
        )
        .bind(account)
        .bind(ip.clone())
        .bind(revoked_by.trim())
        .bind(reason.trim())
        .execute(&mut *tx)
        .await
        .map_err(db("revoke bans"))?
        .rows_affected();
        if n == 0 {
            refuse!(Refusal::NotFound("ban in force"));
        }
        write_in_tx(
            &mut tx,
            &[LogEvent::new("unban").details(with_operator(
                serde_json::json!({
                    "account_id": account, "ip": ip, "revoked_by": revoked_by, "reason": reason,
                    "count": n,
                }),
                note,
            ))],
        )
        .await?;
        tx.commit().await.map_err(db("commit unban"))?;
        held.settle(true);
        Ok(n)
    }

    /// Every ban ever issued on the target, newest first.
    pub async fn ban_history(&self, target: BanTarget) -> StoreResult<Vec<Ban>> {
        let (account, ip) = match target {
            BanTarget::Account(a) => (Some(a.0), None),
            BanTarget::Ip(i) => (None, Some(i.to_string())),
        };
        let sql = format!("SELECT {BAN_COLUMNS} FROM bans WHERE account_id = $1 OR ip = $2::inet ORDER BY created_at DESC, id DESC");
        on_conn!(self.conns(), |conn| sqlx::query_as(AssertSqlSafe(sql))
            .bind(account)
            .bind(ip)
            .fetch_all(conn))
        .map_err(db("ban history"))
    }
}
