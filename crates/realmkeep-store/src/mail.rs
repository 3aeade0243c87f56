//! Mail: letters between characters that may carry gold (held in `mail.gold`) and up to
//! `MAIL_ATTACHMENTS_MAX` items (location 'mail', rows of `mail_attachments`). Sending moves the
//! sender's gold and items into the mail, claiming moves them into the recipient's purse and bag,
//! each exactly once and atomically. The system (market expiry, quests, admins) sends mail whose
//! items it creates. The expiry job (`expiry.rs`) returns or deletes mail past its time.
//!
//! Lock order: character rows first (one `lock_characters` call), then the mail row.

mod expiry;
mod types;

pub use expiry::MAIL_RETURN_BATCH_ROWS_MAX;
pub use types::{Claimed, MailAttachment, MailKind, MailSent, MailSummary, MailView};

use types::{MailRow, MAIL_COLUMNS};

use crate::action_keys::{check_key, keep_in};
use crate::common::{
    check_actor, create_item, free_slots, item_def, lock_actor, lock_characters,
    place_in_inventory, relocate, take_from_inventory,
};
use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreError, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::tx::in_tx;
use crate::Store;
use chrono::{DateTime, Utc};
use realmkeep_domain::limits::{
    MAILBOX_MAILS_MAX, MAIL_ATTACHMENTS_MAX, MAIL_BODY_CHARS_MAX, MAIL_EXPIRY_DAYS,
    MAIL_SUBJECT_CHARS_MAX,
};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{Actor, CharacterId, Gold, ItemDefId, ItemId, MailId};
use sqlx::{AssertSqlSafe, PgConnection};

/// Mails one `list_mail` returns at the most (system mail may push a mailbox past
/// `MAILBOX_MAILS_MAX`, so the list has its own bound).
pub const MAIL_LIST_ROWS_MAX: i64 = 2 * MAILBOX_MAILS_MAX;

/// A new mail row, before its attachments.
pub(crate) struct NewMail<'a> {
    pub sender: Option<CharacterId>,
    pub recipient: CharacterId,
    pub kind: MailKind,
    pub subject: &'a str,
    pub body: &'a str,
    pub gold: i64,
}

/// Inserts a mail that expires `MAIL_EXPIRY_DAYS` from now. The caller has checked the text and
/// moved the gold out of wherever it came from.
pub(crate) async fn insert_mail(tx: &mut PgConnection, m: &NewMail<'_>) -> StoreResult<MailId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO mail (sender_character_id, recipient_character_id, kind, subject, body, gold,
                           expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7)) RETURNING id",
    )
    .bind(m.sender.map(|c| c.0))
    .bind(m.recipient.0)
    .bind(m.kind.as_str())
    .bind(m.subject)
    .bind(m.body)
    .bind(m.gold)
    .bind(MAIL_EXPIRY_DAYS as i32)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("insert mail"))?;
    Ok(MailId(id))
}

/// Attaches an item that the caller has already taken out of its old place.
pub(crate) async fn attach_item(
    tx: &mut PgConnection,
    mail: MailId,
    position: i16,
    item: ItemId,
) -> StoreResult<()> {
    relocate(tx, item, "mail").await?;
    sqlx::query("INSERT INTO mail_attachments (mail_id, position, item_id) VALUES ($1, $2, $3)")
        .bind(mail.0)
        .bind(position)
        .bind(item.0)
        .execute(&mut *tx)
        .await
        .map_err(db("attach item"))?;
    Ok(())
}

/// The attachments of a mail, in position order.
async fn attachments(tx: &mut PgConnection, mail: MailId) -> StoreResult<Vec<MailAttachment>> {
    sqlx::query_as(
        "SELECT a.position, a.item_id, i.def_id AS item_def_id, d.name AS item_name, i.quantity
         FROM mail_attachments a
         JOIN item_instances i ON i.id = a.item_id
         JOIN item_definitions d ON d.id = i.def_id
         WHERE a.mail_id = $1 ORDER BY a.position",
    )
    .bind(mail.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("mail attachments"))
}

