//! The mail expiry job: mail past `expires_at` that still carries gold or items goes back to its
//! sender as a new 'returned' mail (the same item instances move over, the gold with them); mail
//! that carries nothing, was already returned, or has no sender (system mail, a deleted sender) is
//! deleted, and whatever it still carried is destroyed with a `mail_expired_destroyed` log row.
//!
//! Several nodes may run it at once: mail rows are taken `FOR UPDATE SKIP LOCKED`. A return
//! inserts a mail that references both characters, so their rows are taken `FOR KEY SHARE SKIP
//! LOCKED` in the same statement: a character an economy action holds `FOR UPDATE` is skipped
//! until a later run, and the job never waits on a lock, so it cannot deadlock.

use super::{insert_mail, MailKind, NewMail};
use crate::common::delete_item;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::tx::in_tx;
use crate::Store;
use chrono::{DateTime, Utc};
use realmkeep_domain::limits::MAIL_SUBJECT_CHARS_MAX;
use realmkeep_domain::{CharacterId, ItemId, MailId};
use sqlx::PgConnection;
use std::time::SystemTime;

/// Expired mails handled in one transaction of the expiry job.
pub const MAIL_RETURN_BATCH_ROWS_MAX: i64 = 100;

const RETURNED_PREFIX: &str = "Returned: ";

#[derive(sqlx::FromRow)]
struct ExpiredMail {
    id: i64,
    sender_character_id: Option<i64>,
    recipient_character_id: i64,
    subject: String,
    body: String,
    gold: i64,
}

#[derive(sqlx::FromRow)]
struct AttachedItem {
    item_id: i64,
    def_id: i32,
    quantity: i32,
}

async fn attached(tx: &mut PgConnection, mail: i64) -> StoreResult<Vec<AttachedItem>> {
    sqlx::query_as(
        "SELECT a.item_id, i.def_id, i.quantity FROM mail_attachments a
         JOIN item_instances i ON i.id = a.item_id WHERE a.mail_id = $1 ORDER BY a.position",
    )
    .bind(mail)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("expired mail attachments"))
}

/// The subject of a returned mail: the original's, prefixed, cut to the subject limit.
fn returned_subject(subject: &str) -> String {
    let room = MAIL_SUBJECT_CHARS_MAX - RETURNED_PREFIX.chars().count();
    format!(
        "{RETURNED_PREFIX}{}",
        subject.chars().take(room).collect::<String>()
    )
}

async fn delete_mail_row(tx: &mut PgConnection, mail: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM mail WHERE id = $1")
        .bind(mail)
        .execute(&mut *tx)
        .await
        .map_err(db("delete expired mail"))?;
    Ok(())
}

/// Sends an expired mail's gold and items back to its sender; returns the new mail.
async fn return_one(
    tx: &mut PgConnection,
    m: &ExpiredMail,
    sender: CharacterId,
    logs: &mut Vec<LogEvent>,
) -> StoreResult<MailId> {
    let items = attached(tx, m.id).await?;
    let subject = returned_subject(&m.subject);
    let back = insert_mail(
        tx,
        &NewMail {
            sender: Some(CharacterId(m.recipient_character_id)),
            recipient: sender,
            kind: MailKind::Returned,
            subject: &subject,
            body: &m.body,
            gold: m.gold,
        },
    )
    .await?;
    // The same instances, at the same positions: they stay in the mail place throughout.
    sqlx::query("UPDATE mail_attachments SET mail_id = $2 WHERE mail_id = $1")
        .bind(m.id)
        .bind(back.0)
        .execute(&mut *tx)
        .await
        .map_err(db("move attachments"))?;
    delete_mail_row(tx, m.id).await?;
    for it in &items {
        logs.push(
            LogEvent::new("mail_return_item")
                .actor(m.recipient_character_id)
                .target(sender.0)
                .item(it.item_id, it.def_id, it.quantity)
                .details(serde_json::json!({ "mail_id": m.id, "returned_mail_id": back.0 })),
        );
    }
    logs.push(
        LogEvent::new("mail_return")
            .actor(m.recipient_character_id)
            .target(sender.0)
            .gold(m.gold)
            .details(serde_json::json!({
                "mail_id": m.id, "returned_mail_id": back.0,
                "items": items.iter().map(|i| i.item_id).collect::<Vec<_>>(),
            })),
    );
    Ok(back)
}