/// A subject of 1 to `MAIL_SUBJECT_CHARS_MAX` characters and a body of at most
/// `MAIL_BODY_CHARS_MAX`, without control characters (but for line breaks and tabs in the body).
fn check_text(subject: &str, body: &str) -> StoreResult<()> {
    let n = subject.trim().chars().count();
    if n == 0 || subject.chars().count() > MAIL_SUBJECT_CHARS_MAX {
        refuse!(Refusal::Invalid(format!(
            "a subject has 1 to {MAIL_SUBJECT_CHARS_MAX} characters"
        )));
    }
    if body.chars().count() > MAIL_BODY_CHARS_MAX {
        refuse!(Refusal::Invalid(format!(
            "a body has at most {MAIL_BODY_CHARS_MAX} characters"
        )));
    }
    if subject.chars().any(char::is_control)
        || body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        refuse!(Refusal::Invalid(
            "mail text may not contain control characters".into()
        ));
    }
    Ok(())
}

/// The mailbox of `recipient` holds fewer than `MAILBOX_MAILS_MAX` mails.
async fn check_mailbox(tx: &mut PgConnection, recipient: CharacterId) -> StoreResult<()> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM mail WHERE recipient_character_id = $1")
        .bind(recipient.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("count mail"))?;
    if n >= MAILBOX_MAILS_MAX {
        refuse!(Refusal::MailboxFull);
    }
    Ok(())
}

async fn send_mail_in(
    tx: &mut PgConnection,
    actor: Actor,
    to: CharacterId,
    subject: &str,
    body: &str,
    gold: Gold,
    items: &[ItemId],
) -> StoreResult<MailSent> {
    let sender = actor.character();
    let locked = lock_characters(tx, &[sender, to]).await?;
    let sender_row = locked
        .iter()
        .find(|r| r.id == sender.0)
        .expect("lock_characters returns every character asked for");
    check_actor(sender_row, &actor)?;
    crate::social::refuse_if_blocked(tx, sender, to).await?;
    check_mailbox(tx, to).await?;
    let gold_after = crate::common::add_gold(tx, sender, -gold.get()).await?;
    let mail = insert_mail(
        tx,
        &NewMail {
            sender: Some(sender),
            recipient: to,
            kind: MailKind::Player,
            subject,
            body,
            gold: gold.get(),
        },
    )
    .await?;
    let mut logs = Vec::with_capacity(items.len() + 1);
    for (position, item) in items.iter().enumerate() {
        let taken = take_from_inventory(tx, sender, *item).await?;
        attach_item(tx, mail, position as i16, *item).await?;
        logs.push(
            LogEvent::new("mail_send_item")
                .actor(sender.0)
                .target(to.0)
                .item(item.0, taken.def_id, taken.quantity)
                .details(serde_json::json!({ "mail_id": mail.0, "from_slot": taken.slot })),
        );
    }
    logs.push(
        LogEvent::new("mail_send")
            .actor(sender.0)
            .target(to.0)
            .gold(gold.get())
            .details(serde_json::json!({
                "mail_id": mail.0, "items": items.iter().map(|i| i.0).collect::<Vec<_>>(),
            })),
    );
    write_in_tx(tx, &logs).await?;
    Ok(MailSent { mail, gold_after })
}

async fn send_system_mail_in(
    tx: &mut PgConnection,
    to: CharacterId,
    subject: &str,
    body: &str,
    gold: Gold,
    items: &[(ItemDefId, i32)],
    kind: MailKind,
) -> StoreResult<MailId> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM characters WHERE id = $1)")
        .bind(to.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("recipient exists"))?;
    if !exists {
        refuse!(Refusal::NotFound("character"));
    }
    let mail = insert_mail(
        tx,
        &NewMail {
            sender: None,
            recipient: to,
            kind,
            subject,
            body,
            gold: gold.get(),
        },
    )
    .await?;
    let mut logs = Vec::with_capacity(items.len() + 1);
    let mut created = Vec::with_capacity(items.len());
    for (position, (def, qty)) in items.iter().enumerate() {
        let d = item_def(tx, *def).await?;
        if *qty < 1 || *qty > d.max_stack {
            refuse!(Refusal::Invalid(format!(
                "quantity {qty} does not fit a stack of item {}",
                def.0
            )));
        }
        let item = create_item(tx, *def, *qty, "mail", kind.as_str()).await?;
        attach_item(tx, mail, position as i16, item).await?;
        created.push(item.0);
        logs.push(
            LogEvent::new("mail_system_item")
                .target(to.0)
                .item(item.0, def.0, *qty)
                .details(serde_json::json!({ "mail_id": mail.0 })),
        );
    }
    logs.push(
        LogEvent::new("mail_system_send")
            .target(to.0)
            .gold(gold.get())
            .details(serde_json::json!({
                "mail_id": mail.0, "kind": kind.as_str(), "items": created,
            })),
    );
    write_in_tx(tx, &logs).await?;
    Ok(mail)
}

/// Locks the actor, then the actor's mail `mail`: `NotFound("mail")` if it is not theirs.
async fn lock_own_mail(
    tx: &mut PgConnection,
    actor: &Actor,
    mail: MailId,
) -> StoreResult<(i64, Option<DateTime<Utc>>)> {
    lock_actor(tx, actor).await?;
    let row: Option<(i64, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT gold, claimed_at FROM mail WHERE id = $1 AND recipient_character_id = $2 FOR UPDATE",
    )
    .bind(mail.0)
    .bind(actor.character().0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("lock mail"))?;
    row.ok_or(StoreError::Refused(Refusal::NotFound("mail")))
}

async fn read_mail_in(tx: &mut PgConnection, actor: Actor, mail: MailId) -> StoreResult<MailView> {
    lock_own_mail(tx, &actor, mail).await?;
    sqlx::query("UPDATE mail SET read_at = coalesce(read_at, now()) WHERE id = $1")
        .bind(mail.0)
        .execute(&mut *tx)
        .await
        .map_err(db("mark mail read"))?;
    let row: MailRow = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {MAIL_COLUMNS} FROM mail m LEFT JOIN characters s ON s.id = m.sender_character_id
         WHERE m.id = $1"
    )))
    .bind(mail.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("read mail"))?;
    let attachments = attachments(tx, mail).await?;
    Ok(MailView {
        id: MailId(row.id),
        kind: MailKind::parse_stored(&row.kind)?,
        sender: row.sender_character_id.map(CharacterId),
        sender_name: row.sender_name,
        recipient: CharacterId(row.recipient_character_id),
        subject: row.subject,
        body: row.body,
        gold: row.gold,
        attachments,
        sent_at: row.sent_at,
        expires_at: row.expires_at,
        read_at: row.read_at,
        claimed_at: row.claimed_at,
    })
}