/// Deletes an expired mail, destroying what it still carries.
async fn destroy_one(
    tx: &mut PgConnection,
    m: &ExpiredMail,
    logs: &mut Vec<LogEvent>,
) -> StoreResult<()> {
    let items = attached(tx, m.id).await?;
    sqlx::query("DELETE FROM mail_attachments WHERE mail_id = $1")
        .bind(m.id)
        .execute(&mut *tx)
        .await
        .map_err(db("delete expired attachments"))?;
    for it in &items {
        delete_item(tx, ItemId(it.item_id)).await?;
        logs.push(
            LogEvent::new("mail_expired_destroyed")
                .target(m.recipient_character_id)
                .item(it.item_id, it.def_id, it.quantity)
                .details(serde_json::json!({ "mail_id": m.id })),
        );
    }
    if m.gold > 0 {
        logs.push(
            LogEvent::new("mail_expired_destroyed")
                .target(m.recipient_character_id)
                .gold(m.gold)
                .details(serde_json::json!({ "mail_id": m.id })),
        );
    }
    delete_mail_row(tx, m.id).await
}

/// One batch: returns, then deletes, at most `batch_rows` expired mails in all.
async fn return_batch_in(
    tx: &mut PgConnection,
    now: Option<DateTime<Utc>>,
    batch_rows: i64,
) -> StoreResult<u64> {
    // Returnable: a player's mail that still carries something and whose sender exists.
    let returns: Vec<ExpiredMail> = sqlx::query_as(
        "SELECT m.id, m.sender_character_id, m.recipient_character_id, m.subject, m.body, m.gold
         FROM mail m
         JOIN characters s ON s.id = m.sender_character_id
         JOIN characters r ON r.id = m.recipient_character_id
         WHERE m.expires_at <= coalesce($2, now()) AND m.kind <> 'returned' AND m.claimed_at IS NULL
           AND (m.gold > 0 OR EXISTS (SELECT 1 FROM mail_attachments a WHERE a.mail_id = m.id))
         ORDER BY m.expires_at, m.id
         LIMIT $1
         FOR UPDATE OF m SKIP LOCKED
         FOR KEY SHARE OF s, r SKIP LOCKED",
    )
    .bind(batch_rows)
    .bind(now)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("lock mail to return"))?;
    // Everything else that expired: exactly the complement of the condition above.
    let deletes: Vec<ExpiredMail> = sqlx::query_as(
        "SELECT m.id, m.sender_character_id, m.recipient_character_id, m.subject, m.body, m.gold
         FROM mail m
         WHERE m.expires_at <= coalesce($2, now())
           AND (m.kind = 'returned' OR m.claimed_at IS NOT NULL OR m.sender_character_id IS NULL
                OR (m.gold = 0
                    AND NOT EXISTS (SELECT 1 FROM mail_attachments a WHERE a.mail_id = m.id)))
         ORDER BY m.expires_at, m.id
         LIMIT $1
         FOR UPDATE OF m SKIP LOCKED",
    )
    .bind(batch_rows - returns.len() as i64)
    .bind(now)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("lock mail to delete"))?;
    let mut logs = Vec::new();
    for m in &returns {
        // `FOR UPDATE` hands back the row's latest version, rechecked against the conditions,
        // so a mail claimed or deleted meanwhile is not here; the join makes the sender exist.
        let Some(sender) = m.sender_character_id.map(CharacterId) else {
            refuse!(Refusal::NotFound("mail sender"));
        };
        return_one(tx, m, sender, &mut logs).await?;
    }
    for m in &deletes {
        destroy_one(tx, m, &mut logs).await?;
    }
    write_in_tx(tx, &logs).await?;
    Ok((returns.len() + deletes.len()) as u64)
}

impl Store {
    /// Returns or deletes up to `limit` expired mails, in transactions of at most
    /// `MAIL_RETURN_BATCH_ROWS_MAX` mails. Safe to run on several nodes at once. Returns how many
    /// expired mails were handled. Expired means by the database's clock.
    pub async fn return_expired_mail(&self, limit: i64) -> StoreResult<u64> {
        self.return_expired_mail_by(None, limit).await
    }

    /// `return_expired_mail` with the caller's clock: mail whose `expires_at` is at or before
    /// `now` has expired (the node's job scheduler passes its clock, which a test can set ahead).
    pub async fn return_expired_mail_at(&self, now: SystemTime, limit: i64) -> StoreResult<u64> {
        self.return_expired_mail_by(Some(DateTime::<Utc>::from(now)), limit)
            .await
    }

    async fn return_expired_mail_by(
        &self,
        now: Option<DateTime<Utc>>,
        limit: i64,
    ) -> StoreResult<u64> {
        if limit < 0 {
            refuse!(Refusal::Invalid("limit must not be negative".into()));
        }
        let mut done: u64 = 0;
        while (done as i64) < limit {
            let batch_rows = (limit - done as i64).min(MAIL_RETURN_BATCH_ROWS_MAX);
            let n = in_tx!(self.conns(), |tx| return_batch_in(tx, now, batch_rows))?;
            done += n;
            if (n as i64) < batch_rows {
                break;
            }
        }
        Ok(done)
    }
}