async fn claim_in(tx: &mut PgConnection, actor: Actor, mail: MailId) -> StoreResult<Claimed> {
    let me = actor.character();
    let (gold, claimed_at) = lock_own_mail(tx, &actor, mail).await?;
    let items = attachments(tx, mail).await?;
    if claimed_at.is_some() || (gold == 0 && items.is_empty()) {
        refuse!(Refusal::NotFound("attachments"));
    }
    let slots = free_slots(tx, me, items.len()).await?;
    let gold_after = crate::common::add_gold(tx, me, gold).await?;
    sqlx::query("DELETE FROM mail_attachments WHERE mail_id = $1")
        .bind(mail.0)
        .execute(&mut *tx)
        .await
        .map_err(db("take attachments"))?;
    let mut logs = Vec::with_capacity(items.len() + 1);
    let mut ids = Vec::with_capacity(items.len());
    let mut placed = Vec::with_capacity(items.len());
    for (a, slot) in items.iter().zip(slots) {
        place_in_inventory(tx, me, slot, ItemId(a.item_id)).await?;
        ids.push(ItemId(a.item_id));
        placed.push(InventoryItem {
            item: ItemId(a.item_id),
            def: ItemDefId(a.item_def_id),
            quantity: a.quantity,
            slot,
        });
        logs.push(
            LogEvent::new("mail_claim_item")
                .actor(me.0)
                .item(a.item_id, a.item_def_id, a.quantity)
                .details(serde_json::json!({ "mail_id": mail.0, "to_slot": slot })),
        );
    }
    sqlx::query("UPDATE mail SET gold = 0, claimed_at = now(), read_at = coalesce(read_at, now()) WHERE id = $1")
        .bind(mail.0)
        .execute(&mut *tx)
        .await
        .map_err(db("mark mail claimed"))?;
    logs.push(
        LogEvent::new("mail_claim")
            .actor(me.0)
            .gold(gold)
            .details(serde_json::json!({
                "mail_id": mail.0, "items": ids.iter().map(|i| i.0).collect::<Vec<_>>(),
            })),
    );
    write_in_tx(tx, &logs).await?;
    Ok(Claimed {
        gold: Gold::new(gold).map_err(|e| StoreError::Io(format!("stored mail gold: {e}")))?,
        items: ids,
        placed,
        gold_after,
    })
}

async fn delete_in(tx: &mut PgConnection, actor: Actor, mail: MailId) -> StoreResult<()> {
    let (gold, _) = lock_own_mail(tx, &actor, mail).await?;
    let items: i64 = sqlx::query_scalar("SELECT count(*) FROM mail_attachments WHERE mail_id = $1")
        .bind(mail.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("count attachments"))?;
    if gold > 0 || items > 0 {
        refuse!(Refusal::NotAllowed("mail still has attachments"));
    }
    sqlx::query("DELETE FROM mail WHERE id = $1")
        .bind(mail.0)
        .execute(&mut *tx)
        .await
        .map_err(db("delete mail"))?;
    write_in_tx(
        tx,
        &[LogEvent::new("mail_delete")
            .actor(actor.character().0)
            .details(serde_json::json!({ "mail_id": mail.0 }))],
    )
    .await
}

/// What a mail from a player may carry, checked before any transaction.
fn check_outgoing(
    actor: Actor,
    to: CharacterId,
    subject: &str,
    body: &str,
    items: &[ItemId],
) -> StoreResult<()> {
    check_text(subject, body)?;
    if items.len() > MAIL_ATTACHMENTS_MAX {
        refuse!(Refusal::Invalid(format!(
            "a mail carries at most {MAIL_ATTACHMENTS_MAX} items"
        )));
    }
    let mut distinct: Vec<i64> = items.iter().map(|i| i.0).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != items.len() {
        refuse!(Refusal::Invalid("an item is attached twice".into()));
    }
    if to == actor.character() {
        refuse!(Refusal::NotAllowed("mailing yourself"));
    }
    Ok(())
}

impl Store {
    /// Sends a mail from the actor to `to`, moving `gold` from the sender's purse and `items`
    /// (distinct, from the sender's bag) into it, all at once or not at all.
    pub async fn send_mail(
        &self,
        actor: Actor,
        to: CharacterId,
        subject: &str,
        body: &str,
        gold: Gold,
        items: &[ItemId],
    ) -> StoreResult<MailId> {
        check_outgoing(actor, to, subject, body, items)?;
        let sent = in_tx!(self.conns(), |tx| send_mail_in(
            tx, actor, to, subject, body, gold, items
        ))?;
        Ok(sent.mail)
    }

    /// `send_mail` under an idempotency key (`action_keys`): answers the sender's purse after.
    #[allow(clippy::too_many_arguments)]
    pub async fn send_mail_keyed(
        &self,
        actor: Actor,
        to: CharacterId,
        subject: &str,
        body: &str,
        gold: Gold,
        items: &[ItemId],
        key: &str,
    ) -> StoreResult<MailSent> {
        check_key(key)?;
        check_outgoing(actor, to, subject, body, items)?;
        in_tx!(self.conns(), |tx| async move {
            let sent = send_mail_in(tx, actor, to, subject, body, gold, items).await?;
            keep_in(tx, key, &sent).await?;
            Ok(sent)
        })
    }

    /// Sends a mail from the game: the gold and the items (definition, quantity) are created in
    /// it. Not bounded by the recipient's mailbox limit, so nothing the game owes is lost.
    pub async fn send_system_mail(
        &self,
        to: CharacterId,
        subject: &str,
        body: &str,
        gold: Gold,
        items: &[(ItemDefId, i32)],
        kind: MailKind,
    ) -> StoreResult<MailId> {
        check_text(subject, body)?;
        if items.len() > MAIL_ATTACHMENTS_MAX {
            refuse!(Refusal::Invalid(format!(
                "a mail carries at most {MAIL_ATTACHMENTS_MAX} items"
            )));
        }
        if kind == MailKind::Player {
            refuse!(Refusal::Invalid("system mail cannot be player mail".into()));
        }
        in_tx!(self.conns(), |tx| send_system_mail_in(
            tx, to, subject, body, gold, items, kind
        ))
    }

    /// A character's mailbox, newest first, at most `MAIL_LIST_ROWS_MAX` mails.
    pub async fn list_mail(&self, character: CharacterId) -> StoreResult<Vec<MailSummary>> {
        let rows: Vec<MailRow> = on_conn!(self.conns(), |conn| sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {MAIL_COLUMNS} FROM mail m LEFT JOIN characters s ON s.id = m.sender_character_id
             WHERE m.recipient_character_id = $1
             ORDER BY m.sent_at DESC, m.id DESC LIMIT $2"
        )))
        .bind(character.0)
        .bind(MAIL_LIST_ROWS_MAX)
        .fetch_all(conn))
        .map_err(db("list mail"))?;
        rows.into_iter()
            .map(|r| {
                Ok(MailSummary {
                    id: MailId(r.id),
                    kind: MailKind::parse_stored(&r.kind)?,
                    sender: r.sender_character_id.map(CharacterId),
                    sender_name: r.sender_name,
                    subject: r.subject,
                    gold: r.gold,
                    items: r.items,
                    sent_at: r.sent_at,
                    expires_at: r.expires_at,
                    read: r.read_at.is_some(),
                    claimed: r.claimed_at.is_some(),
                })
            })
            .collect()
    }

    /// Reads one of the actor's mails and marks it read.
    pub async fn read_mail(&self, actor: Actor, mail: MailId) -> StoreResult<MailView> {
        in_tx!(self.conns(), |tx| read_mail_in(tx, actor, mail))
    }

    /// Moves a mail's gold and items into the actor's purse and bag, exactly once: a second claim
    /// is refused with `NotFound("attachments")`.
    pub async fn claim_attachments(&self, actor: Actor, mail: MailId) -> StoreResult<Claimed> {
        in_tx!(self.conns(), |tx| claim_in(tx, actor, mail))
    }

    /// `claim_attachments` under an idempotency key (`action_keys`).
    pub async fn claim_attachments_keyed(
        &self,
        actor: Actor,
        mail: MailId,
        key: &str,
    ) -> StoreResult<Claimed> {
        check_key(key)?;
        in_tx!(self.conns(), |tx| async move {
            let claimed = claim_in(tx, actor, mail).await?;
            keep_in(tx, key, &claimed).await?;
            Ok(claimed)
        })
    }

    /// Deletes one of the actor's mails once it carries nothing.
    pub async fn delete_mail(&self, actor: Actor, mail: MailId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| delete_in(tx, actor, mail))
    }
}
